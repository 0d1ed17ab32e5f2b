//! File helpers shared by the readers and writers: UTF-8 decoding with line numbers, and
//! atomic writes (temporary file in the same folder, then rename).

use crate::error::{CorpusError, Result};
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
/// over `path` only when everything succeeded. On error nothing at `path` changes.
pub fn write_atomic(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = temp_beside(path).map_err(|e| CorpusError::io(dir, e))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut w)?;
        w.flush().map_err(|e| CorpusError::io(path, e))?;
    }
    tmp.as_file().sync_all().map_err(|e| CorpusError::io(path, e))?;
    tmp.persist(path).map_err(|e| CorpusError::io(path, e.error))?;
    Ok(())
}

/// A temporary file beside `target` for an atomic write: named `.NAME.PID.XXXXXX.tmp` (NAME the
/// target's file name, PID this process), created with mode 0666 less the umask (so the
/// renamed output gets the permissions a plain create would give). Temporary files of the same
/// target left by processes that no longer run (a `kill -9`) are removed first.
pub fn temp_beside(target: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    beside(target, 0o666, |b, dir| b.tempfile_in(dir))
}

/// A temporary folder beside `target` (named as [`temp_beside`] names files, mode 0777 less
/// the umask), stale ones of the same target removed first.
pub fn temp_dir_beside(target: &Path) -> std::io::Result<tempfile::TempDir> {
    beside(target, 0o777, |b, dir| b.tempdir_in(dir))
}

/// Clears stale temporaries of `target`, then makes one with `make` from a builder set up with
/// the naming scheme and `mode` (less the umask).
fn beside<T>(
    target: &Path,
    mode: u32,
    make: impl FnOnce(&tempfile::Builder<'_, '_>, &Path) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let (dir, name) = temp_parts(target);
    remove_stale(dir, &name);
    let prefix = format!(".{name}.{}.", std::process::id());
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    make(&b, dir)
}

fn temp_parts(target: &Path) -> (&Path, String) {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    (dir, name)
}

/// Removes `.NAME.PID.*.tmp` files and folders in `dir` whose process is gone (Linux: no
/// `/proc/PID`); nothing where `/proc` is not mounted.
fn remove_stale(dir: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let head = format!(".{name}.");
    for e in rd.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&head).filter(|r| r.ends_with(".tmp")) else { continue };
        let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let p = e.path();
            let _ = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        }
    }
}

/// Maps an I/O error from a writer to a [`CorpusError`] naming `path`.
pub fn wio(path: &Path) -> impl Fn(std::io::Error) -> CorpusError + '_ {
    move |e| CorpusError::io(path, e)
}

/// Iterates over lines with 1-based numbers, a trailing `\r` removed.
pub fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n').enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
}
