//! BERT configuration (`config.json` of a Hugging Face folder).

use crate::error::{ModelError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The fields of a BERT `config.json` the encoder needs (others are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
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

impl BertConfig {
    /// Reads and checks `config.json`.
    pub fn from_file(path: &Path) -> Result<BertConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::Io { path: path.to_path_buf(), cause: e })?;
        let cfg: BertConfig = serde_json::from_str(&text)
            .map_err(|e| ModelError::folder(path, format!("not a BERT config.json: {e}")))?;
        cfg.check().map_err(|m| ModelError::folder(path, m))?;
        Ok(cfg)
    }

    /// A small random-weight configuration for tests (hidden 32, 2 layers, 2 heads).
    pub fn tiny(vocab_size: i64) -> BertConfig {
        BertConfig {
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
        }
    }

    /// The bert-large configuration (24 layers, hidden 1024, 16 heads).
    pub fn large(vocab_size: i64) -> BertConfig {
        BertConfig {
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
        if !matches!(self.hidden_act.as_str(), "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "relu") {
            return Err(format!("unsupported hidden_act `{}`; expected gelu, gelu_new or relu", self.hidden_act));
        }
        Ok(())
    }
}
