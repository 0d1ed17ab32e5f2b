//! `seed-S/kept`: what dev chose for the sample (the ensemble row's system: the dictionary, a
//! tagger, DANN, the LLM tagger, or a combination of them with its rule), as one kept-system
//! folder `system/` that `hilgen tag --model` applies ([`hilgen_system`]). `kept`: of the
//! samples' kept systems, the one with the best dev F1, as the run's `kept/system`.

use crate::error::PipelineError;
use crate::files::FileRef;
use crate::flow::{Outputs, Planned, System};
use crate::graph::{ids, At, Node};
use crate::plan::{KbPlan, Plan};
use crate::results::SystemScore;
use crate::stage::{Context, Stage};
use crate::stages::ensemble::choose;
use crate::stages::evaluate::scoring;
use crate::Result;
use hilgen_corpus::Sentence;
use hilgen_system::spec::{CardInfo, Prf};
use hilgen_system::{Assembly, Head, LlmSettings, Source};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a candidate's files are.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum MemberSource {
    /// The sample's dictionary.
    Dictionary {
        /// `dictionary.json`.
        dictionary: FileRef,
        /// The knowledge index.
        kb: FileRef,
    },
    /// A head of a trained model folder.
    Model {
        /// The folder.
        model: FileRef,
        /// `tagger` or `dann`.
        head: String,
        /// A back-off member: the tagger's entities whose every word's tag has at least this
        /// probability.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_confidence: Option<f64>,
        /// A back-off member that leaves out one-word symbols.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        skip_symbols: bool,
    },
    /// The LLM tagger.
    Llm {
        /// Its settings.
        settings: Box<LlmSettings>,
    },
}

/// What keeping reads.
#[derive(Debug, Clone, Serialize)]
pub struct KeepInput {
    /// The gold dev split (the choice is made again on it, as the ensemble stage made it).
    pub dev: FileRef,
    /// The ensemble's candidates, ranked as the ensemble stage ranks them.
    pub candidates: Vec<System>,
    /// Each candidate's files.
    pub sources: BTreeMap<String, MemberSource>,
    /// The ensemble row: what it chose and its test scores.
    pub ensemble: SystemScore,
    /// The entity types.
    pub types: Vec<String>,
    /// What the model card says of the run.
    pub card: CardInfo,
    /// `[selection] dev = "none"`: the union of the candidates, chosen on nothing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fixed: bool,
    /// `[selection] guard_p`, as the ensemble stage applied it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<super::ensemble::Guard>,
    /// How the default combines its members, as the ensemble stage applied it.
    #[serde(skip_serializing_if = "super::ensemble::is_union")]
    pub default_method: hilgen_metrics::ensemble::Method,
}

/// A kept system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeepOutput {
    /// What it is (`union of dictionary + tagger/distant`).
    pub system: String,
    /// The sample it comes from (`seed-S`, or `kK/seed-S` in a learning curve).
    pub sample: String,
    /// Its seed.
    pub seed: u64,
    /// Its dev F1.
    pub dev_f1: f64,
    /// Its test F1 (the ensemble row's).
    pub test_f1: f64,
    /// The folder.
    pub folder: FileRef,
}

/// The stage of one sample.
pub struct Keep;

impl Stage for Keep {
    type Input = KeepInput;
    type Output = KeepOutput;

