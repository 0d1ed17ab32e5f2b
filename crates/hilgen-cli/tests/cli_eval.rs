//! `hilgen eval` and `hilgen ensemble` as a user runs them.

use std::path::PathBuf;
use std::process::{Command, Output};

fn hilgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hilgen")).args(args).args(["--log", "error"]).output().unwrap()
}

fn data(rel: &str) -> String {
    let dir = std::env::var_os("HILGEN_DATA").expect("HILGEN_DATA is set by .cargo/config.toml");
    PathBuf::from(dir).join(rel).display().to_string()
}

/// Writes `body` to `dir/name` and returns the path.
fn file(dir: &std::path::Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.display().to_string()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn failure(args: &[&str]) -> String {
    let o = hilgen(args);
    assert!(!o.status.success(), "expected failure: {args:?}");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn bc5cdr_test_against_itself_is_perfect() {
    let test = data("bc5cdr/iob/test.tsv");
    let out = stdout(&hilgen(&["eval", "--gold", &test, "--pred", &test, "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for ty in ["Chemical", "Disease"] {
        for k in ["precision", "recall", "f1"] {
            assert_eq!(v["per_type"][ty][k], 1.0);
        }
    }
    assert_eq!(v["per_type"]["Chemical"]["support"], 5385);
    assert_eq!(v["per_type"]["Disease"]["support"], 4424);
    assert_eq!(v["micro"]["f1"], 1.0);
    let text = stdout(&hilgen(&["eval", "--gold", &test, "--pred", &test, "--mode", "strict", "--scheme", "iob2"]));
    assert!(text.contains("    Chemical     1.0000    1.0000    1.0000      5385"), "{text}");
    let csv = stdout(&hilgen(&["eval", "--gold", &test, "--pred", &test, "--format", "csv"]));
    let paired = stdout(&hilgen(&["eval", "--gold", &test, "--pred", &test, "--compare", &test, "--bootstrap", "200"]));
    assert!(
        paired.contains("paired bootstrap (200 replicates, seed 1): F1 1.0000 vs 1.0000, difference 0.0000"),
        "{paired}"
    );
    assert!(paired.contains("p = 1.0000"), "{paired}");
    assert!(csv.contains("Disease,1,1,1,4424"), "{csv}");
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, body: &str| file(dir.path(), name, body);
    let gold = w("gold.tsv", "a\tB-X\nb\tO\n\nc\tO\n\n");
    let short = w("short.tsv", "a\tB-X\nb\tO\n\n");
    let other = w("other.tsv", "a\tB-X\nz\tO\n\nc\tO\n\n");
    let empty = w("empty.tsv", "");
    assert!(
        failure(&["eval", "--gold", &gold, "--pred", &short]).contains("gold has 2 sentences but the prediction has 1")
    );
    let err = failure(&["eval", "--gold", &gold, "--pred", &other]);
    assert!(err.contains("sentence 0: token 1 is `b` in one and `z` in the other"), "{err}");
    assert!(failure(&["eval", "--gold", &gold, "--pred", &gold, "--mode", "strict", "--scheme", "xyz"])
        .contains("unknown tagging scheme `xyz`"));
    assert!(failure(&["eval", "--gold", &empty, "--pred", &gold]).contains("empty.tsv: the file holds no sentences"));
    let ill = w("ill.tsv", "a\tS-X\nb\tO\n\nc\tO\n\n");
    let err = failure(&["eval", "--gold", &gold, "--pred", &ill, "--mode", "strict", "--scheme", "iob2"]);
    assert!(err.contains("sentence 0, token 0: invalid tag `S-X` for strict iob2"), "{err}");
}

#[test]
fn ensemble_writes_a_combination_and_best_reports_its_choice() {
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, body: &str| file(dir.path(), name, body);
    let a = w("a.tsv", "x\tB-X\ny\tI-X\nz\tO\n\n");
    let b = w("b.tsv", "x\tB-X\ny\tO\nz\tO\n\n");
    let c = w("c.tsv", "x\tB-X\ny\tI-X\nz\tB-Y\n\n");
    let out = dir.path().join("out.tsv").display().to_string();
    stdout(&hilgen(&["ensemble", "--method", "majority", "--pred", &a, "--pred", &b, "--pred", &c, "--out", &out]));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "x\tB-X\ny\tI-X\nz\tO\n\n");
    stdout(&hilgen(&["ensemble", "--method", "intersection", "--pred", &a, "--pred", &c, "--out", &out]));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "x\tB-X\ny\tI-X\nz\tO\n\n");
    let gold = w("gold.tsv", "x\tB-X\ny\tI-X\nz\tB-Y\n\n");
    let report = stdout(&hilgen(&[
        "ensemble",
        "--method",
        "best",
        "--pred",
        &a,
        "--pred",
        &b,
        "--dev-gold",
        &gold,
        "--dev-pred",
        &a,
        "--dev-pred",
        &c,
        "--out",
        &out,
    ]));
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(v["chosen"], "system 1");
    assert_eq!(v["dev_f1"], 1.0);
    let err =
        failure(&["ensemble", "--method", "vote", "--pred", &a, "--pred", &gold, "--weights", "1", "--out", &out]);
    assert!(err.contains("2 systems need as many"), "{err}");
}
