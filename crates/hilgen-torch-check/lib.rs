//! Build-time guard for libtorch; see `build.rs`. At run time it only tells where libtorch was
//! found when the crate was built.
//!
//! ```
//! assert!(!hilgen_torch_check::LIBTORCH_AT_BUILD.is_empty());
//! ```

/// The libtorch folder that the build used.
pub const LIBTORCH_AT_BUILD: &str = env!("HILGEN_LIBTORCH_AT_BUILD");