    fn run(input: &KeepInput, cx: &Context<'_>) -> Result<KeepOutput> {
        let gold = super::io::read(&cx.path(&input.dev))?;
        let dev: Vec<Vec<Sentence>> =
            input.candidates.iter().map(|s| super::io::read(&cx.path(&s.predictions.dev))).collect::<Result<_>>()?;
        let refs: Vec<&[Sentence]> = dev.iter().map(Vec::as_slice).collect();
        let choice =
            choose(&gold, &refs, &input.candidates, input.fixed, input.guard.as_ref(), &input.default_method)?;
        let chose = input.ensemble.note.clone().unwrap_or_default();
        if choice.note() != chose {
            return Err(PipelineError::Invalid(format!(
                "{}: the ensemble stage chose {chose}, the same choice made again gives {}",
                cx.id,
                choice.note()
            )));
        }
        let dev_prf = hilgen_metrics::evaluate_sentences(&gold, &choice.apply(&refs)?, scoring())?.micro;
        let mut members = Vec::new();
        for name in &choice.names {
            let source = input.sources.get(name).ok_or_else(|| {
                PipelineError::Invalid(format!("{}: no files known for the chosen system {name}", cx.id))
            })?;
            members.push((
                name.clone(),
                match source {
                    MemberSource::Dictionary { dictionary, kb } => {
                        Source::Dictionary { dictionary: cx.path(dictionary), kb: cx.path(kb) }
                    }
                    MemberSource::Model { model, head, min_confidence, skip_symbols } => Source::Model {
                        folder: cx.path(model),
                        head: if head == "dann" { Head::Dann } else { Head::Tagger },
                        min_confidence: *min_confidence,
                        skip_symbols: *skip_symbols,
                    },
                    MemberSource::Llm { settings } => Source::Llm(settings.clone()),
                },
            ));
        }
        let mut card = input.card.clone();
        let names: Vec<&str> = input.candidates.iter().map(|c| c.name.as_str()).collect();
        card.chosen = format!(
            "Chosen on dev among the {} systems best on dev ({}): each alone and, for every subset of two or more, \
             the dev-F1-weighted vote, intersection, union and majority; this one had the best dev F1 ({:.1}).",
            names.len(),
            names.join(", "),
            100.0 * choice.dev_f1
        );
        card.dev = Some(Prf { precision: dev_prf.precision, recall: dev_prf.recall, f1: dev_prf.f1 });
        let s = &input.ensemble;
        card.test = Some(Prf { precision: s.precision, recall: s.recall, f1: s.f1 });
        let rule = (members.len() > 1).then(|| (choice.method.clone(), choice.weights.clone()));
        let assembly = Assembly { members, rule, types: input.types.clone(), card };
        hilgen_system::assemble(&cx.dir.join("system"), &assembly)?;
        Ok(KeepOutput {
            system: choice.describe(),
            sample: cx.id.rsplit_once('/').map_or("", |(s, _)| s).to_string(),
            seed: input.card.seed.unwrap_or_default(),
            dev_f1: choice.dev_f1,
            test_f1: s.f1,
            folder: cx.output_dir("system")?,
        })
    }
}

/// What the card says of the run (the same for every sample but the seed and the shots).
fn card(plan: &Plan, unit: crate::graph::Unit, shots: usize) -> CardInfo {
    let seed = unit.seed;
    let mut knowledge: Vec<String> = Vec::new();
    let mut add = |what: &str, refs: &[FileRef]| {
        for r in refs {
            // The file with its folder, which names the release (`ctd-medic-2017/CTD_diseases.tsv.gz`).
            let parts: Vec<String> =
                r.file.iter().rev().take(2).map(|c| c.to_string_lossy().to_string()).collect();
            let name = parts.into_iter().rev().collect::<Vec<_>>().join("/");
            knowledge.push(format!("{what} `{name}` (sha256 {})", &r.sha256[..r.sha256.len().min(12)]));
        }
    };
    match &plan.kb {
        Some(KbPlan::Build(s)) => {
            add("CTD", &s.ctd);
            add("MeSH tree", &s.mesh_tree);
            add("MeSH XML", &s.mesh_xml);
            add("OBO", &s.obo);
            if let Some((dir, _)) = &s.rrf {
                add("UMLS META", std::slice::from_ref(dir));
            }
        }
        Some(KbPlan::Index { index }) => add("index", std::slice::from_ref(index)),
        None => {}
    }
    let encoder = plan.model.encoder.file.file_name().map(|n| n.to_string_lossy().to_string());
    let dev = plan.dev(unit).sentences;
    use crate::experiment::DevProtocol;
    let (protocol, limits) = match plan.selection.dev {
        DevProtocol::None => (
            plan.protocol(),
            vec![format!(
                "It used no labelled data beyond its {} shots: the dictionary's filters were chosen on the shots \
                 themselves and the combination is fixed, so its dev scores are scores on the shots.",
                dev
            )],
        ),
        DevProtocol::Split => (
            format!("the first {dev} sentences of the labelled dev split choose every option"),
            vec![format!(
                "Its choices (dictionary filters, ensemble) were made on {dev} labelled dev sentences, far more than \
                 the K = {} examples per type it learned from; a user with only those examples would choose less well.",
                plan.k
            )],
        ),
        DevProtocol::KShot => (
            format!("{}: they choose every option", plan.protocol()),
            vec![format!("Its choices were made on {dev} labelled dev sentences only; they may be unstable.")],
        ),
    };
    CardInfo {
        name: format!("{} seed {seed}", plan.name),
        dataset: Some(plan.dataset.clone()),
        k: plan.k,
        shots,
        seeds: plan.seeds.clone(),
        seed: Some(seed),
        encoder: encoder.map(|e| if plan.model.random_tiny { format!("{e} (tiny random BERT, for tests)") } else { e }),
        knowledge,
        llm: plan.llm.as_ref().map(|l| format!("{} at {}", l.client.model, l.client.base_url)),
        protocol,
        dev_sentences: dev,
        test_sentences: plan.data.test.sentences,
        limits,
        ..CardInfo::default()
    }
}

impl Planned for Keep {
    const KIND: &'static str = "keep";

