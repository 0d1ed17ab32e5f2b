//! Bounds on the files of a model folder: only regular files are read (a FIFO would hang the
//! reader, `/dev/zero` never end), and none larger than what it can hold (a settings file is
//! small, a weights file no larger than the tensors its model declares).

use crate::{ModelError, Result};
use std::path::Path;
use tch::nn::VarStore;

/// The most a JSON settings file (`config.json`, `tagger.json`, `dann.json`,
/// `tokenizer_config.json`, ...) may hold.
pub const SETTINGS_BYTES: u64 = 16 << 20;
/// The most a tokenizer (`tokenizer.json`, `vocab.txt`) may hold (the largest shipped
/// multilingual tokenizers are under 20 MB).
pub const TOKENIZER_BYTES: u64 = 512 << 20;
/// The most a DANN support set (`dann.safetensors`) may hold.
pub const SUPPORT_BYTES: u64 = 32 << 30;
/// Room for a safetensors header (its format caps the header at 100 MB).
const HEADER_BYTES: u64 = 100 << 20;

/// Refuses anything but a regular file of at most `max` bytes.
pub fn check_file(file: &Path, max: u64) -> Result<()> {
    match std::fs::metadata(file) {
        Ok(m) if !m.is_file() => Err(ModelError::folder(file, "not a regular file (a device, FIFO or folder)")),
        Ok(m) if m.len() > max => Err(ModelError::folder(
            file,
            format!("{} bytes, more than the {max} bytes such a file can hold here", m.len()),
        )),
        Ok(_) => Ok(()),
        Err(e) => Err(ModelError::Io { path: file.to_path_buf(), cause: e }),
    }
}

/// Reads a regular file of at most `max` bytes as text.
pub fn read_text(file: &Path, max: u64) -> Result<String> {
    check_file(file, max)?;
    std::fs::read_to_string(file).map_err(|e| ModelError::Io { path: file.to_path_buf(), cause: e })
}

/// The most a safetensors file of the model in `vs` may hold: every variable in 8-byte
/// floats, `times` over (room for heads the model does not use), plus the header.
pub fn weights_bytes(vs: &VarStore, times: u64) -> u64 {
    let elements: u64 = vs.variables().values().map(|t| t.numel() as u64).sum();
    elements.saturating_mul(8).saturating_mul(times).saturating_add(HEADER_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_folders_and_oversized_files_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let e = check_file(Path::new("/dev/zero"), SETTINGS_BYTES).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        assert!(check_file(d.path(), SETTINGS_BYTES).unwrap_err().to_string().contains("not a regular file"));
        // A sparse file: large, costs no disk.
        let big = d.path().join("config.json");
        std::fs::File::create(&big).unwrap().set_len(SETTINGS_BYTES + 1).unwrap();
        let e = read_text(&big, SETTINGS_BYTES).unwrap_err().to_string();
        assert!(e.contains("config.json") && e.contains("16777217 bytes, more than the 16777216"), "{e}");
        std::fs::write(&big, "{}").unwrap();
        assert_eq!(read_text(&big, SETTINGS_BYTES).unwrap(), "{}");
        let vs = VarStore::new(tch::Device::Cpu);
        let _ = vs.root().zeros("w", &[10, 10]);
        assert_eq!(weights_bytes(&vs, 1), 800 + HEADER_BYTES);
    }
}
