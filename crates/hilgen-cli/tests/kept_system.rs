//! What a run keeps is what `hilgen tag` applies: the tiny experiment's kept systems (the
//! seed's and the run's), tagged over the run's test split by `hilgen tag --model` and scored
//! by `hilgen eval`, give the report's test P/R/F1 for that system to the last digit. And
//! `hilgen fewshot` makes such a folder from shots, unlabelled text and a knowledge index, with
//! no experiment file, resumes, and refuses bad inputs by name.

#[path = "../../hilgen-pipeline/tests/support/mod.rs"]
mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, ExitCode};

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn hilgen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hilgen")).args(args).args(["--log", "warn"]).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn micro(gold: &Path, pred: &Path) -> (f64, f64, f64) {
    let out = hilgen(&["eval", "--gold", &s(gold), "--pred", &s(pred), "--format", "json", "--zero-division", "0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &v["micro"];
    (m["precision"].as_f64().unwrap(), m["recall"].as_f64().unwrap(), m["f1"].as_f64().unwrap())
}

#[test]
fn kept_systems_tag_as_the_run_scored_them_and_fewshot_makes_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let exp = support::tiny(d, r#"{kind = "distant", o_weight = 0.5}"#, None);
    // Three shots per type and larger splits, so that the dictionary learns its types and
    // tags enough for dev to prefer it (or its ensembles) to the tiny random taggers.
    std::fs::write(&exp, std::fs::read_to_string(&exp).unwrap().replace("k = 1", "k = 3")).unwrap();
    support::take("train.tsv", 0, 40, &d.join("train.tsv"));
    support::take("devel.tsv", 0, 40, &d.join("dev.tsv"));
    support::take("test.tsv", 0, 40, &d.join("test.tsv"));
    let run = d.join("run");
    let args = ["hilgen", "run", &s(&exp), "--out", &s(&run), "--seeds", "1", "--log", "warn"];
    assert_eq!(hilgen_cli::main_with(args, &hilgen_augment::Registry::builtin()), ExitCode::SUCCESS);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    let seed = &report["per_seed"][0];
    let row = &seed["ensemble"];
    let expected = (row["precision"].as_f64().unwrap(), row["recall"].as_f64().unwrap(), row["f1"].as_f64().unwrap());
    assert!(expected.2 > 0.0, "the kept system finds entities: {row}");
    println!("kept: {} (test F1 {})", row["note"], expected.2);
    assert_eq!(seed["kept_system"]["folder"], "seed-1/kept/system");
    let gold = run.join("data/test.jsonl");
    for folder in ["seed-1/kept/system", "kept/system"] {
        let pred = d.join(format!("{}.jsonl", folder.replace('/', "-")));
        let out = hilgen(&["tag", "--model", &s(&run.join(folder)), "--input", &s(&gold), "--out", &s(&pred)]);
        let err = text(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains(row["note"].as_str().unwrap()) && err.contains("words/s"), "{err}");
        assert_eq!(micro(&gold, &pred), expected, "{folder}: {}", row["note"]);
    }
    let md = std::fs::read_to_string(run.join("results.md")).unwrap();
    assert!(md.contains("Systems kept") && md.contains("seed-1/kept/system`; the run's kept system"), "{md}");
    // --scores is a tagger's; a kept dictionary or ensemble refuses it before any work.
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("kept/system/system.json")).unwrap()).unwrap();
    if manifest["system"]["type"] != "tagger" {
        let out = hilgen(&[
            "tag",
            "--model",
            &s(&run.join("kept/system")),
            "--input",
            &s(&gold),
            "--out",
            &s(&d.join("x.jsonl")),
            "--scores",
            &s(&d.join("x.scores")),
        ]);
        assert!(!out.status.success() && text(&out.stderr).contains("--scores"), "{}", text(&out.stderr));
        assert!(!d.join("x.jsonl").exists());
    }

    // `hilgen fewshot`: the run's shots, the training text without labels, the run's index.
    let shots = run.join("seed-1/sample/fewshot.jsonl");
    let fs = d.join("fewshot");
    let kb = run.join("kb/kb.hkb");
    let base = ["fewshot", "--shots", &s(&shots), "--text", &s(&d.join("train.tsv")), "--kb", &s(&kb)];
    let go = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend(extra);
        a.extend(["--random-tiny", "--shot-passes", "2"]);
        hilgen(&a)
    };
    let out = go(&["--out", &s(&fs)]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    let default = "backoff-longer of dictionary + tagger/distant@0.9";
    assert!(err.contains(default) && err.contains("Stages run now: 4"), "{err}");
    let system = fs.join("kept/system");
    for f in [
        "system.json",
        "README.md",
        "dictionary/dictionary.json",
        "dictionary/kb.hkb",
        "models/distant@0.9/config.json",
    ] {
        assert!(system.join(f).is_file(), "{f}");
    }
    let card = std::fs::read_to_string(system.join("README.md")).unwrap();
    assert!(card.contains("no labelled data beyond the shots") && card.contains("Not scored"), "{card}");
    let tagged = d.join("fewshot.tsv");
    let out = hilgen(&["tag", "--model", &s(&system), "--input", &s(&d.join("test.tsv")), "--out", &s(&tagged)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (_, _, f1) = micro(&d.join("test.tsv"), &tagged);
    assert!(f1 > 0.0);
    // Again: everything is found complete.
    let out = go(&["--out", &s(&fs)]);
    assert!(text(&out.stderr).contains("Stages run now: 0"), "{}", text(&out.stderr));
    // With a dev file, the system is chosen on it.
    let out = go(&["--out", &s(&d.join("fewshot-dev")), "--dev", &s(&d.join("dev.tsv"))]);
    let err = text(&out.stderr);
    assert!(out.status.success() && err.contains("Chosen on 40 labelled dev sentences"), "{err}");
    // With a guard no p-value passes, the choices of no dev file stay.
    let out = go(&["--out", &s(&d.join("fewshot-guard")), "--dev", &s(&d.join("dev.tsv")), "--guard-p", "1e-9"]);
    let err = text(&out.stderr);
    assert!(out.status.success() && err.contains("Chosen on 40 labelled dev sentences"), "{err}");
    let kept = std::fs::read_to_string(d.join("fewshot-guard/kept/system/README.md")).unwrap();
    assert!(kept.contains(default), "{kept}");
    let json = std::fs::read_to_string(d.join("fewshot-guard/kept/system/dictionary/dictionary.json")).unwrap();
    let saved: hilgen_dictionary::SavedDictionary = serde_json::from_str(&json).unwrap();
    assert_eq!(saved.selection.config, hilgen_dictionary::DictionaryConfig::recommended());
    // The same with the permutation test: still the choices of no dev file.
    let perm = d.join("fewshot-perm");
    let args = ["--dev", &s(&d.join("dev.tsv")), "--guard-p", "1e-9", "--guard-test", "max-permutation"];
    let out = go(&[&["--out", &s(&perm)][..], &args].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = std::fs::read_to_string(perm.join("kept/system/dictionary/dictionary.json")).unwrap();
    let saved: hilgen_dictionary::SavedDictionary = serde_json::from_str(&json).unwrap();
    assert_eq!(saved.selection.config, hilgen_dictionary::DictionaryConfig::recommended());
    // The held-out name check, on sources with the MeSH tree (whose letters label the branches
    // no shot names): the names it doubts are the kept dictionary's dropped names.
    let sources = std::path::PathBuf::from(std::env::var_os("HILGEN_KB").expect("set by .cargo/config.toml"));
    let (ctd, tree) =
        (s(&sources.join("ctd-medic-2017/CTD_diseases.tsv.gz")), s(&sources.join("mesh-tree-2017/2017MeshTree.txt")));
    let held = d.join("fewshot-heldout");
    let (shots_s, train_s, held_s) = (s(&shots), s(&d.join("train.tsv")), s(&held));
    let mut a = vec!["fewshot", "--shots", &shots_s, "--text", &train_s, "--kb", &ctd, &tree];
    a.extend(["--heldout-agreement", "0.5", "--random-tiny", "--shot-passes", "2", "--out", &held_s]);
    let out = hilgen(&a);
    let err = text(&out.stderr);
    assert!(out.status.success() && err.contains("held-out name check: "), "{err}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(held.join("dictionary/heldout.json")).unwrap()).unwrap();
    assert!(report["held_mentions"].as_u64().unwrap() > 0, "{report}");
    let json = std::fs::read_to_string(held.join("kept/system/dictionary/dictionary.json")).unwrap();
    let saved: hilgen_dictionary::SavedDictionary = serde_json::from_str(&json).unwrap();
    for (name, a) in report["names"].as_object().unwrap() {
        let below = a["mean"].as_f64().unwrap() < 0.5;
        assert_eq!(saved.selection.config.dropped_names.contains(name), below, "{name}: {a}");
    }
    for (bad, says) in [
        (&["--heldout-agreement", "1.5"][..], "--heldout-agreement"),
        (&["--heldout-agreement", "0.5", "--heldout-labels", "Gene"], "`Gene`"),
        (&["--heldout-labels", "Chemical"], "--heldout-agreement"),
    ] {
        let out = go(&[&["--out", &s(&d.join("x"))][..], bad].concat());
        let err = text(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{err}");
    }
    for bad in [
        &["--guard-p", "0.05"][..],
        &["--dev", &s(&d.join("dev.tsv")), "--guard-p", "1.5"],
        &["--dev", &s(&d.join("dev.tsv")), "--guard-test", "max-permutation"],
    ] {
        let out = go(&[&["--out", &s(&d.join("x"))][..], bad].concat());
        let err = text(&out.stderr);
        assert!(!out.status.success() && err.contains("--guard-p"), "{err}");
    }
    // A wrong index is refused by its hash.
    std::fs::write(system.join("dictionary/kb.hkb.new"), b"x").unwrap();
    std::fs::remove_file(system.join("dictionary/kb.hkb")).unwrap();
    std::fs::rename(system.join("dictionary/kb.hkb.new"), system.join("dictionary/kb.hkb")).unwrap();
    let out =
        hilgen(&["tag", "--model", &s(&system), "--input", &s(&d.join("test.tsv")), "--out", &s(&d.join("y.tsv"))]);
    let err = text(&out.stderr);
    assert!(!out.status.success() && err.contains("kb.hkb") && err.contains("not the one"), "{err}");
    // Bad inputs, by name.
    let plain = d.join("plain.tsv");
    std::fs::write(&plain, "Aspirin\tO\nworks\tO\n\n").unwrap();
    let out =
        hilgen(&["fewshot", "--shots", &s(&plain), "--text", &s(&plain), "--kb", &s(&kb), "--out", &s(&d.join("x"))]);
    let err = text(&out.stderr);
    assert!(!out.status.success() && err.contains("plain.tsv") && err.contains("mention"), "{err}");
    let out = hilgen(&[
        "fewshot",
        "--shots",
        &s(&shots),
        "--text",
        &s(&plain),
        "--kb",
        &s(&plain),
        "--out",
        &s(&d.join("x")),
    ]);
    let err = text(&out.stderr);
    assert!(!out.status.success() && err.contains("--kb") && err.contains("plain.tsv"), "{err}");
    // `hilgen dictionary --adjective-evidence`: the counts on the shots and dev are printed
    // and saved in the report, with the decision they make.
    let (kb_s, shots_s, test_s) = (s(&kb), s(&shots), s(&d.join("test.tsv")));
    for with_dev in [true, false] {
        let (out_file, report) = (d.join(format!("adj-{with_dev}.tsv")), d.join(format!("adj-{with_dev}.json")));
        let mut args =
            vec!["dictionary", "--kb", &kb_s, "--shots", &shots_s, "--input", &test_s, "--adjective-evidence"];
        let (dev, out_s, report_s) = (s(&d.join("dev.tsv")), s(&out_file), s(&report));
        if with_dev {
            args.extend(["--dev", &dev]);
        }
        args.extend(["--out", &out_s, "--report", &report_s]);
        let out = hilgen(&args);
        let err = text(&out.stderr);
        assert!(out.status.success() && err.contains("adjective evidence: "), "{err}");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let e = &v["adjective_evidence"];
        let (whole, outside) = (e["whole"].as_u64().unwrap(), e["outside"].as_u64().unwrap());
        assert!(err.contains(&format!("{whole} added matches are whole mentions, {outside} outside")), "{err}");
        if whole > outside {
            assert!(err.contains("adjectives on") && v["config"]["adjectives"] == true, "{err}");
        } else if !with_dev {
            assert!(v["config"]["adjectives"] == false, "{v}");
        }
    }
    // `hilgen dictionary --drop-co-types` and the guard's test: the report's configuration
    // says so; a test without a guard is refused by name.
    let (out_s, report_s, dev) = (s(&d.join("co.tsv")), s(&d.join("co.json")), s(&d.join("dev.tsv")));
    let args = ["dictionary", "--kb", &kb_s, "--shots", &shots_s, "--input", &test_s, "--drop-co-types"];
    let guarded = ["--dev", &dev, "--guard-p", "0.05", "--guard-test", "max-permutation"];
    let out = hilgen(&[&args[..], &guarded, &["--out", &out_s, "--report", &report_s]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(d.join("co.json")).unwrap()).unwrap();
    assert!(v["config"]["drop_co_types"] == true, "{v}");
    let out = hilgen(
        &[&args[..], &["--dev", &dev, "--guard-test", "max-permutation", "--out", &s(&d.join("z.tsv"))]].concat(),
    );
    let err = text(&out.stderr);
    assert!(!out.status.success() && err.contains("--guard-p"), "{err}");
    assert!(!d.join("z.tsv").exists());
}
