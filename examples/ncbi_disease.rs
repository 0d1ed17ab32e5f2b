//! NCBI-Disease (one type, Disease).
//!
//! The same as `hilgen run experiments/ncbi_disease.toml`: sample, augment, train the tagger and
//! DANN, predict, evaluate, best ensemble and kept model on dev, report (Markdown, JSON, SVG
//! under `runs/NAME/`). Stages already complete are skipped, so an interrupted run resumes.
//!
//! Run: `cargo run --release --example ncbi_disease -- [--seeds 1,2,3] [--out DIR] [--dry-run]`

fn main() -> std::process::ExitCode {
    hilgen_cli::run_example(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/ncbi_disease.toml"))
}
