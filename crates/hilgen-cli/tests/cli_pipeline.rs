//! The product commands: a strategy written in this test file with one registration line runs
//! through `hilgen run` and `hilgen augment`; `hilgen train` writes a Hugging Face folder and
//! `hilgen tag` runs it over three abstracts of raw text (and PubTator, CoNLL, JSON Lines),
//! windowing a sentence longer than the model's window instead of truncating it.

#[path = "../../hilgen-pipeline/tests/support/mod.rs"]
mod support;

use hilgen_augment::strategy::parse_params;
use hilgen_augment::{Input, Output, Provenance, Registration, Registry, Strategy, Synthetic};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// A strategy of this test: each shot again with its mentions upper-cased.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Shout {
    /// Upper-case the other tokens too.
    everything: bool,
}

impl Strategy for Shout {
    fn kind(&self) -> &str {
        "shout"
    }
    fn needs(&self) -> hilgen_augment::Needs {
        hilgen_augment::Needs::default()
    }
    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap()
    }
    fn augment(&self, input: &Input<'_>) -> hilgen_augment::Result<Output> {
        let mut out = Vec::new();
        for (i, s) in input.shots.iter().enumerate() {
            let mut t = s.clone();
            for (tok, tag) in t.tokens.iter_mut().zip(&s.tags) {
                if self.everything || tag != "O" {
                    *tok = tok.to_uppercase();
                }
            }
            let provenance = Provenance {
                strategy: "shout".into(),
                source_sentence: Some(i),
                mention: None,
                concept: String::new(),
                linked_by: "none".into(),
                substitute: String::new(),
                relation: "upper-case".into(),
                model: None,
                request: None,
            };
            out.push(Synthetic { sentence: t, provenance });
        }
        Ok(Output::of(hilgen_augment::dedup(input.shots, out)))
    }
}

fn build(kind: &str, params: &serde_json::Map<String, serde_json::Value>) -> hilgen_augment::Result<Box<dyn Strategy>> {
    Ok(Box::new(parse_params::<Shout>(kind, params)?))
}

