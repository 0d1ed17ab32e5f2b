//! Running a plan: each stage of the graph, in order, gets its input from the plan and the
//! outputs of the stages it depends on; a complete stage is reused, the others run. A dry run
//! computes what it can and says which stages would run.

use crate::error::{PipelineError, Result};
use crate::files::FileRef;
use crate::graph::{ids, Config, Node, Step, Unit};
use crate::plan::{KbPlan, Plan};
use crate::report::{Report, ReportMeta, FORMAT_VERSION};
use crate::results::{AugmentResult, SeedResult, SystemScore};
use crate::stage::{Stage, Stages};
use crate::stages::augment::{Augment, AugmentInput, AugmentOutput};
use crate::stages::best::{Best, BestInput, BestOutput, Candidate};
use crate::stages::dictionary::{DictionaryInput, DictionaryOutput, TuneDictionary};
use crate::stages::ensemble::{Ensemble, EnsembleInput, EnsembleOutput};
use crate::stages::evaluate::{Evaluate, EvaluateInput};
use crate::stages::kb::{BuildKb, KbOutput};
use crate::stages::llm_tagger::{LlmTagger, LlmTaggerInput, LlmTaggerOutput};
use crate::stages::predict::{Predict, PredictInput, PredictOutput};
use crate::stages::report::{MakeReport, ReportInput};
use crate::stages::sample::{Sample, SampleInput, SampleOutput};
use crate::stages::teacher::{ChooseTeacher, TeacherCandidate, TeacherInput, TeacherOutput};
use crate::stages::train::{Train, TrainInput, TrainOutput};
use crate::stages::System;
use crate::Runtime;
use hilgen_augment::StrategySpec;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Compute inputs and report what would run, without running anything or writing.
    pub dry_run: bool,
    /// Run only the stages matching this (an id such as `seed-1/train/original`, or a kind
    /// such as `train` or `augment/related`) and those they depend on.
    pub stop_after: Option<String>,
    /// Stop with an interruption before running more than this many stages (tests).
    pub max_stages: Option<usize>,
}

/// What happened to a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Found complete with the same inputs.
    Complete,
    /// Run by this call.
    Ran,
    /// Would run (dry run).
    WouldRun,
    /// Its inputs are not known until earlier stages run (dry run).
    Pending,
    /// Not asked for (`stop_after`).
    NotSelected,
    /// Being run by another worker on the same run directory (`pid@host`).
    Busy(String),
}

/// What a run did.
#[derive(Debug)]
pub struct RunSummary {
    /// The run directory.
    pub dir: PathBuf,
    /// Stages run by this call.
    pub executed: Vec<String>,
    /// Stages found complete.
    pub skipped: Vec<String>,
    /// Every stage's status, in graph order.
    pub stages: Vec<(String, Status)>,
    /// The report, when it was made (or found complete).
    pub report: Option<Report>,
}

struct Exec<'a> {
    plan: &'a Plan,
    stages: Stages,
    runtime: &'a Runtime,
    outputs: BTreeMap<String, Value>,
    status: Vec<(String, Status)>,
    dry_run: bool,
}

