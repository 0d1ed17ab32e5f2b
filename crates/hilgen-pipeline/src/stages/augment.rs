//! `seed-S/augment/NAME`: one strategy's synthetic sentences for the seed's shots.

use crate::error::PipelineError;
use crate::files::FileRef;
use crate::graph::{ids, At, Config, Node};
use crate::plan::LlmInput;
use crate::plan::Plan;
use crate::results::AugmentResult;
use crate::stage::{Context, Stage};
use crate::flow::{Outputs, Planned};
use crate::Result;
use hilgen_augment::{Input, StrategySpec};
use serde::{Deserialize, Serialize};

/// What a strategy reads.
#[derive(Debug, Clone, Serialize)]
pub struct AugmentInput {
    /// The strategy's kind and every parameter (defaults filled in).
    pub strategy: StrategySpec,
    /// The shots.
    pub shots: FileRef,
    /// Seed.
    pub seed: u64,
    /// The knowledge index, when the strategy uses one.
    pub kb: Option<FileRef>,
    /// The unlabelled pool, when the strategy reads one.
    pub pool: Option<FileRef>,
    /// The LLM, for LLM strategies.
    pub llm: Option<LlmInput>,
    /// The output count of the strategy this one matches, when that one ran.
    pub count_to_match: Option<usize>,
    /// The tuned dictionary (`dictionary.json`), when the strategy reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dictionary: Option<FileRef>,
    /// The teacher's labels and the gold dev split, for self-training.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher: Option<TeacherRef>,
    /// The share of dev sentences without entities, for strategies that mix such sentences in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mention_free_rate: Option<f64>,
}

/// A teacher's labels as an augmentation input.
#[derive(Debug, Clone, Serialize)]
pub struct TeacherRef {
    /// Which system it is.
    pub system: String,
    /// Its labels of the pool.
    pub pool: FileRef,
    /// Its labels of dev.
    pub dev: FileRef,
    /// The gold dev split.
    pub dev_gold: FileRef,
}

/// What a strategy produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentOutput {
    /// Counts and LLM outcomes.
    pub result: AugmentResult,
    /// `synthetic.tsv` (IOB2), or `synthetic.jsonl` when some words are unknown (partial
    /// annotation) or have soft targets; `provenance.jsonl` lies beside it.
    pub synthetic: FileRef,
}

/// The stage.
pub struct Augment;

impl Stage for Augment {
    type Input = AugmentInput;
    type Output = AugmentOutput;

    fn run(input: &AugmentInput, cx: &Context<'_>) -> Result<AugmentOutput> {
        let strategy = cx.runtime.registry.build(&input.strategy)?;
        let shots = super::io::read(&cx.path(&input.shots))?;
        let kb = input.kb.as_ref().map(|f| hilgen_kb::Kb::open(cx.path(f))).transpose()?;
        let pool = input.pool.as_ref().map(|f| super::io::read(&cx.path(f))).transpose()?;
        let teacher_data = match &input.teacher {
            Some(t) => Some((
                crate::stages::labels::read_scored(&cx.path(&t.pool))?,
                crate::stages::labels::read_scored(&cx.path(&t.dev))?,
                super::io::read(&cx.path(&t.dev_gold))?,
            )),
            None => None,
        };
        let teacher = match (&input.teacher, &teacher_data) {
            (Some(t), Some((pool, dev, gold))) => {
                Some(hilgen_augment::Teacher { system: &t.system, pool, dev, dev_gold: gold })
            }
            _ => None,
        };
        let dictionary = match (&input.dictionary, &kb) {
            (Some(f), Some(kb)) => {
                Some(hilgen_dictionary::SavedDictionary::read(&cx.path(f))?.build(kb)?)
            }
            _ => None,
        };
        let mut args = Input {
            teacher: teacher.as_ref(),
            kb: kb.as_ref(),
            pool: pool.as_deref(),
            count_to_match: input.count_to_match,
            dictionary: dictionary.as_ref(),
            mention_free_rate: input.mention_free_rate,
            ..Input::new(&shots, input.seed)
        };
        let client;
        let context;
        if let Some(llm) = &input.llm {
            let cfg = cx.runtime.llm.clone().ok_or_else(|| {
                PipelineError::Invalid(format!("{}: an LLM stage without an LLM configuration", cx.id))
            })?;
            if cfg.request_fingerprint() != llm.request {
                return Err(PipelineError::Invalid(format!(
                    "{}: the LLM configuration differs from the planned one",
                    cx.id
                )));
            }
            client = hilgen_llm::LlmClient::new(cfg)?;
            context = hilgen_augment::LlmContext {
                client: &client,
                annotation: llm.annotation,
                prompts: llm.templates.clone(),
            };
            args.llm = Some(&context);
        }
        let args = strategy.needs().fit(strategy.kind(), args)?;
        let out = strategy.augment(&args)?;
        let sentences: Vec<hilgen_corpus::Sentence> = out.synthetic.iter().map(|s| s.sentence.clone()).collect();
        // Partial annotation (unknown words) and soft targets need JSON Lines; TSV otherwise,
        // as always.
        let file = if sentences.iter().any(|s| !s.unknown.is_empty() || s.soft.is_some()) {
            hilgen_corpus::jsonl::write_path(cx.dir.join("synthetic.jsonl"), &sentences)?;
            "synthetic.jsonl"
        } else {
            super::io::write_tsv(&cx.dir.join("synthetic.tsv"), &sentences)?;
            "synthetic.tsv"
        };
        let p = cx.dir.join("provenance.jsonl");
        std::fs::write(&p, hilgen_augment::provenance_jsonl(&out.synthetic)).map_err(|e| PipelineError::io(&p, e))?;
        Ok(AugmentOutput {
            result: AugmentResult {
                count: out.synthetic.len(),
                requested: out.requested,
                rejected: out.rejected,
                llm_requests: out.llm_requests,
            },
            synthetic: cx.output(file)?,
        })
    }
}

