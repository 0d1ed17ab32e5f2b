//! Hugging Face's folder layout for a trained tagger: the `config.json` transformers reads for
//! `BertForTokenClassification` (or the RoBERTa / MPNet class), and the tokenizer's config.

use crate::config::EncoderConfig;
use crate::error::{ModelError, Result};
use serde_json::{json, Map, Value};
use std::path::Path;

/// `config.json` of a token classifier with `labels` in output order, of the encoder's family.
pub fn config_json(bert: &EncoderConfig, labels: &[String], pad_token_id: i64) -> Value {
    let mut v = serde_json::to_value(bert).expect("configs serialize");
    let m = v.as_object_mut().expect("an object");
    let id2label: Map<String, Value> = labels.iter().enumerate().map(|(i, l)| (i.to_string(), json!(l))).collect();
    let label2id: Map<String, Value> = labels.iter().enumerate().map(|(i, l)| (l.clone(), json!(i))).collect();
    m.insert("architectures".into(), json!([bert.model_type.token_classifier()]));
    if bert.model_type != crate::config::Architecture::Mpnet {
        m.remove("relative_attention_num_buckets");
    }
    m.insert("id2label".into(), Value::Object(id2label));
    m.insert("label2id".into(), Value::Object(label2id));
    m.insert("pad_token_id".into(), json!(pad_token_id));
    m.insert("position_embedding_type".into(), json!("absolute"));
    m.insert("classifier_dropout".into(), Value::Null);
    m.insert("torch_dtype".into(), json!("float32"));
    v
}

/// `tokenizer_config.json` for the saved `tokenizer.json`: the family's fast tokenizer class
/// and the special tokens `(cls, sep, pad, unk)` the tagger uses, plus the mask token if any.
pub fn tokenizer_config(bert: &EncoderConfig, max_length: usize, special: [&str; 4], mask: Option<&str>) -> Value {
    let [cls, sep, pad, unk] = special;
    let mut v = json!({
        "tokenizer_class": bert.model_type.tokenizer_class(),
        "model_max_length": max_length,
        "cls_token": cls, "sep_token": sep, "pad_token": pad, "unk_token": unk,
    });
    if let Some(mask) = mask {
        v["mask_token"] = json!(mask);
    }
    if bert.model_type != crate::config::Architecture::Bert {
        // Words are given one by one: byte-level BPE needs the space it would have seen.
        v["add_prefix_space"] = json!(true);
        v["bos_token"] = json!(cls);
        v["eos_token"] = json!(sep);
    }
    v
}

/// The labels of a token-classification `config.json`, in output order (`id2label`).
pub fn labels_of_config(path: &Path) -> Result<Vec<String>> {
    let text = crate::limits::read_text(path, crate::limits::SETTINGS_BYTES)?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| ModelError::folder(path, format!("not a JSON config: {e}")))?;
    let map = v["id2label"]
        .as_object()
        .ok_or_else(|| ModelError::folder(path, "no `id2label`: not a token-classification model"))?;
    let mut labels = vec![String::new(); map.len()];
    for (k, l) in map {
        let i: usize =
            k.parse().map_err(|_| ModelError::folder(path, format!("id2label key `{k}` is not a number")))?;
        let slot =
            labels.get_mut(i).ok_or_else(|| ModelError::folder(path, format!("id2label key {i} out of range")))?;
        *slot = l.as_str().ok_or_else(|| ModelError::folder(path, format!("label {i} is not a string")))?.to_string();
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_through_the_config() {
        let labels: Vec<String> = ["O", "B-Disease", "I-Disease"].map(String::from).to_vec();
        let v = config_json(&EncoderConfig::tiny(100), &labels, 0);
        assert_eq!(v["architectures"][0], "BertForTokenClassification");
        assert_eq!(v["label2id"]["I-Disease"], 2);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        std::fs::write(&p, v.to_string()).unwrap();
        assert_eq!(labels_of_config(&p).unwrap(), labels);
        assert_eq!(EncoderConfig::from_file(&p).unwrap(), EncoderConfig::tiny(100), "extra keys are ignored");
    }
}
