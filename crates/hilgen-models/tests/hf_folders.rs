//! Hugging Face folder variants: tensor names with a `bert.` prefix and legacy
//! `gamma`/`beta` LayerNorm names, unused heads, a folder with `vocab.txt` but no
//! `tokenizer.json`, and a missing tensor reported by name.

use hilgen_models::{weights, Bert, BertConfig, WordEncoder};
use std::path::{Path, PathBuf};
use tch::{nn, Device, Kind, Tensor};

fn encoder_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("HILGEN_ENCODER").expect("HILGEN_ENCODER is set by .cargo/config.toml"))
}

fn hidden(folder: &Path, ids: &[i64]) -> Tensor {
    let config = BertConfig::from_file(&folder.join("config.json")).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let bert = Bert::new(&vs.root() / "bert", &config);
    weights::load_encoder(&vs, "bert.", &folder.join("model.safetensors")).unwrap();
    let input = Tensor::from_slice(ids).view([1, -1]);
    let mask = Tensor::ones([1, ids.len() as i64], (Kind::Int64, Device::Cpu));
    tch::no_grad(|| bert.forward_t(&input, &mask, false))
}

#[test]
fn prefixed_legacy_names_load_to_the_same_model_and_missing_tensors_are_named() {
    let src = encoder_dir();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("bert-style");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(src.join("config.json"), folder.join("config.json")).unwrap();
    std::fs::copy(src.join("vocab.txt"), folder.join("vocab.txt")).unwrap();
    // Rename every tensor as an old BERT checkpoint would, and add an MLM head to be ignored.
    let tensors = Tensor::read_safetensors(src.join("model.safetensors")).unwrap();
    let mut renamed: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(n, t)| {
            (
                format!(
                    "bert.{}",
                    n.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
                ),
                t.shallow_clone(),
            )
        })
        .collect();
    renamed.push(("cls.predictions.bias".into(), Tensor::zeros([30522], (Kind::Float, Device::Cpu))));
    Tensor::write_safetensors(&renamed, folder.join("model.safetensors")).unwrap();
    // vocab.txt only: the WordPiece fallback gives the same ids as tokenizer.json.
    let words = ["Naloxone", "reverses", "clonidine-induced", "hypotension", "."];
    let a = WordEncoder::from_folder(&src).unwrap().encode_words(&words).unwrap();
    let b = WordEncoder::from_folder(&folder).unwrap().encode_words(&words).unwrap();
    assert_eq!(a, b);
    let ids: Vec<i64> = std::iter::once(101).chain(a.into_iter().flatten()).chain([102]).collect();
    let diff = (hidden(&src, &ids) - hidden(&folder, &ids)).abs().max().double_value(&[]);
    assert_eq!(diff, 0.0);
    // Drop one tensor: the error names it.
    let without: Vec<(String, Tensor)> =
        renamed.into_iter().filter(|(n, _)| !n.ends_with("layer.3.attention.self.key.weight")).collect();
    Tensor::write_safetensors(&without, folder.join("model.safetensors")).unwrap();
    let config = BertConfig::from_file(&folder.join("config.json")).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let _bert = Bert::new(&vs.root() / "bert", &config);
    let err = weights::load_encoder(&vs, "bert.", &folder.join("model.safetensors")).unwrap_err().to_string();
    assert!(
        err.contains("1 encoder tensors are missing") && err.contains("encoder.layer.3.attention.self.key.weight"),
        "{err}"
    );
}
