//! BERT and RoBERTa in `tch`, with Hugging Face tensor names, for any configuration size.
//!
//! Variables live under the path given at construction (`bert` or `roberta` in the tagger),
//! named as in Hugging Face checkpoints: `embeddings.word_embeddings.weight`,
//! `encoder.layer.3.attention.self.query.weight`, `encoder.layer.3.output.LayerNorm.bias`, ...
//! Biases and LayerNorm parameters are put in optimizer group [`NO_DECAY`]. RoBERTa has the
//! same layers; its positions start after the padding id (`Architecture::position_offset`).

#[cfg(doc)]
use super::layers::NO_DECAY;
use super::layers::{activation, padding_mask, position_ids, LayerNorm, Linear};
use crate::config::EncoderConfig;
use tch::nn::{self, Init};
use tch::Tensor;

#[derive(Debug)]
struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
}

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
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let l = &p / "encoder" / "layer" / i;
                let att = &l / "attention";
                Layer {
                    query: Linear::new(&att / "self" / "query", h, h),
                    key: Linear::new(&att / "self" / "key", h, h),
                    value: Linear::new(&att / "self" / "value", h, h),
                    attn_out: Linear::new(&att / "output" / "dense", h, h),
                    attn_norm: LayerNorm::new(&att / "output" / "LayerNorm", h, config.layer_norm_eps),
                    intermediate: Linear::new(&l / "intermediate" / "dense", h, config.intermediate_size),
                    output: Linear::new(&l / "output" / "dense", config.intermediate_size, h),
                    out_norm: LayerNorm::new(&l / "output" / "LayerNorm", h, config.layer_norm_eps),
                }
            })
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
        let (b, t) = input_ids.size2().expect("input ids are [batch, len]");
        let cfg = &self.config;
        let positions = position_ids(attention_mask, cfg.model_type.position_offset(cfg.pad_token_id));
        let emb = Tensor::embedding(&self.word, input_ids, -1, false, false)
            + Tensor::embedding(&self.position, &positions, -1, false, false)
            + self.token_type.get(0).view([1, 1, cfg.hidden_size]);
        let mut hidden = self.emb_norm.forward(&emb).dropout(cfg.hidden_dropout_prob, train);
        let mask = padding_mask(attention_mask);
        let heads = cfg.num_attention_heads;
        let dh = cfg.hidden_size / heads;
        let split = |x: Tensor| x.view([b, t, heads, dh]).transpose(1, 2);
        let p_attn = if train { cfg.attention_probs_dropout_prob } else { 0.0 };
        for layer in &self.layers {
            let q = split(layer.query.forward(&hidden));
            let k = split(layer.key.forward(&hidden));
            let v = split(layer.value.forward(&hidden));
            let ctx = Tensor::scaled_dot_product_attention(&q, &k, &v, mask.as_ref(), p_attn, false, None, false);
            let ctx = ctx.transpose(1, 2).contiguous().view([b, t, cfg.hidden_size]);
            let attn = layer
                .attn_norm
                .forward(&(layer.attn_out.forward(&ctx).dropout(cfg.hidden_dropout_prob, train) + &hidden));
            let inter = activation(&cfg.hidden_act, &layer.intermediate.forward(&attn));
            hidden =
                layer.out_norm.forward(&(layer.output.forward(&inter).dropout(cfg.hidden_dropout_prob, train) + &attn));
        }
        hidden
    }
}
