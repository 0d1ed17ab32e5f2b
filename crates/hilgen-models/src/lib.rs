//! libtorch models for HILGEN, through `tch`: a BERT, RoBERTa or MPNet token classifier of
//! any size, trained and run in Rust straight from Hugging Face folders, and DANN
//! (nearest-neighbour tagging over the trained tagger's outputs).
//!
//! - [`EncoderConfig`], [`Encoder`] ([`Bert`] for BERT and RoBERTa, [`Mpnet`]): the encoder
//!   (`config.json`'s `model_type` picks the family; `model.safetensors` with or without a
//!   `bert.`/`roberta.`/`mpnet.` prefix, legacy `gamma`/`beta` names).
//! - [`DeviceChoice`]: `cpu`, `cuda` or `auto`, checked against what libtorch finds.
//! - [`Precision`]: float32, or bfloat16 mixed precision for the encoder's products.
//! - [`WordEncoder`], [`windows`]: sub-words of pre-tokenized sentences; long sentences split
//!   into overlapping windows so that no word is dropped.
//! - [`Tagger`], [`TaggerConfig`]: training (AdamW, warm-up + linear decay, clipping,
//!   length-bucketed batches, early stopping on dev F1, resumable checkpoints) and prediction.
//! - [`Dann`]: NNShot over emissions or hidden states, optional StructShot decoding.
//!
//! ```no_run
//! use hilgen_models::{device, Dann, DannConfig, Tagger, TaggerConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (train, test): (Vec<hilgen_corpus::Sentence>, Vec<hilgen_corpus::Sentence>) = (vec![], vec![]);
//! let labels = Tagger::labels_of(&train);
//! let mut tagger = Tagger::from_pretrained("all-MiniLM-L6-v2".as_ref(), labels, TaggerConfig::default(), device(false))?;
//! tagger.train(&train, None, None)?;
//! let predicted = tagger.predict_sentences(&test)?;
//! let dann = Dann::fit(&tagger, &train, DannConfig::default())?;
//! let dann_predicted = dann.predict_sentences(&tagger, &test)?;
//! # Ok(()) }
//! ```
//!
//! (Examples of crates that link libtorch are `no_run`: rustdoc builds them outside `target/`,
//! where the rpath to `.hilgen/libtorch` does not reach; the tests run the same code.)

mod config;
mod cuda;
mod dann;
pub mod decode;
mod device;
mod encoder;
mod error;
pub mod hf;
pub mod limits;
mod nearest;
mod optim;
mod precision;
mod tagger;
mod tokenize;
pub mod weights;

pub use config::{Architecture, BertConfig, EncoderConfig};
pub use cuda::{load_cuda_backend, CudaBackend};
pub use dann::{Dann, DannConfig, DANN_META, DANN_TENSORS};
pub use device::DeviceChoice;
pub use encoder::{Bert, Encoder, Linear, Mpnet, NO_DECAY};
pub use error::{ModelError, Result};
pub use nearest::Distance;
pub use precision::Precision;
pub use tagger::{CheckedTaggerConfig, Features, Prediction, Tagger, TaggerConfig, TrainReport, GPU_PAD_MULTIPLE};
pub use tokenize::{windows, Window, WordEncoder};

use tch::{Device, Kind, Tensor};

/// The device to run on: CUDA when asked for and available, else the CPU.
pub fn device(prefer_cuda: bool) -> Device {
    if prefer_cuda {
        load_cuda_backend();
        Device::cuda_if_available()
    } else {
        Device::Cpu
    }
}

/// Sets how many CPU threads libtorch uses in this process (intra-op parallelism).
pub fn set_threads(n: usize) {
    tch::set_num_threads(n.max(1) as i32);
}

/// Computes `[[1,2],[3,4]] x [[5,6],[3,5]]` through libtorch on `device` and returns the
/// bottom-right cell (3*6 + 4*5 = 38), so callers (and CI) can check that libtorch loads and
/// computes.
pub fn libtorch_smoke_test(device: Device) -> Result<f64, ModelError> {
    let a = Tensor::f_from_slice(&[1.0f32, 2.0, 3.0, 4.0])?.f_reshape([2, 2])?.f_to_device(device)?;
    let b = Tensor::f_from_slice(&[5.0f32, 6.0, 3.0, 5.0])?.f_reshape([2, 2])?.f_to_device(device)?;
    let c = a.f_matmul(&b)?.f_to_kind(Kind::Double)?.f_to_device(Device::Cpu)?;
    Ok(c.f_double_value(&[1, 1])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_through_libtorch_is_exact() {
        let a = Tensor::from_slice(&[1.0f64, 2.0, 3.0, 4.0]).reshape([2, 2]);
        let b = a.matmul(&a.transpose(0, 1));
        let got: Vec<f64> = b.reshape([-1]).try_into().unwrap();
        assert_eq!(got, vec![5.0, 11.0, 11.0, 25.0]);
        assert_eq!(libtorch_smoke_test(Device::Cpu).unwrap(), 38.0);
    }

    #[test]
    fn softmax_sums_to_one() {
        let x = Tensor::from_slice(&[0.5f32, -1.0, 2.0]);
        let s = x.softmax(0, Kind::Float).sum(Kind::Double).double_value(&[]);
        assert!((s - 1.0).abs() < 1e-6, "sum was {s}");
    }
}
