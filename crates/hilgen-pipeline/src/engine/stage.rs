//! Resumable stages. A stage is a folder under the run directory holding its artifacts and a
//! `manifest.json` (its inputs, their hash, its result, its wall time). A stage whose manifest
//! exists with the same input hash is complete and its recorded result is reused; otherwise it
//! runs in a temporary sibling folder that is renamed into place only when complete, so nothing
//! half-written is ever read, and an interrupted run resumes at the first unfinished stage.
//!
//! A stage implements [`Stage`]: its input is a serializable slice of the plan, which is both
//! the only thing it may read and what its hash covers.
//!
//! Several workers may share a run directory: a stage runs only under its claim
//! (`crate::claim`), and a worker that finds a stage claimed by another gets
//! [`PipelineError::Claimed`] and goes on with other stages. A stage that fails leaves
//! `.NAME.failed.json` (worker, time, error) beside its folder until it succeeds.

use crate::error::{PipelineError, Result};
use crate::files::{inputs_hash, FileRef, HashCache};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a finished stage left behind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Stage name (its folder, relative to the run directory).
    pub stage: String,
    /// Hash of the inputs (see [`crate::files::inputs_hash`]).
    pub inputs_hash: String,
    /// The inputs (parameters and the hashes of input files).
    pub inputs: Value,
    /// The stage's result.
    pub result: Value,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// What a running stage may use besides its input.
pub struct Context<'a> {
    /// The stage's id.
    pub id: &'a str,
    /// The folder to write artifacts into (renamed to the stage's folder when it succeeds).
    pub dir: &'a Path,
    /// The run directory (file references in inputs are relative to it).
    pub root: &'a Path,
    /// A folder for resumable work that outlives an interrupted attempt with the same inputs
    /// (training checkpoints), removed once the stage completes.
    pub scratch: &'a Path,
    /// Runtime settings that do not change results.
    pub runtime: &'a crate::Runtime,
}

impl Context<'_> {
    /// A reference to a file the stage wrote into its folder, as it will be found once the
    /// stage is complete.
    pub fn output(&self, name: &str) -> Result<FileRef> {
        let p = self.dir.join(name);
        Ok(FileRef { file: PathBuf::from(self.id).join(name), sha256: crate::files::file_sha256(&p)? })
    }

    /// A reference to a folder the stage wrote into its folder.
    pub fn output_dir(&self, name: &str) -> Result<FileRef> {
        let p = self.dir.join(name);
        let sha256 = crate::files::dir_sha256(&p, &mut HashCache::default())?;
        Ok(FileRef { file: PathBuf::from(self.id).join(name), sha256 })
    }

    /// The path of an input file.
    pub fn path(&self, f: &FileRef) -> PathBuf {
        f.path(self.root)
    }
}

