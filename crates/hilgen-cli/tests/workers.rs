//! Several workers on one run directory (the tiny experiment: random tiny encoder, 2 seeds, 3
//! strategies): two `hilgen run` processes started at once, and `hilgen run --jobs 2`, each
//! finish the run with every stage run exactly once (counted from both processes' logs) and the
//! same report rows as a single run. The wall times of one job and two are printed. And
//! `hilgen slurm submit --dry-run` writes the worker array from `[slurm]` and the options.

#[path = "../../hilgen-pipeline/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

fn start(exp: &Path, out: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hilgen"))
        .arg("run")
        .arg(exp)
        .arg("--out")
        .arg(out)
        .args(["--log", "info"])
        .args(extra)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The log without terminal escapes.
fn plain(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// How many times each stage was started, from the `running stage="ID"` log lines.
fn started(logs: &[String]) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for log in logs {
        for line in log.lines().filter(|l| l.contains(" running stage=")) {
            let id = line.split("stage=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_string();
            *n.entry(id).or_insert(0) += 1;
        }
    }
    n
}

fn rows(out: &Path) -> serde_json::Value {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    report["rows"].clone()
}

fn finish(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    let log = plain(&out.stderr);
    assert!(out.status.success(), "{log}");
    log
}

#[test]
fn workers_share_a_run_directory_and_run_each_stage_once() {
    let dir = tempfile::tempdir().unwrap();
    let exp = support::tiny(dir.path(), r#""synonyms", "mr", {kind = "lwtr", p = 0.3}"#, None);

    let t = Instant::now();
    let single = finish(start(&exp, &dir.path().join("one"), &[]));
    let one_job = t.elapsed().as_secs_f64();
    let want = started(&[single]);
    assert!(want.len() > 20 && want.values().all(|&n| n == 1), "{want:?}");

    // Two processes at once on one directory.
    let shared = dir.path().join("two");
    let (a, b) = (start(&exp, &shared, &[]), start(&exp, &shared, &[]));
    let logs = [finish(a), finish(b)];
    let got = started(&logs);
    assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "the same stages");
    assert!(got.values().all(|&n| n == 1), "a stage ran twice: {got:?}");
    let by_each: Vec<usize> = logs.iter().map(|l| started(std::slice::from_ref(l)).len()).collect();
    println!("two processes: {by_each:?} stages each");
    assert_eq!(rows(&shared), rows(&dir.path().join("one")), "the same report as a single run");
    assert!(
        !std::fs::read_dir(&shared).unwrap().flatten().any(|e| e.file_name().to_string_lossy().contains(".claim")),
        "claims are released"
    );

    // --jobs 2: this process and one worker it starts.
    let t = Instant::now();
    let jobs = dir.path().join("jobs");
    let log = finish(start(&exp, &jobs, &["--jobs", "2"]));
    let two_jobs = t.elapsed().as_secs_f64();
    let got = started(&[log]);
    assert!(got.values().all(|&n| n == 1) && got.len() == want.len(), "{got:?}");
    assert_eq!(rows(&jobs), rows(&dir.path().join("one")));
    println!("wall time: one job {one_job:.1} s, --jobs 2 {two_jobs:.1} s");
}

#[test]
fn slurm_submit_writes_the_worker_array_from_the_table_and_the_options() {
    let dir = tempfile::tempdir().unwrap();
    let exp = support::tiny(dir.path(), r#""mr""#, None);
    let mut text = std::fs::read_to_string(&exp).unwrap();
    text.push_str("[slurm]\nworkers = 3\npartition = \"cpu\"\ncpus = 4\nsbatch_args = [\"--account=nlp\"]\n");
    std::fs::write(&exp, text).unwrap();
    let out = dir.path().join("run");
    let run = |extra: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_hilgen"))
            .args(["slurm", "submit"])
            .arg(&exp)
            .arg("--out")
            .arg(&out)
            .args(["--dry-run", "--log", "warn"])
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let script = run(&["--partition", "gpu", "--gres", "gpu:1", "--max-parallel", "2"]);
    for want in [
        "#SBATCH --array=1-3%2",
        "#SBATCH --partition=gpu",
        "#SBATCH --gres=gpu:1",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --account=nlp",
        " run ",
        "--threads \"4\"",
    ] {
        assert!(script.contains(want), "{want} missing from:\n{script}");
    }
    assert!(script.contains(&format!("--out {}", out.display())), "{script}");
    assert!(!script.contains("--partition=cpu"), "the option overrides the table");
    // Nothing is complete yet, nothing was submitted, the script is kept.
    assert!(std::fs::read_dir(out.join("slurm"))
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".sbatch")));
    assert!(!out.join("slurm/jobs.json").exists());
}
