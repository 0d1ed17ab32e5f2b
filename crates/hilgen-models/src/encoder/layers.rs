//! The building blocks the encoders share: dense layers, LayerNorm and the feed-forward
//! activation, with transformers' variable names.

use crate::config::EncoderConfig;
use crate::precision::Precision;
use tch::nn::{self, Init};
use tch::Tensor;

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

    /// `x W^T + b` computed in `precision` (input, weight and bias cast to it; the result is in
    /// it too).
    pub fn forward_in(&self, x: &Tensor, precision: Precision) -> Tensor {
        match precision {
            Precision::F32 => self.forward(x),
            p => p.cast(x).linear(&p.cast_weight(&self.weight), Some(&p.cast_weight(&self.bias))),
        }
    }
}

/// LayerNorm over the last dimension (`weight`, `bias`, no weight decay).
#[derive(Debug)]
pub(crate) struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    size: i64,
    eps: f64,
}

impl LayerNorm {
    pub(crate) fn new(p: nn::Path, size: i64, eps: f64) -> LayerNorm {
        let p = p.set_group(NO_DECAY);
        LayerNorm {
            weight: p.var("weight", &[size], Init::Const(1.0)),
            bias: p.var("bias", &[size], Init::Const(0.0)),
            size,
            eps,
        }
    }

    pub(crate) fn forward(&self, x: &Tensor) -> Tensor {
        x.layer_norm([self.size], Some(&self.weight), Some(&self.bias), self.eps, true)
    }
}

/// The feed-forward activation named by `hidden_act` (checked by `EncoderConfig::check`).
pub(crate) fn activation(name: &str, x: &Tensor) -> Tensor {
    match name {
        "gelu_new" | "gelu_pytorch_tanh" => x.gelu("tanh"),
        "relu" => x.relu(),
        _ => x.gelu("none"),
    }
}

/// The additive attention mask `[batch, 1, 1, len]` of an attention mask `[batch, len]` (0 for
/// tokens, a large negative number for padding), or `None` when nothing is padded, which lets
/// libtorch use its fused attention kernel. On a GPU the mask is always made: asking whether
/// anything is padded would make the host wait for the device at every batch.
pub(crate) fn padding_mask(attention_mask: &Tensor) -> Option<Tensor> {
    let (b, t) = attention_mask.size2().expect("attention mask is [batch, len]");
    let padded = attention_mask.device().is_cuda() || attention_mask.min().int64_value(&[]) == 0;
    padded.then(|| ((attention_mask.to_kind(tch::Kind::Float) - 1.0) * 1e9).view([b, 1, 1, t]))
}

/// Position ids `[batch, len]`: `offset, offset + 1, ...` over the tokens, and `offset - 1`
/// (the padding id for RoBERTa and MPNet) over padding, as transformers derives them from the
/// input ids.
pub(crate) fn position_ids(attention_mask: &Tensor, offset: i64) -> Tensor {
    let (b, t) = attention_mask.size2().expect("attention mask is [batch, len]");
    if offset == 0 {
        // BERT: 0.. on every row (padding positions are masked anyway).
        return Tensor::arange(t, (tch::Kind::Int64, attention_mask.device())).unsqueeze(0).expand([b, t], false);
    }
    let mask = attention_mask.to_kind(tch::Kind::Int64);
    mask.cumsum(1, tch::Kind::Int64) * &mask + (offset - 1)
}

/// One transformer layer as BERT, RoBERTa and MPNet share it: self-attention (query, key,
/// value, output projections), add & LayerNorm, feed-forward, add & LayerNorm. The families
/// differ only in the variable names (given at construction) and the additive attention mask.
#[derive(Debug)]
pub(crate) struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
}

impl Layer {
    /// The layer under `l` (`encoder.layer.N`): `attn` names the query, key, value and output
    /// projections and `attn_norm` the attention LayerNorm, relative to `l`.
    pub(crate) fn new(l: &nn::Path, attn: [&str; 4], attn_norm: &str, config: &EncoderConfig) -> Layer {
        let h = config.hidden_size;
        let at = |name: &str| {
            let mut parts = name.split('.');
            let first = parts.next().expect("a variable path");
            parts.fold(l / first, |p, part| &p / part)
        };
        Layer {
            q: Linear::new(at(attn[0]), h, h),
            k: Linear::new(at(attn[1]), h, h),
            v: Linear::new(at(attn[2]), h, h),
            o: Linear::new(at(attn[3]), h, h),
            attn_norm: LayerNorm::new(at(attn_norm), h, config.layer_norm_eps),
            intermediate: Linear::new(l / "intermediate" / "dense", h, config.intermediate_size),
            output: Linear::new(l / "output" / "dense", config.intermediate_size, h),
            out_norm: LayerNorm::new(l / "output" / "LayerNorm", h, config.layer_norm_eps),
        }
    }

    /// The layer's output `[batch, len, hidden]` (float32); `mask` is added to the attention
    /// scores (padding, MPNet's relative bias; in `precision`'s kind). Dense layers and attention
    /// run in `precision`, LayerNorm and the residual sums in float32. Dropout only when `train`.
    pub(crate) fn forward(
        &self,
        hidden: &Tensor,
        mask: Option<&Tensor>,
        config: &EncoderConfig,
        train: bool,
        precision: Precision,
    ) -> Tensor {
        let (b, t, _) = hidden.size3().expect("hidden states are [batch, len, hidden]");
        let heads = config.num_attention_heads;
        let dh = config.hidden_size / heads;
        let split = |x: Tensor| x.view([b, t, heads, dh]).transpose(1, 2);
        let p_attn = if train { config.attention_probs_dropout_prob } else { 0.0 };
        let p = config.hidden_dropout_prob;
        let proj = |l: &Linear| split(l.forward_in(hidden, precision));
        let (q, k, v) = (proj(&self.q), proj(&self.k), proj(&self.v));
        let ctx = Tensor::scaled_dot_product_attention(&q, &k, &v, mask, p_attn, false, None, false);
        let ctx = ctx.transpose(1, 2).contiguous().view([b, t, config.hidden_size]);
        // A float32 residual promotes the sum to float32 before LayerNorm.
        let attn = self.attn_norm.forward(&(self.o.forward_in(&ctx, precision).dropout(p, train) + hidden));
        let inter = activation(&config.hidden_act, &self.intermediate.forward_in(&attn, precision));
        self.out_norm.forward(&(self.output.forward_in(&inter, precision).dropout(p, train) + &attn))
    }
}
