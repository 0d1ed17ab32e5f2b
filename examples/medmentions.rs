//! MedMentions st21pv (the 3-abstract sample here; the full corpus when present).
//!
//! The same as `hilgen run experiments/medmentions.toml`: sample, augment, train the tagger and
//! DANN, predict, evaluate, best ensemble and kept model on dev, report (Markdown, JSON, SVG
//! under `runs/NAME/`). Stages already complete are skipped, so an interrupted run resumes.
//!
//! Run: `cargo run --release --example medmentions -- [--seeds 1,2,3] [--out DIR] [--dry-run]`

fn main() -> std::process::ExitCode {
    hilgen_cli::run_example(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/medmentions.toml"))
}
