//! Running a plan: each stage of the graph, in order, gets its input from the plan and the
//! outputs of the stages it depends on; a complete stage is reused, the others run. A dry run
//! computes what it can and says which stages would run.

use crate::error::{PipelineError, Result};
pub use crate::flow::Status;
use crate::flow::Walk;
use crate::graph::{self, ids, kind_of, At, Node};
use crate::plan::Plan;
use crate::report::Report;
use crate::stage::Stages;
use crate::Runtime;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The stages of `plan`, each after the stages it reads: every kind's stages, ordered by
/// [`graph::order`] (experiment-wide stages first, then sample by sample, kind by kind).
pub fn graph(plan: &Plan) -> Vec<Node> {
    let units = plan.units();
    let kind_rank = |k: &str| crate::stages::KINDS.iter().position(|x| x.name() == k).expect("a registered kind");
    let unit_rank = |at: &At| at.unit.map_or(0, |u| 1 + units.iter().position(|x| *x == u).unwrap_or(0));
    graph::order(crate::stages::KINDS.iter().flat_map(|k| k.nodes(plan)).collect(), kind_rank, unit_rank)
}

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
    let nodes = graph(plan);
    let selected = opts.stop_after.as_deref().map(|t| selection(&nodes, t)).transpose()?;
    let stages = if opts.dry_run {
        Stages::at(&plan.dir)
    } else {
        refuse_other_experiment(plan)?;
        plan.write_data()?;
        /// `plan.json`: the plan and its stages.
        #[derive(Serialize)]
        struct PlanFile<'a> {
            #[serde(flatten)]
            plan: &'a Plan,
            nodes: &'a [Node],
        }
        let plan_text = serde_json::to_string_pretty(&PlanFile { plan, nodes: &nodes }).expect("plans serialize");
        let mut s = Stages::new(&plan.dir)?;
        crate::files::write_file(&plan.dir.join("plan.json"), plan_text.as_bytes())?;
        s.limit = opts.max_stages;
        s
    };
    let mut exec = Walk {
        kinds: crate::stages::KINDS,
        plan,
        stages,
        runtime,
        outputs: BTreeMap::new(),
        systems: BTreeMap::new(),
        status: Vec::new(),
        dry_run: opts.dry_run,
    };
    // Walk the graph; stages other workers hold are passed over (with what depends on them)
    // and the walk is repeated, after a pause when nothing could be done, until none is held.
    let mut waited = 0u32;
    let mut pause = std::time::Duration::from_millis(50);
    let mut done_before = 0usize;
    loop {
        exec.status.clear();
        let ran_before = exec.stages.executed.len();
        for node in &nodes {
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
