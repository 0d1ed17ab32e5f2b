//! `kill -9` at random moments of `hilgen kb build`, `hilgen corpus convert`, `hilgen train`
//! and `hilgen run` (a tiny experiment): the previous outputs stay intact, nothing
//! half-written is ever visible under an output's name, and the next run of the same command
//! completes and leaves no temporary file behind. 26 kills in all.

#[path = "../../hilgen-pipeline/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn env_path(var: &str) -> PathBuf {
    PathBuf::from(std::env::var_os(var).unwrap_or_else(|| panic!("{var} is set by .cargo/config.toml")))
}

fn command(dir: &Path, args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hilgen"));
    c.current_dir(dir).args(args).args(["--log", "error"]);
    c
}

fn complete(dir: &Path, args: &[String]) -> Duration {
    let t = Instant::now();
    let o = command(dir, args).output().unwrap();
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    t.elapsed()
}

/// Files whose bytes differ from one complete run to the next (training speed, resumed epochs):
/// compared by presence only.
const VOLATILE: [&str; 1] = ["tagger.json"];

/// Every path under `dir` (relative), files with their bytes' hash.
fn tree(dir: &Path) -> BTreeMap<String, Option<u64>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if p.is_dir() {
                stack.push(p.clone());
                out.insert(rel, None);
            } else {
                let volatile = p.file_name().is_some_and(|n| VOLATILE.iter().any(|v| n == *v));
                let bytes = if volatile { Vec::new() } else { std::fs::read(&p).unwrap_or_default() };
                let h = bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ *b as u64).wrapping_mul(0x100000001b3));
                out.insert(rel, Some(h));
            }
        }
    }
    out
}

/// Whether a path (relative) is a temporary one: some component starts with a dot.
fn hidden(rel: &str) -> bool {
    Path::new(rel).components().any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
}

fn visible(t: &BTreeMap<String, Option<u64>>) -> BTreeMap<String, Option<u64>> {
    t.iter().filter(|(k, _)| !hidden(k)).map(|(k, v)| (k.clone(), *v)).collect()
}

/// A small deterministic generator of kill moments.
struct Moments(u64);

