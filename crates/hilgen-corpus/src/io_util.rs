//! File helpers shared by the readers and writers: UTF-8 decoding with line numbers, and
//! atomic writes (temporary file in the same folder, then rename).

use crate::error::{CorpusError, Result};
pub use hilgen_tempfiles::{temp_beside, temp_dir_beside};
use std::io::Write;
use std::path::Path;

/// Reads a whole file as UTF-8 (a leading BOM removed); a bad byte is reported with its line.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| CorpusError::io(path, e))?;
    decode_utf8(bytes, path)
}

/// Decodes bytes as UTF-8, dropping a leading BOM; errors name the line of the first bad byte.
pub fn decode_utf8(bytes: Vec<u8>, path: &Path) -> Result<String> {
    let head = &bytes[..bytes.len().min(512)];
    if head.len() >= 4 && head.iter().filter(|&&b| b == 0).count() * 3 >= head.len() {
        return Err(CorpusError::parse(
            path,
            1,
            "the file looks like UTF-16 (NUL bytes between characters); expected UTF-8 (convert it, e.g. iconv -f UTF-16LE -t UTF-8)",
        ));
    }
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.drain(..3);
            }
            Ok(s)
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
            Err(CorpusError::parse(path, line, format!("invalid UTF-8 at byte {at}; expected UTF-8 text")))
        }
    }
}

/// Writes a file atomically: `fill` writes into a temporary file beside `path`, which is renamed
/// over `path` only when everything succeeded. On error nothing at `path` changes. A special
/// file (`/dev/null`, `/dev/stdout`, a FIFO; [`hilgen_tempfiles::is_special`]) is written in
/// place: a rename would replace the device with a plain file.
pub fn write_atomic(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut out = hilgen_tempfiles::Staged::new(path).map_err(|e| CorpusError::io(dir, e))?;
    {
        let mut w = std::io::BufWriter::new(&mut out);
        fill(&mut w)?;
        w.flush().map_err(|e| CorpusError::io(path, e))?;
    }
    out.commit(path).map_err(|e| CorpusError::io(path, e))
}

/// Maps an I/O error from a writer to a [`CorpusError`] naming `path`.
pub fn wio(path: &Path) -> impl Fn(std::io::Error) -> CorpusError + '_ {
    move |e| CorpusError::io(path, e)
}

/// Iterates over lines with 1-based numbers, a trailing `\r` removed.
pub fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n').enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn a_fifo_is_written_in_place_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("out.tsv");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !matches!(made, Ok(s) if s.success()) {
            return; // no mkfifo on this system
        }
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write_atomic(&fifo, |w| w.write_all(b"a\tO\n").map_err(wio(&fifo))).unwrap();
        assert_eq!(reader.join().unwrap(), "a\tO\n");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
}
