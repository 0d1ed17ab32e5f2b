//! HILGEN experiments end to end. An experiment is a TOML file ([`Experiment`], plain data);
//! [`Plan::resolve`] turns it into a checked plan (environment applied, inputs hashed,
//! configurations built, strategies instantiated from the [`Registry`](hilgen_augment::Registry),
//! the stage [`graph`] laid out); [`run`] goes through the stages, each a module of
//! [`stages`] taking a serializable slice of the plan as both its argument and its hash input:
//! a re-run skips what is complete, an interrupted run resumes, a changed input reruns only
//! the stages that read it. Training, prediction and evaluation are separate stages (a new
//! test set does not retrain); every trained model is kept as a Hugging Face folder and the
//! best one on dev of each seed under `seed-S/best/model`. The [`report`] follows the paper's
//! Table 2 (Markdown, JSON, SVG).
//!
//! ```no_run
//! use hilgen_pipeline::{run, Experiment, Plan, RunOptions, Runtime};
//! let exp = Experiment::from_file("experiments/bc5cdr.toml".as_ref()).unwrap();
//! let runtime = Runtime::default();
//! let plan = Plan::resolve(&exp, &runtime.registry, None).unwrap();
//! let summary = run(&plan, &RunOptions::default(), &runtime.with_llm(&plan)).unwrap();
//! println!("{}", hilgen_pipeline::report::markdown(summary.report.as_ref().unwrap()));
//! ```

pub mod engine;
mod error;
pub mod exec;
pub mod experiment;
pub mod fewshot;
pub mod flow;
pub mod graph;
pub mod plan;
pub mod report;
pub mod stages;

pub use engine::{claim, files, stage};
pub use report::{compare, merge, results};

pub use error::{PipelineError, Result};
pub use exec::{graph, run, RunOptions, RunSummary, Status};
pub use experiment::{expand, Experiment};
pub use plan::Plan;

use hilgen_augment::Registry;

/// What stages use that does not change their results, so is not hashed: the strategy
/// registry, the LLM client's full configuration (cache, limits, retries), whether training
/// writes resumable checkpoints.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// The strategies stages can build.
    pub registry: Registry,
    /// The LLM client configuration (from the plan).
    pub llm: Option<hilgen_llm::LlmConfig>,
    /// Training saves a checkpoint after every epoch and resumes from it after an interruption
    /// (resumed runs restart the optimizer moments, so they are not bit-identical).
    pub checkpoints: bool,
    /// Where taggers train and predict (the plan's `model.device`).
    pub device: hilgen_models::DeviceChoice,
    /// CPU threads for libtorch in this process (`hilgen run --threads`; several workers on
    /// one machine share its cores). `None`: libtorch's default, one per core.
    pub threads: Option<usize>,
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime {
            registry: Registry::builtin(),
            llm: None,
            checkpoints: false,
            device: Default::default(),
            threads: None,
        }
    }
}

impl Runtime {
    /// Sets libtorch's thread count when [`Runtime::threads`] says so.
    pub fn apply_threads(&self) {
        if let Some(t) = self.threads {
            hilgen_models::set_threads(t);
        }
    }

    /// This runtime with the plan's LLM client configuration and device.
    pub fn with_llm(&self, plan: &Plan) -> Runtime {
        Runtime { llm: plan.llm.as_ref().map(|l| l.client.clone()), device: plan.model.device, ..self.clone() }
    }
}
