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
