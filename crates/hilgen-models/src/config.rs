//! Encoder configuration (`config.json` of a Hugging Face folder): BERT, RoBERTa or MPNet,
//! told apart by `model_type`.

use crate::error::{ModelError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The encoder families the models crate runs (`model_type` in `config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// BERT (and MiniLM, BioBERT, PubMedBERT...): absolute positions from 0, token types.
    #[default]
    Bert,
    /// RoBERTa (BioMed-RoBERTa, RoBERTa-base-PM...): BERT layers, positions counted after the
    /// padding id, one token type.
    Roberta,
    /// MPNet (all-mpnet-base-v2): `attn.{q,k,v,o}` attention, one relative-position bias
    /// shared by the layers, RoBERTa-style positions, no token types.
    Mpnet,
}

impl Architecture {
    /// The tensor-name prefix transformers uses for this family's encoder (`bert`, `roberta`,
    /// `mpnet`); the tagger keeps its encoder variables under it.
    pub fn prefix(self) -> &'static str {
        match self {
            Architecture::Bert => "bert",
            Architecture::Roberta => "roberta",
            Architecture::Mpnet => "mpnet",
        }
    }

    /// transformers' token-classification class for this family.
    pub fn token_classifier(self) -> &'static str {
        match self {
            Architecture::Bert => "BertForTokenClassification",
            Architecture::Roberta => "RobertaForTokenClassification",
            Architecture::Mpnet => "MPNetForTokenClassification",
        }
    }

    /// transformers' fast tokenizer class for this family.
    pub fn tokenizer_class(self) -> &'static str {
        match self {
            Architecture::Bert => "BertTokenizerFast",
            Architecture::Roberta => "RobertaTokenizerFast",
            Architecture::Mpnet => "MPNetTokenizerFast",
        }
    }

    /// The first position id of a sequence: 0 for BERT, the padding id + 1 for RoBERTa and MPNet.
    pub fn position_offset(self, pad_token_id: i64) -> i64 {
        match self {
            Architecture::Bert => 0,
            Architecture::Roberta | Architecture::Mpnet => pad_token_id + 1,
        }
    }
}

/// The fields of an encoder's `config.json` the models need (others are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderConfig {
    /// The family (`model_type`: `bert`, `roberta` or `mpnet`; absent means BERT).
    #[serde(default)]
    pub model_type: Architecture,
    /// Vocabulary size.
    pub vocab_size: i64,
    /// Hidden size (384 for MiniLM-L6, 768 base, 1024 large).
    pub hidden_size: i64,
    /// Number of layers.
    pub num_hidden_layers: i64,
    /// Attention heads.
    pub num_attention_heads: i64,
    /// Feed-forward size.
    pub intermediate_size: i64,
    /// `gelu` (erf), `gelu_new` / `gelu_pytorch_tanh` (tanh approximation) or `relu`.
    #[serde(default = "default_act")]
    pub hidden_act: String,
    /// Maximum positions (the model's window).
    #[serde(default = "default_positions")]
    pub max_position_embeddings: i64,
    /// Token type vocabulary.
    #[serde(default = "default_types")]
    pub type_vocab_size: i64,
    /// LayerNorm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// Dropout on hidden states.
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities.
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    /// The padding token id (RoBERTa and MPNet count positions after it).
    #[serde(default)]
    pub pad_token_id: i64,
    /// MPNet's relative-position buckets.
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: i64,
}

/// The name of [`EncoderConfig`] before RoBERTa and MPNet.
pub type BertConfig = EncoderConfig;

fn default_buckets() -> i64 {
    32
}

fn default_act() -> String {
    "gelu".into()
}
fn default_positions() -> i64 {
    512
}
fn default_types() -> i64 {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_dropout() -> f64 {
    0.1
}

impl EncoderConfig {
    /// Reads and checks `config.json`.
    pub fn from_file(path: &Path) -> Result<EncoderConfig> {
        let text = crate::limits::read_text(path, crate::limits::SETTINGS_BYTES)?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| ModelError::folder(path, format!("not a JSON config.json: {e}")))?;
        if let Some(t) = value.get("model_type").and_then(|t| t.as_str()) {
            if !matches!(t, "bert" | "roberta" | "mpnet") {
                return Err(ModelError::folder(
                    path,
                    format!("model_type `{t}` is not supported; expected bert, roberta or mpnet"),
                ));
            }
        }
        let cfg: EncoderConfig = serde_json::from_value(value)
            .map_err(|e| ModelError::folder(path, format!("not an encoder config.json: {e}")))?;
        cfg.check().map_err(|m| ModelError::folder(path, m))?;
        Ok(cfg)
    }

    /// A small random-weight configuration for tests (hidden 32, 2 layers, 2 heads).
    pub fn tiny(vocab_size: i64) -> EncoderConfig {
        EncoderConfig {
            model_type: Architecture::Bert,
            vocab_size,
            hidden_size: 32,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            intermediate_size: 64,
            hidden_act: "gelu".into(),
            max_position_embeddings: 64,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            pad_token_id: 0,
            relative_attention_num_buckets: 32,
        }
    }

    /// The bert-large configuration (24 layers, hidden 1024, 16 heads).
    pub fn large(vocab_size: i64) -> EncoderConfig {
        EncoderConfig {
            model_type: Architecture::Bert,
            vocab_size,
            hidden_size: 1024,
            num_hidden_layers: 24,
            num_attention_heads: 16,
            intermediate_size: 4096,
            hidden_act: "gelu".into(),
            max_position_embeddings: 512,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            pad_token_id: 0,
            relative_attention_num_buckets: 32,
        }
    }

    /// Checks the values; the message says what is wrong.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.hidden_size <= 0 || self.num_attention_heads <= 0 || self.hidden_size % self.num_attention_heads != 0 {
            return Err(format!(
                "hidden_size {} must be a positive multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if self.vocab_size <= 0
            || self.num_hidden_layers <= 0
            || self.intermediate_size <= 0
            || self.max_position_embeddings < 8
        {
            return Err("vocab_size, num_hidden_layers, intermediate_size must be positive and max_position_embeddings at least 8".into());
        }
        if self.model_type != Architecture::Bert
            && (self.pad_token_id < 0 || self.pad_token_id + 2 >= self.max_position_embeddings)
        {
            return Err(format!(
                "pad_token_id {} leaves no positions: {:?} counts positions after it, up to max_position_embeddings {}",
                self.pad_token_id, self.model_type, self.max_position_embeddings
            ));
        }
        if self.model_type == Architecture::Mpnet && self.relative_attention_num_buckets < 4 {
            return Err(format!(
                "relative_attention_num_buckets {} must be at least 4",
                self.relative_attention_num_buckets
            ));
        }
        if !matches!(self.hidden_act.as_str(), "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "relu") {
            return Err(format!("unsupported hidden_act `{}`; expected gelu, gelu_new or relu", self.hidden_act));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_type_picks_the_family_and_unknown_types_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        let base = r#""vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64, "pad_token_id": 1, "max_position_embeddings": 66"#;
        std::fs::write(&p, format!(r#"{{"model_type": "mpnet", {base}}}"#)).unwrap();
        let c = EncoderConfig::from_file(&p).unwrap();
        assert_eq!((c.model_type, c.relative_attention_num_buckets, c.pad_token_id), (Architecture::Mpnet, 32, 1));
        std::fs::write(&p, format!(r#"{{{base}}}"#)).unwrap();
        assert_eq!(EncoderConfig::from_file(&p).unwrap().model_type, Architecture::Bert);
        std::fs::write(&p, format!(r#"{{"model_type": "gpt2", {base}}}"#)).unwrap();
        let e = EncoderConfig::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("config.json") && e.contains("`gpt2`") && e.contains("roberta"), "{e}");
        std::fs::write(
            &p,
            format!(r#"{{"model_type": "roberta", {base}}}"#).replace("\"pad_token_id\": 1", "\"pad_token_id\": 64"),
        )
        .unwrap();
        let e = EncoderConfig::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("pad_token_id 64"), "{e}");
    }

    #[test]
    fn positions_start_after_the_padding_id_for_roberta_and_mpnet() {
        assert_eq!(Architecture::Bert.position_offset(0), 0);
        assert_eq!(Architecture::Roberta.position_offset(1), 2);
        assert_eq!(Architecture::Mpnet.position_offset(1), 2);
        assert_eq!(Architecture::Mpnet.prefix(), "mpnet");
    }
}
