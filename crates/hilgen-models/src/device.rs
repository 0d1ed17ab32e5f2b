//! Where models run: the CPU, a CUDA GPU, or whichever libtorch finds.

use crate::cuda::load_cuda_backend;
use crate::error::{ModelError, Result};
use serde::{Deserialize, Serialize};
use tch::Device;

/// The device asked for (`device = "cpu" | "cuda" | "auto"` in an experiment, `--device` on
/// the command line). CUDA needs a CUDA build of libtorch (`LIBTORCH` pointing at one when
/// building) and a GPU; the default CPU build of `cargo xtask setup` has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// The CPU.
    #[default]
    Cpu,
    /// The first CUDA GPU; an error when libtorch sees none.
    Cuda,
    /// The first CUDA GPU when there is one, else the CPU.
    Auto,
}

impl DeviceChoice {
    /// The libtorch device, or an error saying why CUDA is not available. For `cuda` and
    /// `auto` it first loads libtorch's CUDA library ([`load_cuda_backend`]).
    pub fn resolve(self) -> Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Auto => {
                load_cuda_backend();
                Ok(Device::cuda_if_available())
            }
            DeviceChoice::Cuda => {
                let backend = load_cuda_backend();
                if tch::Cuda::is_available() {
                    return Ok(Device::Cuda(0));
                }
                Err(ModelError::Invalid(format!(
                    "device `cuda` asked for but libtorch sees no CUDA GPU ({backend}; is a GPU visible?); \
                     use `cpu` or `auto`"
                )))
            }
        }
    }
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda),
            "auto" => Ok(DeviceChoice::Auto),
            _ => Err(format!("unknown device `{s}`; expected cpu, cuda or auto")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_resolve() {
        assert_eq!("auto".parse::<DeviceChoice>().unwrap(), DeviceChoice::Auto);
        assert!("tpu".parse::<DeviceChoice>().unwrap_err().contains("cpu, cuda or auto"));
        assert_eq!(DeviceChoice::Cpu.resolve().unwrap(), Device::Cpu);
        // Whatever the machine: auto never fails, cuda fails exactly when there is no GPU.
        let auto = DeviceChoice::Auto.resolve().unwrap();
        assert_eq!(DeviceChoice::Cuda.resolve().is_ok(), auto.is_cuda());
    }
}
