//! MedMentions st21pv (21 UMLS semantic types); here the 3-abstract sample, the full corpus when provided.
//!
//! Runs the experiment `experiments/medmentions.toml` (compiled in; `--experiment FILE` replaces it)
//! through `hilgen_pipeline`: sample, augment, train the tagger and DANN, evaluate, best
//! ensemble on dev, report (Markdown, JSON, SVG under `runs/NAME/`). Stages already complete
//! are skipped, so an interrupted run resumes.
//!
//! Run: `cargo run --release --example medmentions -- [--seeds 1,2,3] [--out DIR] [--experiment FILE]`

fn main() -> std::process::ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .try_init();
    match hilgen::pipeline::example_main(include_str!("../experiments/medmentions.toml"), std::env::args().skip(1)) {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
