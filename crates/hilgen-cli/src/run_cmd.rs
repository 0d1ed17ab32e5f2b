//! `hilgen run`: an experiment resolved into a plan and run (or resumed).

use anyhow::{Context, Result};
use clap::Args;
use hilgen_augment::Registry;
use hilgen_pipeline::{Experiment, Plan, RunOptions, Runtime, Status};
use std::path::PathBuf;

/// `hilgen run` options.
#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: Target,
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
    /// Work on independent stages with N processes at once (this one and N-1 workers it
    /// starts, sharing the run directory through stage claims; more workers may join from
    /// other shells or machines with the same command and --out).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub jobs: usize,
    /// CPU threads for libtorch in each process (default: the cores divided among --jobs).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
}

/// The experiment and its run directory (`hilgen run`, `hilgen slurm`).
#[derive(Args, Debug)]
pub struct Target {
    /// The experiment file (TOML).
    pub experiment: PathBuf,
    /// Seeds to run instead of the file's, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub seeds: Vec<u64>,
    /// The run directory (default: runs/NAME; for Slurm, on a file system the nodes share).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The experiment with the seeds given, resolved into a checked plan.
pub(crate) fn resolve(t: &Target, registry: &Registry) -> Result<(Experiment, Plan)> {
    let mut exp = Experiment::from_file(&t.experiment)?;
    if !t.seeds.is_empty() {
        exp.seeds = t.seeds.clone();
    }
    let plan = Plan::resolve(&exp, registry, t.out.as_deref())
        .with_context(|| format!("resolving {}", t.experiment.display()))?;
    Ok((exp, plan))
}

/// Runs `hilgen run`.
pub fn run(args: RunArgs, registry: &Registry, log: &str) -> Result<()> {
    let t = std::time::Instant::now();
    let (_, plan) = resolve(&args.target, registry)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = args.threads.or((args.jobs > 1).then(|| (cores / args.jobs).max(1)));
    let runtime = Runtime { registry: registry.clone(), checkpoints: args.checkpoints, threads, ..Runtime::default() }
        .with_llm(&plan);
    let opts = RunOptions { dry_run: args.dry_run, stop_after: args.stop_after.clone(), max_stages: args.max_stages };
    anyhow::ensure!(args.jobs >= 1, "--jobs must be at least 1");
    let workers = if args.dry_run { Vec::new() } else { start_workers(&args, &plan.dir, threads, log)? };
    let summary = hilgen_pipeline::run(&plan, &opts, &runtime);
    let mut failed = Vec::new();
    for (i, mut w) in workers.into_iter().enumerate() {
        let status = w.wait().context("waiting for a worker")?;
        if !status.success() {
            failed.push(format!("worker {} ({status})", i + 2));
        }
    }
    let summary = summary?;
    anyhow::ensure!(failed.is_empty(), "{} failed; its stage's .NAME.failed.json says why", failed.join(", "));
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
                Status::Busy(_) => "being run by another worker",
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

/// Starts `--jobs` - 1 more `hilgen run` processes on the same experiment and run directory
/// (their output goes to the same stderr; only this process prints the report).
fn start_workers(
    args: &RunArgs,
    dir: &std::path::Path,
    threads: Option<usize>,
    log: &str,
) -> Result<Vec<std::process::Child>> {
    let exe = std::env::current_exe().context("finding the hilgen executable")?;
    let mut out = Vec::new();
    for _ in 1..args.jobs {
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg("run").arg(&args.target.experiment).arg("--out").arg(dir).arg("--log").arg(log);
        if !args.target.seeds.is_empty() {
            let seeds: Vec<String> = args.target.seeds.iter().map(u64::to_string).collect();
            cmd.arg("--seeds").arg(seeds.join(","));
        }
        if let Some(s) = &args.stop_after {
            cmd.arg("--stop-after").arg(s);
        }
        if args.checkpoints {
            cmd.arg("--checkpoints");
        }
        if let Some(t) = threads {
            cmd.arg("--threads").arg(t.to_string());
        }
        cmd.stdout(std::process::Stdio::null());
        out.push(cmd.spawn().with_context(|| format!("starting a worker ({})", exe.display()))?);
    }
    Ok(out)
}
