//! `hilgen slurm` against a real single-node Slurm started on this machine by
//! `scripts/slurm-local.sh` (Debian's slurm-wlm with munge; installed by the script when
//! missing, which needs root): the tiny experiment (random tiny encoder, 2 seeds, 3
//! strategies) submitted as workers gives the report of a local `hilgen run`, each stage run
//! once; after `scancel` of a task, submitting again runs only what was missing.
//!
//! Ignored by plain `cargo test` (it installs packages and starts daemons): `cargo xtask
//! slurm-test` runs it.

#[path = "../../hilgen-pipeline/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The local Slurm, stopped (everything it started) when dropped.
struct Slurm {
    dir: PathBuf,
    conf: PathBuf,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/slurm-local.sh")
}

impl Slurm {
    fn start(dir: &Path) -> Slurm {
        let out = Command::new(script()).arg("start").arg(dir).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        Slurm { dir: dir.to_path_buf(), conf: dir.join("slurm.conf") }
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", &self.conf);
        c
    }

    fn hilgen(&self, args: &[&str]) -> String {
        let out = self.cmd(env!("CARGO_BIN_EXE_hilgen")).args(args).args(["--log", "warn"]).output().unwrap();
        assert!(out.status.success(), "hilgen {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until job `job` has no task queued or running.
    fn wait(&self, job: &str) {
        let t = Instant::now();
        loop {
            let out = self.cmd("squeue").args(["-h", "-j", job, "-o", "%i"]).output().unwrap();
            if String::from_utf8_lossy(&out.stdout).trim().is_empty() {
                return;
            }
            assert!(t.elapsed() < Duration::from_secs(600), "job {job} still queued after 10 minutes");
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Slurm {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).status();
    }
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn rows(out: &Path) -> serde_json::Value {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    report["rows"].clone()
}

/// Stages started, from the `running stage="ID"` lines of every worker log of a run.
fn started(run: &Path) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for e in std::fs::read_dir(run.join("slurm/logs")).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        for line in text.lines().filter(|l| l.contains("running") && l.contains("stage")) {
            if let Some(id) = line.split('"').nth(1) {
                *n.entry(id.to_string()).or_insert(0) += 1;
            }
        }
    }
    n
}

fn complete_stages(run: &Path) -> usize {
    fn walk(d: &Path, n: &mut usize) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() && !e.file_name().to_string_lossy().starts_with('.') {
                if p.join("manifest.json").exists() {
                    *n += 1;
                }
                walk(&p, n);
            }
        }
    }
    let mut n = 0;
    walk(run, &mut n);
    n
}

#[test]
#[ignore = "starts a real Slurm (and may install it): cargo xtask slurm-test"]
fn slurm_workers_give_the_local_report_and_a_cancelled_task_is_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let exp = support::tiny(dir.path(), r#""synonyms", "mr", {kind = "lwtr", p = 0.3}"#, None);
    // Slower trainings, so that a task can be cancelled mid-run.
    let text = std::fs::read_to_string(&exp)
        .unwrap()
        .replace("budget = 4", "budget = 200")
        .replace("max_epochs = 2", "max_epochs = 25");
    std::fs::write(&exp, text).unwrap();
    let slurm = Slurm::start(&dir.path().join("slurm"));

    let local = dir.path().join("local");
    let out = Command::new(env!("CARGO_BIN_EXE_hilgen"))
        .args(["run", &s(&exp), "--out", &s(&local), "--log", "warn"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stages = complete_stages(&local);

    // Two workers.
    let run = dir.path().join("slurm-run");
    let job = slurm.hilgen(&["slurm", "submit", &s(&exp), "--out", &s(&run), "--workers", "2"]);
    slurm.wait(&job);
    assert_eq!(rows(&run), rows(&local), "the report of a local run");
    let n = started(&run);
    assert_eq!(n.len(), stages, "{n:?}");
    assert!(n.values().all(|&c| c == 1), "a stage ran twice: {n:?}");
    let status = slurm.hilgen(&["slurm", "status", &s(&exp), "--out", &s(&run)]);
    assert!(status.contains(&format!("{stages} done, 0 running, 0 failed, 0 waiting")), "{status}");
    assert_eq!(slurm.hilgen(&["slurm", "submit", &s(&exp), "--out", &s(&run)]), "", "nothing to submit");

    // One worker, cancelled once a few stages are complete; then submitted again.
    let run = dir.path().join("cancelled");
    let job = slurm.hilgen(&["slurm", "submit", &s(&exp), "--out", &s(&run), "--workers", "1"]);
    let t = Instant::now();
    while complete_stages(&run) < 6 {
        assert!(t.elapsed() < Duration::from_secs(300), "no progress");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(slurm.cmd("scancel").arg(&job).status().unwrap().success());
    slurm.wait(&job);
    let before = complete_stages(&run);
    assert!(before < stages, "cancelled too late to tell: {before} of {stages} stages done");
    let status = slurm.hilgen(&["slurm", "status", &s(&exp), "--out", &s(&run)]);
    assert!(status.contains(&format!("{before} done")), "{status}");
    let again = slurm.hilgen(&["slurm", "submit", &s(&exp), "--out", &s(&run), "--workers", "1"]);
    slurm.wait(&again);
    assert_eq!(rows(&run), rows(&local));
    let n = started(&run);
    assert_eq!(n.len(), stages);
    // Only the stage the cancelled task was running may have started twice.
    let twice: Vec<&String> = n.iter().filter(|(_, &c)| c > 1).map(|(k, _)| k).collect();
    assert!(twice.len() <= 1 && n.values().all(|&c| c <= 2), "{n:?}");
    println!("cancelled after {before} of {stages} stages; started again: {twice:?}");
}
