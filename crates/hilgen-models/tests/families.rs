//! The tagger on each encoder family: the committed tiny RoBERTa and MPNet checkpoints
//! (`reference/tiny_{roberta,mpnet}`, random weights checked against numpy by
//! `encoder_reference.rs`) with a small WordPiece vocabulary whose special tokens are RoBERTa's
//! (`<s>`, `</s>`, `<pad>`, declared in `tokenizer_config.json`). Each trains to a fit, saves
//! in transformers' layout for its family, loads back (from `tagger.json`, and as a plain
//! Hugging Face folder) with identical logits, and feeds DANN. With `HILGEN_FAMILY_EXPORT=DIR`
//! the saved folders and their logits are left in DIR for
//! `reference/check_encoders_transformers.py --taggers DIR/*` (transformers itself).

mod common;

use common::train_set;
use hilgen_metrics::{evaluate_sentences, Options};
use hilgen_models::{Architecture, Dann, DannConfig, Precision, Tagger, TaggerConfig};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tch::Device;

static TORCH: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A model folder: the fixture's config and weights, a vocabulary of at most 60 entries (the
/// fixture's vocab_size) with RoBERTa-style special tokens at RoBERTa's ids (pad = 1).
fn folder(kind: &str, dir: &Path) -> PathBuf {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference").join(format!("tiny_{kind}"));
    let out = dir.join(kind);
    std::fs::create_dir_all(&out).unwrap();
    std::fs::copy(fixture.join("model.safetensors"), out.join("model.safetensors")).unwrap();
    // Without dropout, so that a handful of sentences can be fitted exactly.
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("config.json")).unwrap()).unwrap();
    config["hidden_dropout_prob"] = 0.0.into();
    config["attention_probs_dropout_prob"] = 0.0.into();
    std::fs::write(out.join("config.json"), config.to_string()).unwrap();
    let mut vocab: Vec<String> = ["<s>", "<pad>", "</s>", "<unk>", "[UNK]", "."].map(String::from).to_vec();
    for s in train_set() {
        for t in s.tokens {
            let t = t.to_lowercase();
            if !vocab.contains(&t) {
                vocab.push(t);
            }
        }
    }
    assert!(vocab.len() <= 60);
    std::fs::write(out.join("vocab.txt"), vocab.join("\n") + "\n").unwrap();
    std::fs::write(
        out.join("tokenizer_config.json"),
        r#"{"do_lower_case": true, "cls_token": "<s>", "sep_token": "</s>", "pad_token": "<pad>", "unk_token": "[UNK]"}"#,
    )
    .unwrap();
    out
}

fn fit_config() -> TaggerConfig {
    TaggerConfig {
        learning_rate: 3e-3,
        epochs: 40,
        batch_size: 2,
        dropout: 0.0,
        warmup_ratio: 0.05,
        seed: 7,
        ..Default::default()
    }
}

/// The token ids of one window over `words`: `cls`, the sub-words, `sep`.
fn window_ids(tagger: &Tagger, words: &[String]) -> Vec<i64> {
    let mut ids = vec![tagger.encoder().cls];
    ids.extend(tagger.encoder().encode_words(words).unwrap().into_iter().flatten());
    ids.push(tagger.encoder().sep);
    ids
}

/// Trains `tagger` on `train` and checks that it tags `train` back (F1 above 0.99).
fn train_to_a_fit(tagger: &mut Tagger, train: &[hilgen_corpus::Sentence], what: &str) {
    tagger.train(train, None, None).unwrap();
    let predicted = tagger.predict_sentences(train).unwrap();
    let f1 = evaluate_sentences(train, &predicted, Options::default()).unwrap().micro.f1;
    assert!(f1 > 0.99, "{what}: training F1 {f1}");
}

