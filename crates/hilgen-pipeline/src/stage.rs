//! Resumable stages. A stage is a folder under the run directory holding its artifacts and a
//! `manifest.json` (the hash of its inputs, its result, its wall time). A stage whose manifest
//! exists with the same input hash is skipped and its recorded result returned; otherwise it
//! runs in a temporary sibling folder that is renamed into place only when complete, so nothing
//! half-written is ever read, and an interrupted run resumes at the first unfinished stage.

use crate::error::{PipelineError, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a finished stage left behind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Stage name (its folder, relative to the run directory).
    pub stage: String,
    /// sha256 of the canonical inputs.
    pub inputs_hash: String,
    /// The inputs (parameters and the hashes of input files).
    pub inputs: Value,
    /// The stage's result.
    pub result: Value,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// The stages of one run directory.
#[derive(Debug)]
pub struct Stages {
    root: PathBuf,
    /// Stop with [`PipelineError::Interrupted`] after this many executed stages (tests, and
    /// `--stop-after`).
    pub limit: Option<usize>,
    /// Stages run in this process.
    pub executed: Vec<String>,
    /// Stages skipped as already complete.
    pub skipped: Vec<String>,
}

/// sha256 (hex) of a file's bytes.
pub fn file_hash(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| PipelineError::io(path, e))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Stages {
    /// Stages under `root` (created).
    pub fn new(root: impl Into<PathBuf>) -> Result<Stages> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| PipelineError::io(&root, e))?;
        Ok(Stages { root, limit: None, executed: Vec::new(), skipped: Vec::new() })
    }

    /// The run directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of a finished stage.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The manifest of a finished stage, if any.
    pub fn manifest(&self, name: &str) -> Option<Manifest> {
        let text = std::fs::read_to_string(self.dir(name).join("manifest.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Runs stage `name` with `inputs` unless it is complete with the same inputs; `f` writes
    /// its artifacts into the folder it is given and returns the result to record.
    pub fn run<T: Serialize + DeserializeOwned>(
        &mut self,
        name: &str,
        inputs: Value,
        f: impl FnOnce(&Path) -> Result<T>,
    ) -> Result<T> {
        // The same canonical-JSON sha256 the LLM cache keys requests by.
        let inputs_hash = hilgen_llm::cache::key_of(&inputs);
        if let Some(m) = self.manifest(name) {
            if m.inputs_hash == inputs_hash {
                tracing::info!(stage = name, "complete; skipped");
                self.skipped.push(name.to_string());
                return serde_json::from_value(m.result)
                    .map_err(|e| PipelineError::Invalid(format!("{name}/manifest.json: {e}")));
            }
            tracing::info!(stage = name, "inputs changed; running again");
        }
        if let Some(limit) = self.limit {
            if self.executed.len() >= limit {
                return Err(PipelineError::Interrupted(format!(
                    "stopped before stage {name} (limit of {limit} stages)"
                )));
            }
        }
        let dest = self.dir(name);
        let parent = dest.parent().expect("stages live under the root").to_path_buf();
        std::fs::create_dir_all(&parent).map_err(|e| PipelineError::io(&parent, e))?;
        let leaf = dest.file_name().expect("stage names are not empty").to_string_lossy().to_string();
        let tmp = parent.join(format!(".{leaf}.partial-{}", std::process::id()));
        // Leftovers of an interrupted attempt are never read; clear them.
        if let Ok(rd) = std::fs::read_dir(&parent) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with(&format!(".{leaf}.partial-")) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        std::fs::create_dir_all(&tmp).map_err(|e| PipelineError::io(&tmp, e))?;
        tracing::info!(stage = name, "running");
        let t = Instant::now();
        let result = f(&tmp)?;
        let manifest = Manifest {
            stage: name.to_string(),
            inputs_hash,
            inputs,
            result: serde_json::to_value(&result).map_err(|e| PipelineError::Invalid(e.to_string()))?,
            seconds: t.elapsed().as_secs_f64(),
        };
        let text = serde_json::to_string_pretty(&manifest).expect("manifests serialize");
        std::fs::write(tmp.join("manifest.json"), text).map_err(|e| PipelineError::io(&tmp, e))?;
        if dest.exists() {
            std::fs::remove_dir_all(&dest).map_err(|e| PipelineError::io(&dest, e))?;
        }
        std::fs::rename(&tmp, &dest).map_err(|e| PipelineError::io(&dest, e))?;
        self.executed.push(name.to_string());
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn skips_complete_stages_and_reruns_changed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = Stages::new(dir.path()).unwrap();
        let r: u32 = st
            .run("a/one", json!({"x": 1}), |d| {
                std::fs::write(d.join("f"), "1").unwrap();
                Ok(7)
            })
            .unwrap();
        assert_eq!(r, 7);
        let r: u32 = st.run("a/one", json!({"x": 1}), |_| panic!("must not run")).unwrap();
        assert_eq!(r, 7);
        let r: u32 = st.run("a/one", json!({"x": 2}), |_| Ok(8)).unwrap();
        assert_eq!(r, 8);
        assert_eq!((st.executed.len(), st.skipped.len()), (2, 1));
        assert!(!dir.path().join("a/one/f").exists(), "a re-run replaces the folder");
        // A failing stage leaves no folder behind.
        let e: Result<u32> = st.run("b", json!({}), |d| {
            std::fs::write(d.join("half"), "x").unwrap();
            Err(PipelineError::Invalid("boom".into()))
        });
        assert!(e.is_err());
        assert!(!dir.path().join("b").exists());
        st.limit = Some(2);
        let e: Result<u32> = st.run("c", json!({}), |_| Ok(1));
        assert!(matches!(e, Err(PipelineError::Interrupted(_))));
    }
}
