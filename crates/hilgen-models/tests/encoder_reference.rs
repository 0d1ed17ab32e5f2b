//! Numerical check of the encoder: all-MiniLM-L6-v2 (`HILGEN_ENCODER`) against an independent
//! numpy implementation of the BERT forward pass (`reference/bert_numpy.py`) reading the same
//! safetensors; every hidden value within 1e-4. The sub-word ids must match the Python
//! `tokenizers` package too.

use hilgen_models::{weights, Bert, BertConfig, WordEncoder};
use serde_json::Value;
use std::path::PathBuf;
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
