//! The on-disk index: one file, `kb.hkb`, memory-mapped on open.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! magic "HILGENKB" | version u32 | section count u32
//! per section: name [u8; 16] | offset u64 | length u64 | xxh3-64 of the bytes u64
//! xxh3-64 of everything above (u64)
//! zero padding up to room for 64 section entries
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

/// The most sections an index may have (the header is reserved for this many).
const MAX_SECTIONS: usize = 64;

/// Writes sections straight to a temporary file as they are produced (so that a large index is
/// never held in memory twice), then the header, then renames the file into place.
pub struct Writer {
    path: std::path::PathBuf,
    tmp: tempfile::NamedTempFile,
    out: std::io::BufWriter<std::fs::File>,
    entries: Vec<(String, u64, u64, u64)>,
    at: u64,
}

impl Writer {
    /// Starts an index at `path` (a temporary file beside it until [`Writer::finish`]).
    pub fn create(path: &Path) -> Result<Writer> {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| KbError::io(dir, e))?;
        let tmp = hilgen_tempfiles::temp_beside(path).map_err(|e| KbError::io(dir, e))?;
        let file = tmp.reopen().map_err(|e| KbError::io(path, e))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let header = (16 + MAX_SECTIONS * ENTRY_LEN + 8) as u64;
        out.write_all(&vec![0u8; header as usize]).map_err(|e| KbError::io(path, e))?;
        Ok(Writer { path: path.to_path_buf(), tmp, out, entries: Vec::new(), at: header })
    }

    /// Writes one section of raw bytes.
    pub fn bytes(&mut self, name: &str, data: &[u8]) -> Result<()> {
        assert!(name.len() <= NAME_LEN, "section name too long");
        assert!(self.entries.len() < MAX_SECTIONS, "too many sections");
        let io = |e| KbError::io(&self.path, e);
        let aligned = self.at.next_multiple_of(8);
        self.out.write_all(&vec![0u8; (aligned - self.at) as usize]).map_err(io)?;
        self.out.write_all(data).map_err(io)?;
        self.entries.push((name.to_string(), aligned, data.len() as u64, xxh3_64(data)));
        self.at = aligned + data.len() as u64;
        Ok(())
    }

    /// Writes one section of plain integers.
    pub fn array<T: bytemuck::Pod>(&mut self, name: &str, data: &[T]) -> Result<()> {
        self.bytes(name, bytemuck::cast_slice(data))
    }

    /// Writes the header, syncs and renames the file into place; returns its size.
    pub fn finish(mut self) -> Result<u64> {
        let io = |e| KbError::io(&self.path, e);
        let pad = self.at.next_multiple_of(8) - self.at;
        self.out.write_all(&vec![0u8; pad as usize]).map_err(io)?;
        let mut header = Vec::with_capacity(16 + self.entries.len() * ENTRY_LEN + 8);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for (name, off, len, sum) in &self.entries {
            let mut n = [0u8; NAME_LEN];
            n[..name.len()].copy_from_slice(name.as_bytes());
            header.extend_from_slice(&n);
            header.extend_from_slice(&off.to_le_bytes());
            header.extend_from_slice(&len.to_le_bytes());
            header.extend_from_slice(&sum.to_le_bytes());
        }
        let sum = xxh3_64(&header);
        header.extend_from_slice(&sum.to_le_bytes());
        let mut file = self.out.into_inner().map_err(|e| KbError::io(&self.path, e.into_error()))?;
        use std::io::{Seek, SeekFrom};
        file.seek(SeekFrom::Start(0)).map_err(|e| KbError::io(&self.path, e))?;
        file.write_all(&header).map_err(|e| KbError::io(&self.path, e))?;
        file.sync_all().map_err(|e| KbError::io(&self.path, e))?;
        let size = file.metadata().map_err(|e| KbError::io(&self.path, e))?.len();
        self.tmp.persist(&self.path).map_err(|e| KbError::io(&self.path, e.error))?;
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
        return Err(bad(format!(
            "index format version {version}, this build reads version {VERSION}; rebuild the index"
        )));
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
            return Err(bad(format!(
                "truncated: section `{name}` ends at byte {}, the file has {}",
                off + len,
                bytes.len()
            )));
        }
        if xxh3_64(&bytes[off..off + len]) != sum {
            return Err(bad(format!("checksum mismatch in section `{name}` (the file was modified or damaged)")));
        }
        out.insert(name, (off, len));
    }
    Ok(out)
}
