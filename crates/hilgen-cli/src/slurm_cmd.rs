//! `hilgen slurm submit|status`: an experiment on a Slurm cluster.
//!
//! `submit` writes an sbatch script into `RUN/slurm/` and submits it as a job array; each array
//! task is one worker, `hilgen run EXP --out RUN`, on a node that sees the run directory (a
//! shared file system). Workers divide the stages among themselves through stage claims (see
//! `hilgen_pipeline::claim`): a task runs whatever is ready and not held by another, waits for
//! the stages it needs, and ends when the report is made. Job ids are recorded in
//! `RUN/slurm/jobs.json`. Submitting again after a failure or a cancelled task starts new
//! workers, which skip every complete stage and take over the claims of dead ones: only what
//! is missing runs. `status` shows each stage as done, running (by which worker), failed (and
//! why), or waiting, and the recorded jobs' states from `squeue`.

use crate::run_cmd::{resolve, Target};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use hilgen_augment::Registry;
use hilgen_pipeline::{claim, Plan, RunOptions, Runtime, Status};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `hilgen slurm` subcommands.
#[derive(Subcommand, Debug)]
pub enum SlurmCommand {
    /// Submit workers for an experiment's missing stages as a Slurm job array.
    Submit(SubmitArgs),
    /// Show each stage's state (done, running, failed, waiting) and the submitted jobs'.
    Status(StatusArgs),
}

/// `hilgen slurm submit` options (each overrides the experiment's `[slurm]` table).
#[derive(Args, Debug)]
pub struct SubmitArgs {
    #[command(flatten)]
    target: Target,
    /// Workers (array tasks) to start (default 4).
    #[arg(long)]
    workers: Option<usize>,
    /// At most this many workers at once.
    #[arg(long)]
    max_parallel: Option<usize>,
    /// Slurm partition.
    #[arg(long)]
    partition: Option<String>,
    /// Generic resources per worker, e.g. gpu:1.
    #[arg(long)]
    gres: Option<String>,
    /// Time limit per worker, e.g. 04:00:00.
    #[arg(long)]
    time: Option<String>,
    /// CPUs per worker (also its libtorch threads).
    #[arg(long)]
    cpus: Option<usize>,
    /// Memory per worker, e.g. 16G.
    #[arg(long)]
    mem: Option<String>,
    /// Write the script and print the sbatch command without submitting.
    #[arg(long)]
    dry_run: bool,
}

/// `hilgen slurm status` options.
#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    target: Target,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `hilgen slurm ...`.
pub fn run(cmd: SlurmCommand, registry: &Registry) -> Result<()> {
    match cmd {
        SlurmCommand::Submit(a) => submit(a, registry),
        SlurmCommand::Status(a) => status(a, registry),
    }
}

/// Each stage's status as a dry run sees it (complete, would run, pending).
fn stage_states(plan: &Plan, registry: &Registry) -> Result<Vec<(String, Status)>> {
    let runtime = Runtime { registry: registry.clone(), ..Runtime::default() }.with_llm(plan);
    let opts = RunOptions { dry_run: true, stop_after: None, max_stages: None };
    Ok(hilgen_pipeline::run(plan, &opts, &runtime)?.stages)
}

fn absolute(p: &Path) -> Result<PathBuf> {
    Ok(if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir()?.join(p) })
}

