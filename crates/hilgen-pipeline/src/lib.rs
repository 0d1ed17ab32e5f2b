//! HILGEN experiments end to end: an experiment is a TOML file ([`Experiment`]); [`run`] goes
//! through its stages (sample, augment, train tagger + DANN with predictions, evaluate, best
//! ensemble on dev, report), each in its own folder with a manifest of input hashes
//! ([`stage`]), so a re-run skips what is complete and an interrupted run resumes; the
//! [`report`] follows the paper's Table 2 (Markdown, JSON, SVG).
//!
//! ```no_run
//! use hilgen_pipeline::{run, Experiment, RunOptions};
//! let exp = Experiment::from_file("experiments/bc5cdr.toml".as_ref()).unwrap();
//! let summary = run(&exp, &RunOptions::default()).unwrap();
//! println!("{}", hilgen_pipeline::report::markdown(&summary.report));
//! ```

mod error;
pub mod experiment;
pub mod report;
mod run;
pub mod stage;

pub use error::{PipelineError, Result};
pub use experiment::Experiment;
pub use run::{expand, run, AugmentResult, RunOptions, RunSummary, TrainResult};

/// The per-dataset examples' command line: `[--experiment FILE] [--seeds 1,2,3] [--out DIR]
/// [--stop-after N]`, with `default_toml` (the example's experiment file, compiled in) unless a
/// file is given. Prints the Markdown report.
pub fn example_main(default_toml: &str, args: impl IntoIterator<Item = String>) -> Result<RunSummary> {
    let mut exp: Option<Experiment> = None;
    let mut opts = RunOptions::default();
    let mut seeds: Option<Vec<u64>> = None;
    let mut it = args.into_iter();
    let usage = "expected --experiment FILE, --seeds 1,2,3, --out DIR, --stop-after N";
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| PipelineError::Invalid(format!("{flag} needs a value; {usage}")));
        match flag.as_str() {
            "--experiment" => exp = Some(Experiment::from_file(value()?.as_ref())?),
            "--seeds" => {
                let v = value()?;
                let parsed: std::result::Result<Vec<u64>, _> = v.split(',').map(|x| x.trim().parse()).collect();
                seeds = Some(parsed.map_err(|_| PipelineError::Invalid(format!("--seeds {v:?}: {usage}")))?);
            }
            "--out" => opts.out = Some(value()?.into()),
            "--stop-after" => {
                let v = value()?;
                opts.stop_after =
                    Some(v.parse().map_err(|_| PipelineError::Invalid(format!("--stop-after {v:?}: {usage}")))?);
            }
            other => return Err(PipelineError::Invalid(format!("unknown argument {other}; {usage}"))),
        }
    }
    let mut exp = match exp {
        Some(e) => e,
        None => {
            let e: Experiment = toml::from_str(default_toml)
                .map_err(|e| PipelineError::Invalid(format!("built-in experiment: {e}")))?;
            e.check().map_err(PipelineError::Invalid)?;
            e
        }
    };
    if let Some(s) = seeds {
        exp.seeds = s;
    }
    let t = std::time::Instant::now();
    let summary = run(&exp, &opts)?;
    println!("{}", report::markdown(&summary.report));
    println!(
        "run directory {}: {} stages run, {} already complete; {:.1} min",
        summary.dir.display(),
        summary.executed.len(),
        summary.skipped.len(),
        t.elapsed().as_secs_f64() / 60.0
    );
    Ok(summary)
}