fn check_family(kind: &str, arch: Architecture) {
    let _serial = TORCH.lock().unwrap_or_else(|e| e.into_inner());
    let scratch = tempfile::tempdir().unwrap();
    let dir = folder(kind, scratch.path());
    let train = train_set();
    let mut tagger = Tagger::from_pretrained(&dir, Tagger::labels_of(&train), fit_config(), Device::Cpu).unwrap();
    assert_eq!(tagger.bert_config().model_type, arch);
    assert_eq!((tagger.encoder().cls, tagger.encoder().sep, tagger.encoder().pad), (0, 2, 1));
    train_to_a_fit(&mut tagger, &train, kind);

    let saved = scratch.path().join(format!("{kind}-tagger"));
    tagger.save(&saved).unwrap();
    let config: Value = serde_json::from_str(&std::fs::read_to_string(saved.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["architectures"][0], arch.token_classifier());
    assert_eq!(config["model_type"], kind);
    let names: Vec<String> =
        tch::Tensor::read_safetensors(saved.join("model.safetensors")).unwrap().into_iter().map(|(n, _)| n).collect();
    assert!(names.iter().all(|n| n.starts_with(&format!("{kind}.")) || n.starts_with("classifier.")), "{names:?}");

    let ids = window_ids(&tagger, &train[1].tokens);
    let want = tagger.window_logits(&ids).unwrap();
    let back = Tagger::load(&saved, Device::Cpu).unwrap();
    assert_eq!(back.window_logits(&ids).unwrap(), want, "{kind}: reloaded from tagger.json");
    // As a plain Hugging Face folder (no tagger.json): labels from id2label, weights by name.
    let plain = scratch.path().join(format!("{kind}-plain"));
    std::fs::create_dir_all(&plain).unwrap();
    for f in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
        std::fs::copy(saved.join(f), plain.join(f)).unwrap();
    }
    let hf = Tagger::load(&plain, Device::Cpu).unwrap();
    assert_eq!(hf.window_logits(&ids).unwrap(), want, "{kind}: reloaded as a Hugging Face folder");

    let dann = Dann::fit(&tagger, &train, DannConfig::default()).unwrap();
    let by_dann = dann.predict_sentences(&tagger, &train).unwrap();
    let dann_f1 = evaluate_sentences(&train, &by_dann, Options::default()).unwrap().micro.f1;
    assert!(dann_f1 > 0.99, "{kind}: DANN on its own support set {dann_f1}");

    if let Some(export) = std::env::var_os("HILGEN_FAMILY_EXPORT") {
        let dest = PathBuf::from(export).join(kind);
        let _ = std::fs::remove_dir_all(&dest);
        tagger.save(&dest).unwrap();
        let json = serde_json::json!({"ids": ids, "logits": want});
        std::fs::write(dest.join("hilgen_logits.json"), json.to_string()).unwrap();
    }
}

#[test]
fn a_roberta_tagger_trains_saves_loads_and_feeds_dann() {
    check_family("roberta", Architecture::Roberta);
}

#[test]
fn an_mpnet_tagger_trains_saves_loads_and_feeds_dann() {
    check_family("mpnet", Architecture::Mpnet);
}

/// bfloat16 mixed precision (`precision = "bf16"`) on MPNet and RoBERTa (BERT's layers): the
/// logits stay near float32's (bfloat16 keeps 8 bits of mantissa) without being equal (the
/// products really ran in bfloat16), a tagger trains to a fit in it, and a saved one loads back
/// in bf16 with the same logits.
#[test]
fn bf16_mixed_precision_stays_near_f32_and_trains() {
    let _serial = TORCH.lock().unwrap_or_else(|e| e.into_inner());
    let scratch = tempfile::tempdir().unwrap();
    let train = train_set();
    for kind in ["mpnet", "roberta"] {
        let dir = folder(kind, scratch.path());
        let at = |precision| {
            let cfg = TaggerConfig { precision, ..fit_config() };
            Tagger::from_pretrained(&dir, Tagger::labels_of(&train), cfg, Device::Cpu).unwrap()
        };
        let (f32_tagger, bf16_tagger) = (at(Precision::F32), at(Precision::Bf16));
        let ids = window_ids(&f32_tagger, &train[1].tokens);
        let (a, b) = (f32_tagger.window_logits(&ids).unwrap(), bf16_tagger.window_logits(&ids).unwrap());
        let scale = a.iter().flatten().fold(0f32, |m, x| m.max(x.abs()));
        let diff = a.iter().flatten().zip(b.iter().flatten()).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(diff > 0.0, "{kind}: bf16 logits equal f32's: the products did not run in bfloat16");
        assert!(diff < 0.05 * scale.max(1.0), "{kind}: bf16 logits {diff} away from f32's (scale {scale})");
        let mut tagger = bf16_tagger;
        train_to_a_fit(&mut tagger, &train, &format!("{kind} in bf16"));
        let saved = scratch.path().join(format!("{kind}-bf16"));
        tagger.save(&saved).unwrap();
        let back = Tagger::load(&saved, Device::Cpu).unwrap();
        assert_eq!(back.config().precision, Precision::Bf16, "{kind}: the precision is saved with the tagger");
        assert_eq!(back.predict(&train).unwrap(), tagger.predict(&train).unwrap());
    }
}