/// A kind of stage: a function of its input.
pub trait Stage {
    /// The slice of the plan it reads (and hashes).
    type Input: Serialize;
    /// What it records (and later stages read).
    type Output: Serialize + DeserializeOwned;
    /// Runs the stage, writing its artifacts into `cx.dir`.
    fn run(input: &Self::Input, cx: &Context<'_>) -> Result<Self::Output>;
}

/// The stages of one run directory.
#[derive(Debug)]
pub struct Stages {
    root: PathBuf,
    /// Stop with [`PipelineError::Interrupted`] before running more than this many stages
    /// (tests, and `--max-stages`).
    pub limit: Option<usize>,
    /// Stages run in this process.
    pub executed: Vec<String>,
    /// Stages found complete.
    pub skipped: Vec<String>,
}

impl Stages {
    /// Stages under `root` (created).
    pub fn new(root: impl Into<PathBuf>) -> Result<Stages> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| PipelineError::io(&root, e))?;
        sweep_partials(&root);
        Ok(Stages { root, limit: None, executed: Vec::new(), skipped: Vec::new() })
    }

    /// Stages under `root`, which is not created (for looking, as a dry run does).
    pub fn at(root: impl Into<PathBuf>) -> Stages {
        Stages { root: root.into(), limit: None, executed: Vec::new(), skipped: Vec::new() }
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
        read_manifest(&self.dir(name))
    }

    /// The recorded result of stage `name` if it is complete with inputs hashing to `hash`.
    pub fn complete(&self, name: &str, hash: &str) -> Option<Value> {
        self.manifest(name).filter(|m| m.inputs_hash == hash).map(|m| m.result)
    }

    /// Runs stage `name` of kind `S` on `input` unless it is complete with the same inputs.
    pub fn run<S: Stage>(&mut self, name: &str, input: &S::Input, runtime: &crate::Runtime) -> Result<S::Output> {
        let inputs = serde_json::to_value(input).map_err(|e| PipelineError::Invalid(format!("{name}: {e}")))?;
        let hash = inputs_hash(&inputs);
        if let Some(result) = self.complete(name, &hash) {
            tracing::debug!(stage = name, "complete; skipped");
            self.skipped.push(name.to_string());
            return serde_json::from_value(result)
                .map_err(|e| PipelineError::Invalid(format!("{name}/manifest.json: {e}")));
        }
        if self.manifest(name).is_some() {
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
        let _claim =
            match crate::claim::try_claim(&dest, crate::claim::lease()).map_err(|e| PipelineError::io(&dest, e))? {
                crate::claim::Attempt::Held(c) => c,
                crate::claim::Attempt::Busy(other) => {
                    return Err(PipelineError::Claimed { stage: name.to_string(), worker: other.worker })
                }
            };
        // Another worker may have finished it between the look above and the claim.
        if let Some(result) = self.complete(name, &hash) {
            self.skipped.push(name.to_string());
            return serde_json::from_value(result)
                .map_err(|e| PipelineError::Invalid(format!("{name}/manifest.json: {e}")));
        }
        let leaf = dest.file_name().expect("stage names are not empty").to_string_lossy().to_string();
        let tmp = parent.join(format!(".{leaf}.partial-{}", std::process::id()));
        let failed = parent.join(format!(".{leaf}.failed.json"));
        // Leftovers of an interrupted attempt are never read; clear them (and scratch space of
        // other inputs). Under the claim, no other live worker writes them.
        let scratch = parent.join(format!(".{leaf}.scratch-{}", &hash[..16]));
        if let Ok(rd) = std::fs::read_dir(&parent) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                let stale_scratch = n.starts_with(&format!(".{leaf}.scratch-")) && e.path() != scratch;
                if n.starts_with(&format!(".{leaf}.partial-")) || stale_scratch {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        std::fs::create_dir_all(&tmp).map_err(|e| PipelineError::io(&tmp, e))?;
        tracing::info!(stage = name, "running");
        let t = Instant::now();
        let cx = Context { id: name, dir: &tmp, root: &self.root, scratch: &scratch, runtime };
        let result = match S::run(input, &cx) {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                let why = serde_json::json!({
                    "stage": name, "worker": crate::claim::worker(), "error": e.to_string(),
                    "seconds": t.elapsed().as_secs_f64(),
                    "at": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
                });
                let _ = crate::files::write_file(
                    &failed,
                    serde_json::to_string_pretty(&why).unwrap_or_default().as_bytes(),
                );
                return Err(e);
            }
        };
        let manifest = Manifest {
            stage: name.to_string(),
            inputs_hash: hash,
            inputs,
            result: serde_json::to_value(&result).map_err(|e| PipelineError::Invalid(e.to_string()))?,
            seconds: t.elapsed().as_secs_f64(),
        };
        let text = serde_json::to_string_pretty(&manifest).expect("manifests serialize");
        std::fs::write(tmp.join("manifest.json"), text).map_err(|e| PipelineError::io(&tmp, e))?;
        // A complete stage replaces an older one in one step (an exchange on Linux): a kill
        // leaves one of the two, never neither. The old one lands under a `.partial-` name,
        // which the next attempt clears if this process cannot.
        let old = parent.join(format!(".{leaf}.partial-{}-old", std::process::id()));
        if let Some(previous) =
            hilgen_tempfiles::replace_dir(&tmp, &dest, &old).map_err(|e| PipelineError::io(&dest, e))?
        {
            let _ = std::fs::remove_dir_all(previous);
        }
        let _ = std::fs::remove_dir_all(&scratch);
        let _ = std::fs::remove_file(&failed);
        self.executed.push(name.to_string());
        Ok(result)
    }
}

/// Removes, anywhere under the run directory `root`, the `.NAME.partial-PID...` folders of
/// processes that no longer run (a killed attempt, or the old copy of a stage replaced just
/// before a kill), so that a run leaves no temporary folder behind even where the stage they
/// belonged to is complete and will not run again. Scratch folders (resumable work) stay.
fn sweep_partials(root: &Path) {
    // A PID that does not parse names no process that could still be writing.
    let alive = |pid: &str| pid.parse::<u32>().is_ok_and(|p| !hilgen_tempfiles::is_gone(p));
    if !hilgen_tempfiles::can_tell_liveness() {
        return;
    }
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            // A live claim on the stage means its worker (maybe on another host, where the pid
            // says nothing here) may be writing the folder.
            let claimed = |head: &str| {
                crate::claim::read(&d.join(&head[1..]))
                    .is_some_and(|c| !c.is_stale() && c.worker != crate::claim::worker())
            };
            // Claims of stages whose worker died (a kill after the stage completed leaves one
            // that nobody would take over) and the claim files' own temporaries.
            let old = || {
                e.metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().unwrap_or_default() > crate::claim::lease())
            };
            if head_of_claim(&name).is_some_and(|leaf| match crate::claim::read(&d.join(leaf)) {
                Some(c) => c.is_stale(),
                None => old(), // unreadable: being written now, or empty after a crash long ago
            }) || name.split_once(".claim-").is_some_and(|(_, rest)| !alive(rest.rsplit('-').next().unwrap_or("")))
            {
                let _ = std::fs::remove_file(e.path());
                continue;
            }
            match name.split_once(".partial-") {
                Some((head, pid))
                    if head.starts_with('.') && !alive(pid.split('-').next().unwrap_or("")) && !claimed(head) =>
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
                // Stage folders hold stage folders; model folders and files need no walk.
                _ if is_dir && !name.starts_with('.') && !name.ends_with("model") => dirs.push(e.path()),
                _ => {}
            }
        }
    }
}

