//! The on-disk index: one file, `kb.hkb`, memory-mapped on open.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! magic "HILGENKB" | version u32 | section count u32
//! per section: name [u8; 16] | offset u64 | length u64 | xxh3-64 of the bytes u64
//! xxh3-64 of everything above (u64)
//! sections, each starting at a multiple of 8
//! ```
//!
//! On open every section's offset, length and checksum is verified, so a truncated or tampered
//! file is refused with the check that failed. Files are written to a temporary name in the
//! same folder and renamed, so an interrupted build never leaves a half index.

use crate::error::{KbError, Result};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use xxhash_rust::xxh3::xxh3_64;

/// File magic.
pub const MAGIC: &[u8; 8] = b"HILGENKB";
/// Format version; bumped on any incompatible change.
pub const VERSION: u32 = 1;
const NAME_LEN: usize = 16;
const ENTRY_LEN: usize = NAME_LEN + 24;

/// Sections to write, by name.
#[derive(Default)]
pub struct Writer {
    sections: Vec<(String, Vec<u8>)>,
}

impl Writer {
    /// Adds raw bytes.
    pub fn bytes(&mut self, name: &str, data: Vec<u8>) {
        assert!(name.len() <= NAME_LEN, "section name too long");
        self.sections.push((name.to_string(), data));
    }

    /// Adds a slice of plain integers.
    pub fn array<T: bytemuck::Pod>(&mut self, name: &str, data: &[T]) {
        self.bytes(name, bytemuck::cast_slice(data).to_vec());
    }

    /// Writes the file atomically.
    pub fn write(self, path: &Path) -> Result<u64> {
        let header_len = 16 + self.sections.len() * ENTRY_LEN + 8;
        let mut offset = (header_len as u64).next_multiple_of(8);
        let mut header = Vec::with_capacity(header_len);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&(self.sections.len() as u32).to_le_bytes());
        let mut offsets = Vec::new();
        for (name, data) in &self.sections {
            let mut n = [0u8; NAME_LEN];
            n[..name.len()].copy_from_slice(name.as_bytes());
            header.extend_from_slice(&n);
            header.extend_from_slice(&offset.to_le_bytes());
            header.extend_from_slice(&(data.len() as u64).to_le_bytes());
            header.extend_from_slice(&xxh3_64(data).to_le_bytes());
            offsets.push(offset);
            offset = (offset + data.len() as u64).next_multiple_of(8);
        }
        let sum = xxh3_64(&header);
        header.extend_from_slice(&sum.to_le_bytes());
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| KbError::io(dir, e))?;
        let mut tmp = tempfile::Builder::new().prefix(".kb-").suffix(".partial").tempfile_in(dir).map_err(|e| KbError::io(dir, e))?;
        {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
            let io = |e| KbError::io(path, e);
            w.write_all(&header).map_err(io)?;
            let mut at = header.len() as u64;
            for ((_, data), off) in self.sections.iter().zip(offsets) {
                w.write_all(&vec![0u8; (off - at) as usize]).map_err(io)?;
                w.write_all(data).map_err(io)?;
                at = off + data.len() as u64;
            }
            w.write_all(&vec![0u8; (at.next_multiple_of(8) - at) as usize]).map_err(io)?;
            w.flush().map_err(io)?;
        }
        tmp.as_file().sync_all().map_err(|e| KbError::io(path, e))?;
        let size = tmp.as_file().metadata().map_err(|e| KbError::io(path, e))?.len();
        tmp.persist(path).map_err(|e| KbError::io(path, e.error))?;
        Ok(size)
    }
}

/// Validated section ranges of a mapped index.
pub fn sections(path: &Path, bytes: &[u8]) -> Result<BTreeMap<String, (usize, usize)>> {
    let bad = |m: String| KbError::Corrupt { path: path.to_path_buf(), message: m };
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(bad("not a hilgen knowledge index (bad magic); build one with `hilgen kb build`".into()));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    if version != VERSION {
        return Err(bad(format!("index format version {version}, this build reads version {VERSION}; rebuild the index")));
    }
    let count = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let header_len = 16 + count * ENTRY_LEN;
    if bytes.len() < header_len + 8 {
        return Err(bad(format!("truncated: the header needs {} bytes, the file has {}", header_len + 8, bytes.len())));
    }
    let stored = u64::from_le_bytes(bytes[header_len..header_len + 8].try_into().unwrap());
    if xxh3_64(&bytes[..header_len]) != stored {
        return Err(bad("header checksum mismatch (the file was modified or damaged)".into()));
    }
    let mut out = BTreeMap::new();
    for k in 0..count {
        let e = &bytes[16 + k * ENTRY_LEN..16 + (k + 1) * ENTRY_LEN];
        let name = String::from_utf8_lossy(&e[..NAME_LEN]).trim_end_matches('\0').to_string();
        let off = u64::from_le_bytes(e[16..24].try_into().unwrap()) as usize;
        let len = u64::from_le_bytes(e[24..32].try_into().unwrap()) as usize;
        let sum = u64::from_le_bytes(e[32..40].try_into().unwrap());
        if off.checked_add(len).is_none_or(|end| end > bytes.len()) {
            return Err(bad(format!("truncated: section `{name}` ends at byte {}, the file has {}", off + len, bytes.len())));
        }
        if xxh3_64(&bytes[off..off + len]) != sum {
            return Err(bad(format!("checksum mismatch in section `{name}` (the file was modified or damaged)")));
        }
        out.insert(name, (off, len));
    }
    Ok(out)
}
