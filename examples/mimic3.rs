//! MIMIC-III clinical notes: needs credentialed files (see `experiments/mimic3.toml`); without
//! them it says how to supply them and exits with status 2. With them, the same as
//! `hilgen run experiments/mimic3.toml`.
//!
//! Run: `cargo run --release --example mimic3 -- [--seeds 1,2,3] [--out DIR]`

fn main() -> std::process::ExitCode {
    let missing: Vec<std::path::PathBuf> = ["train", "devel", "test"]
        .iter()
        .map(|s| hilgen::pipeline::expand(format!("$HILGEN_DATA/mimic3/{s}.tsv").as_ref()))
        .filter(|p| !p.exists())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "MIMIC-III is not here: {} missing.\n\
             MIMIC-III needs PhysioNet credentialed access (https://physionet.org/content/mimiciii/), so it cannot be\n\
             downloaded. Annotate your notes (or take an annotated set you are licensed to use), write them as IOB2 files\n\
             (token<TAB>tag, one blank line between sentences) named train.tsv, devel.tsv and test.tsv in\n\
             $HILGEN_DATA/mimic3/, set kb.rrf to your UMLS release's META folder (in experiments/mimic3.toml or a copy\n\
             of it), and run `hilgen run` on that file.",
            missing.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        return std::process::ExitCode::from(2);
    }
    hilgen_cli::run_example(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/mimic3.toml"))
}
