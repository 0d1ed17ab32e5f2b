//! A tagger trained here, saved in Hugging Face's layout, against an independent numpy forward
//! pass of `BertForTokenClassification` (`reference/tagger_numpy.py`, which reads the folder by
//! transformers' tensor names: `bert.` prefix, `classifier.weight`/`bias`). The committed
//! fixture `reference/tiny_tagger/` was trained and saved by `write_export_fixture` below; its
//! numpy logits are in `reference/tiny_tagger_reference.json`. transformers itself is checked
//! by `reference/check_transformers.py` (see the README), which needs torch.

mod common;

use common::sent;

use hilgen_corpus::Sentence;
use hilgen_models::{BertConfig, Tagger, TaggerConfig, WordEncoder};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tch::Device;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/tiny_tagger")
}

fn train_set() -> Vec<Sentence> {
    vec![
        sent("Cisplatin induced acute renal failure in rats .", "B-Chemical O B-Disease I-Disease I-Disease O O O"),
        sent("Patients on lithium developed tremor .", "O O B-Chemical O B-Disease O"),
        sent("Naloxone reverses the hypotension of clonidine .", "B-Chemical O O B-Disease O B-Chemical O"),
    ]
}

/// A small WordPiece vocabulary covering the training words (lower-cased, some split).
fn write_vocab(dir: &Path) {
    let mut v: Vec<String> =
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "cis", "##platin", "##s", "na", "##lox", "##one"]
            .map(String::from)
            .to_vec();
    for s in train_set() {
        for t in s.tokens {
            let t = t.to_lowercase();
            if !v.contains(&t) {
                v.push(t);
            }
        }
    }
    v.retain(|w| w != "cisplatin" && w != "naloxone");
    v.extend(["rat", "patient", "clon", "##idine"].map(String::from));
    std::fs::write(dir.join("vocab.txt"), v.join("\n") + "\n").unwrap();
}

fn tiny_tagger(dir: &Path, seed: u64) -> Tagger {
    write_vocab(dir);
    let encoder = WordEncoder::from_folder(dir).unwrap();
    let mut bert = BertConfig::tiny(encoder.vocab_size() as i64);
    bert.num_hidden_layers = 2;
    let config = TaggerConfig { learning_rate: 3e-3, epochs: 5, batch_size: 2, seed, ..Default::default() };
    let mut t =
        Tagger::with_random_weights(bert, encoder, Tagger::labels_of(&train_set()), config, Device::Cpu).unwrap();
    t.train(&train_set(), None, None).unwrap();
    t
}

fn ids(t: &Tagger, words: &[String]) -> Vec<i64> {
    let e = t.encoder();
    let mut ids = vec![e.cls];
    ids.extend(e.encode_words(words).unwrap().into_iter().flatten());
    ids.push(e.sep);
    ids
}

/// Writes the committed fixture (run once, then `tagger_numpy.py` for its reference):
/// `HILGEN_WRITE_FIXTURES=1 cargo test -p hilgen-models --test export_reference -- --ignored
/// write_export_fixture`. Without the variable it does nothing, so that a run of every ignored
/// test cannot overwrite the committed fixture (and its numpy reference) by accident.
#[test]
#[ignore]
fn write_export_fixture() {
    if std::env::var_os("HILGEN_WRITE_FIXTURES").is_none() {
        eprintln!("HILGEN_WRITE_FIXTURES is not set: the committed fixture is left as it is");
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let t = tiny_tagger(scratch.path(), 3);
    let _ = std::fs::remove_dir_all(fixture());
    t.save(&fixture()).unwrap();
}

#[test]
fn the_exported_tagger_matches_the_numpy_reference() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/tiny_tagger_reference.json");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let tagger = Tagger::load(&fixture(), Device::Cpu).unwrap();
    let mut worst = 0f64;
    for s in reference["sentences"].as_array().unwrap() {
        let words: Vec<String> = serde_json::from_value(s["words"].clone()).unwrap();
        let want_ids: Vec<i64> = serde_json::from_value(s["ids"].clone()).unwrap();
        assert_eq!(ids(&tagger, &words), want_ids, "sub-word ids of {words:?} (Python tokenizers vs ours)");
        let got = tagger.window_logits(&want_ids).unwrap();
        let want: Vec<Vec<f64>> = serde_json::from_value(s["logits"].clone()).unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            for (a, b) in g.iter().zip(w) {
                worst = worst.max((*a as f64 - b).abs());
            }
        }
    }
    println!("largest absolute logit difference from the numpy reference: {worst:e}");
    assert!(worst <= 1e-4, "largest difference {worst}");
}

#[test]
fn a_fresh_export_has_the_fixtures_layout_and_loads_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let t = tiny_tagger(dir.path(), 11);
    let out = dir.path().join("model");
    t.save(&out).unwrap();
    let keys = |p: &Path, file: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(p.join(file)).unwrap()).unwrap();
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    for file in ["config.json", "tokenizer_config.json"] {
        assert_eq!(keys(&out, file), keys(&fixture(), file), "the keys of {file}");
    }
    let tensors = |p: &Path| -> Vec<(String, Vec<i64>)> {
        let mut t: Vec<(String, Vec<i64>)> = tch::Tensor::read_safetensors(p.join("model.safetensors"))
            .unwrap()
            .into_iter()
            .map(|(n, t)| (n, t.size()))
            .collect();
        t.sort();
        t
    };
    assert_eq!(tensors(&out), tensors(&fixture()), "the same tensor names and shapes as the checked fixture");
    let loaded = Tagger::load(&out, Device::Cpu).unwrap();
    for s in train_set() {
        let i = ids(&t, &s.tokens);
        assert_eq!(loaded.window_logits(&i).unwrap(), t.window_logits(&i).unwrap());
    }
    assert_eq!(loaded.predict(&train_set()).unwrap(), t.predict(&train_set()).unwrap());
    // Without hilgen's own metadata the folder is read as transformers would: labels from id2label.
    std::fs::remove_file(out.join("tagger.json")).unwrap();
    let plain = Tagger::load(&out, Device::Cpu).unwrap();
    assert_eq!(plain.labels(), t.labels());
    let i = ids(&t, &train_set()[0].tokens);
    assert_eq!(plain.window_logits(&i).unwrap(), t.window_logits(&i).unwrap());
}
