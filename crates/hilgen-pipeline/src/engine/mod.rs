//! The general resumable-stage engine, independent of HILGEN: a [`stage::Stage`] turns a
//! serializable input into an output in a folder of its own, recorded in a manifest with its
//! input's hash ([`stage::Stages`]); [`claim`] lets several workers share one run directory;
//! [`files`] holds file references by content hash and atomic writes.

pub mod claim;
pub mod files;
pub mod stage;
