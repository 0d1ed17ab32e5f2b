//! A look at free disk space before the long steps, so that a full disk is named up front and not
//! discovered ten minutes into a build as a C compiler's "No space left on device".

use std::path::Path;

/// Free space a clean debug build of the workspace with its tests needs (measured: 1.7 GB for
/// `target/` after `cargo xtask test` in a fresh clone), with some room to spare.
const BUILD_BYTES: u64 = 3 << 30;
/// Free space the one-time installs under the cache need (libtorch, encoder, llama-server,
/// SmolLM2, and their downloads; measured: 2.3 GB).
const SETUP_BYTES: u64 = 3 << 30;

/// Bytes available to this user on the file system holding `path` (its nearest existing
/// ancestor), or `None` when it cannot be read.
fn available(path: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(nearest(path)).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// Warns (on stderr) when the file systems of `target` and `cache` have less room than a clean
/// build plus the set-up needs. Only a warning: an existing build or cache needs much less.
pub fn check(target: &Path, cache: &Path) {
    let (Some(t), Some(c)) = (available(target), available(cache)) else { return };
    let same_fs = rustix::fs::stat(nearest(target)).ok().map(|s| s.st_dev)
        == rustix::fs::stat(nearest(cache)).ok().map(|s| s.st_dev);
    let (need_t, need_c) = if same_fs { (BUILD_BYTES + SETUP_BYTES, 0) } else { (BUILD_BYTES, SETUP_BYTES) };
    if t < need_t {
        eprintln!(
            "warning: only {} free for {} (a clean build with the tests needs about {}{}); \
             if the build stops with \"No space left on device\", free space or set CARGO_TARGET_DIR \
             (and HILGEN_CACHE) to a larger disk",
            gib(t),
            target.display(),
            gib(need_t),
            if same_fs { ", the set-up's downloads included" } else { "" }
        );
    }
    if !same_fs && c < need_c {
        eprintln!(
            "warning: only {} free for {} (the one-time set-up needs about {}); set HILGEN_CACHE to a larger disk",
            gib(c),
            cache.display(),
            gib(need_c)
        );
    }
}

/// `p`, or its nearest ancestor that exists.
fn nearest(mut p: &Path) -> &Path {
    while !p.exists() {
        match p.parent() {
            Some(q) => p = q,
            None => break,
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_free_space_of_an_existing_and_a_missing_folder() {
        let here = std::env::temp_dir();
        let free = available(&here).expect("statvfs of the temp dir");
        assert!(free > 0);
        // A path that does not exist yet is measured on its nearest existing ancestor.
        assert_eq!(available(&here.join("no/such/folder/yet")).map(|f| f > 0), Some(true));
        assert_eq!(nearest(&here.join("no/such")), here.as_path());
    }
}
