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
    assert!(err.contains("sentence 1 (counting from 1): token 2 is `b` in one and `z` in the other"), "{err}");
    assert!(failure(&["eval", "--gold", &gold, "--pred", &gold, "--mode", "strict", "--scheme", "xyz"])
        .contains("unknown tagging scheme `xyz`"));
    assert!(failure(&["eval", "--gold", &empty, "--pred", &gold]).contains("empty.tsv: the file holds no sentences"));
    let ill = w("ill.tsv", "a\tS-X\nb\tO\n\nc\tO\n\n");
    let err = failure(&["eval", "--gold", &gold, "--pred", &ill, "--mode", "strict", "--scheme", "iob2"]);
    assert!(err.contains("ill.tsv:1: invalid tag `S-X` for --mode strict --scheme iob2"), "{err}");
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
    // An existing output is replaced only with --overwrite, and an input is never the output.
    let refused = hilgen(&["ensemble", "--method", "intersection", "--pred", &a, "--pred", &c, "--out", &out]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("exists; pass --overwrite"));
    let refused = hilgen(&["ensemble", "--method", "union", "--pred", &a, "--pred", &c, "--out", &a, "--overwrite"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is the input"));
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "x\tB-X\ny\tI-X\nz\tO\n\n", "the input is untouched");
    stdout(&hilgen(&[
        "ensemble",
        "--method",
        "intersection",
        "--pred",
        &a,
        "--pred",
        &c,
        "--out",
        &out,
        "--overwrite",
    ]));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "x\tB-X\ny\tI-X\nz\tO\n\n");
    let gold = w("gold.tsv", "x\tB-X\ny\tI-X\nz\tB-Y\n\n");
    // `--method best` over a and b, chosen on their dev predictions a and c.
    let best = [
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
    ];
    let report = stdout(&hilgen(&[&best[..], &["--out", &out, "--overwrite"]].concat()));
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(v["chosen"], "system 1");
    assert_eq!(v["dev_f1"], 1.0);
    // Guarded, the default being system 0 (dev F1 2/3 against 1): on one dev sentence every
    // bootstrap resample is that sentence, so the paired bootstrap lets the dev-best through
    // (p = 1/1001); the permutation test, which counts the combinations tried, keeps the
    // default. At p = 1 both let it through.
    let guarded = |test: &str, p: &str| {
        let guard = ["--guard-p", p, "--guard-default", "1", "--guard-test", test, "--out", &out, "--overwrite"];
        let v: serde_json::Value = serde_json::from_str(&stdout(&hilgen(&[&best[..], &guard].concat()))).unwrap();
        (v, std::fs::read_to_string(&out).unwrap())
    };
    let (v, written) = guarded("max-permutation", "0.05");
    assert!(v["chosen"].as_str().unwrap().ends_with("a.tsv"), "{v}");
    assert!(v["overruled"]["p_value"].as_f64().unwrap() > 0.05, "{v}");
    assert_eq!(written, std::fs::read_to_string(&a).unwrap());
    for (test, p) in [("paired-bootstrap", "0.05"), ("max-permutation", "1")] {
        let (v, written) = guarded(test, p);
        assert!(v["chosen"].as_str().unwrap().ends_with("b.tsv") && v["overruled"].is_null(), "{test}: {v}");
        assert_eq!(written, std::fs::read_to_string(&b).unwrap(), "{test}");
    }
    let err =
        failure(&["ensemble", "--method", "union", "--pred", &a, "--pred", &b, "--guard-p", "0.05", "--out", &out]);
    assert!(err.contains("--method best"), "{err}");
    let err = failure(&[&best[..], &["--guard-p", "0.05", "--guard-default", "3", "--out", &out]].concat());
    assert!(err.contains("--guard-default 3: expected a position among the 2 --pred files"), "{err}");
    let err =
        failure(&["ensemble", "--method", "vote", "--pred", &a, "--pred", &gold, "--weights", "1", "--out", &out]);
    assert!(err.contains("give one weight per --pred (1 weights, 2 files)"), "{err}");
    for (flag, value, says) in [
        ("--threshold", "nan", "must be in [0, 1)"),
        ("--threshold", "2", "must be in [0, 1)"),
        ("--weights", "0,0", "not all zero"),
        ("--weights", "1,inf", "must be finite"),
        ("--k", "3", "between 1 and the number of --pred files (2)"),
    ] {
        let err = failure(&["ensemble", "--method", "vote", "--pred", &a, "--pred", &gold, flag, value, "--out", &out]);
        assert!(err.contains(says), "{flag} {value}: {err}");
    }
}

