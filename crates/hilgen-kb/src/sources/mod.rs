//! Readers for the knowledge sources, all loading into one [`crate::Graph`].

pub mod ctd;
pub mod mesh;
pub mod obo;
pub mod rrf;

use crate::error::{KbError, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Read;
use std::path::Path;

/// Reads a whole file (gunzipping `.gz`) as UTF-8; a bad byte is reported with its line.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    let f = std::fs::File::open(path).map_err(|e| KbError::io(path, e))?;
    let total = f.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress(total, path);
    let mut reader: Box<dyn Read> = Box::new(bar.wrap_read(f));
    if path.extension().is_some_and(|e| e == "gz") {
        // Every member: concatenated gzip files (valid, and common in downloads) read whole.
        reader = Box::new(flate2::read::MultiGzDecoder::new(reader));
    }
    let mut bytes = Vec::with_capacity(total as usize);
    if let Err(e) = reader.read_to_end(&mut bytes) {
        // What was read before the error says where it is.
        let line = 1 + bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        return Err(KbError::parse(path, line, format!("cannot read on (after {} bytes of text): {e}", bytes.len())));
    }
    bar.finish_and_clear();
    if looks_utf16(&bytes) {
        return Err(KbError::parse(path, 1, "the file looks like UTF-16 (NUL bytes between characters); expected UTF-8 (convert it, e.g. iconv -f UTF-16LE -t UTF-8)"));
    }
    let mut text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() as u64;
        KbError::parse(path, line, format!("invalid UTF-8 at byte {at}; expected UTF-8 text"))
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..3);
    }
    check_lines(path, &text)?;
    Ok(text)
}

/// Whether bytes look like UTF-16 text: NUL bytes in every other position of the start.
pub(crate) fn looks_utf16(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(512)];
    let nuls = head.iter().filter(|&&b| b == 0).count();
    head.len() >= 4 && nuls * 3 >= head.len()
}

/// Bytes per chunk when streaming large files.
const CHUNK: u64 = 64 << 20;

/// The longest line a source file may have (the longest MRCONSO row of a UMLS release is a few
/// KiB): longer ones are errors found before they are held in memory.
pub const MAX_LINE: usize = 1 << 20;

/// The longest name a source may give a concept, in bytes.
pub const MAX_NAME: usize = 16 << 10;

/// An error unless every line of `text` (a whole file read by [`read_text`]) is at most
/// [`MAX_LINE`] bytes.
pub(crate) fn check_lines(path: &Path, text: &str) -> Result<()> {
    for (i, line) in text.split('\n').enumerate() {
        if line.len() > MAX_LINE {
            return Err(KbError::parse(
                path,
                i as u64 + 1,
                format!("a line of {} bytes; lines are at most {MAX_LINE} bytes", line.len()),
            ));
        }
    }
    Ok(())
}

/// Streams a file in chunks of whole lines (about 64 MiB each), calling `f` with the 1-based
/// number of the chunk's first line and its lines (trailing `\r` removed). Memory stays
/// bounded however large the file is; a bad UTF-8 byte is reported with its line.
pub(crate) fn for_each_chunk(path: &Path, f: impl FnMut(u64, Vec<&str>) -> Result<()>) -> Result<()> {
    for_each_chunk_sized(path, CHUNK, f)
}

fn for_each_chunk_sized(path: &Path, chunk_bytes: u64, mut f: impl FnMut(u64, Vec<&str>) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| KbError::io(path, e))?;
    let bar = progress(file.metadata().map(|m| m.len()).unwrap_or(0), path);
    let mut reader = bar.wrap_read(file);
    let mut carry: Vec<u8> = Vec::new();
    let mut line_no = 1u64;
    let mut first = true;
    loop {
        let mut chunk = std::mem::take(&mut carry);
        let n = (&mut reader).take(chunk_bytes).read_to_end(&mut chunk).map_err(|e| KbError::io(path, e))?;
        let eof = n == 0;
        if !eof {
            // Keep the partial last line for the next chunk.
            match chunk.iter().rposition(|&b| b == b'\n') {
                Some(i) => carry = chunk.split_off(i + 1),
                None => {
                    // No line end in a whole chunk: a line longer than any real one.
                    if chunk.len() > MAX_LINE {
                        return Err(KbError::parse(
                            path,
                            line_no,
                            format!("a line longer than {MAX_LINE} bytes (not a row of this format)"),
                        ));
                    }
                    carry = chunk;
                    continue;
                }
            }
            if carry.len() > MAX_LINE {
                let line = line_no + chunk.iter().filter(|&&b| b == b'\n').count() as u64;
                return Err(KbError::parse(
                    path,
                    line,
                    format!("a line longer than {MAX_LINE} bytes (not a row of this format)"),
                ));
            }
        }
        let mut bytes = &chunk[..];
        if first && looks_utf16(bytes) {
            return Err(KbError::parse(path, 1, "the file looks like UTF-16 (NUL bytes between characters); expected UTF-8 (convert it, e.g. iconv -f UTF-16LE -t UTF-8)"));
        }
        if first && bytes.starts_with("\u{feff}".as_bytes()) {
            bytes = &bytes[3..];
        }
        first = false;
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let at = e.valid_up_to();
            let line = line_no + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
            KbError::parse(path, line, "invalid UTF-8; expected UTF-8 text")
        })?;
        let lines: Vec<&str> = text.lines().collect();
        let count = lines.len() as u64;
        if count > 0 {
            f(line_no, lines)?;
        }
        line_no += count;
        if eof {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(())
}

/// A byte-progress bar for reading `path` (drawn only on a terminal).
pub(crate) fn progress(total: u64, path: &Path) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_whole_lines_and_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.txt");
        let text = "\u{feff}alpha\nbeta\r\ngamma delta\n\nepsilon";
        std::fs::write(&p, text).unwrap();
        for size in [1, 3, 7, 64, 1 << 20] {
            let mut seen = Vec::new();
            for_each_chunk_sized(&p, size, |first, lines| {
                for (i, l) in lines.into_iter().enumerate() {
                    seen.push((first + i as u64, l.to_string()));
                }
                Ok(())
            })
            .unwrap();
            let want: Vec<(u64, String)> = [(1, "alpha"), (2, "beta"), (3, "gamma delta"), (4, ""), (5, "epsilon")]
                .map(|(n, s)| (n, s.to_string()))
                .to_vec();
            assert_eq!(seen, want, "chunk size {size}");
        }
        std::fs::write(&p, b"ok\nbad \xff here\n").unwrap();
        let err = for_each_chunk_sized(&p, 1, |_, _| Ok(())).unwrap_err().to_string();
        assert!(err.contains("f.txt:2: invalid UTF-8"), "{err}");
    }
}
