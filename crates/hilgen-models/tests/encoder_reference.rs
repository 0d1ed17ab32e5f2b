//! Numerical check of the encoders: all-MiniLM-L6-v2 (`HILGEN_ENCODER`) against an independent
//! numpy implementation of the BERT forward pass (`reference/bert_numpy.py`), and tiny random
//! RoBERTa and MPNet checkpoints (committed) against `reference/encoders_numpy.py`, each
//! reading the same safetensors; every hidden value within 1e-4. all-mpnet-base-v2 is checked
//! the same way behind `cargo xtask check-mpnet` (it is a 438 MB download). The sub-word ids
//! must match the Python `tokenizers` package too.

use hilgen_models::{weights, Bert, BertConfig, Encoder, EncoderConfig, WordEncoder};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tch::{nn, Device, Kind, Tensor};

#[test]
fn minilm_matches_the_numpy_reference() {
    let dir = PathBuf::from(std::env::var_os("HILGEN_ENCODER").expect("HILGEN_ENCODER is set by .cargo/config.toml"));
    let reference: Value = serde_json::from_str(include_str!("reference/minilm_reference.json")).unwrap();
    let config = BertConfig::from_file(&dir.join("config.json")).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let bert = Bert::new(&vs.root() / "bert", &config);
    let loaded = weights::load_encoder(&vs, "bert.", &dir.join("model.safetensors")).unwrap();
    // 6 layers x 16 + 5 embedding tensors; of the 104 in the file, the pooler (2) and
    // position_ids are not used.
    assert_eq!(loaded, 101);
    let encoder = WordEncoder::from_folder(&dir).unwrap();
    let mut worst = 0f64;
    for s in reference["sentences"].as_array().unwrap() {
        let words: Vec<String> = serde_json::from_value(s["words"].clone()).unwrap();
        let want_ids: Vec<i64> = serde_json::from_value(s["ids"].clone()).unwrap();
        let mut ids = vec![encoder.cls];
        ids.extend(encoder.encode_words(&words).unwrap().into_iter().flatten());
        ids.push(encoder.sep);
        assert_eq!(ids, want_ids, "sub-word ids of {words:?}");
        let input = Tensor::from_slice(&ids).view([1, -1]);
        let mask = Tensor::ones([1, ids.len() as i64], (Kind::Int64, Device::Cpu));
        let hidden = tch::no_grad(|| bert.forward_t(&input, &mask, false)).squeeze_dim(0).to_kind(Kind::Double);
        let want: Vec<Vec<f64>> = serde_json::from_value(s["hidden"].clone()).unwrap();
        let want = Tensor::from_slice(&want.concat()).view([ids.len() as i64, -1]);
        let diff = (hidden - want).abs().max().double_value(&[]);
        worst = worst.max(diff);
    }
    println!("largest absolute difference from the numpy reference: {worst:e}");
    assert!(worst <= 1e-4, "largest difference {worst}");
}

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

/// The encoder of `folder` with its checkpoint loaded (the family from `config.json`).
fn load(folder: &Path) -> (Encoder, nn::VarStore) {
    let config = EncoderConfig::from_file(&folder.join("config.json")).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let prefix = config.model_type.prefix();
    let encoder = Encoder::new(&vs.root() / prefix, &config);
    weights::load_encoder(&vs, &format!("{prefix}."), &folder.join("model.safetensors")).unwrap();
    (encoder, vs)
}

/// Runs the reference's id sequences as one padded batch (so that padding, position ids and
/// masks are exercised) and returns the largest difference over the real tokens.
fn padded_batch_difference(kind: &str) -> f64 {
    let (encoder, _vs) = load(&reference_dir().join(format!("tiny_{kind}")));
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(reference_dir().join(format!("tiny_{kind}_reference.json"))).unwrap(),
    )
    .unwrap();
    let seqs = reference["sequences"].as_array().unwrap();
    let ids: Vec<Vec<i64>> = seqs.iter().map(|s| serde_json::from_value(s["ids"].clone()).unwrap()).collect();
    let t = ids.iter().map(Vec::len).max().unwrap();
    let pad = encoder.config().pad_token_id;
    let mut flat = Vec::new();
    let mut mask = Vec::new();
    for s in &ids {
        flat.extend(s.iter().copied().chain(std::iter::repeat_n(pad, t - s.len())));
        mask.extend(std::iter::repeat_n(1i64, s.len()).chain(std::iter::repeat_n(0, t - s.len())));
    }
    let shape = [ids.len() as i64, t as i64];
    let hidden = tch::no_grad(|| {
        encoder.forward_t(&Tensor::from_slice(&flat).view(shape), &Tensor::from_slice(&mask).view(shape), false)
    })
    .to_kind(Kind::Double);
    let mut worst = 0f64;
    for (i, s) in seqs.iter().enumerate() {
        let want: Vec<Vec<f64>> = serde_json::from_value(s["hidden"].clone()).unwrap();
        let n = want.len() as i64;
        let want = Tensor::from_slice(&want.concat()).view([n, -1]);
        let got = hidden.get(i as i64).narrow(0, 0, n);
        worst = worst.max((got - want).abs().max().double_value(&[]));
    }
    worst
}

