//! `hilgen fewshot`: the best recipe of the committed experiments on a user's own files, with no
//! experiment file and no labelled test split. From a few labelled sentences (the shots),
//! unlabelled in-domain text and a knowledge source it builds the index if needed, learns the
//! dictionary's entity types from the shots, labels the text with the dictionary (distant
//! supervision), fine-tunes a tagger on the shots and those silver sentences, and keeps a system
//! folder ([`hilgen_system`]) that `hilgen tag` applies.
//!
//! Choices: with a labelled dev file, the dictionary's filters and the kept system (the
//! dictionary, the tagger, DANN, or their best combination) are chosen on it as `hilgen run`
//! chooses them; with [`FewshotSpec::guard_p`] too, the defaults of no dev file stay unless dev's
//! choice is significantly better (a dev file of a few sentences per type). The dictionary's recall options and coordinations are on either way
//! ([`DictionaryConfig::recommended`]). Without a dev file, nothing is chosen on data: the
//! dictionary keeps its default filters and the kept system is the back-off of the dictionary
//! to the tagger: the dictionary's entities, then the tagger's where the dictionary has none and
//! the tagger is sure (every word's tag at p >= 0.9): the default the k-shot runs' guard kept on every seed of BC5CDR and
//! NCBI-Disease, above the union of the two (the earlier default) on 5 of 5 and 4 of 5 seeds
//! (`docs/results/README.md`, "Back-off"). With [`FewshotSpec::heldout_agreement`] the
//! dictionary stage also runs the held-out name check of `hilgen run`'s `[dictionary]
//! heldout_agreement` on the chosen dictionary. Every step is a resumable stage under the output
//! folder.

use crate::error::{PipelineError, Result};
use crate::files::{sha256_hex, FileRef, HashCache};
use crate::flow::{Predictions, System};
use crate::plan::{tokens_sha256, KbSources};
use crate::stage::{Context, Stage, Stages};
use crate::stages::augment::{Augment, AugmentInput};
use crate::stages::ensemble::choose;
use crate::stages::evaluate::scoring;
use crate::stages::kb::BuildKb;
use crate::stages::train::{Train, TrainInput, TrainOutput};
use crate::Runtime;
use hilgen_corpus::formats::{self, Format};
use hilgen_corpus::{jsonl, Sentence};
use hilgen_dictionary::{select_guarded, DictionaryConfig, Grid, Guard, SavedDictionary, Selection, TypeMap};
use hilgen_metrics::GuardTest;
use hilgen_models::{DannConfig, DeviceChoice, Tagger, TaggerConfig};
use hilgen_system::spec::{CardInfo, Prf};
use hilgen_system::{Assembly, Head, Source, Tag};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `hilgen fewshot` is given.
#[derive(Debug, Clone)]
pub struct FewshotSpec {
    /// A few labelled sentences (any format `hilgen` reads).
    pub shots: PathBuf,
    /// Unlabelled in-domain text (raw, PubTator, JSON Lines or CoNLL; labels ignored).
    pub text: Vec<PathBuf>,
    /// The knowledge: an index (`kb.hkb` or its folder), or sources to build one from (CTD
    /// `.tsv[.gz]`, a MeSH tree `.txt`, MeSH XML, OBO, a UMLS `META` folder).
    pub kb: Vec<PathBuf>,
    /// A labelled dev file, when the user has one (choices are made on it).
    pub dev: Option<PathBuf>,
    /// The encoder folder.
    pub encoder: PathBuf,
    /// A tiny random BERT with the encoder's tokenizer (tests).
    pub random_tiny: bool,
    /// Where everything goes (resumable).
    pub out: PathBuf,
    /// The seed of training.
    pub seed: u64,
    /// Where models train and tag.
    pub device: DeviceChoice,
    /// Optimizer steps: passes over the shots (the committed recipe: 30).
    pub shot_passes: usize,
    /// With `dev`: the defaults (the dictionary's recommended options; the back-off of the
    /// dictionary to the tagger's sure entities) stay unless dev's choice beats them in a paired bootstrap with
    /// a p-value at most this (for a dev file of a few sentences per type).
    pub guard_p: Option<f64>,
    /// The test of `guard_p` (default: the paired bootstrap).
    pub guard_test: GuardTest,
    /// The held-out name check (`[dictionary] heldout_agreement` of `hilgen run`): names that
    /// only a tree letter labels, held out of the silver labels and judged by a tagger trained
    /// on the rest, are dropped below this mean agreement. `None`: off.
    pub heldout_agreement: Option<f64>,
    /// With `heldout_agreement`: the entity types whose names it judges (empty: every type).
    pub heldout_labels: Vec<String>,
}