fn registry() -> Registry {
    Registry::builtin().with(Registration::new("shout", "the shots with upper-cased mentions", build))
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn a_strategy_registered_in_one_line_runs_through_run_and_augment() {
    let dir = tempfile::tempdir().unwrap();
    let exp = support::tiny(dir.path(), r#""mr", {kind = "shout", everything = true}"#, None);
    let out = dir.path().join("run");
    let args = ["hilgen", "run", &s(&exp), "--out", &s(&out), "--seeds", "1", "--log", "warn"];
    assert_eq!(hilgen_cli::main_with(args, &registry()), ExitCode::SUCCESS);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let rows: Vec<&str> = report["rows"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(rows.contains(&"+ shout"), "{rows:?}");
    let synth = std::fs::read_to_string(out.join("seed-1/augment/shout/synthetic.tsv")).unwrap();
    assert!(synth
        .lines()
        .filter(|l| !l.is_empty())
        .all(|l| l.split('\t').next().unwrap() == l.split('\t').next().unwrap().to_uppercase()));
    // Its parameters are checked like any other's, and it is unknown to the shipped registry.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, std::fs::read_to_string(&exp).unwrap().replace("everything = true", "everythin = true"))
        .unwrap();
    assert_eq!(
        hilgen_cli::main_with(["hilgen", "run", &s(&bad), "--dry-run", "--log", "error"], &registry()),
        ExitCode::FAILURE
    );
    assert_eq!(
        hilgen_cli::main_with(["hilgen", "run", &s(&exp), "--dry-run", "--log", "error"], &Registry::builtin()),
        ExitCode::FAILURE
    );

    // `hilgen augment` with the same registry.
    let shots = out.join("seed-1/sample/fewshot.jsonl");
    let synth = dir.path().join("shouted.tsv");
    let args = ["hilgen", "augment", "--strategy", "shout", "--input", &s(&shots), "--out", &s(&synth)];
    assert_eq!(hilgen_cli::main_with(args, &registry()), ExitCode::SUCCESS);
    let text = std::fs::read_to_string(&synth).unwrap();
    let shot_text = std::fs::read_to_string(out.join("seed-1/sample/fewshot.tsv")).unwrap();
    let changed = shot_text
        .lines()
        .filter(|l| l.ends_with("-Chemical") || l.ends_with("-Disease"))
        .map(|l| l.split('\t').next().unwrap())
        .any(|w| w != w.to_uppercase() && text.contains(&format!("{}\t", w.to_uppercase())));
    assert!(changed && dir.path().join("shouted.provenance.jsonl").exists(), "{text}");
    // And every shipped strategy through `hilgen augment` (those without an LLM).
    let kb = out.join("kb/kb.hkb");
    for kind in ["synonyms", "related", "parents-children", "siblings", "lwtr", "sr", "mr", "sis"] {
        let o = dir.path().join(format!("{kind}.tsv"));
        let args = [
            "hilgen",
            "augment",
            "--strategy",
            kind,
            "--input",
            &s(&shots),
            "--kb",
            &s(&kb),
            "--out",
            &s(&o),
            "--log",
            "warn",
        ];
        assert_eq!(hilgen_cli::main_with(args, &Registry::builtin()), ExitCode::SUCCESS, "{kind}");
        assert!(o.exists(), "{kind}");
    }
    // Distant supervision: the dictionary (types from the shots) labels a pool.
    let pool = dir.path().join("train.tsv");
    let o = dir.path().join("distant.tsv");
    let args = [
        "hilgen",
        "augment",
        "--strategy",
        "distant",
        "--input",
        &s(&shots),
        "--kb",
        &s(&kb),
        "--pool",
        &s(&pool),
        "--out",
        &s(&o),
        "--log",
        "warn",
    ];
    assert_eq!(hilgen_cli::main_with(args, &Registry::builtin()), ExitCode::SUCCESS);
    let silver = hilgen_corpus::conll::read_path(&o, &Default::default()).unwrap();
    assert!(
        silver.len() >= 10 && silver.iter().any(|s| s.tags.iter().any(|t| t != "O")),
        "{} silver sentences",
        silver.len()
    );
    let args = [
        "hilgen",
        "augment",
        "--strategy",
        "distant",
        "--input",
        &s(&shots),
        "--kb",
        &s(&kb),
        "--out",
        &s(&o),
        "--log",
        "error",
    ];
    assert_eq!(hilgen_cli::main_with(args, &Registry::builtin()), ExitCode::FAILURE, "no --pool");
}

fn hilgen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hilgen")).args(args).args(["--log", "warn"]).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn env_path(var: &str) -> PathBuf {
    PathBuf::from(std::env::var_os(var).unwrap())
}

#[test]
fn train_then_tag_three_abstracts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    support::take("train.tsv", 0, 24, &d.join("train.tsv"));
    support::take("devel.tsv", 0, 8, &d.join("dev.tsv"));
    let model = d.join("model");
    let encoder = env_path("HILGEN_ENCODER");
    let out = hilgen(&[
        "train",
        "--train",
        &s(&d.join("train.tsv")),
        "--dev",
        &s(&d.join("dev.tsv")),
        "--encoder",
        &s(&encoder),
        "--random-tiny",
        "--epochs",
        "2",
        "--learning-rate",
        "0.001",
        "--batch-size",
        "8",
        "--out",
        &s(&model),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("dev F1: tagger"), "{}", text(&out.stderr));
    // Hugging Face's layout, with transformers' tensor names, and DANN's support set.
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["architectures"][0], "BertForTokenClassification");
    assert_eq!(config["id2label"]["0"], "O");
    let names: Vec<String> =
        tch::Tensor::read_safetensors(model.join("model.safetensors")).unwrap().into_iter().map(|(n, _)| n).collect();
    for n in [
        "bert.embeddings.word_embeddings.weight",
        "bert.encoder.layer.1.output.LayerNorm.bias",
        "classifier.weight",
        "classifier.bias",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} not in {names:?}");
    }
    for f in ["tokenizer.json", "tokenizer_config.json", "dann.safetensors", "dann.json", "tagger.json"] {
        assert!(model.join(f).exists(), "{f}");
    }
    // Training again into the same folder is refused without --overwrite.
    let again =
        hilgen(&["train", "--train", &s(&d.join("train.tsv")), "--random-tiny", "--epochs", "1", "--out", &s(&model)]);
    assert!(!again.status.success() && text(&again.stderr).contains("--overwrite"), "{}", text(&again.stderr));

    // Three abstracts of raw text; the third has a sentence far longer than a window.
    let (docs, _) =
        hilgen_corpus::pubtator::read_path(env_path("HILGEN_DATA").join("bc5cdr/pubtator/CDR_TestSet.PubTator.txt"))
            .unwrap();
    let long = vec!["nephrotoxicity after cisplatin and gentamicin"; 60].join(" , ");
    let mut raw = String::new();
    for (i, doc) in docs.iter().take(3).enumerate() {
        let extra = if i == 2 { format!(" {long} .") } else { String::new() };
        raw.push_str(&format!("{}\n{}{extra}\n\n", doc.title, doc.abstract_text));
    }
    std::fs::write(d.join("abstracts.txt"), &raw).unwrap();
    let pubtator_out = d.join("tagged.pubtator");
    let out = hilgen(&[
        "tag",
        "--model",
        &s(&model),
        "--input",
        &s(&d.join("abstracts.txt")),
        "--out",
        &s(&pubtator_out),
        "--scores",
        &s(&d.join("scores.jsonl")),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (tagged, report) = hilgen_corpus::pubtator::read_path(&pubtator_out).unwrap();
    assert_eq!(tagged.len(), 3);
    assert_eq!(report.text_mismatches, 0, "every mention is the text at its offsets");
    assert_eq!(tagged[0].title, docs[0].title);
    // JSON Lines: one line per sentence, every word tagged, the long sentence included.
    let jsonl = d.join("tagged.jsonl");
    let out = hilgen(&[
        "tag",
        "--model",
        &s(&model),
        "--input",
        &s(&d.join("abstracts.txt")),
        "--out",
        &s(&jsonl),
        "--system",
        "dann",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sentences = hilgen_corpus::jsonl::read_path(&jsonl).unwrap();
    let longest = sentences.iter().map(|s| s.len()).max().unwrap();
    assert!(longest > 300, "the long sentence is one sentence of {longest} words, all tagged");
    let scores = std::fs::read_to_string(d.join("scores.jsonl")).unwrap();
    assert_eq!(scores.lines().count(), sentences.len());
    // PubTator in, CoNLL out: the same sentences as from raw text.
    let conll = d.join("tagged.tsv");
    let out = hilgen(&["tag", "--model", &s(&model), "--input", &s(&pubtator_out), "--out", &s(&conll)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let back = hilgen_corpus::conll::read_path(&conll, &Default::default()).unwrap();
    assert_eq!(
        back.iter().map(|s| s.tokens.clone()).collect::<Vec<_>>(),
        sentences.iter().map(|s| s.tokens.clone()).collect::<Vec<_>>()
    );
    // In bfloat16 mixed precision: every sentence tagged; an unknown format is refused by name.
    let bf16 = d.join("bf16.tsv");
    let out = hilgen(&["tag", "--model", &s(&model), "--input", &s(&conll), "--out", &s(&bf16), "--precision", "bf16"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(hilgen_corpus::conll::read_path(&bf16, &Default::default()).unwrap().len(), back.len());
    let out = hilgen(&["tag", "--model", &s(&model), "--input", &s(&conll), "--out", &s(&bf16), "--precision", "fp16"]);
    assert!(!out.status.success() && text(&out.stderr).contains("expected f32 or bf16"), "{}", text(&out.stderr));
    // A model folder that is none: a clear error.
    let out = hilgen(&["tag", "--model", &s(d), "--input", &s(&conll), "--out", &s(&d.join("x.tsv"))]);
    let err = text(&out.stderr);
    assert!(!out.status.success() && err.contains("neither a kept system") && err.contains("config.json"), "{err}");
}
