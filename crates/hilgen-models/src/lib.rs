//! libtorch models for HILGEN, through `tch`.
//!
//! This crate is where the BERT token classifier and DANN live. For now it holds the device
//! selection and the runtime check that libtorch is wired up correctly.
//!
//! ```no_run
//! use hilgen_models::{device, libtorch_smoke_test};
//! let dev = device(false);
//! assert_eq!(libtorch_smoke_test(dev).unwrap(), 3.0 * 6.0 + 4.0 * 5.0);
//! ```
//!
//! (Examples of crates that link libtorch are `no_run`: rustdoc builds them outside `target/`,
//! where the rpath to `.hilgen/libtorch` does not reach; the unit tests run the same code.)

use tch::{Device, Kind, Tensor};

/// Errors of the models crate.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// An error raised by libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// The device to run on: CUDA when asked for and available, else the CPU.
pub fn device(prefer_cuda: bool) -> Device {
    if prefer_cuda {
        Device::cuda_if_available()
    } else {
        Device::Cpu
    }
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
