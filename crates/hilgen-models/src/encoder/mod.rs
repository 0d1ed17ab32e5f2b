//! The encoders behind the tagger: one file per family, chosen from `config.json`'s
//! `model_type`. Adding a family is one file here plus one arm in [`Encoder::new`] and
//! [`Encoder::forward_t`].

mod bert;
mod layers;
mod mpnet;

pub use bert::Bert;
pub use layers::{Linear, NO_DECAY};
pub use mpnet::Mpnet;

use crate::config::{Architecture, EncoderConfig};
use crate::precision::Precision;
use tch::{nn, Tensor};

/// A transformer encoder of any supported family.
#[derive(Debug)]
pub enum Encoder {
    /// BERT or RoBERTa (the same layers; RoBERTa counts positions after the padding id).
    Bert(Bert),
    /// MPNet.
    Mpnet(Mpnet),
}

impl Encoder {
    /// Creates the encoder's variables under `p` for `config.model_type` (randomly
    /// initialised; load weights after).
    pub fn new(p: nn::Path, config: &EncoderConfig) -> Encoder {
        match config.model_type {
            Architecture::Bert | Architecture::Roberta => Encoder::Bert(Bert::new(p, config)),
            Architecture::Mpnet => Encoder::Mpnet(Mpnet::new(p, config)),
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &EncoderConfig {
        match self {
            Encoder::Bert(m) => &m.config,
            Encoder::Mpnet(m) => &m.config,
        }
    }

    /// Last hidden states `[batch, len, hidden]` of token ids `[batch, len]` with an attention
    /// mask `[batch, len]` (1 for tokens, 0 for padding). Dropout only when `train`.
    pub fn forward_t(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor {
        match self {
            Encoder::Bert(m) => m.forward_t(input_ids, attention_mask, train),
            Encoder::Mpnet(m) => m.forward_t(input_ids, attention_mask, train),
        }
    }

    /// [`Encoder::forward_t`] with the dense layers and attention in `precision` (float32
    /// hidden states either way).
    pub fn forward_in(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool, precision: Precision) -> Tensor {
        match self {
            Encoder::Bert(m) => m.forward_in(input_ids, attention_mask, train, precision),
            Encoder::Mpnet(m) => m.forward_in(input_ids, attention_mask, train, precision),
        }
    }
}