/// What the dictionary stage of `fewshot` reads.
#[derive(Debug, Clone, Serialize)]
pub struct DictionaryInput {
    /// The index.
    pub kb: FileRef,
    /// The shots.
    pub shots: FileRef,
    /// A labelled dev file: the filters are chosen on it; the recommended options without one ([`DictionaryConfig::recommended`]).
    pub dev: Option<FileRef>,
    /// What the search tries (with a dev file).
    pub grid: Grid,
    /// With a dev file: the recommended options stay unless dev's choice is significantly better.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<Guard>,
    /// The held-out name check, run on the chosen dictionary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heldout: Option<crate::stages::heldout::HeldOutInput>,
}

/// The saved dictionary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DictionaryOutput {
    /// `dictionary.json`.
    pub dictionary: FileRef,
    /// Entity types learned from the shots.
    pub types: Vec<String>,
    /// How its options were chosen.
    pub chosen: String,
}

/// The dictionary: types from the shots, options on dev or defaults.
pub struct FewshotDictionary;

impl Stage for FewshotDictionary {
    type Input = DictionaryInput;
    type Output = DictionaryOutput;

    fn run(input: &DictionaryInput, cx: &Context<'_>) -> Result<DictionaryOutput> {
        let kb = hilgen_kb::Kb::open(cx.path(&input.kb))?;
        let shots = crate::stages::io::read(&cx.path(&input.shots))?;
        let types = TypeMap::learn(&kb, &shots);
        let labels = types.labels();
        if labels.is_empty() {
            return Err(PipelineError::Invalid(
                "no mention of the shots is a name in the knowledge index, so no entity type can be learned; \
                 give shots whose entities the knowledge source names, or another source"
                    .into(),
            ));
        }
        // The dev search builds the chosen dictionary; without a dev file it is built only when
        // the held-out check needs it.
        let (built, mut selection, mut chosen) = match &input.dev {
            Some(dev) => {
                let dev = crate::stages::io::read(&cx.path(dev))?;
                let (d, s) = select_guarded(&kb, &types, &dev, &input.grid, input.guard.as_ref())?;
                let chosen = match &s.overruled {
                    None => format!("filters chosen on {} dev sentences (dev F1 {:.1})", dev.len(), 100.0 * s.dev_f1),
                    Some(o) => format!(
                        "recommended options kept by --guard-p: dev's choice on {} dev sentences scored {:.1} \
                         against their {:.1}, p = {:.2}",
                        dev.len(),
                        100.0 * o.dev_f1,
                        100.0 * s.dev_f1,
                        o.p_value
                    ),
                };
                (Some(d), s, chosen)
            }
            None => (
                None,
                Selection {
                    config: DictionaryConfig::recommended(),
                    dev_f1: 0.0,
                    type_precision: BTreeMap::new(),
                    tried: 0,
                    overruled: None,
                    adjective_evidence: None,
                },
                "recommended options: recall options and coordinations on (no dev file to choose on)".to_string(),
            ),
        };
        if let Some(h) = &input.heldout {
            let mut dictionary = match built {
                Some(d) => d,
                None => hilgen_dictionary::Dictionary::build(&kb, &types, selection.config.clone())?,
            };
            let report = crate::stages::heldout::vet_and_drop(h, &mut dictionary, &mut selection, &shots, cx)?;
            chosen.push_str(&format!(
                "; held-out name check: {} names judged, {} dropped (mean agreement below {}; heldout.json)",
                report.names.len(),
                report.dropped.len(),
                h.threshold
            ));
        }
        let saved = SavedDictionary { types, selection };
        let p = cx.dir.join("dictionary.json");
        crate::files::write_file(&p, serde_json::to_string_pretty(&saved).expect("serializes").as_bytes())?;
        Ok(DictionaryOutput { dictionary: cx.output("dictionary.json")?, types: labels, chosen })
    }
}

