//! The `hilgen corpus` commands as a user runs them: real figures, clear errors, exit codes,
//! and outputs that are never left half-written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hilgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hilgen")).args(args).arg("--log").arg("error").output().unwrap()
}

fn data(rel: &str) -> String {
    let dir = std::env::var_os("HILGEN_DATA").expect("HILGEN_DATA is set by .cargo/config.toml");
    PathBuf::from(dir).join(rel).display().to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn failure(args: &[&str]) -> String {
    let out = hilgen(args);
    assert!(!out.status.success(), "expected failure: {args:?}");
    text(&out.stderr)
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn stats_prints_the_real_figures() {
    let out = hilgen(&[
        "corpus",
        "stats",
        &data("bc5cdr/iob/train.tsv"),
        &data("bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("4560 sentences, 118170 tokens, 9385 mentions; Chemical 5203; Disease 4182"), "{s}");
    assert!(s.contains("500 documents, 9385 mentions (76 without IDs)"), "{s}");
    let out = hilgen(&["corpus", "stats", "--json", &data("ncbi-disease/iob/train.tsv")]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["stats"]["tokens"], 135_701);
    assert_eq!(v[0]["stats"]["mentions"]["Disease"], 5_134);
}

#[test]
fn bad_input_names_file_line_and_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let columns = write("cols.tsv", "a\tO\nb\tO\textra\n");
    assert!(failure(&["corpus", "stats", &columns]).contains("cols.tsv:2: expected 2 columns (as on line 1), found 3"));
    let tag = write("tag.tsv", "a\tO\n\nb\tB_Disease\n");
    let err = failure(&["corpus", "stats", &tag]);
    assert!(err.contains("tag.tsv:3: invalid tag `B_Disease`"), "{err}");
    let pt = write("doc.pubtator", "1|t|Short title.\n1|a|Abstract.\n1\t3\t400\tx\tDisease\tD1\n");
    let err = failure(&["corpus", "stats", &pt]);
    assert!(err.contains("doc.pubtator:3: mention offsets 3-400 are outside the document's text"), "{err}");
    let bytes = dir.path().join("latin1.tsv");
    std::fs::write(&bytes, b"caf\xe9\tO\n").unwrap();
    let err = failure(&["corpus", "stats", &bytes.display().to_string()]);
    assert!(err.contains("latin1.tsv:1: invalid UTF-8"), "{err}");
    assert!(failure(&["corpus", "convert", &columns, "x.tsv", "--to-scheme", "iob9"])
        .contains("unknown tagging scheme `iob9`"));
}

#[test]
fn failed_convert_leaves_existing_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.tsv");
    std::fs::write(&out, "precious\tO\n\n").unwrap();
    let bad = dir.path().join("bad.tsv");
    std::fs::write(&bad, "x\tO\ny\tI-Disease\n\n").unwrap();
    let (bad_s, out_s) = (bad.display().to_string(), out.display().to_string());
    // Without --overwrite the existing output is refused before the input is read.
    let err = failure(&["corpus", "convert", &bad_s, &out_s, "--to-scheme", "iobes"]);
    assert!(err.contains("exists; pass --overwrite to replace it"), "{err}");
    // With it, the conversion fails on the input and the output stays as it was.
    let err = failure(&["corpus", "convert", &bad_s, &out_s, "--to-scheme", "iobes", "--overwrite"]);
    assert!(
        err.contains(
            "sentence 1, token 2 (`y`, counting from 1): `I-Disease` is not valid iob2 here; expected `B-Disease`"
        ),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious\tO\n\n");
    assert_eq!(entries(dir.path()), ["bad.tsv", "out.tsv"]);
    // With --repair the same input converts.
    let ok = hilgen(&[
        "corpus",
        "convert",
        &bad.display().to_string(),
        &out.display().to_string(),
        "--repair",
        "--to-scheme",
        "iobes",
        "--overwrite",
    ]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "x\tO\ny\tS-Disease\n\n");
}

#[test]
fn sample_and_align_write_their_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let shots = dir.path().join("shots.tsv");
    let out = hilgen(&[
        "corpus",
        "sample",
        &data("bc5cdr/iob/train.tsv"),
        &shots.display().to_string(),
        "--k",
        "5",
        "--seed",
        "3",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["indices"].as_array().unwrap().len(), 10);
    let written = std::fs::read_to_string(&shots).unwrap();
    assert_eq!(written.matches("\n\n").count(), 10);
    let aligned = dir.path().join("test.jsonl");
    let out = hilgen(&[
        "corpus",
        "align",
        "--iob",
        &data("ncbi-disease/iob/test.tsv"),
        "--pubtator",
        &data("ncbi-disease/pubtator/NCBItestset_corpus.txt"),
        "--output",
        &aligned.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["report"]["mentions_linked"], 960);
    let first = std::fs::read_to_string(&aligned).unwrap();
    assert!(first.lines().next().unwrap().contains("\"doc_id\""));
}
