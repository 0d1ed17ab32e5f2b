//! MPNet in `tch` (all-mpnet-base-v2 and other `model_type = "mpnet"` folders), with Hugging
//! Face tensor names: `embeddings.{word,position}_embeddings`, `encoder.layer.N.attention.attn.
//! {q,k,v,o}`, `encoder.layer.N.attention.LayerNorm`, `encoder.layer.N.{intermediate,output}.
//! dense`, `encoder.layer.N.output.LayerNorm` and one `encoder.relative_attention_bias` shared
//! by every layer. Positions start after the padding id, as in RoBERTa; there are no token types.

use super::layers::{padding_mask, position_ids, Layer, LayerNorm};
use crate::config::EncoderConfig;
use crate::precision::Precision;
use tch::nn::{self, Init};
use tch::{Kind, Tensor};

/// Relative distances beyond this share the last buckets (transformers' `max_distance`).
const MAX_DISTANCE: f64 = 128.0;

/// The MPNet encoder.
#[derive(Debug)]
pub struct Mpnet {
    word: Tensor,
    position: Tensor,
    emb_norm: LayerNorm,
    relative_bias: Tensor,
    layers: Vec<Layer>,
    /// Its configuration.
    pub config: EncoderConfig,
}

impl Mpnet {
    /// Creates the encoder's variables under `p` (randomly initialised; load weights after).
    pub fn new(p: nn::Path, config: &EncoderConfig) -> Mpnet {
        let h = config.hidden_size;
        let e = &p / "embeddings";
        let init = Init::Randn { mean: 0.0, stdev: 0.02 };
        let attn = ["attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o"];
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::new(&(&p / "encoder" / "layer" / i), attn, "attention.LayerNorm", config))
            .collect();
        Mpnet {
            word: (&e / "word_embeddings").var("weight", &[config.vocab_size, h], init),
            position: (&e / "position_embeddings").var("weight", &[config.max_position_embeddings, h], init),
            emb_norm: LayerNorm::new(&e / "LayerNorm", h, config.layer_norm_eps),
            relative_bias: (&p / "encoder" / "relative_attention_bias").var(
                "weight",
                &[config.relative_attention_num_buckets, config.num_attention_heads],
                init,
            ),
            layers,
            config: config.clone(),
        }
    }

    /// The bucket `[len, len]` of each (query, key) distance, as transformers'
    /// `MPNetEncoder.relative_position_bucket` computes it (the same float32 operations, so
    /// the same buckets): half the buckets per direction, the first half of those exact, the
    /// rest logarithmic up to [`MAX_DISTANCE`].
    pub fn relative_buckets(len: i64, num_buckets: i64, device: tch::Device) -> Tensor {
        let pos = Tensor::arange(len, (Kind::Int64, device));
        let relative = pos.unsqueeze(0) - pos.unsqueeze(1); // key - query
        let half = num_buckets / 2;
        let n = -relative;
        let ret = n.lt(0).to_kind(Kind::Int64) * half;
        let n = n.abs();
        let max_exact = half / 2;
        let is_small = n.lt(max_exact);
        let large = (n.to_kind(Kind::Float) / max_exact as f64).log() / (MAX_DISTANCE / max_exact as f64).ln()
            * (half - max_exact) as f64;
        let large = (large.to_kind(Kind::Int64) + max_exact).clamp_max(half - 1);
        ret + n.where_self(&is_small, &large)
    }

    /// Last hidden states `[batch, len, hidden]` of token ids `[batch, len]` with an attention
    /// mask `[batch, len]` (1 for tokens, 0 for padding). Dropout only when `train`.
    pub fn forward_t(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor {
        self.forward_in(input_ids, attention_mask, train, Precision::F32)
    }

    /// [`Mpnet::forward_t`] with the dense layers and attention in `precision` (the hidden
    /// states it returns are float32 either way).
    pub fn forward_in(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool, precision: Precision) -> Tensor {
        let t = input_ids.size2().expect("input ids are [batch, len]").1;
        let cfg = &self.config;
        let positions = position_ids(attention_mask, cfg.model_type.position_offset(cfg.pad_token_id));
        let emb = Tensor::embedding(&self.word, input_ids, -1, false, false)
            + Tensor::embedding(&self.position, &positions, -1, false, false);
        let mut hidden = self.emb_norm.forward(&emb).dropout(cfg.hidden_dropout_prob, train);
        // [1, heads, len, len]: the bias of each distance, the same for every layer.
        let buckets = Self::relative_buckets(t, cfg.relative_attention_num_buckets, input_ids.device());
        let bias = Tensor::embedding(&self.relative_bias, &buckets, -1, false, false).permute([2, 0, 1]).unsqueeze(0);
        let bias = match padding_mask(attention_mask) {
            Some(m) => bias + m,
            None => bias,
        };
        let bias = precision.cast(&bias);
        for layer in &self.layers {
            hidden = layer.forward(&hidden, Some(&bias), cfg, train, precision);
        }
        hidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_transformers() {
        // transformers' relative_position_bucket(memory - context, 32, 128) for these distances:
        // keys to the right get buckets 16.., exact up to 7 on each side, then logarithmic.
        let b = Mpnet::relative_buckets(40, 32, tch::Device::Cpu);
        let at = |q: i64, k: i64| b.int64_value(&[q, k]);
        assert_eq!(at(0, 0), 0);
        assert_eq!(at(5, 4), 1);
        assert_eq!(at(4, 5), 17);
        assert_eq!(at(7, 0), 7);
        assert_eq!(at(8, 0), 8);
        assert_eq!(at(16, 0), 10, "log(16/8)/log(16)*8 = 2 exactly");
        assert_eq!(at(0, 16), 26);
        assert_eq!(at(39, 0), 12, "8 + floor(log(39/8)/log(16)*8)");
    }
}
