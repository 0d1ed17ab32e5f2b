//! `hilgen report`: reports of one experiment run apart, merged into one table over all seeds;
//! reports of different experiments compared system by system, paired by seed.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use hilgen_pipeline::{compare, merge, report};
use std::path::{Path, PathBuf};

/// Subcommands of `hilgen report`.
#[derive(Subcommand)]
pub enum ReportCommand {
    /// Merge the `results.json` of runs of one experiment over different seeds (other machines,
    /// days or Slurm jobs) into one report: Markdown, JSON and SVG, as one run over every seed.
    Merge(MergeArgs),
    /// Compare reports of different experiments (another encoder, knowledge source or
    /// strategy) system by system: test and dev F1 over the seeds they share, and each
    /// report's difference to the first, paired by seed.
    Compare(CompareArgs),
}

/// Arguments of `hilgen report compare`.
#[derive(Args)]
pub struct CompareArgs {
    /// Reports as `LABEL=PATH` (or `PATH`, labelled by its experiment name): `results.json`
    /// files or the folders holding one. The first is the baseline of the differences.
    #[arg(required = true, num_args = 2..)]
    pub reports: Vec<String>,
    /// Seeds to compare, comma-separated (each report must have them; default: the seeds
    /// every report has).
    #[arg(long, value_delimiter = ',')]
    pub seeds: Vec<u64>,
    /// Shots per type to compare, for learning-curve reports (default: the reports' K).
    #[arg(long)]
    pub k: Option<usize>,
    /// Only the systems every report has.
    #[arg(long)]
    pub common: bool,
    /// Write the Markdown table here (atomically) and the comparison as JSON beside it
    /// (`.json`), instead of printing the table.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the --out files if they exist (never one of the inputs).
    #[arg(long)]
    pub overwrite: bool,
}

/// Arguments of `hilgen report merge`.
#[derive(Args)]
pub struct MergeArgs {
    /// `results.json` files (or run/report folders holding one), each with other seeds.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Folder to write `results.md`, `results.json`, `f1.svg` into (created if missing; files
    /// written atomically). Never a folder whose `results.json` is one of the inputs.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the report files in --out if they exist.
    #[arg(long)]
    pub overwrite: bool,
}

/// Runs `hilgen report`.
pub fn run(cmd: ReportCommand) -> Result<()> {
    match cmd {
        ReportCommand::Merge(a) => merge_reports(&a),
        ReportCommand::Compare(a) => compare_reports(&a),
    }
}

/// The `results.json` a report argument names: the file itself or the one in its folder.
fn report_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("results.json")
    } else {
        path.to_path_buf()
    }
}

/// A `results.json`, named directly or by the run or report folder holding it, and its path.
fn read_report(path: &Path) -> Result<(PathBuf, report::Report)> {
    let file = report_file(path);
    let r = merge::read(&file)?;
    Ok((file, r))
}

fn compare_reports(a: &CompareArgs) -> Result<()> {
    let specs: Vec<(Option<String>, PathBuf)> = a
        .reports
        .iter()
        .map(|spec| match spec.split_once('=') {
            // `LABEL=PATH`, unless the whole argument is a path that exists.
            Some((l, p)) if !l.is_empty() && !PathBuf::from(spec).exists() => (Some(l.to_string()), PathBuf::from(p)),
            _ => (None, PathBuf::from(spec)),
        })
        .collect();
    let outs = match &a.out {
        Some(out) => {
            if out.extension().is_some_and(|e| e == "json") {
                anyhow::bail!("--out {}: name the Markdown file (the JSON goes beside it)", out.display());
            }
            let files: Vec<PathBuf> = specs.iter().map(|(_, p)| report_file(p)).collect();
            let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
            let json = out.with_extension("json");
            crate::output::check(&[("--out", out), ("--out (its JSON)", &json)], &inputs, a.overwrite)?
        }
        None => Vec::new(),
    };
    let mut runs = Vec::new();
    for (label, path) in specs {
        let (_, r) = read_report(&path)?;
        runs.push(compare::Labelled::new(label.unwrap_or_else(|| r.name.clone()), r));
    }
    let seeds = (!a.seeds.is_empty()).then_some(a.seeds.as_slice());
    let mut c = compare::compare(&runs, seeds, a.k)?;
    if a.common {
        c = c.common();
    }
    let md = compare::markdown(&c);
    match (&a.out, &outs[..]) {
        (Some(out), [md_path, json_path]) => {
            hilgen_pipeline::files::write_file(md_path, md.as_bytes())?;
            let json = serde_json::to_string_pretty(&c).context("serializing the comparison")?;
            hilgen_pipeline::files::write_file(json_path, json.as_bytes())?;
            println!("compared {} reports on seeds {:?}: {}", runs.len(), c.seeds, out.display());
        }
        _ => print!("{md}"),
    }
    Ok(())
}

fn merge_reports(a: &MergeArgs) -> Result<()> {
    anyhow::ensure!(!a.out.is_file(), "--out {} is a file; name a folder", a.out.display());
    if a.out.is_dir() {
        // The files `report::write` replaces, checked as outputs.
        let files: Vec<PathBuf> = a.reports.iter().map(|p| report_file(p)).collect();
        let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let outs: Vec<(String, PathBuf)> =
            report::FILES.iter().map(|f| (format!("--out {} (its {f})", a.out.display()), a.out.join(f))).collect();
        let outs: Vec<(&str, &Path)> = outs.iter().map(|(f, p)| (f.as_str(), p.as_path())).collect();
        crate::output::check(&outs, &inputs, a.overwrite)?;
    }
    let mut parts = Vec::new();
    for p in &a.reports {
        parts.push(read_report(p)?);
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
