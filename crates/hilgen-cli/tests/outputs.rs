//! The rule of every command that writes (`crate::output`), through `hilgen tag`: an output is
//! never an input, an existing output needs `--overwrite`, a link is written through, outputs
//! are checked before any work; and piped input arrives whole.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn hilgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hilgen")).args(args).args(["--log", "error"]).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Twenty labelled sentences and a tiny model trained on them.
fn model(dir: &Path) -> (PathBuf, PathBuf) {
    let mut text = String::new();
    for i in 0..20 {
        text.push_str(&format!("Aspirin{i}\tB-Chemical\ncauses\tO\nulcers\tB-Disease\n.\tO\n\n"));
    }
    let shots = dir.join("shots.tsv");
    std::fs::write(&shots, &text).unwrap();
    let model = dir.join("model");
    let o = hilgen(&[
        "train",
        "--train",
        &shots.display().to_string(),
        "--random-tiny",
        "--epochs",
        "1",
        "--out",
        &model.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    (shots, model)
}

#[test]
fn tag_outputs_follow_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (shots, model) = model(dir.path());
    let (shots_s, model_s) = (shots.display().to_string(), model.display().to_string());
    let gold = std::fs::read_to_string(&shots).unwrap();
    let tag = |out: &str, extra: &[&str]| {
        let mut args = vec!["tag", "--model", &model_s, "--input", &shots_s, "--out", out];
        args.extend_from_slice(extra);
        hilgen(&args)
    };
    // The input as the output: refused, the gold file untouched.
    let o = tag(&shots_s, &["--overwrite"]);
    assert!(!o.status.success() && stderr(&o).contains("is the input"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&shots).unwrap(), gold);
    // An existing output needs --overwrite.
    let out = dir.path().join("pred.tsv");
    std::fs::write(&out, "keep me\n").unwrap();
    let out_s = out.display().to_string();
    let o = tag(&out_s, &[]);
    assert!(stderr(&o).contains("exists; pass --overwrite"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me\n");
    assert!(tag(&out_s, &["--overwrite"]).status.success());
    assert!(std::fs::read_to_string(&out).unwrap().contains("Aspirin0\t"));
    // A link is written through: the link stays, its target gets the output.
    let target = dir.path().join("target.tsv");
    std::fs::write(&target, "old\n").unwrap();
    let link = dir.path().join("link.tsv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert!(tag(&link.display().to_string(), &["--overwrite"]).status.success());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&target).unwrap().contains("Aspirin0\t"));
    // Refused before any work: raw text out, DANN with the tagger's scores, a missing folder.
    let o = tag(&dir.path().join("x.txt").display().to_string(), &[]);
    assert!(stderr(&o).contains("raw text cannot hold tags"), "{}", stderr(&o));
    let o = tag(&dir.path().join("d.tsv").display().to_string(), &["--system", "dann", "--scores", "s.jsonl"]);
    assert!(stderr(&o).contains("--scores writes the tagger's"), "{}", stderr(&o));
    // Token-only CoNLL is text to tag (its help says tags are ignored).
    let tag_tokens = |name: &str, text: &str, out: &str| {
        let tokens = dir.path().join(name);
        std::fs::write(&tokens, text).unwrap();
        let (input, out) = (tokens.display().to_string(), dir.path().join(out).display().to_string());
        hilgen(&["tag", "--model", &model_s, "--input", &input, "--out", &out])
    };
    let o = tag_tokens("tokens.conll", "Aspirin0\ncauses\nulcers\n\n", "t.tsv");
    assert!(o.status.success() && stderr(&o).contains("tagged 1 sentences (3 words"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(dir.path().join("t.tsv")).unwrap().lines().count(), 4);
    // So are JSON Lines of tokens alone (and their labels, when present, are ignored).
    let jsonl = "{\"tokens\":[\"Aspirin0\",\"causes\",\"ulcers\"]}\n{\"tokens\":[\"x\"],\"tags\":[\"B-Chemical\"]}\n";
    let o = tag_tokens("tokens.jsonl", jsonl, "j.jsonl");
    assert!(o.status.success() && stderr(&o).contains("tagged 2 sentences (4 words"), "{}", stderr(&o));
    let fresh = dir.path().join("fresh.tsv");
    let o = tag(&fresh.display().to_string(), &["--scores", &dir.path().join("no/s.jsonl").display().to_string()]);
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert!(!fresh.exists(), "nothing written when an output is refused");
}

#[test]
fn piped_input_is_tagged_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (shots, model) = model(dir.path());
    let mut big = String::new();
    for _ in 0..60 {
        big.push_str(&std::fs::read_to_string(&shots).unwrap());
    }
    assert!(big.len() > 4096 * 8);
    let out = dir.path().join("piped.tsv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hilgen"))
        .args(["tag", "--model", &model.display().to_string(), "--input", "/dev/stdin", "--out"])
        .arg(&out)
        .args(["--log", "error"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, big.as_bytes()).unwrap());
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("tagged 1200 sentences (4800 words"), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("Aspirin0\t"), "the first 4 KB arrive too");
    assert_eq!(text.matches("\n\n").count(), 1200);
}

/// Every other command that writes files follows the same rule: the output is never an input,
/// an existing one needs `--overwrite`, and this is said before any input is read.
#[test]
fn every_writing_command_follows_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = |n: &str| d.join(n).display().to_string();
    std::fs::write(d.join("gold.tsv"), "Aspirin\tB-Chemical\ncauses\tO\nulcers\tB-Disease\n\n").unwrap();
    std::fs::write(d.join("taken.tsv"), "keep me\n").unwrap();
    let (gold, taken) = (path("gold.tsv"), path("taken.tsv"));
    let missing_kb = path("no-such-index");
    let cases: Vec<Vec<&str>> = vec![
        vec!["corpus", "convert", &gold, &taken],
        vec!["corpus", "sample", &gold, &taken, "--k", "1"],
        vec!["corpus", "align", "--iob", &gold, "--pubtator", &gold, "--output", &taken],
        // The index does not exist: the output is refused before it is opened.
        vec!["dictionary", "--kb", &missing_kb, "--shots", &gold, "--input", &gold, "--out", &taken],
        vec!["augment", "--strategy", "lwtr", "--input", &gold, "--out", &taken],
        vec!["llm", "tag", "--input", &gold, "--types", "Chemical", "--out", &taken],
    ];
    for args in &cases {
        let o = hilgen(args);
        assert!(!o.status.success() && stderr(&o).contains("exists; pass --overwrite"), "{args:?}: {}", stderr(&o));
        assert_eq!(std::fs::read_to_string(d.join("taken.tsv")).unwrap(), "keep me\n", "{args:?}");
        // The input as the output, even with --overwrite.
        let mut same: Vec<&str> = args.iter().map(|a| if *a == taken { gold.as_str() } else { a }).collect();
        same.push("--overwrite");
        let o = hilgen(&same);
        assert!(!o.status.success() && stderr(&o).contains("is the input"), "{same:?}: {}", stderr(&o));
    }
    // With --overwrite the replacement goes through.
    let o = hilgen(&["corpus", "convert", &gold, &taken, "--overwrite"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(d.join("taken.tsv")).unwrap().starts_with("Aspirin\tB-Chemical"));
    // augment's provenance file beside --out is an output too.
    std::fs::write(d.join("synth.provenance.jsonl"), "keep\n").unwrap();
    let o = hilgen(&["augment", "--strategy", "lwtr", "--input", &gold, "--out", &path("synth.tsv")]);
    assert!(stderr(&o).contains("--provenance") && stderr(&o).contains("exists"), "{}", stderr(&o));

    // Reports: compare's --out (and its JSON), merge's folder.
    let committed =
        |n: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results").join(n).join("results.json");
    std::fs::create_dir(d.join("run")).unwrap();
    std::fs::copy(committed("ncbi-disease-few-shot"), d.join("run/results.json")).unwrap();
    let run = path("run");
    let other = committed("bc5cdr-few-shot").display().to_string();
    std::fs::write(d.join("cmp.json"), "{}").unwrap();
    let o = hilgen(&["report", "compare", &run, &other, "--out", &path("cmp.md")]);
    assert!(stderr(&o).contains("cmp.json") && stderr(&o).contains("exists"), "{}", stderr(&o));
    let o = hilgen(&["report", "compare", &run, &other, "--out", &path("cmp.md"), "--overwrite"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(d.join("run/results.json")).unwrap();
    let o = hilgen(&["report", "merge", &run, "--out", &run, "--overwrite"]);
    assert!(stderr(&o).contains("is the input"), "{}", stderr(&o));
    assert_eq!(std::fs::read(d.join("run/results.json")).unwrap(), before);
    let o = hilgen(&["report", "merge", &run, "--out", &path("merged")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = hilgen(&["report", "merge", &run, "--out", &path("merged")]);
    assert!(stderr(&o).contains("exists; pass --overwrite"), "{}", stderr(&o));
    assert!(hilgen(&["report", "merge", &run, "--out", &path("merged"), "--overwrite"]).status.success());

    // kb build: an index already in --out.
    let ctd = Path::new(&std::env::var("HILGEN_KB").unwrap()).join("ctd-medic-2017/CTD_diseases.tsv.gz");
    std::fs::create_dir(d.join("kb")).unwrap();
    std::fs::write(d.join("kb/kb.hkb"), "keep").unwrap();
    let o = hilgen(&["kb", "build", "--ctd", &ctd.display().to_string(), "--out", &path("kb")]);
    assert!(stderr(&o).contains("pass --overwrite"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(d.join("kb/kb.hkb")).unwrap(), "keep");
}

/// `train --overwrite` onto a disk that fills up (simulated by a file-size limit: writes past
/// it fail with EFBIG, as they fail with ENOSPC on a full disk) fails and leaves the old model
/// exactly as it was.
#[test]
fn a_failed_overwrite_keeps_the_old_model() {
    let dir = tempfile::tempdir().unwrap();
    let (shots, model) = model(dir.path());
    let files = |d: &Path| {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
            .collect();
        v.sort();
        v
    };
    let before = files(&model);
    let script = "trap '' XFSZ; ulimit -f 64; exec \"$0\" \"$@\"";
    let o = Command::new("bash")
        .args(["-c", script, env!("CARGO_BIN_EXE_hilgen")])
        .args(["train", "--train", &shots.display().to_string(), "--random-tiny", "--epochs", "1", "--seed", "2"])
        .args(["--out", &model.display().to_string(), "--overwrite", "--log", "error"])
        .output()
        .unwrap();
    assert!(!o.status.success(), "the save cannot fit under the limit: {}", stderr(&o));
    assert_eq!(files(&model), before, "the old model is untouched");
}