/// Tag strings that are not IOB (`X`, `B_Disease`, `b-Disease`, `-`, a bare `I`, ...) are read as
/// seqeval 1.2.2 reads them: 600 cases generated with the real seqeval
/// (`fixtures/malformed_tags.py`) agree to 1e-9; `--strict-tags` refuses them, naming file and line.
#[test]
fn malformed_tags_score_as_seqeval_does() {
    use hilgen_corpus::conll;
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/malformed_tags.jsonl")).unwrap();
    let fmt = conll::ConllFormat { any_tags: true, ..Default::default() };
    let as_conll = |sentences: &[Vec<String>]| -> String {
        let mut s = String::new();
        for sent in sentences {
            for (i, t) in sent.iter().enumerate() {
                s.push_str(&format!("w{i}\t{t}\n"));
            }
            s.push('\n');
        }
        s
    };
    let mut cases = 0;
    for line in text.lines() {
        let c: serde_json::Value = serde_json::from_str(line).unwrap();
        let gold: Vec<Vec<String>> = serde_json::from_value(c["gold"].clone()).unwrap();
        let pred: Vec<Vec<String>> = serde_json::from_value(c["pred"].clone()).unwrap();
        let (gt, pt) = (as_conll(&gold), as_conll(&pred));
        let g = conll::read_borrowed(&gt, "gold", &fmt).unwrap();
        let p = conll::read_borrowed(&pt, "pred", &fmt).unwrap();
        let gv: Vec<_> = (0..g.len()).map(|i| g.sentence_tags(i)).collect();
        let pv: Vec<_> = (0..p.len()).map(|i| p.sentence_tags(i)).collect();
        let o = hilgen_metrics::Options { zero_division: hilgen_metrics::ZeroDivision::Zero, ..Default::default() };
        let e = hilgen_metrics::evaluate(&gv, &pv, o).unwrap();
        for (k, got) in [("precision", e.micro.precision), ("recall", e.micro.recall), ("f1", e.micro.f1)] {
            assert!((got - c[k].as_f64().unwrap()).abs() < 1e-9, "{k} {got} vs seqeval {} in {line}", c[k]);
        }
        for (t, want) in c["per_type"].as_object().unwrap() {
            let got = e.per_type.get(t).map_or(0.0, |p| p.f1);
            assert!((got - want.as_f64().unwrap()).abs() < 1e-9, "type {t}: {got} vs {want} in {line}");
        }
        cases += 1;
    }
    assert_eq!(cases, 600);
    // Through the command: a warning by default, a refusal naming file and line with --strict-tags.
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("gold.tsv");
    std::fs::write(&gold, "Aspirin\tB-Chemical\nhelps\tX\n\nFever\tb-Disease\n").unwrap();
    let ok = Command::new(env!("CARGO_BIN_EXE_hilgen"))
        .args(["eval", "--gold", gold.to_str().unwrap(), "--pred", gold.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(
        String::from_utf8_lossy(&ok.stderr).contains("2 tags are not O or PREFIX-TYPE"),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let strict = Command::new(env!("CARGO_BIN_EXE_hilgen"))
        .args(["eval", "--strict-tags", "--gold", gold.to_str().unwrap(), "--pred", gold.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&strict.stderr);
    assert!(!strict.status.success() && err.contains("gold.tsv:2") && err.contains("`X`"), "{err}");
    // Strict mode: the file and line of the tag the scheme refuses.
    let pred = dir.path().join("pred.tsv");
    std::fs::write(&gold, "Aspirin\tB-Chemical\nhelps\tO\n\nFever\tB-Disease\n").unwrap();
    std::fs::write(&pred, "Aspirin\tB-Chemical\nhelps\tO\n\nFever\tE-S1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hilgen"))
        .args([
            "eval",
            "--mode",
            "strict",
            "--scheme",
            "iob2",
            "--gold",
            gold.to_str().unwrap(),
            "--pred",
            pred.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("pred.tsv:4") && err.contains("E-S1"), "{err}");
}

#[test]
fn report_merge_pools_seeds_and_refuses_a_repeated_one() {
    let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/results/bc5cdr/results.json");
    let dir = tempfile::tempdir().unwrap();
    // The main job's report (3 seeds) split into two files of other seeds, then merged back.
    let whole: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(committed).unwrap()).unwrap();
    let part = |keep: &dyn Fn(u64) -> bool, name: &str| {
        let mut v = whole.clone();
        let seeds: Vec<serde_json::Value> =
            v["per_seed"].as_array().unwrap().iter().filter(|s| keep(s["seed"].as_u64().unwrap())).cloned().collect();
        v["per_seed"] = serde_json::Value::Array(seeds);
        file(dir.path(), name, &v.to_string())
    };
    let (a, b) = (part(&|s| s == 1, "a.json"), part(&|s| s != 1, "b.json"));
    let out_dir = dir.path().join("merged");
    let said = stdout(&hilgen(&["report", "merge", &a, &b, "--out", out_dir.to_str().unwrap()]));
    assert!(said.contains("seeds 1, 2, 3"), "{said}");
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(merged["rows"], whole["rows"], "the same table as the run over the three seeds");
    assert!(out_dir.join("results.md").exists() && out_dir.join("f1.svg").exists());
    let err = failure(&["report", "merge", &a, &a, "--out", out_dir.to_str().unwrap()]);
    assert!(err.contains("exists; pass --overwrite"), "{err}");
    let err = failure(&["report", "merge", &a, &a, "--out", out_dir.to_str().unwrap(), "--overwrite"]);
    assert!(err.contains("seed 1") && err.contains("a.json"), "{err}");
    let bad = file(dir.path(), "bad.json", "{\"name\": 3}");
    let err = failure(&["report", "merge", &bad, "--out", out_dir.to_str().unwrap(), "--overwrite"]);
    assert!(err.contains("bad.json") && err.contains("line 1"), "{err}");
}

#[test]
fn report_compare_pairs_committed_reports_by_seed() {
    let results = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/results");
    let minilm = format!("MiniLM={results}/ncbi-disease-few-shot");
    let mpnet = format!("MPNet={results}/ncbi-disease-mpnet-cpu/results.json");
    // The MiniLM report has seeds 1-5, the MPNet one 1-3: the comparison pairs 1-3.
    let said = stdout(&hilgen(&["report", "compare", &minilm, &mpnet, "--common"]));
    assert!(said.contains("seeds 1, 2, 3"), "{said}");
    assert!(
        said.contains("| tagger/original | 17.4 ± 2.1 (11.8) | 22.5 ± 21.0 (17.7) | +5.1 ± 20.0 (2/3) |"),
        "{said}"
    );
    assert!(!said.contains("tagger/distant"), "--common keeps the systems both have: {said}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp.md");
    let said = stdout(&hilgen(&["report", "compare", &minilm, &mpnet, "--seeds", "2", "--out", out.to_str().unwrap()]));
    assert!(said.contains("[2]"), "{said}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.with_extension("json")).unwrap()).unwrap();
    assert_eq!(json["seeds"], serde_json::json!([2]));
    assert!(std::fs::read_to_string(&out).unwrap().contains("tagger/distant | 6"), "systems one report lacks stay");
    let err = failure(&["report", "compare", &minilm, &mpnet, "--seeds", "4"]);
    assert!(err.contains("`MPNet` has no seed 4") && err.contains("1, 2, 3"), "{err}");
}

#[test]
fn subset_scores_a_sample_of_the_gold_sentences_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let gold = file(
        dir.path(),
        "gold.tsv",
        "Aspirin\tB-Chemical\nhelps\tO\n\nFever\tB-Disease\nfell\tO\n\nNo\tO\nentity\tO\n\nHeadache\tB-Disease\n",
    );
    // Silver labels of the second and first sentences, in that order: one entity right, one
    // labelled with the wrong type.
    let pred = file(dir.path(), "pred.tsv", "Fever\tB-Disease\nfell\tO\n\nAspirin\tB-Disease\nhelps\tO\n");
    let out = stdout(&hilgen(&["eval", "--gold", &gold, "--pred", &pred, "--subset", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["micro"]["precision"], 0.5, "{out}");
    assert_eq!(v["micro"]["recall"], 0.5, "the gold of the sentences not in the sample is not counted: {out}");
    // Without --subset the files must hold the same sentences.
    let err = failure(&["eval", "--gold", &gold, "--pred", &pred]);
    assert!(err.contains("differ"), "{err}");
    let stray = file(dir.path(), "stray.tsv", "Fever\tB-Disease\nfell\tO\n\nFever\tO\nrose\tO\n");
    let err = failure(&["eval", "--gold", &gold, "--pred", &stray, "--subset"]);
    assert!(err.contains("stray.tsv:4") && err.contains("no gold sentence") && err.contains("Fever rose"), "{err}");
}

/// Numbers are checked where they enter, with their range (they used to panic or abort).
#[test]
fn eval_numbers_out_of_range_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let gold = file(dir.path(), "gold.tsv", "x\tB-X\ny\tO\n\n");
    let err = failure(&["eval", "--gold", &gold, "--pred", &gold, "--digits", "4000000000"]);
    assert!(err.contains("--digits 4000000000 must be at most 12"), "{err}");
    let err = failure(&["eval", "--gold", &gold, "--pred", &gold, "--bootstrap", "1000000000000"]);
    assert!(err.contains("must be between 1 and 1000000"), "{err}");
}
