//! `hilgen run`: an experiment resolved into a plan and run (or resumed).

use anyhow::{Context, Result};
use clap::Args;
use hilgen_augment::Registry;
use hilgen_pipeline::{Experiment, Plan, RunOptions, Runtime, Status};
use std::path::PathBuf;

/// `hilgen run` options.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The experiment file (TOML).
    pub experiment: PathBuf,
    /// Seeds to run instead of the file's, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub seeds: Vec<u64>,
    /// The run directory (default: runs/NAME).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only the stages matching STAGE (an id such as seed-1/train/original, or a kind such as
    /// sample, augment, augment/related, train, predict, evaluate) and what they depend on.
    #[arg(long, value_name = "STAGE")]
    pub stop_after: Option<String>,
    /// Print the resolved plan and which stages would run; run and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Save a training checkpoint after every epoch, so an interrupted training resumes
    /// mid-way (worth it for large encoders; a resumed run restarts the optimizer moments).
    #[arg(long)]
    pub checkpoints: bool,
    /// Stop before running more than N stages (for testing resumption).
    #[arg(long, hide = true)]
    pub max_stages: Option<usize>,
}

/// Runs `hilgen run`.
pub fn run(args: RunArgs, registry: &Registry) -> Result<()> {
    let mut exp = Experiment::from_file(&args.experiment)?;
    if !args.seeds.is_empty() {
        exp.seeds = args.seeds.clone();
    }
    let t = std::time::Instant::now();
    let plan = Plan::resolve(&exp, registry, args.out.as_deref())
        .with_context(|| format!("resolving {}", args.experiment.display()))?;
    let runtime =
        Runtime { registry: registry.clone(), checkpoints: args.checkpoints, ..Runtime::default() }.with_llm(&plan);
    let opts = RunOptions { dry_run: args.dry_run, stop_after: args.stop_after.clone(), max_stages: args.max_stages };
    let summary = hilgen_pipeline::run(&plan, &opts, &runtime)?;
    if args.dry_run {
        println!("{}", serde_json::to_string_pretty(&plan)?);
        println!("\nstages ({}):", plan.dir.display());
        for (id, status) in &summary.stages {
            let s = match status {
                Status::Complete => "complete",
                Status::WouldRun => "would run",
                Status::Pending => "would run (after the stages it reads)",
                Status::NotSelected => "not selected",
                Status::Ran => "ran",
            };
            println!("  {id:<40} {s}");
        }
        return Ok(());
    }
    if let Some(r) = &summary.report {
        println!("{}", hilgen_pipeline::report::markdown(r));
    }
    eprintln!(
        "run directory {}: {} stages run, {} already complete; {:.1} min",
        summary.dir.display(),
        summary.executed.len(),
        summary.skipped.len(),
        t.elapsed().as_secs_f64() / 60.0
    );
    Ok(())
}