impl Moments {
    /// A fraction in [0.02, 0.98).
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        0.02 + 0.96 * ((self.0 >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// How the output after a kill is compared with the previous one.
#[derive(Clone, Copy, PartialEq)]
enum Same {
    /// Byte for byte (a killed run either did not replace the output or replaced it with the
    /// same bytes).
    Bytes,
    /// The same files, each complete (a training resumed from a killed run's checkpoint
    /// restarts the optimizer's moments, so its weights differ from an uninterrupted one's).
    Files,
}

fn check_same(
    args: &[String],
    dir: &Path,
    before: &BTreeMap<String, Option<u64>>,
    after: &BTreeMap<String, Option<u64>>,
    same: Same,
) {
    match same {
        Same::Bytes => assert_eq!(after, before, "{args:?}: the visible files changed after a kill"),
        Same::Files => {
            assert_eq!(after.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>(), "{args:?}: files changed");
            for rel in after.keys() {
                let p = dir.join(rel);
                match p.extension().and_then(|e| e.to_str()) {
                    Some("json") => {
                        let text = std::fs::read_to_string(&p).unwrap();
                        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "{rel} is half-written");
                    }
                    Some("safetensors") => {
                        assert!(tch::Tensor::read_safetensors(&p).is_ok(), "{rel} is half-written")
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Runs `args` to completion once (the previous output), then `kills` times starts it again
/// and kills it with SIGKILL at a random moment of its usual duration; after each kill the
/// visible files are the previous output (`same`), and after one more complete run no
/// temporary file is left.
fn kill_repeatedly(dir: &Path, args: &[String], kills: usize, moments: &mut Moments, same: Same) {
    let took = complete(dir, args);
    let before = tree(dir);
    assert!(before.keys().all(|k| !hidden(k)), "{args:?} left temporaries after a complete run: {before:?}");
    for _ in 0..kills {
        let mut child = command(dir, args).spawn().unwrap();
        std::thread::sleep(took.mul_f64(moments.next()));
        let _ = child.kill();
        let _ = child.wait();
        check_same(args, dir, &before, &visible(&tree(dir)), same);
    }
    complete(dir, args);
    let last = tree(dir);
    assert!(last.keys().all(|k| !hidden(k)), "{args:?}: temporaries left after a complete run: {last:?}");
    check_same(args, dir, &before, &last, same);
}

#[test]
fn kill_nine_never_damages_outputs_or_leaves_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = |x: &str| x.to_string();
    let mut moments = Moments(2026);
    let ctd = env_path("HILGEN_KB").join("ctd-medic-2017/CTD_diseases.tsv.gz").display().to_string();
    let train = env_path("HILGEN_DATA").join("bc5cdr/iob/train.tsv").display().to_string();

    // kb build: the whole CTD MEDIC (about 1 s).
    let kb = d.join("kb");
    std::fs::create_dir(&kb).unwrap();
    kill_repeatedly(
        &kb,
        &[s("kb"), s("build"), s("--ctd"), ctd, s("--out"), s("index"), s("--overwrite")],
        8,
        &mut moments,
        Same::Bytes,
    );

    // corpus convert: BC5CDR train, CoNLL to JSON Lines.
    let conv = d.join("convert");
    std::fs::create_dir(&conv).unwrap();
    kill_repeatedly(
        &conv,
        &[s("corpus"), s("convert"), train, s("out.jsonl"), s("--overwrite")],
        8,
        &mut moments,
        Same::Bytes,
    );

    // train: a random tiny BERT on 24 sentences, replacing its previous model.
    let tr = d.join("train");
    std::fs::create_dir(&tr).unwrap();
    support::take("train.tsv", 0, 24, &d.join("train.tsv"));
    let encoder = env_path("HILGEN_ENCODER").display().to_string();
    let args = [
        s("train"),
        s("--train"),
        d.join("train.tsv").display().to_string(),
        s("--encoder"),
        encoder,
        s("--random-tiny"),
        s("--epochs"),
        s("3"),
        s("--batch-size"),
        s("8"),
        s("--out"),
        s("model"),
        s("--overwrite"),
    ];
    kill_repeatedly(&tr, &args, 5, &mut moments, Same::Files);
}

/// `hilgen run`: a complete run is the previous output; a second run of the same experiment
/// into another folder is killed at random moments and resumed each time: its complete
/// stages always hold a readable manifest, the first run's folder never changes, and the
/// resumed run ends with every row of the table and no temporary folder.
#[test]
fn kill_nine_during_a_run_resumes_to_a_complete_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let exp = support::tiny(d, "\"mr\", \"synonyms\"", None).display().to_string();
    let run =
        |out: &str| vec!["run".to_string(), exp.clone(), "--seeds".into(), "1".into(), "--out".into(), out.into()];
    let took = complete(d, &run("first"));
    let first = tree(&d.join("first"));
    let mut moments = Moments(13);
    let second = d.join("second");
    for _ in 0..5 {
        let mut child = command(d, &run("second")).spawn().unwrap();
        std::thread::sleep(took.mul_f64(moments.next()));
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(tree(&d.join("first")), first, "the first run's folder changed");
        if second.exists() {
            for (rel, _) in visible(&tree(&second)) {
                let p = second.join(&rel);
                if p.file_name().is_some_and(|n| n == "manifest.json") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "{rel} is half-written");
                }
            }
        }
    }
    complete(d, &run("second"));
    let rows = |dir: &str| {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join(dir).join("results.json")).unwrap()).unwrap();
        v["rows"].clone()
    };
    // The same table (rows and columns); the scores may differ where a training resumed from
    // a checkpoint (the optimizer's moments restart).
    let names = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect()
    };
    let (a, b) = (rows("first"), rows("second"));
    assert_eq!(names(&b), names(&a), "the resumed run reports every row");
    assert!(b
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["tagger"]["f1"]["mean"].is_number() || r["ensemble"]["f1"]["mean"].is_number()));
    // `.hashes.json` is the run's cache of input hashes, not a temporary.
    let left: Vec<String> = tree(&second).into_keys().filter(|k| hidden(k) && k != ".hashes.json").collect();
    assert!(left.is_empty(), "temporaries left after the resumed run: {left:?}");
}