/// What keeping reads.
#[derive(Debug, Clone, Serialize)]
pub struct KeepInput {
    /// `dictionary.json`.
    pub dictionary: FileRef,
    /// The index.
    pub kb: FileRef,
    /// The trained model folder.
    pub model: FileRef,
    /// A labelled dev file (the choice is made on it); the default without one.
    pub dev: Option<FileRef>,
    /// The entity types.
    pub types: Vec<String>,
    /// What the card says.
    pub card: CardInfo,
    /// Where models run.
    pub device: DeviceChoice,
    /// With a dev file: the default stays unless dev's choice beats it in a paired bootstrap
    /// with a p-value at most this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard_p: Option<f64>,
    /// The test of `guard_p`.
    #[serde(default, skip_serializing_if = "GuardTest::is_default")]
    pub guard_test: GuardTest,
    /// The system kept without a dev file, and the guard's default with one (`backoff of
    /// dictionary + tagger/distant@0.9`): in the stage's settings, so a folder kept
    /// under another default is kept again.
    pub default: String,
}

/// The kept system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeepOutput {
    /// What it is.
    pub system: String,
    /// How it was chosen.
    pub chosen: String,
    /// Its dev F1, when chosen on dev.
    pub dev_f1: Option<f64>,
    /// The folder.
    pub folder: FileRef,
}

/// Whether the back-off `fewshot` keeps leaves one-word symbols to the dictionary (`[selection]
/// backoff_skip_symbols`): no. Leaving them out gained about 2 dev F1 on NCBI-Disease and cost
/// 0.1-0.2 on BC5CDR, but cost 0.7 test F1 on NCBI-Disease, whose test symbols are disease
/// abbreviations where its dev split's were gene symbols (docs/results/README.md, "Back-off").
pub const BACKOFF_SKIP_SYMBOLS: bool = false;

/// The back-off `fewshot` keeps: the longer one (`[selection] backoff_longer`, a sure tagger
/// entity that strictly contains every dictionary entity it overlaps, all of its type, replaces
/// them), as the k-shot recipes keep it. Set on the full dev splits of BC5CDR and NCBI-Disease
/// (never below the plain back-off on seeds 1-3 of either; docs/results/README.md, "The longer
/// back-off").
pub const BACKOFF_METHOD: hilgen_metrics::ensemble::Method = hilgen_metrics::ensemble::Method::BackoffLonger;

/// The back-off's tagger member: the tagger's sure entities (`tagger/distant@0.9...`).
fn sure_member() -> String {
    crate::results::confident_system("distant", crate::experiment::DEFAULT_BACKOFF_CONFIDENCE, BACKOFF_SKIP_SYMBOLS)
}

/// Keeps the system: the back-off of the dictionary to the tagger's sure entities, or the best
/// on dev.
pub struct FewshotKeep;

impl Stage for FewshotKeep {
    type Input = KeepInput;
    type Output = KeepOutput;