    fn nodes(plan: &Plan) -> Vec<Node> {
        let node = |u| {
            let mut deps = vec![ids::sample(u), ids::evaluate(u), ids::ensemble(u)];
            deps.extend(super::evaluate::system_stages(plan, u));
            deps.extend(plan.all_configs().into_iter().map(|c| ids::train(u, plan.config_name(c))));
            deps.extend(super::kb::deps(plan));
            deps.sort();
            deps.dedup();
            Node::new(ids::kept(u), Self::KIND, At::unit(u), deps)
        };
        plan.units().into_iter().map(node).collect()
    }

    fn input(plan: &Plan, at: At, outputs: &Outputs<'_>) -> Option<KeepInput> {
        let unit = at.sample();
        let candidates = super::ensemble::ranked(plan, unit, outputs)?;
        let mut sources = BTreeMap::new();
        if plan.dictionary_system {
            let d = outputs.get::<super::dictionary::DictionaryOutput>(&ids::dictionary(unit))?;
            let kb = super::kb::index(plan, outputs)?;
            sources.insert("dictionary".to_string(), MemberSource::Dictionary { dictionary: d.dictionary, kb });
        }
        for c in plan.all_configs() {
            let name = plan.config_name(c);
            let model = outputs.get::<super::train::TrainOutput>(&ids::train(unit, name))?.model;
            let [tagger, dann] = crate::results::model_systems(name);
            if let Some(p) = plan.backoff() {
                let skip_symbols = plan.backoff_skips_symbols();
                let sure =
                    MemberSource::Model { model: model.clone(), head: "tagger".into(), min_confidence: Some(p), skip_symbols };
                sources.insert(crate::results::confident_system(name, p, skip_symbols), sure);
            }
            sources.insert(tagger, MemberSource::Model { model: model.clone(), head: "tagger".into(), min_confidence: None, skip_symbols: false });
            sources.insert(dann, MemberSource::Model { model, head: "dann".into(), min_confidence: None, skip_symbols: false });
        }
        if let (true, Some(llm)) = (plan.zero_shot_tagger, &plan.llm) {
            let input = llm.input(hilgen_llm::prompts::Task::Tag);
            let settings = LlmSettings {
                config: llm.client.clone(),
                annotation: input.annotation,
                templates: input.templates,
                types: plan.types(),
            };
            sources.insert("llm/zero-shot".into(), MemberSource::Llm { settings: Box::new(settings) });
        }
        // Only what the candidates need enters the input (and its hash).
        sources.retain(|name, _| candidates.iter().any(|c| &c.name == name));
        let shots = super::sample::shots(outputs, unit)?.count;
        Some(KeepInput {
            dev: plan.dev(unit).labelled.clone(),
            candidates,
            sources,
            ensemble: outputs.get::<super::ensemble::EnsembleOutput>(&ids::ensemble(unit))?.score,
            types: plan.types(),
            card: card(plan, unit, shots),
            fixed: plan.fixed_ensemble().is_some(),
            guard: plan.ensemble_guard(unit),
            default_method: plan.default_method(),
        })
    }
}

/// What the run's choice reads: every sample's kept system.
#[derive(Debug, Clone, Serialize)]
pub struct KeepRunInput {
    /// The samples' kept systems, in sample order (the first of equal dev F1 wins).
    pub kept: Vec<KeepOutput>,
}

/// The stage of the run.
pub struct KeepRun;

impl Stage for KeepRun {
    type Input = KeepRunInput;
    type Output = KeepOutput;

    fn run(input: &KeepRunInput, cx: &Context<'_>) -> Result<KeepOutput> {
        let best = input
            .kept
            .iter()
            .reduce(|a, b| if b.dev_f1 > a.dev_f1 { b } else { a })
            .ok_or_else(|| PipelineError::Invalid("no kept system to choose from".into()))?;
        let note = format!(
            "Of the run's {} samples' kept systems, this one ({}) had the best dev F1.",
            input.kept.len(),
            best.sample
        );
        hilgen_system::copy(&cx.path(&best.folder), &cx.dir.join("system"), &note)?;
        Ok(KeepOutput { folder: cx.output_dir("system")?, ..best.clone() })
    }
}

impl Planned for KeepRun {
    const KIND: &'static str = "keep-run";

    fn nodes(plan: &Plan) -> Vec<Node> {
        let deps = plan.units().into_iter().map(ids::kept).collect();
        vec![Node::new(ids::KEPT.into(), Self::KIND, At::EXPERIMENT, deps)]
    }

    fn input(plan: &Plan, _: At, outputs: &Outputs<'_>) -> Option<KeepRunInput> {
        let kept = plan.units().into_iter().map(|u| outputs.get::<KeepOutput>(&ids::kept(u))).collect::<Option<_>>()?;
        Some(KeepRunInput { kept })
    }
}
