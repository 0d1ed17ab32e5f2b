//! A BERT encoder in `tch`, with Hugging Face tensor names, for any configuration size.
//!
//! Variables live under the path given at construction (`bert` in the tagger), named as in
//! Hugging Face checkpoints: `embeddings.word_embeddings.weight`,
//! `encoder.layer.3.attention.self.query.weight`, `encoder.layer.3.output.LayerNorm.bias`, ...
//! Biases and LayerNorm parameters are put in optimizer group [`NO_DECAY`].

use crate::config::BertConfig;
use tch::nn::{self, Init};
use tch::{Kind, Tensor};

/// Optimizer group of parameters that get no weight decay (biases, LayerNorm).
pub const NO_DECAY: usize = 1;

/// A dense layer whose bias is in the no-decay group.
#[derive(Debug)]
pub struct Linear {
    /// Weight `[out, in]`.
    pub weight: Tensor,
    /// Bias `[out]`.
    pub bias: Tensor,
}

impl Linear {
    /// Creates `weight` and `bias` under `p`, initialised as BERT does (normal 0.02, zero bias).
    pub fn new(p: nn::Path, input: i64, output: i64) -> Linear {
        let weight = p.var("weight", &[output, input], Init::Randn { mean: 0.0, stdev: 0.02 });
        let bias = p.set_group(NO_DECAY).var("bias", &[output], Init::Const(0.0));
        Linear { weight, bias }
    }

    /// `x W^T + b`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, Some(&self.bias))
    }
}

#[derive(Debug)]
struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    size: i64,
    eps: f64,
}

impl LayerNorm {
    fn new(p: nn::Path, size: i64, eps: f64) -> LayerNorm {
        let p = p.set_group(NO_DECAY);
        LayerNorm {
            weight: p.var("weight", &[size], Init::Const(1.0)),
            bias: p.var("bias", &[size], Init::Const(0.0)),
            size,
            eps,
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        x.layer_norm([self.size], Some(&self.weight), Some(&self.bias), self.eps, true)
    }
}

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

/// The BERT encoder.
#[derive(Debug)]
pub struct Bert {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    emb_norm: LayerNorm,
    layers: Vec<Layer>,
    /// Its configuration.
    pub config: BertConfig,
}

impl Bert {
    /// Creates the encoder's variables under `p` (randomly initialised; load weights after).
    pub fn new(p: nn::Path, config: &BertConfig) -> Bert {
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

    fn activation(&self, x: &Tensor) -> Tensor {
        match self.config.hidden_act.as_str() {
            "gelu_new" | "gelu_pytorch_tanh" => x.gelu("tanh"),
            "relu" => x.relu(),
            _ => x.gelu("none"),
        }
    }

    /// Last hidden states `[batch, len, hidden]` of token ids `[batch, len]` with an attention
    /// mask `[batch, len]` (1 for tokens, 0 for padding). Dropout only when `train`.
    pub fn forward_t(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor {
        let (b, t) = input_ids.size2().expect("input ids are [batch, len]");
        let cfg = &self.config;
        let positions = Tensor::arange(t, (Kind::Int64, input_ids.device()));
        let emb = Tensor::embedding(&self.word, input_ids, -1, false, false)
            + Tensor::embedding(&self.position, &positions, -1, false, false).unsqueeze(0)
            + self.token_type.get(0).view([1, 1, cfg.hidden_size]);
        let mut hidden = self.emb_norm.forward(&emb).dropout(cfg.hidden_dropout_prob, train);
        // Additive mask (0 for tokens, a large negative number for padding); none at all when a
        // batch has no padding, which lets libtorch use its fused attention kernel.
        let padded = attention_mask.min().int64_value(&[]) == 0;
        let mask = padded.then(|| ((attention_mask.to_kind(Kind::Float) - 1.0) * 1e9).view([b, 1, 1, t]));
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
            let inter = self.activation(&layer.intermediate.forward(&attn));
            hidden =
                layer.out_norm.forward(&(layer.output.forward(&inter).dropout(cfg.hidden_dropout_prob, train) + &attn));
        }
        hidden
    }
}