    fn run(input: &KeepInput, cx: &Context<'_>) -> Result<KeepOutput> {
        let dictionary = Source::Dictionary { dictionary: cx.path(&input.dictionary), kb: cx.path(&input.kb) };
        let model =
            |head| Source::Model { folder: cx.path(&input.model), head, min_confidence: None, skip_symbols: false };
        let sure_name = sure_member();
        let sure = Source::Model {
            folder: cx.path(&input.model),
            head: Head::Tagger,
            min_confidence: Some(crate::experiment::DEFAULT_BACKOFF_CONFIDENCE),
            skip_symbols: BACKOFF_SKIP_SYMBOLS,
        };
        let mut card = input.card.clone();
        let (members, rule, chosen, dev_f1) = match &input.dev {
            None => (
                vec![("dictionary".to_string(), dictionary), (sure_name.clone(), sure)],
                Some((BACKOFF_METHOD, vec![1.0, 1.0])),
                format!(
                    "No labelled dev file: the dictionary, backed off to the tagger trained on its labels where the \
                     dictionary has no entity and the tagger is sure (every word's tag at p >= {}{}{}), fixed (the \
                     default the k-shot runs' guard kept on all 5 BC5CDR and 5 NCBI-Disease seeds, the longer rule \
                     set on their full dev splits; docs/results/README.md, \"Back-off\", \"The longer back-off\").",
                    crate::experiment::DEFAULT_BACKOFF_CONFIDENCE,
                    if BACKOFF_SKIP_SYMBOLS { ", one-word symbols left to the dictionary" } else { "" },
                    if BACKOFF_METHOD == hilgen_metrics::ensemble::Method::BackoffLonger {
                        "; a sure tagger entity that strictly contains every dictionary entity it overlaps, all of \
                         its type, replaces them"
                    } else {
                        ""
                    }
                ),
                None,
            ),
            Some(dev) => {
                // Tag dev with each system (through the tagging interface `hilgen tag` uses), then
                // choose as the run's ensemble stage does.
                let gold = crate::stages::io::read(&cx.path(dev))?;
                let tokens: Vec<Sentence> = gold.iter().map(Sentence::untagged).collect();
                let sources = [
                    ("dictionary", dictionary),
                    ("tagger/distant", model(Head::Tagger)),
                    ("dann/distant", model(Head::Dann)),
                    (sure_name.as_str(), sure),
                ];
                let mut scored = Vec::new();
                for (name, source) in sources {
                    let dir = cx.scratch.join(name.replace('/', "-"));
                    let _ = std::fs::remove_dir_all(&dir);
                    let assembly = Assembly {
                        members: vec![(name.to_string(), source.clone())],
                        rule: None,
                        types: input.types.clone(),
                        card: CardInfo::default(),
                    };
                    hilgen_system::assemble(&dir, &assembly)?;
                    let options = hilgen_system::RunOptions { device: Some(input.device), ..Default::default() };
                    let tagged = hilgen_system::load(&dir, None, &options)?.tag(&tokens)?;
                    let f1 = hilgen_metrics::evaluate_sentences(&gold, &tagged, scoring())?.micro.f1;
                    let file = cx.scratch.join(format!("{}.dev.tsv", name.replace('/', "-")));
                    crate::stages::io::write_tsv(&file, &tagged)?;
                    scored.push((name, source, tagged, f1));
                }
                scored.sort_by(|a, b| b.3.total_cmp(&a.3));
                let candidates: Vec<System> = scored
                    .iter()
                    .map(|(n, ..)| System {
                        name: n.to_string(),
                        predictions: Predictions { dev: input.dictionary.clone(), test: input.dictionary.clone() },
                    })
                    .collect();
                let refs: Vec<&[Sentence]> = scored.iter().map(|s| s.2.as_slice()).collect();
                let guard = input.guard_p.map(|p| crate::stages::ensemble::Guard {
                    p,
                    default: vec!["dictionary".into(), sure_name.clone()],
                    seed: 1,
                    test: input.guard_test,
                });
                let backoff = BACKOFF_METHOD;
                let choice = choose(&gold, &refs, &candidates, false, guard.as_ref(), &backoff)?;
                let prf = hilgen_metrics::evaluate_sentences(&gold, &choice.apply(&refs)?, scoring())?.micro;
                card.dev = Some(Prf { precision: prf.precision, recall: prf.recall, f1: prf.f1 });
                let members: Vec<(String, Source)> =
                    choice.members.iter().map(|&i| (scored[i].0.to_string(), scored[i].1.clone())).collect();
                let rule = (members.len() > 1).then(|| (choice.method.clone(), choice.weights.clone()));
                let ranks: Vec<String> = scored.iter().map(|s| format!("{} {:.1}", s.0, 100.0 * s.3)).collect();
                let verdict = match &choice.overruled {
                    None => format!("{} had the best dev F1 ({:.1})", choice.describe(), 100.0 * choice.dev_f1),
                    Some((best, f1, p)) => format!(
                        "{best} had the best dev F1 ({:.1}) but not significantly above {} ({:.1}; p = {p:.2} > \
                         --guard-p), which stays",
                        100.0 * f1,
                        choice.describe(),
                        100.0 * choice.dev_f1
                    ),
                };
                let default = if guard.is_some() {
                    ", and the longer back-off of the dictionary to the tagger's sure entities, the default"
                } else {
                    ""
                };
                let chosen = format!(
                    "Chosen on {} labelled dev sentences among the dictionary, the tagger and DANN (dev F1: {}), each \
                     alone and every combination (weighted vote, intersection, union, majority){default}: {verdict}.",
                    gold.len(),
                    ranks.join(", "),
                );
                (members, rule, chosen, Some(choice.dev_f1))
            }
        };
        card.chosen = chosen.clone();
        let assembly = Assembly { members, rule, types: input.types.clone(), card };
        let manifest = hilgen_system::assemble(&cx.dir.join("system"), &assembly)?;
        Ok(KeepOutput { system: manifest.description, chosen, dev_f1, folder: cx.output_dir("system")? })
    }
}

