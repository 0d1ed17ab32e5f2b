//! Every experiment file the repository ships parses and passes its checks, and those whose
//! data is on this machine (the shared BC5CDR and NCBI-Disease files) resolve into a plan:
//! strategies and their parameters known to the registry, knowledge sources and encoder found.

use hilgen_pipeline::{Experiment, Plan};
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn shipped_experiments_parse_check_and_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let registry = hilgen_augment::Registry::builtin();
    let mut resolved = Vec::new();
    for dir in ["experiments", "experiments/results"] {
        for path in files(&root.join(dir)) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("llm-") {
                // An LLM client configuration (what an experiment's `[llm] config` names).
                hilgen_llm::config::LlmSettings::from_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
                continue;
            }
            let exp = Experiment::from_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            exp.check().unwrap_or_else(|e| panic!("{name}: {e}"));
            // The shared data has BC5CDR and NCBI-Disease; LLM experiments need a server's config.
            let local = matches!(exp.dataset.as_deref(), Some("bc5cdr" | "ncbi-disease" | "ncbi-disease-4type"));
            // The MPNet experiments need `cargo xtask setup --encoder mpnet` (438 MB), which
            // the tests do not install.
            let encoder_here = exp.model.encoder.as_ref().is_none_or(|e| exp.resolve_path(e, false).exists());
            if local && encoder_here && exp.llm.config.is_none() {
                Plan::resolve(&exp, &registry, None).unwrap_or_else(|e| panic!("{name}: {e}"));
                resolved.push(name);
            }
        }
    }
    for want in ["bc5cdr.toml", "ncbi_disease.toml", "ncbi_disease_4type.toml", "ablation_ncbi_disease.toml"] {
        assert!(resolved.iter().any(|r| r == want), "{want} not resolved: {resolved:?}");
    }
}