impl Exec<'_> {
    fn get<T: DeserializeOwned>(&self, id: &str) -> Option<T> {
        self.outputs.get(id).map(|v| serde_json::from_value(v.clone()).expect("outputs read back as written"))
    }

    /// Runs (or finds complete) stage `id` of kind `S`; `None` when its input is not known yet
    /// or a dry run would run it.
    fn step<S: Stage>(&mut self, id: &str, input: Option<S::Input>) -> Result<()> {
        let Some(input) = input else {
            self.status.push((id.to_string(), Status::Pending));
            return Ok(());
        };
        if self.dry_run {
            let v = serde_json::to_value(&input).map_err(|e| PipelineError::Invalid(e.to_string()))?;
            match self.stages.complete(id, &crate::files::inputs_hash(&v)) {
                Some(out) => {
                    self.outputs.insert(id.to_string(), out);
                    self.status.push((id.to_string(), Status::Complete));
                }
                None => self.status.push((id.to_string(), Status::WouldRun)),
            }
            return Ok(());
        }
        let before = self.stages.executed.len();
        let out = match self.stages.run::<S>(id, &input, self.runtime) {
            Err(PipelineError::Claimed { worker, .. }) => {
                self.status.push((id.to_string(), Status::Busy(worker)));
                return Ok(());
            }
            other => other?,
        };
        let ran = self.stages.executed.len() > before;
        self.outputs.insert(id.to_string(), serde_json::to_value(&out).expect("outputs serialize"));
        self.status.push((id.to_string(), if ran { Status::Ran } else { Status::Complete }));
        Ok(())
    }

    fn kb_index(&self) -> Option<FileRef> {
        match &self.plan.kb {
            Some(KbPlan::Index { index }) => Some(index.clone()),
            Some(KbPlan::Build(_)) => self.get::<KbOutput>(ids::KB).map(|o| o.index),
            None => None,
        }
    }

    fn shots(&self, unit: Unit) -> Option<SampleOutput> {
        self.get(&ids::sample(unit))
    }

    fn augment_input(&self, unit: Unit, i: usize) -> Option<AugmentInput> {
        let plan = self.plan;
        let s = &plan.strategies[i];
        let shots = self.shots(unit)?.shots;
        let kb = if s.needs.kb.uses() && plan.kb.is_some() { Some(self.kb_index()?) } else { None };
        let count_to_match = match s.count_from {
            Some(j) => Some(self.get::<AugmentOutput>(&ids::augment(unit, plan.strategies[j].spec.id()))?.result.count),
            None => None,
        };
        let params = match s.strategy.params() {
            Value::Object(m) => m,
            other => [("value".to_string(), other)].into_iter().collect(),
        };
        Some(AugmentInput {
            strategy: StrategySpec { kind: s.strategy.kind().to_string(), name: None, params },
            shots,
            seed: unit.seed,
            kb,
            pool: s.needs.pool.uses().then(|| plan.data.pool.as_ref().map(|p| p.labelled.clone())).flatten(),
            llm: s.needs.llm.map(|u| plan.llm.as_ref().expect("checked when planned").input(u.task())),
            count_to_match,
            dictionary: if s.needs.dictionary.uses() {
                Some(self.get::<DictionaryOutput>(&ids::dictionary(unit))?.dictionary)
            } else {
                None
            },
            mention_free_rate: s.needs.mention_free_rate.then_some(plan.data.dev_mention_free),
            teacher: if s.needs.teacher {
                let t: TeacherOutput = self.get(&ids::teacher(unit, s.spec.id()))?;
                Some(crate::stages::augment::TeacherRef {
                    system: t.system,
                    pool: t.pool,
                    dev: t.dev,
                    dev_gold: plan.data.dev.labelled.clone(),
                })
            } else {
                None
            },
        })
    }

    fn train_input(&self, unit: Unit, config: Config) -> Option<TrainInput> {
        let plan = self.plan;
        let sample = self.shots(unit)?;
        let (synthetic, count) = match config {
            Config::Original => (None, 0),
            Config::Strategy(i) => {
                let a: AugmentOutput = self.get(&ids::augment(unit, plan.strategies[i].spec.id()))?;
                (Some(a.synthetic), a.result.count)
            }
        };
        let m = &plan.model;
        let draw = m.schedule.draw(&m.tagger, sample.count, count);
        let mut tagger = draw.config;
        tagger.seed = unit.seed;
        let dev = tagger.early_stopping_patience.map(|_| plan.data.dev.labelled.clone());
        let o_weight = match config {
            Config::Original => 1.0,
            Config::Strategy(i) => plan.strategies[i].strategy.o_weight(),
        };
        Some(TrainInput {
            shots: sample.shots,
            synthetic,
            encoder: m.encoder.clone(),
            random_tiny: m.random_tiny,
            labels: plan.labels.clone(),
            tagger,
            dann: m.dann,
            dev,
            shot_copies: draw.shot_copies,
            synthetic_slots: draw.synthetic_slots.filter(|_| draw.shot_copies > 1 || count > 0),
            o_weight,
        })
    }

    /// Every system of a seed, in report order: tagger and DANN per configuration, then the LLM.
    fn systems(&self, unit: Unit) -> Option<Vec<System>> {
        let mut out = Vec::new();
        for config in self.plan.all_configs() {
            let name = self.plan.config_name(config);
            let p: PredictOutput = self.get(&ids::predict(unit, name))?;
            out.push(System { name: format!("tagger/{name}"), predictions: p.tagger });
            out.push(System { name: format!("dann/{name}"), predictions: p.dann });
        }
        if self.plan.zero_shot_tagger {
            let t: LlmTaggerOutput = self.get(ids::LLM_TAGGER)?;
            out.push(System { name: "llm/zero-shot".into(), predictions: t.predictions });
        }
        if self.plan.dictionary_system {
            let d: DictionaryOutput = self.get(&ids::dictionary(unit))?;
            out.push(System { name: "dictionary".into(), predictions: d.predictions });
        }
        Some(out)
    }

    fn scores(&self, unit: Unit) -> Option<BTreeMap<String, SystemScore>> {
        self.get(&ids::evaluate(unit))
    }

    fn node(&mut self, node: &Node) -> Result<()> {
        let plan = self.plan;
        let id = node.id.as_str();
        let data = &plan.data;
        match node.step {
            Step::Kb => {
                let Some(KbPlan::Build(sources)) = &plan.kb else { unreachable!("a kb stage is planned for sources") };
                self.step::<BuildKb>(id, Some(sources.clone()))
            }
            Step::LlmTagger => {
                let llm = plan.llm.as_ref().expect("checked when planned");
                let input = LlmTaggerInput {
                    llm: llm.input(hilgen_llm::prompts::Task::Tag),
                    types: plan.types(),
                    dev: data.dev.tokens.clone(),
                    test: data.test.tokens.clone(),
                };
                self.step::<LlmTagger>(id, Some(input))
            }
            Step::Sample { unit } => {
                let input = SampleInput { train: data.train.labelled.clone(), k: unit.k, seed: unit.seed };
                self.step::<Sample>(id, Some(input))
            }
            Step::Dictionary { unit } => {
                let input = match (self.shots(unit), self.kb_index()) {
                    (Some(s), Some(kb)) => Some(DictionaryInput {
                        kb,
                        shots: s.shots,
                        dev: data.dev.labelled.clone(),
                        test: data.test.tokens.clone(),
                        grid: plan.dictionary.clone().expect("a dictionary stage is planned for a grid"),
                    }),
                    _ => None,
                };
                self.step::<TuneDictionary>(id, input)
            }
            Step::Augment { unit, strategy } => {
                let input = self.augment_input(unit, strategy);
                self.step::<Augment>(id, input)
            }
            Step::Teacher { unit, strategy } => {
                let mut candidates = Some(Vec::new());
                for c in plan.teacher_candidates(strategy) {
                    let name = plan.config_name(c);
                    match (
                        self.get::<TrainOutput>(&ids::train(unit, name)),
                        self.get::<PredictOutput>(&ids::predict(unit, name)),
                    ) {
                        (Some(t), Some(p)) => {
                            let list = candidates.as_mut().expect("set above");
                            list.push(TeacherCandidate {
                                system: format!("tagger/{name}"),
                                model: t.model.clone(),
                                dev_predictions: p.tagger.dev,
                            });
                            list.push(TeacherCandidate {
                                system: format!("dann/{name}"),
                                model: t.model,
                                dev_predictions: p.dann.dev,
                            });
                        }
                        _ => candidates = None,
                    }
                    if candidates.is_none() {
                        break;
                    }
                }
                let pool = data.pool.as_ref().map(|p| p.tokens.clone());
                let input = match (candidates, pool) {
                    (Some(candidates), Some(pool)) => {
                        Some(TeacherInput { candidates, dev: data.dev.labelled.clone(), pool })
                    }
                    _ => None,
                };
                self.step::<ChooseTeacher>(id, input)
            }
            Step::Train { unit, config } => {
                let input = self.train_input(unit, config);
                self.step::<Train>(id, input)
            }
            Step::Predict { unit, config } => {
                let input = self.get::<TrainOutput>(&ids::train(unit, plan.config_name(config))).map(|t| {
                    PredictInput { model: t.model, dev: data.dev.tokens.clone(), test: data.test.tokens.clone() }
                });
                self.step::<Predict>(id, input)
            }
            Step::Evaluate { unit } => {
                let input = self.systems(unit).map(|systems| EvaluateInput {
                    dev: data.dev.labelled.clone(),
                    test: data.test.labelled.clone(),
                    systems,
                    bootstrap: plan.bootstrap,
                    seed: unit.seed,
                });
                self.step::<Evaluate>(id, input)
            }
            Step::Ensemble { unit } => {
                let input = match (self.systems(unit), self.scores(unit)) {
                    (Some(systems), Some(scores)) => {
                        // The best systems on dev (a stable sort: report order among equals).
                        let mut ranked = systems;
                        ranked.sort_by(|a, b| scores[&b.name].dev_f1.total_cmp(&scores[&a.name].dev_f1));
                        ranked.truncate(plan.ensemble_systems.max(1));
                        Some(EnsembleInput {
                            dev: data.dev.labelled.clone(),
                            test: data.test.labelled.clone(),
                            candidates: ranked,
                            bootstrap: plan.bootstrap,
                            seed: unit.seed,
                        })
                    }
                    _ => None,
                };
                self.step::<Ensemble>(id, input)
            }
            Step::Best { unit } => {
                let input = self.scores(unit).and_then(|scores| {
                    let mut candidates = Vec::new();
                    for config in plan.all_configs() {
                        let name = plan.config_name(config);
                        let t: TrainOutput = self.get(&ids::train(unit, name))?;
                        for m in ["tagger", "dann"] {
                            let system = format!("{m}/{name}");
                            candidates.push(Candidate {
                                dev_f1: scores[&system].dev_f1,
                                system,
                                model: t.model.clone(),
                            });
                        }
                    }
                    Some(BestInput { candidates })
                });
                self.step::<Best>(id, input)
            }
            Step::Report => {
                let input = self.report_input();
                self.step::<MakeReport>(id, input)
            }
        }
    }

    fn report_input(&self) -> Option<ReportInput> {
        let plan = self.plan;
        let mut seeds = Vec::new();
        for unit in plan.units() {
            let mut augment: BTreeMap<String, AugmentResult> = BTreeMap::new();
            for s in &plan.strategies {
                let a: AugmentOutput = self.get(&ids::augment(unit, s.spec.id()))?;
                augment.insert(s.spec.id().to_string(), a.result);
            }
            let ensemble: EnsembleOutput = self.get(&ids::ensemble(unit))?;
            let best: BestOutput = self.get(&ids::best(unit))?;
            seeds.push(SeedResult {
                seed: unit.seed,
                k: unit.k,
                scores: self.scores(unit)?,
                ensemble: ensemble.score,
                augment,
                kept: Some(best.kept),
                short_sample: self.shots(unit)?.short_sample(),
            });
        }
        let llm_tagger =
            if plan.zero_shot_tagger { Some(self.get::<LlmTaggerOutput>(ids::LLM_TAGGER)?.result) } else { None };
        let meta = ReportMeta {
            name: plan.name.clone(),
            dataset: plan.dataset.clone(),
            k: plan.k,
            ks: plan.ks.clone(),
            configs: plan.configs(),
            test_sentences: plan.data.test.sentences,
            systems: if plan.dictionary_system { vec!["dictionary".into()] } else { vec![] },
            settings: Some(plan.settings_hash()),
        };
        Some(ReportInput { meta, seeds, llm_tagger, format: FORMAT_VERSION })
    }
}