/// What `hilgen fewshot` made.
#[derive(Debug, Clone, Serialize)]
pub struct FewshotReport {
    /// The kept system's folder.
    pub system: PathBuf,
    /// What it is and how it was chosen.
    pub kept: KeepOutput,
    /// Entity types.
    pub types: Vec<String>,
    /// Shot sentences and their mentions.
    pub shots: (usize, usize),
    /// Unlabelled sentences read, and those labelled by the dictionary for training.
    pub text: (usize, usize),
    /// Labelled dev sentences (0: none).
    pub dev: usize,
    /// How the dictionary's options were chosen.
    pub dictionary: String,
    /// Stages run now, and found complete.
    pub stages: (Vec<String>, Vec<String>),
}

/// A file of sentences written into the run folder (`data/NAME.jsonl`), by content.
fn data_file(root: &Path, name: &str, sentences: &[Sentence]) -> Result<FileRef> {
    let mut buf = Vec::new();
    jsonl::write(&mut buf, sentences)?;
    let file = PathBuf::from(format!("data/{name}.jsonl"));
    let path = root.join(&file);
    let sha256 = sha256_hex(&buf);
    if crate::files::file_sha256(&path).ok().as_deref() != Some(sha256.as_str()) {
        std::fs::create_dir_all(root.join("data")).map_err(|e| PipelineError::io(root.join("data"), e))?;
        crate::files::write_file(&path, &buf)?;
    }
    Ok(FileRef { file, sha256 })
}

/// The knowledge given: an index, or sources by their names.
fn knowledge(paths: &[PathBuf], hashes: &mut HashCache) -> Result<std::result::Result<FileRef, KbSources>> {
    let mut sources = KbSources { ctd: vec![], mesh_tree: vec![], mesh_xml: vec![], obo: vec![], rrf: None };
    let mut index = None;
    for p in paths {
        let p = crate::files::absolute(p)?;
        let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        if p.is_dir() && p.join(hilgen_kb::INDEX_FILE).is_file() {
            index = Some(hashes.file_ref(&p.join(hilgen_kb::INDEX_FILE))?);
        } else if p.is_dir() && (p.join("MRCONSO.RRF").is_file() || p.join("mrconso.rrf").is_file()) {
            sources.rrf = Some(crate::plan::rrf_ref(&p, hilgen_kb::RrfOptions::default(), hashes)?);
        } else if name.ends_with(".hkb") {
            index = Some(hashes.file_ref(&p)?);
        } else if name.ends_with(".obo") {
            sources.obo.push(hashes.file_ref(&p)?);
        } else if name.ends_with(".xml") || name.ends_with(".xml.gz") {
            sources.mesh_xml.push(hashes.file_ref(&p)?);
        } else if name.contains("tree") && (name.ends_with(".txt") || name.ends_with(".bin")) {
            sources.mesh_tree.push(hashes.file_ref(&p)?);
        } else if name.ends_with(".tsv") || name.ends_with(".tsv.gz") || name.ends_with(".csv.gz") {
            sources.ctd.push(hashes.file_ref(&p)?);
        } else {
            return Err(PipelineError::Invalid(format!(
                "--kb {}: expected a knowledge index (kb.hkb or its folder), a UMLS META folder (MRCONSO.RRF), \
                 CTD (.tsv or .tsv.gz), a MeSH tree (*tree*.txt), MeSH XML (.xml) or OBO (.obo)",
                p.display()
            )));
        }
    }
    match index {
        Some(i) if paths.len() == 1 => Ok(Ok(i)),
        Some(_) => Err(PipelineError::Invalid("--kb: give one index, or sources to build one from, not both".into())),
        None => Ok(Err(sources)),
    }
}