/// The stage folder name of a claim file `.NAME.claim`.
fn head_of_claim(name: &str) -> Option<&str> {
    name.strip_prefix('.')?.strip_suffix(".claim")
}

/// The manifest in a stage folder, if readable.
pub fn read_manifest(dir: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Write7;
    impl Stage for Write7 {
        type Input = Value;
        type Output = u32;
        fn run(input: &Value, cx: &Context<'_>) -> Result<u32> {
            std::fs::write(cx.dir.join("f"), input.to_string()).unwrap();
            Ok(input["x"].as_u64().unwrap() as u32 + 6)
        }
    }

    struct Fail;
    impl Stage for Fail {
        type Input = Value;
        type Output = u32;
        fn run(_: &Value, cx: &Context<'_>) -> Result<u32> {
            std::fs::write(cx.dir.join("half"), "x").unwrap();
            Err(PipelineError::Invalid("boom".into()))
        }
    }

    #[test]
    fn skips_complete_stages_and_reruns_changed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let rt = crate::Runtime::default();
        let mut st = Stages::new(dir.path()).unwrap();
        assert_eq!(st.run::<Write7>("a/one", &serde_json::json!({"x": 1}), &rt).unwrap(), 7);
        assert_eq!(st.run::<Fail>("a/one", &serde_json::json!({"x": 1}), &rt).unwrap(), 7, "complete: not run");
        assert_eq!(st.run::<Write7>("a/one", &serde_json::json!({"x": 2}), &rt).unwrap(), 8);
        assert_eq!((st.executed.len(), st.skipped.len()), (2, 1));
        assert_eq!(std::fs::read_to_string(dir.path().join("a/one/f")).unwrap(), r#"{"x":2}"#);
        // A failing stage leaves no folder behind, only why it failed (and no claim).
        assert!(st.run::<Fail>("b", &serde_json::json!({}), &rt).is_err());
        assert!(!dir.path().join("b").exists());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".b.failed.json", "a"]);
        let why: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(".b.failed.json")).unwrap()).unwrap();
        assert!(why["error"].as_str().unwrap().contains("boom") && why["worker"] == crate::claim::worker(), "{why}");
        assert_eq!(st.run::<Write7>("b", &serde_json::json!({"x": 0}), &rt).unwrap(), 6);
        assert!(!dir.path().join(".b.failed.json").exists(), "removed once the stage succeeds");
        st.limit = Some(2);
        let e = st.run::<Write7>("c", &serde_json::json!({"x": 0}), &rt);
        assert!(matches!(e, Err(PipelineError::Interrupted(_))));
    }

    #[test]
    fn partial_folders_of_dead_processes_are_swept_when_a_run_starts() {
        let d = tempfile::tempdir().unwrap();
        let own = std::process::id();
        // PID 4194304 is above Linux's pid_max: never a live process.
        let dead = [".kb.partial-4194304", "seed-1/train/.original.partial-4194304-old"];
        let kept = [format!("seed-1/.sample.partial-{own}"), "seed-1/train/.original.scratch-0123".into()];
        for p in dead.iter().map(|s| s.to_string()).chain(kept.iter().cloned()) {
            std::fs::create_dir_all(d.path().join(p)).unwrap();
        }
        let _ = Stages::new(d.path()).unwrap();
        for p in dead {
            assert!(!d.path().join(p).exists(), "{p}");
        }
        for p in &kept {
            assert!(d.path().join(p).exists(), "{p}");
        }
    }

    #[test]
    fn claims_of_dead_workers_are_swept_and_live_ones_kept() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("seed-1")).unwrap();
        let claim = |worker: &str, pid: u32, host: String, expires: u64| {
            serde_json::json!({"worker": worker, "pid": pid, "host": host, "expires": expires}).to_string()
        };
        let later = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
        let host = crate::claim::host();
        // A dead process here (a kill after its stage completed), and a live worker elsewhere.
        std::fs::write(d.path().join("seed-1/.sample.claim"), claim("4194304@h", 4194304, host, later)).unwrap();
        std::fs::write(d.path().join(".kb.claim"), claim("7@other", 7, "other".into(), later)).unwrap();
        std::fs::write(d.path().join(".kb.claim-renew-4194304"), "{").unwrap();
        let _ = Stages::new(d.path()).unwrap();
        assert!(!d.path().join("seed-1/.sample.claim").exists());
        assert!(!d.path().join(".kb.claim-renew-4194304").exists());
        assert!(d.path().join(".kb.claim").exists(), "a live claim on another host stays");
    }
}
