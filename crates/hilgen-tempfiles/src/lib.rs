//! Temporary files and folders for atomic writes (write the temporary, then rename it onto the
//! target), shared by the corpus, knowledge-index and model writers: named after their target
//! and process, created with the umask's permissions, and stale ones left by processes that no
//! longer run removed first.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let target = dir.path().join("out.tsv");
//! let tmp = hilgen_tempfiles::temp_beside(&target).unwrap();
//! std::fs::write(tmp.path(), "a\tO\n").unwrap();
//! tmp.persist(&target).unwrap();
//! assert_eq!(std::fs::read_to_string(&target).unwrap(), "a\tO\n");
//! ```

use std::path::Path;

/// Whether `target` is a special file (a device such as `/dev/null` or `/dev/stdout`, a FIFO, a
/// socket), links followed: writers write into it in place, since renaming a temporary onto it
/// would replace the device with a plain file.
pub fn is_special(target: &Path) -> bool {
    std::fs::metadata(target).map(|m| !m.is_file() && !m.is_dir()).unwrap_or(false)
}

/// An output written into a temporary beside its target and renamed onto it by
/// [`Staged::commit`], or, where the target is a special file ([`is_special`]), written into it
/// in place (nothing to rename).
pub enum Staged {
    /// A temporary beside the target ([`temp_beside`]).
    Temp(tempfile::NamedTempFile),
    /// The special file itself, opened for writing.
    InPlace(std::fs::File),
}

impl Staged {
    /// Starts writing `target`.
    pub fn new(target: &Path) -> std::io::Result<Staged> {
        if is_special(target) {
            Ok(Staged::InPlace(std::fs::OpenOptions::new().write(true).open(target)?))
        } else {
            Ok(Staged::Temp(temp_beside(target)?))
        }
    }

    /// Syncs the temporary and renames it onto `target` (nothing for a special file).
    pub fn commit(self, target: &Path) -> std::io::Result<()> {
        match self {
            Staged::Temp(tmp) => {
                tmp.as_file().sync_all()?;
                tmp.persist(target).map_err(|e| e.error)?;
                Ok(())
            }
            Staged::InPlace(_) => Ok(()),
        }
    }
}

impl std::io::Write for Staged {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Staged::Temp(f) => f.write(buf),
            Staged::InPlace(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Staged::Temp(f) => f.flush(),
            Staged::InPlace(f) => f.flush(),
        }
    }
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
    if !can_tell_liveness() {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let head = format!(".{name}.");
    for e in rd.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&head).filter(|r| r.ends_with(".tmp")) else { continue };
        let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if is_gone(pid) {
            let p = e.path();
            let _ = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        }
    }
}

/// Whether this system tells which processes run (Linux: `/proc` is mounted); where it does
/// not, [`is_gone`] never says a process is gone and nothing is cleared.
pub fn can_tell_liveness() -> bool {
    Path::new("/proc/self").exists()
}

/// Whether process `pid` no longer runs, so that temporaries named after it are stale (never
/// this process; never where [`can_tell_liveness`] is false).
pub fn is_gone(pid: u32) -> bool {
    pid != std::process::id() && can_tell_liveness() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Puts the complete folder `staged` at `dest` in one step and returns where the previous
/// `dest` went (`staged`'s path, now holding the old folder, for the caller to remove), or
/// `None` when there was none. On Linux an existing `dest` is swapped with `staged` atomically
/// (`renameat2` with `RENAME_EXCHANGE`), so that a kill at any moment leaves either the old or
/// the new folder at `dest`, never none; elsewhere (or where the file system refuses the
/// exchange) the old folder is first renamed to `old` and the new one then renamed into place.
pub fn replace_dir(staged: &Path, dest: &Path, old: &Path) -> std::io::Result<Option<std::path::PathBuf>> {
    if std::fs::symlink_metadata(dest).is_err() {
        std::fs::rename(staged, dest)?;
        return Ok(None);
    }
    #[cfg(target_os = "linux")]
    if exchange(staged, dest).is_ok() {
        return Ok(Some(staged.to_path_buf()));
    }
    std::fs::rename(dest, old)?;
    std::fs::rename(staged, dest)?;
    Ok(Some(old.to_path_buf()))
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: two valid NUL-terminated paths relative to the working directory.
    let r = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_dir_swaps_in_the_new_folder_and_hands_back_the_old() {
        let d = tempfile::tempdir().unwrap();
        let (dest, staged, old) = (d.path().join("model"), d.path().join(".model.new"), d.path().join(".model.old"));
        std::fs::create_dir(&staged).unwrap();
        std::fs::write(staged.join("a"), "1").unwrap();
        assert_eq!(replace_dir(&staged, &dest, &old).unwrap(), None);
        assert_eq!(std::fs::read_to_string(dest.join("a")).unwrap(), "1");
        std::fs::create_dir(&staged).unwrap();
        std::fs::write(staged.join("a"), "2").unwrap();
        let previous = replace_dir(&staged, &dest, &old).unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("a")).unwrap(), "2");
        assert_eq!(std::fs::read_to_string(previous.join("a")).unwrap(), "1");
    }
}

#[cfg(test)]
mod special_tests {
    #[test]
    fn devices_are_special_and_files_folders_and_missing_paths_are_not() {
        assert!(super::is_special(std::path::Path::new("/dev/null")));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.tsv");
        std::fs::write(&file, "x").unwrap();
        assert!(!super::is_special(&file));
        assert!(!super::is_special(dir.path()));
        assert!(!super::is_special(&dir.path().join("missing")));
    }
}