/// Runs the recipe (resumable: a stage whose inputs did not change is not run again).
pub fn fewshot(spec: &FewshotSpec, runtime: &Runtime) -> Result<FewshotReport> {
    let mut hashes = HashCache::default();
    let read = |p: &Path, what: &str| -> Result<Vec<Sentence>> {
        formats::read_sentences(p, Format::Auto, &Default::default())
            .map_err(|e| PipelineError::Invalid(format!("{what} {}: {e}", p.display())))
    };
    let shots = read(&spec.shots, "--shots")?;
    let mentions: usize = shots.iter().map(|s| s.mentions().map_or(0, |m| m.len())).sum();
    if mentions == 0 {
        return Err(PipelineError::Invalid(format!(
            "--shots {}: {} sentences without one entity mention; give a few labelled sentences (CoNLL, JSON Lines \
             or PubTator)",
            spec.shots.display(),
            shots.len()
        )));
    }
    let labels = Tagger::labels_of(&shots);
    let types: Vec<&str> = labels.iter().filter_map(|l| l.strip_prefix("B-")).collect();
    if let Some(l) = spec.heldout_labels.iter().find(|l| !types.contains(&l.as_str())) {
        return Err(PipelineError::Invalid(format!(
            "--heldout-labels: `{l}` is not an entity type of the shots ({})",
            types.join(", ")
        )));
    }
    let mut pool = Vec::new();
    for (i, p) in spec.text.iter().enumerate() {
        let conll = hilgen_corpus::conll::ConllFormat {
            tag_column: hilgen_corpus::conll::TagColumn::Ignored,
            ..Default::default()
        };
        let contents = formats::read_contents(p, Format::Auto, &conll)
            .map_err(|e| PipelineError::Invalid(format!("--text {}: {e}", p.display())))?;
        for mut s in contents.sentences() {
            if spec.text.len() > 1 {
                s.doc_id = s.doc_id.map(|d| format!("{}:{d}", i + 1));
            }
            pool.push(s.untagged());
        }
    }
    if pool.is_empty() {
        return Err(PipelineError::Invalid("--text: no sentence in the text given".into()));
    }
    let dev = spec.dev.as_ref().map(|p| read(p, "--dev")).transpose()?;
    let mut stages = Stages::new(&spec.out)?;
    let root = stages.root().to_path_buf();
    let shots_ref = data_file(&root, "shots", &shots)?;
    let pool_ref = FileRef { sha256: tokens_sha256(&pool), ..data_file(&root, "text", &pool)? };
    let dev_ref = dev.as_deref().map(|d| data_file(&root, "dev", d)).transpose()?;
    let runtime = Runtime { device: spec.device, ..runtime.clone() };
    let kb = match knowledge(&spec.kb, &mut hashes)? {
        Ok(index) => index,
        Err(sources) => {
            stages
                .run::<BuildKb>("kb", &sources, &runtime)
                .map_err(|e| PipelineError::Invalid(format!("--kb: building the knowledge index: {e}")))?
                .index
        }
    };
    let encoder_dir = crate::files::absolute(&spec.encoder)?;
    let files = ["config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "tokenizer_config.json"];
    if !files.iter().any(|f| encoder_dir.join(f).exists()) {
        return Err(PipelineError::Invalid(format!(
            "--encoder {}: no encoder there (config.json, model.safetensors, tokenizer.json)",
            spec.encoder.display()
        )));
    }
    let encoder = crate::plan::encoder_ref(&encoder_dir, spec.random_tiny, &mut hashes)?;
    let schedule =
        crate::experiment::Schedule::Steps { shot_passes: spec.shot_passes, synthetic_passes: 2, max_batch: 16 };
    let base = TaggerConfig { learning_rate: 1e-4, batch_size: 4, ..TaggerConfig::default() };
    // The recipe's strategy, with its parameters as the registry fills them in.
    let spec_distant = hilgen_augment::StrategySpec {
        kind: "distant".into(),
        name: None,
        params: [("o_weight".to_string(), serde_json::json!(0.5))].into_iter().collect(),
    };
    let strategy = runtime.registry.build(&spec_distant)?;
    let heldout = spec.heldout_agreement.map(|threshold| crate::stages::heldout::HeldOutInput {
        threshold,
        labels_judged: spec.heldout_labels.clone(),
        pool: pool_ref.clone(),
        encoder: encoder.clone(),
        random_tiny: spec.random_tiny,
        labels: labels.clone(),
        tagger: TaggerConfig { seed: spec.seed, ..base.clone() },
        schedule: schedule.clone(),
        o_weight: strategy.o_weight(),
    });
    let d = stages.run::<FewshotDictionary>(
        "dictionary",
        &DictionaryInput {
            kb: kb.clone(),
            shots: shots_ref.clone(),
            dev: dev_ref.clone(),
            grid: Grid::recommended(),
            guard: spec.guard_p.map(|p| Guard { test: spec.guard_test, ..Guard::new(p, spec.seed) }),
            heldout,
        },
        &runtime,
    )?;
    let hashed = crate::plan::hashed_spec(strategy.as_ref());
    let a = stages.run::<Augment>(
        "augment/distant",
        &AugmentInput {
            strategy: hashed,
            shots: shots_ref.clone(),
            seed: spec.seed,
            kb: Some(kb.clone()),
            pool: Some(pool_ref),
            llm: None,
            count_to_match: None,
            dictionary: Some(d.dictionary.clone()),
            teacher: None,
            mention_free_rate: None,
        },
        &runtime,
    )?;
    let draw = schedule.draw(&base, shots.len(), a.result.count);
    let mut tagger = draw.config;
    tagger.seed = spec.seed;
    let t: TrainOutput = stages.run::<Train>(
        "train/distant",
        &TrainInput {
            shots: shots_ref,
            synthetic: Some(a.synthetic),
            encoder,
            random_tiny: spec.random_tiny,
            labels,
            tagger,
            dann: DannConfig::default(),
            dev: None,
            shot_copies: draw.shot_copies,
            synthetic_slots: draw.synthetic_slots.filter(|_| draw.shot_copies > 1 || a.result.count > 0),
            o_weight: strategy.o_weight(),
        },
        &runtime,
    )?;
    let dev_n = dev.as_ref().map_or(0, Vec::len);
    let card = CardInfo {
        name: format!("hilgen fewshot ({})", spec.shots.file_name().unwrap_or_default().to_string_lossy()),
        k: shots_per_type(&shots),
        shots: shots.len(),
        seeds: vec![spec.seed],
        seed: Some(spec.seed),
        encoder: encoder_dir.file_name().map(|n| n.to_string_lossy().to_string()),
        knowledge: spec.kb.iter().map(|p| p.display().to_string()).collect(),
        protocol: match dev_n {
            0 => "no labelled data beyond the shots: fixed options and rule".into(),
            n => format!("a labelled dev file of {n} sentences chooses the dictionary's filters and the system"),
        },
        dev_sentences: dev_n,
        limits: vec![format!(
            "Trained on {} labelled sentences and {} sentences the dictionary labelled (silver labels: the dictionary's \
             misses and errors are learned too).",
            shots.len(),
            a.result.count
        )],
        ..CardInfo::default()
    };
    let kept = stages.run::<FewshotKeep>(
        "kept",
        &KeepInput {
            dictionary: d.dictionary.clone(),
            kb,
            model: t.model,
            dev: dev_ref,
            types: d.types.clone(),
            card,
            device: spec.device,
            guard_p: spec.guard_p,
            guard_test: spec.guard_test,
            default: format!("{BACKOFF_METHOD} of dictionary + {}", sure_member()),
        },
        &runtime,
    )?;
    Ok(FewshotReport {
        system: root.join(&kept.folder.file),
        kept,
        types: d.types,
        shots: (shots.len(), mentions),
        text: (pool.len(), a.result.count),
        dev: dev_n,
        dictionary: d.chosen,
        stages: (stages.executed.clone(), stages.skipped.clone()),
    })
}

/// The fewest sentences of an entity type among the shots (their K).
fn shots_per_type(shots: &[Sentence]) -> usize {
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    for s in shots {
        let mut types: Vec<String> = s.mentions().unwrap_or_default().into_iter().map(|m| m.span.label).collect();
        types.sort();
        types.dedup();
        for t in types {
            *per.entry(t).or_default() += 1;
        }
    }
    per.values().copied().min().unwrap_or(0)
}
