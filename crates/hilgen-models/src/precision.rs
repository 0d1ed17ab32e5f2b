//! The number format of the encoder's matrix products: float32 throughout, or bfloat16 mixed
//! precision (what PyTorch's `torch.autocast(dtype=torch.bfloat16)` does for these layers).

use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use tch::{Kind, Tensor};

thread_local! {
    /// Weights already cast to bfloat16, by storage address, inside [`Precision::frozen`].
    static CAST_WEIGHTS: RefCell<Option<HashMap<(usize, Kind), Tensor>>> = const { RefCell::new(None) };
}

/// How the encoder computes (`precision = "f32" | "bf16"` in a tagger's settings).
///
/// With `bf16` the dense layers and attention of the encoder run in bfloat16 (their inputs and
/// weights cast on the way in), while the weights, optimizer moments, embeddings, LayerNorm,
/// residual sums, classifier, loss and outputs stay float32: mixed precision as autocast does
/// it. On CPUs with AVX512-BF16 or AMX and on recent GPUs the products run about twice as fast;
/// elsewhere libtorch emulates bfloat16 and it is slower than `f32`. Results differ from `f32`
/// (bfloat16 keeps 8 bits of mantissa), so it is part of a stage's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// float32 everywhere (the default).
    #[default]
    F32,
    /// bfloat16 matrix products, float32 everything else.
    Bf16,
}

impl Precision {
    /// Whether this is the default, float32 (settings leave it out when it is).
    pub fn is_f32(&self) -> bool {
        *self == Precision::F32
    }

    /// The tensor kind the encoder's products run in.
    pub fn kind(self) -> Kind {
        match self {
            Precision::F32 => Kind::Float,
            Precision::Bf16 => Kind::BFloat16,
        }
    }

    /// `x` in the compute kind (no copy when it is already).
    pub(crate) fn cast(self, x: &Tensor) -> Tensor {
        if x.kind() == self.kind() {
            x.shallow_clone()
        } else {
            x.to_kind(self.kind())
        }
    }

    /// Weight `w` in the compute kind: cast once per [`Precision::frozen`] scope (the weights
    /// do not change inside it), else on every call, as training needs.
    pub(crate) fn cast_weight(self, w: &Tensor) -> Tensor {
        if w.kind() == self.kind() {
            return w.shallow_clone();
        }
        CAST_WEIGHTS.with(|cache| match cache.borrow_mut().as_mut() {
            Some(map) => {
                map.entry((w.data_ptr() as usize, self.kind())).or_insert_with(|| self.cast(w)).shallow_clone()
            }
            None => self.cast(w),
        })
    }

    /// Runs `f` with the weights frozen: each weight is cast to the compute kind once, not once
    /// per batch (prediction; what autocast's weight cache does). Nothing may change a weight
    /// inside `f`. Nested calls share the outer scope's casts.
    pub(crate) fn frozen<T>(f: impl FnOnce() -> T) -> T {
        let outer = CAST_WEIGHTS.with(|cache| {
            let mut cache = cache.borrow_mut();
            let outer = cache.is_some();
            if !outer {
                *cache = Some(HashMap::new());
            }
            outer
        });
        // Cleared on the way out even when `f` panics.
        struct Clear(bool);
        impl Drop for Clear {
            fn drop(&mut self) {
                if !self.0 {
                    CAST_WEIGHTS.with(|cache| *cache.borrow_mut() = None);
                }
            }
        }
        let _clear = Clear(outer);
        f()
    }

    /// Warns when this precision will be slow on `device`: bf16 on a CPU without native bfloat16.
    pub(crate) fn warn_if_emulated(self, device: tch::Device) {
        if self == Precision::Bf16 && device == tch::Device::Cpu && !Precision::cpu_has_native_bf16() {
            tracing::warn!(
                "precision bf16 on a CPU without AVX512-BF16 or AMX: libtorch emulates bfloat16, \
                 slower than f32"
            );
        }
    }

    /// Whether this CPU multiplies bfloat16 natively (AVX512-BF16, which every x86 CPU with
    /// AMX also has); libtorch emulates it (slowly) elsewhere. `true` off x86-64, where there is
    /// nothing to check.
    pub fn cpu_has_native_bf16() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx512bf16")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            true
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" | "fp32" | "float32" => Ok(Precision::F32),
            "bf16" | "bfloat16" => Ok(Precision::Bf16),
            _ => Err(format!("unknown precision `{s}`; expected f32 or bf16")),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prints_and_casts() {
        assert_eq!("bf16".parse::<Precision>().unwrap(), Precision::Bf16);
        assert_eq!("float32".parse::<Precision>().unwrap(), Precision::F32);
        assert!("fp16".parse::<Precision>().unwrap_err().contains("f32 or bf16"));
        assert_eq!(Precision::Bf16.to_string(), "bf16");
        let x = Tensor::from_slice(&[1.0f32, 2.0]);
        assert_eq!(Precision::Bf16.cast(&x).kind(), Kind::BFloat16);
        assert_eq!(Precision::F32.cast(&x).kind(), Kind::Float);
    }

    #[test]
    fn frozen_scopes_cast_each_weight_once() {
        let w = Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
        let p = Precision::Bf16;
        // Outside a scope every call casts anew; inside, the same cast tensor comes back.
        assert_ne!(p.cast_weight(&w).data_ptr(), p.cast_weight(&w).data_ptr());
        Precision::frozen(|| {
            let a = p.cast_weight(&w);
            let b = Precision::frozen(|| p.cast_weight(&w));
            assert_eq!(a.data_ptr(), b.data_ptr());
            assert_eq!(a.kind(), Kind::BFloat16);
        });
        CAST_WEIGHTS.with(|c| assert!(c.borrow().is_none(), "the scope is cleared on the way out"));
        // float32 is never copied.
        assert_eq!(Precision::F32.cast_weight(&w).data_ptr(), w.data_ptr());
    }
}