impl Planned for Augment {
    const KIND: &'static str = "augment";

    /// Strategies without a teacher in the order where one that matches another's count comes
    /// after it; then those with a teacher (self-training rounds), each after its teacher.
    fn nodes(plan: &Plan) -> Vec<Node> {
        let teaching = (0..plan.strategies.len()).filter(|&i| plan.strategies[i].needs.teacher);
        let order: Vec<usize> = plan.strategy_order().into_iter().chain(teaching).collect();
        let mut nodes = Vec::new();
        for unit in plan.units() {
            for &i in &order {
                let s = &plan.strategies[i];
                let mut deps = vec![ids::sample(unit)];
                if s.needs.kb.uses() {
                    deps.extend(super::kb::deps(plan));
                }
                if let Some(j) = s.count_from {
                    deps.push(ids::augment(unit, plan.strategies[j].spec.id()));
                }
                if s.needs.dictionary.uses() {
                    deps.push(ids::dictionary(unit));
                }
                if s.needs.teacher {
                    deps.push(ids::teacher(unit, s.spec.id()));
                }
                let at = At::config(unit, Config::Strategy(i));
                nodes.push(Node::new(ids::augment(unit, s.spec.id()), Self::KIND, at, deps));
            }
        }
        nodes
    }

    fn input(plan: &Plan, at: At, outputs: &Outputs<'_>) -> Option<AugmentInput> {
        let (unit, s) = (at.sample(), &plan.strategies[at.strategy()]);
        let shots = super::sample::shots(outputs, unit)?.shots;
        let kb = if s.needs.kb.uses() && plan.kb.is_some() { Some(super::kb::index(plan, outputs)?) } else { None };
        let count_to_match = match s.count_from {
            Some(j) => Some(outputs.get::<AugmentOutput>(&ids::augment(unit, plan.strategies[j].spec.id()))?.result.count),
            None => None,
        };
        let dictionary = match s.needs.dictionary.uses() {
            true => Some(outputs.get::<super::dictionary::DictionaryOutput>(&ids::dictionary(unit))?.dictionary),
            false => None,
        };
        let teacher = match s.needs.teacher {
            true => {
                let t = outputs.get::<super::labels::TeacherOutput>(&ids::teacher(unit, s.spec.id()))?;
                Some(TeacherRef {
                    system: t.system,
                    pool: t.pool,
                    dev: t.dev,
                    dev_gold: plan.dev(unit).labelled.clone(),
                })
            }
            false => None,
        };
        Some(AugmentInput {
            strategy: s.hashed_spec(),
            shots,
            seed: unit.seed,
            kb,
            pool: s.needs.pool.uses().then(|| plan.data.pool.as_ref().map(|p| p.labelled.clone())).flatten(),
            llm: s.needs.llm.map(|u| plan.llm.as_ref().expect("checked when planned").input(u.task())),
            count_to_match,
            dictionary,
            mention_free_rate: s.needs.mention_free_rate.then_some(plan.dev_mention_free(unit)),
            teacher,
        })
    }
}
