//! `hilgen report`: reports of one experiment run apart, merged into one table over all seeds.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use hilgen_pipeline::{merge, report};
use std::path::PathBuf;

/// Subcommands of `hilgen report`.
#[derive(Subcommand)]
pub enum ReportCommand {
    /// Merge the `results.json` of runs of one experiment over different seeds (other machines,
    /// days or Slurm jobs) into one report: Markdown, JSON and SVG, as one run over every seed.
    Merge(MergeArgs),
}

/// Arguments of `hilgen report merge`.
#[derive(Args)]
pub struct MergeArgs {
    /// `results.json` files (or run/report folders holding one), each with other seeds.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Folder to write `results.md`, `results.json`, `f1.svg` into (created if missing; files
    /// replaced atomically, so it may be one of the inputs' folders).
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `hilgen report`.
pub fn run(cmd: ReportCommand) -> Result<()> {
    match cmd {
        ReportCommand::Merge(a) => merge_reports(&a),
    }
}

fn merge_reports(a: &MergeArgs) -> Result<()> {
    let mut parts = Vec::new();
    for p in &a.reports {
        let file = if p.is_dir() { p.join("results.json") } else { p.clone() };
        parts.push((file.clone(), merge::read(&file)?));
    }
    let merged = merge::merge(&parts)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    report::write(&merged, &a.out)?;
    let seeds: Vec<String> = merged.seeds.iter().map(u64::to_string).collect();
    println!(
        "merged {} reports of `{}`: seeds {} into {}",
        parts.len(),
        merged.name,
        seeds.join(", "),
        a.out.join("results.md").display()
    );
    Ok(())
}