#[test]
fn tiny_roberta_matches_the_numpy_reference_in_a_padded_batch() {
    let worst = padded_batch_difference("roberta");
    println!("RoBERTa: largest absolute difference from the numpy reference: {worst:e}");
    assert!(worst <= 1e-4, "largest difference {worst}");
}

#[test]
fn tiny_mpnet_matches_the_numpy_reference_in_a_padded_batch() {
    let worst = padded_batch_difference("mpnet");
    println!("MPNet: largest absolute difference from the numpy reference: {worst:e}");
    assert!(worst <= 1e-4, "largest difference {worst}");
}

#[test]
fn a_bert_checkpoint_does_not_load_into_mpnet_layers() {
    // The families differ in tensor names: loading the RoBERTa (BERT-layer) fixture into an
    // MPNet of the same size names the first missing tensor.
    let dir = reference_dir().join("tiny_roberta");
    let mut config = EncoderConfig::from_file(&dir.join("config.json")).unwrap();
    config.model_type = hilgen_models::Architecture::Mpnet;
    let vs = nn::VarStore::new(Device::Cpu);
    let _m = Encoder::new(&vs.root() / "mpnet", &config);
    let e = weights::load_encoder(&vs, "mpnet.", &dir.join("model.safetensors")).unwrap_err().to_string();
    assert!(e.contains("missing") && e.contains("attention.attn"), "{e}");
}

/// all-mpnet-base-v2 (`HILGEN_MPNET`, installed by `cargo xtask setup --encoder mpnet`) against
/// `reference/mpnet_reference.json` (`encoders_numpy.py folder`): sub-word ids and every
/// hidden value. Run by `cargo xtask check-mpnet`.
#[test]
#[ignore = "needs all-mpnet-base-v2 (438 MB): cargo xtask check-mpnet"]
fn all_mpnet_base_v2_matches_the_numpy_reference() {
    let dir = PathBuf::from(std::env::var_os("HILGEN_MPNET").expect("HILGEN_MPNET names the all-mpnet-base-v2 folder"));
    let (encoder, _vs) = load(&dir);
    let words = WordEncoder::from_folder(&dir).unwrap();
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(reference_dir().join("mpnet_reference.json")).unwrap()).unwrap();
    let mut worst = 0f64;
    for s in reference["sentences"].as_array().unwrap() {
        let w: Vec<String> = serde_json::from_value(s["words"].clone()).unwrap();
        let want_ids: Vec<i64> = serde_json::from_value(s["ids"].clone()).unwrap();
        let mut ids = vec![words.cls];
        ids.extend(words.encode_words(&w).unwrap().into_iter().flatten());
        ids.push(words.sep);
        assert_eq!(ids, want_ids, "sub-word ids of {w:?}");
        let input = Tensor::from_slice(&ids).view([1, -1]);
        let mask = Tensor::ones([1, ids.len() as i64], (Kind::Int64, Device::Cpu));
        let hidden = tch::no_grad(|| encoder.forward_t(&input, &mask, false)).squeeze_dim(0).to_kind(Kind::Double);
        let want: Vec<Vec<f64>> = serde_json::from_value(s["hidden"].clone()).unwrap();
        let want = Tensor::from_slice(&want.concat()).view([ids.len() as i64, -1]);
        worst = worst.max((hidden - want).abs().max().double_value(&[]));
    }
    println!("all-mpnet-base-v2: largest absolute difference from the numpy reference: {worst:e}");
    assert!(worst <= 1e-4, "largest difference {worst}");
}