/// A stage's kind: its id without the sample's `kK/` and `seed-S/`.
pub fn kind_of(id: &str) -> &str {
    let mut rest = id;
    for prefix in ["k", "seed-"] {
        if let Some((first, tail)) = rest.split_once('/') {
            if first.strip_prefix(prefix).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())) {
                rest = tail;
            }
        }
    }
    rest
}

/// Whether stage `id` matches a `--stop-after` target: the id itself, or its kind (the id
/// without `kK/seed-S/`), or a prefix of the kind ending at a `/`.
pub fn matches(id: &str, target: &str) -> bool {
    let kind = kind_of(id);
    id == target || kind == target || kind.starts_with(&format!("{target}/"))
}

/// The stages to run for `target`: those matching it and everything they depend on.
fn selection(nodes: &[Node], target: &str) -> Result<BTreeSet<String>> {
    let mut chosen: BTreeSet<String> = nodes.iter().filter(|n| matches(&n.id, target)).map(|n| n.id.clone()).collect();
    if chosen.is_empty() {
        let kinds: BTreeSet<&str> = nodes.iter().map(|n| kind_of(&n.id).split('/').next().unwrap_or(&n.id)).collect();
        return Err(PipelineError::Invalid(format!(
            "--stop-after {target}: no such stage; stage kinds here: {}",
            kinds.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    for n in nodes.iter().rev() {
        if chosen.contains(&n.id) {
            chosen.extend(n.deps.iter().cloned());
        }
    }
    Ok(chosen)
}

/// A run folder belongs to one experiment: one whose `plan.json` names another experiment is
/// refused before anything is written (its report would be overwritten). The same experiment
/// with changed settings resumes, recomputing the stages whose inputs changed.
fn refuse_other_experiment(plan: &Plan) -> Result<()> {
    let path = plan.dir.join("plan.json");
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(()) };
    let name = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_string));
    match name {
        Some(name) if name != plan.name => Err(PipelineError::Invalid(format!(
            "{} holds the run of experiment `{name}`, not `{}`; give this experiment its own --out",
            plan.dir.display(),
            plan.name
        ))),
        _ => Ok(()),
    }
}

/// Runs (or resumes) a plan.
pub fn run(plan: &Plan, opts: &RunOptions, runtime: &Runtime) -> Result<RunSummary> {
    let selected = opts.stop_after.as_deref().map(|t| selection(&plan.nodes, t)).transpose()?;
    let stages = if opts.dry_run {
        Stages::at(&plan.dir)
    } else {
        refuse_other_experiment(plan)?;
        plan.write_data()?;
        let plan_text = serde_json::to_string_pretty(plan).expect("plans serialize");
        let mut s = Stages::new(&plan.dir)?;
        crate::files::write_file(&plan.dir.join("plan.json"), plan_text.as_bytes())?;
        s.limit = opts.max_stages;
        s
    };
    let mut exec = Exec { plan, stages, runtime, outputs: BTreeMap::new(), status: Vec::new(), dry_run: opts.dry_run };
    // Walk the graph; stages other workers hold are passed over (with what depends on them)
    // and the walk is repeated, after a pause when nothing could be done, until none is held.
    let mut waited = 0u32;
    let mut pause = std::time::Duration::from_millis(50);
    let mut done_before = 0usize;
    loop {
        exec.status.clear();
        let ran_before = exec.stages.executed.len();
        for node in &plan.nodes {
            if selected.as_ref().is_some_and(|s| !s.contains(&node.id)) {
                exec.status.push((node.id.clone(), Status::NotSelected));
                continue;
            }
            exec.node(node)?;
        }
        let busy: Vec<&(String, Status)> = exec.status.iter().filter(|(_, s)| matches!(s, Status::Busy(_))).collect();
        if busy.is_empty() || opts.dry_run {
            break;
        }
        let done = exec.status.iter().filter(|(_, s)| matches!(s, Status::Complete | Status::Ran)).count();
        if done > done_before {
            // Someone finished something: look again soon.
            pause = std::time::Duration::from_millis(50);
        }
        done_before = done;
        if exec.stages.executed.len() == ran_before {
            if waited.is_multiple_of(20) {
                let (id, Status::Busy(w)) = busy[0] else { unreachable!() };
                tracing::info!(stage = %id, worker = %w, busy = busy.len(), "waiting for stages other workers run");
            }
            waited += 1;
            // Short stages end within moments; long ones are looked at every 2 s.
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_secs(2));
        }
    }
    // Each stage once, in the order first met, and not as skipped when this process ran it.
    let executed: BTreeSet<String> = exec.stages.executed.iter().cloned().collect();
    let mut seen = BTreeSet::new();
    exec.stages.skipped.retain(|s| !executed.contains(s) && seen.insert(s.clone()));
    let report: Option<Report> = exec.get(ids::REPORT);
    if report.is_some() && !opts.dry_run {
        // The report's files also at the top of the run directory.
        for f in ["results.md", "results.json", "f1.svg", "curve.svg"] {
            let _ = std::fs::copy(exec.stages.dir(ids::REPORT).join(f), plan.dir.join(f));
        }
    }
    Ok(RunSummary {
        dir: plan.dir.clone(),
        executed: exec.stages.executed.clone(),
        skipped: exec.stages.skipped.clone(),
        stages: exec.status,
        report,
    })
}

/// Wall time per stage kind (`sample`, `augment/related`, `train/original`, ...), summed over
/// seeds, from the manifests under `root`.
pub fn stage_seconds(root: &Path) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if p.is_dir() && !name.starts_with('.') && name != "model" {
                stack.push(p);
            } else if name == "manifest.json" {
                if let Some(m) = crate::stage::read_manifest(&d) {
                    *out.entry(kind_of(&m.stage).to_string()).or_insert(0.0) += m.seconds;
                }
            }
        }
    }
    out
}
