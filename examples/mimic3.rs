//! MIMIC-III clinical notes: needs credentialed files (see `experiments/mimic3.toml`); without
//! them it says how to supply them and exits with status 2.
//!
//! Runs the experiment `experiments/mimic3.toml` (compiled in; `--experiment FILE` replaces it)
//! through `hilgen_pipeline`, like the other dataset examples.
//!
//! Run: `cargo run --release --example mimic3 -- [--seeds 1,2,3] [--out DIR] [--experiment FILE]`

const EXPERIMENT: &str = include_str!("../experiments/mimic3.toml");

fn main() -> std::process::ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .try_init();
    let custom = std::env::args().any(|a| a == "--experiment");
    let missing: Vec<std::path::PathBuf> = ["train", "devel", "test"]
        .iter()
        .map(|s| hilgen::pipeline::expand(format!("$HILGEN_DATA/mimic3/{s}.tsv").as_ref()))
        .filter(|p| !p.exists())
        .collect();
    if !custom && !missing.is_empty() {
        eprintln!(
            "MIMIC-III is not here: {} missing.\n\
             MIMIC-III needs PhysioNet credentialed access (https://physionet.org/content/mimiciii/), so it cannot be\n\
             downloaded. Annotate your notes (or take an annotated set you are licensed to use), write them as IOB2 files\n\
             (token<TAB>tag, one blank line between sentences) named train.tsv, devel.tsv and test.tsv in\n\
             $HILGEN_DATA/mimic3/, set kb.rrf to your UMLS release's META folder (an experiment file of your own, passed\n\
             with --experiment, or experiments/mimic3.toml), and run this example again.",
            missing.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        return std::process::ExitCode::from(2);
    }
    match hilgen::pipeline::example_main(EXPERIMENT, std::env::args().skip(1)) {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
