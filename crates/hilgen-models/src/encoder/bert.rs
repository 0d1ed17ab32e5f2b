//! BERT and RoBERTa in `tch`, with Hugging Face tensor names, for any configuration size.
//!
//! Variables live under the path given at construction (`bert` or `roberta` in the tagger),
//! named as in Hugging Face checkpoints: `embeddings.word_embeddings.weight`,
//! `encoder.layer.3.attention.self.query.weight`, `encoder.layer.3.output.LayerNorm.bias`, ...
//! Biases and LayerNorm parameters are put in optimizer group [`NO_DECAY`]. RoBERTa has the
//! same layers; its positions start after the padding id (`Architecture::position_offset`).

#[cfg(doc)]
use super::layers::NO_DECAY;
use super::layers::{padding_mask, position_ids, Layer, LayerNorm};
use crate::config::EncoderConfig;
use crate::precision::Precision;
use tch::nn::{self, Init};
use tch::Tensor;

/// The BERT (or RoBERTa) encoder.
#[derive(Debug)]
pub struct Bert {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    emb_norm: LayerNorm,
    layers: Vec<Layer>,
    /// Its configuration.
    pub config: EncoderConfig,
}

impl Bert {
    /// Creates the encoder's variables under `p` (randomly initialised; load weights after).
    pub fn new(p: nn::Path, config: &EncoderConfig) -> Bert {
        let h = config.hidden_size;
        let e = &p / "embeddings";
        let init = Init::Randn { mean: 0.0, stdev: 0.02 };
        let attn = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"];
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::new(&(&p / "encoder" / "layer" / i), attn, "attention.output.LayerNorm", config))
            .collect();
        Bert {
            word: (&e / "word_embeddings").var("weight", &[config.vocab_size, h], init),
            position: (&e / "position_embeddings").var("weight", &[config.max_position_embeddings, h], init),
            token_type: (&e / "token_type_embeddings").var("weight", &[config.type_vocab_size, h], init),
            emb_norm: LayerNorm::new(&e / "LayerNorm", h, config.layer_norm_eps),
            layers,
            config: config.clone(),
        }
    }

    /// Last hidden states `[batch, len, hidden]` of token ids `[batch, len]` with an attention
    /// mask `[batch, len]` (1 for tokens, 0 for padding). Dropout only when `train`.
    pub fn forward_t(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor {
        self.forward_in(input_ids, attention_mask, train, Precision::F32)
    }

    /// [`Bert::forward_t`] with the dense layers and attention in `precision` (the hidden
    /// states it returns are float32 either way).
    pub fn forward_in(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool, precision: Precision) -> Tensor {
        let cfg = &self.config;
        let positions = position_ids(attention_mask, cfg.model_type.position_offset(cfg.pad_token_id));
        let emb = Tensor::embedding(&self.word, input_ids, -1, false, false)
            + Tensor::embedding(&self.position, &positions, -1, false, false)
            + self.token_type.get(0).view([1, 1, cfg.hidden_size]);
        let mut hidden = self.emb_norm.forward(&emb).dropout(cfg.hidden_dropout_prob, train);
        let mask = padding_mask(attention_mask).map(|m| precision.cast(&m));
        for layer in &self.layers {
            hidden = layer.forward(&hidden, mask.as_ref(), cfg, train, precision);
        }
        hidden
    }
}