/// Quotes a word for a POSIX shell.
fn sh(word: &str) -> String {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "/._-=:,+@%".contains(c)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn submit(a: SubmitArgs, registry: &Registry) -> Result<()> {
    let (exp, plan) = resolve(&a.target, registry)?;
    let states = stage_states(&plan, registry)?;
    let missing = states.iter().filter(|(_, s)| *s != Status::Complete).count();
    if missing == 0 {
        eprintln!("{}: every stage is complete; nothing to submit", plan.dir.display());
        return Ok(());
    }
    let cfg = &exp.slurm;
    let workers = a.workers.or(cfg.workers).unwrap_or(4).max(1);
    let max_parallel = a.max_parallel.or(cfg.max_parallel);
    let cpus = a.cpus.or(cfg.cpus);
    let dir = absolute(&plan.dir)?;
    let slurm_dir = dir.join("slurm");
    std::fs::create_dir_all(slurm_dir.join("logs")).with_context(|| format!("creating {}", slurm_dir.display()))?;
    let exe = std::env::current_exe().context("finding the hilgen executable")?;
    let experiment = absolute(&a.target.experiment)?;

    let mut header = vec![
        format!("--job-name=hilgen-{}", exp.name),
        format!("--array=1-{workers}{}", max_parallel.map(|m| format!("%{m}")).unwrap_or_default()),
        format!("--output={}/logs/%A_%a.log", slurm_dir.display()),
    ];
    let opt = |flag: &str, v: Option<String>| v.map(|v| format!("--{flag}={v}"));
    header.extend(opt("partition", a.partition.clone().or(cfg.partition.clone())));
    header.extend(opt("gres", a.gres.clone().or(cfg.gres.clone())));
    header.extend(opt("time", a.time.clone().or(cfg.time.clone())));
    header.extend(opt("cpus-per-task", cpus.map(|c| c.to_string())));
    header.extend(opt("mem", a.mem.clone().or(cfg.mem.clone())));
    header.extend(cfg.sbatch_args.iter().cloned());
    let mut run = vec![exe.display().to_string(), "run".into(), experiment.display().to_string()];
    run.extend(["--out".into(), dir.display().to_string()]);
    if !a.target.seeds.is_empty() {
        let seeds: Vec<String> = a.target.seeds.iter().map(u64::to_string).collect();
        run.extend(["--seeds".into(), seeds.join(",")]);
    }
    let threads = cpus.map(|c| c.to_string()).unwrap_or_else(|| "${SLURM_CPUS_PER_TASK:-1}".into());
    let mut script = String::from("#!/bin/bash\n");
    script.push_str(&format!(
        "# Written by `hilgen slurm submit`: {workers} workers of experiment {} on {}.\n",
        exp.name,
        dir.display()
    ));
    for h in &header {
        script.push_str(&format!("#SBATCH {h}\n"));
    }
    script.push_str("set -euo pipefail\n");
    script.push_str(&format!(
        "exec {} --threads \"{threads}\" --log info\n",
        run.iter().map(|w| sh(w)).collect::<Vec<_>>().join(" ")
    ));
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let path = slurm_dir.join(format!("workers-{stamp}.sbatch"));
    hilgen_pipeline::files::write_file(&path, script.as_bytes())?;
    if a.dry_run {
        println!("sbatch --parsable {}", path.display());
        print!("{script}");
        return Ok(());
    }
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(&path)
        .output()
        .context("running sbatch (is Slurm's client installed and SLURM_CONF set?)")?;
    if !out.status.success() {
        bail!("sbatch {} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    let job = String::from_utf8_lossy(&out.stdout).trim().split(';').next().unwrap_or("").to_string();
    let jobs_file = slurm_dir.join("jobs.json");
    let mut jobs: Vec<Value> =
        std::fs::read_to_string(&jobs_file).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    jobs.push(json!({"job": job, "workers": workers, "script": path, "submitted": stamp, "missing_stages": missing}));
    hilgen_pipeline::files::write_file(&jobs_file, serde_json::to_string_pretty(&jobs)?.as_bytes())?;
    println!("{job}");
    eprintln!(
        "submitted job {job}: {workers} workers for {missing} of {} stages; `hilgen slurm status {}` follows them",
        states.len(),
        a.target.experiment.display()
    );
    Ok(())
}

/// The state of each recorded job's tasks (`squeue`), by job id.
fn queue(jobs: &[String]) -> Vec<(String, String)> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let Ok(out) = Command::new("squeue").args(["-h", "-r", "-o", "%i %T", "-j", &jobs.join(",")]).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
        .collect()
}

fn status(a: StatusArgs, registry: &Registry) -> Result<()> {
    let (_, plan) = resolve(&a.target, registry)?;
    let states = stage_states(&plan, registry)?;
    let mut rows = Vec::new();
    for (id, s) in &states {
        let dest = plan.dir.join(id);
        let failed: Option<Value> = std::fs::read_to_string(
            dest.with_file_name(format!(".{}.failed.json", dest.file_name().unwrap_or_default().to_string_lossy())),
        )
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
        let held = claim::read(&dest).filter(|c| !c.is_stale());
        let (state, detail) = match (s, held, failed) {
            (Status::Complete, _, _) => ("done", String::new()),
            (_, Some(c), _) => ("running", c.worker),
            (_, None, Some(f)) => ("failed", f["error"].as_str().unwrap_or("").to_string()),
            _ => ("waiting", String::new()),
        };
        rows.push((id.clone(), state, detail));
    }
    let jobs: Vec<String> = std::fs::read_to_string(plan.dir.join("slurm/jobs.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Vec<Value>>(&t).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|j| j["job"].as_str().map(str::to_string))
        .collect();
    let tasks = queue(&jobs);
    if a.json {
        let stages: Vec<Value> = rows.iter().map(|(id, s, d)| json!({"stage": id, "state": s, "detail": d})).collect();
        let tasks: Vec<Value> = tasks.iter().map(|(t, s)| json!({"task": t, "state": s})).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"run": plan.dir, "stages": stages, "jobs": jobs, "queue": tasks}))?
        );
        return Ok(());
    }
    for (id, state, detail) in &rows {
        println!("{id:<44} {state:<8} {detail}");
    }
    let count = |s: &str| rows.iter().filter(|r| r.1 == s).count();
    println!(
        "\n{}: {} done, {} running, {} failed, {} waiting",
        plan.dir.display(),
        count("done"),
        count("running"),
        count("failed"),
        count("waiting")
    );
    if !jobs.is_empty() {
        let q: Vec<String> = tasks.iter().map(|(t, s)| format!("{t} {s}")).collect();
        println!(
            "jobs {}: {}",
            jobs.join(", "),
            if q.is_empty() { "none queued or running".to_string() } else { q.join(", ") }
        );
    }
    Ok(())
}
