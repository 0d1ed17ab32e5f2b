//! The building blocks the encoders share: dense layers, LayerNorm and the feed-forward
//! activation, with transformers' variable names.

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
/// libtorch use its fused attention kernel.
pub(crate) fn padding_mask(attention_mask: &Tensor) -> Option<Tensor> {
    let (b, t) = attention_mask.size2().expect("attention mask is [batch, len]");
    let padded = attention_mask.min().int64_value(&[]) == 0;
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
