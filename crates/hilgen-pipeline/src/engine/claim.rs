//! Claims: several workers (processes on one machine, `hilgen run --jobs N`, or Slurm tasks on a
//! shared file system) working on one run directory never run the same stage at once.
//!
//! Before a stage runs, its worker creates `.NAME.claim` beside the stage folder with an
//! exclusive create (`O_EXCL`, which NFS v3+ and the cluster file systems honour). The claim
//! holds the worker (`pid@host`) and a lease: a deadline that a thread of the worker pushes
//! forward while the stage runs. A claim whose lease has passed, or whose process is gone on
//! this host, is stale: the next worker takes it over by renaming it away (only one rename of
//! a file succeeds) and creating its own. A complete stage still appears only by rename of its
//! finished folder (see `stage.rs`), so claims decide who works, never what is read.

use serde::{Deserialize, Serialize};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Default lease: a claim not renewed for this long is taken over (`HILGEN_LEASE_SECONDS`).
pub const DEFAULT_LEASE_SECONDS: u64 = 120;

/// The lease length in force (`HILGEN_LEASE_SECONDS`, at least 2 s, else the default).
pub fn lease() -> Duration {
    let s =
        std::env::var("HILGEN_LEASE_SECONDS").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(DEFAULT_LEASE_SECONDS);
    Duration::from_secs(s.max(2))
}

/// What a claim file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimInfo {
    /// `pid@host` of the worker.
    pub worker: String,
    /// Process id on `host`.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// The lease's end, in seconds since the Unix epoch.
    pub expires: u64,
}

impl ClaimInfo {
    /// Whether the claim no longer protects anything: its lease has passed, or its process
    /// is gone on this very host.
    pub fn is_stale(&self) -> bool {
        now() > self.expires || (self.host == host() && hilgen_tempfiles::is_gone(self.pid))
    }
}

/// This worker's name: `pid@host`.
pub fn worker() -> String {
    format!("{}@{}", std::process::id(), host())
}

/// The host name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `localhost`).
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The claim file of the stage folder `dest`.
pub fn claim_path(dest: &Path) -> PathBuf {
    let leaf = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dest.with_file_name(format!(".{leaf}.claim"))
}

/// The claim on `dest`, if any and readable.
pub fn read(dest: &Path) -> Option<ClaimInfo> {
    read_at(&claim_path(dest))
}

/// What trying to claim a stage gave.
#[derive(Debug)]
pub enum Attempt {
    /// This worker holds the claim until the guard is dropped.
    Held(Claim),
    /// Another live worker holds it.
    Busy(ClaimInfo),
}

/// A held claim: renewed by a thread until dropped, then removed (if still this worker's).
#[derive(Debug)]
pub struct Claim {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    renewer: Option<std::thread::JoinHandle<()>>,
}

fn write_info(path: &Path, info: &ClaimInfo, create_new: bool) -> std::io::Result<()> {
    let text = serde_json::to_string(info).expect("claims serialize");
    if create_new {
        let mut f = OpenOptions::new().write(true).create_new(true).open(path)?;
        f.write_all(text.as_bytes())?;
        return f.sync_all();
    }
    // Renewal: replace the content in one step, so that a reader never sees half a claim.
    let tmp = path.with_extension(format!("claim-renew-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Tries to claim the stage folder `dest` for `lease`: takes a stale claim over; reports a
/// live one.
pub fn try_claim(dest: &Path, lease: Duration) -> std::io::Result<Attempt> {
    let path = claim_path(dest);
    let me = worker();
    for _ in 0..8 {
        let info =
            ClaimInfo { worker: me.clone(), pid: std::process::id(), host: host(), expires: now() + lease.as_secs() };
        match write_info(&path, &info, true) {
            Ok(()) => return Ok(Attempt::Held(Claim::start(path, info, lease))),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        match read(dest) {
            Some(other) if other.worker == me => {
                // Left by this process (an earlier attempt that failed): take it again.
                let _ = std::fs::remove_file(&path);
            }
            Some(other) if !other.is_stale() => return Ok(Attempt::Busy(other)),
            Some(other) => {
                // Only one worker's rename of the stale claim succeeds; the others find the
                // new claim (or none) on the next round.
                tracing::warn!(claim = %path.display(), worker = %other.worker, "taking over a stale claim");
                let aside = path.with_extension(format!("claim-stale-{}", std::process::id()));
                if std::fs::rename(&path, &aside).is_ok() {
                    let _ = std::fs::remove_file(&aside);
                }
            }
            // Unreadable: being written this instant, or empty after a crash between create and
            // write. Give it a moment; an empty claim older than a lease is stale.
            None => {
                let old = std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .map(|t| t.elapsed().unwrap_or_default() > lease)
                    .unwrap_or(false);
                if old {
                    let _ = std::fs::remove_file(&path);
                } else {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
    match read(dest) {
        Some(other) => Ok(Attempt::Busy(other)),
        None => Err(std::io::Error::other(format!("{}: could not be claimed", path.display()))),
    }
}

impl Claim {
    fn start(path: PathBuf, info: ClaimInfo, lease: Duration) -> Claim {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, p) = (stop.clone(), path.clone());
        let renewer = std::thread::spawn(move || {
            let every = (lease / 4).max(Duration::from_millis(500));
            loop {
                // Woken early by the claim's drop.
                std::thread::park_timeout(every);
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                {
                    let renewed = ClaimInfo { expires: now() + lease.as_secs(), ..info.clone() };
                    // Renew only a claim that is still ours.
                    if read_at(&p).is_some_and(|c| c.worker == info.worker) {
                        if let Err(e) = write_info(&p, &renewed, false) {
                            tracing::warn!(claim = %p.display(), "cannot renew the claim: {e}");
                        }
                    }
                }
            }
        });
        Claim { path, stop, renewer: Some(renewer) }
    }
}

fn read_at(path: &Path) -> Option<ClaimInfo> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.renewer.take() {
            t.thread().unpark();
            let _ = t.join();
        }
        if read_at(&self.path).is_some_and(|c| c.worker == worker()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_at_a_time_and_stale_ones_are_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("seed-1").join("train");
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        let lease = Duration::from_secs(60);
        let Attempt::Held(held) = try_claim(&dest, lease).unwrap() else { panic!("free stage not claimed") };
        assert_eq!(read(&dest).unwrap().worker, worker());
        drop(held);
        assert!(!claim_path(&dest).exists(), "released on drop");

        // A live claim of another worker (pid 1 on another host, lease in the future) is busy.
        let other = ClaimInfo { worker: "1@elsewhere".into(), pid: 1, host: "elsewhere".into(), expires: now() + 600 };
        std::fs::write(claim_path(&dest), serde_json::to_string(&other).unwrap()).unwrap();
        match try_claim(&dest, lease).unwrap() {
            Attempt::Busy(c) => assert_eq!(c, other),
            Attempt::Held(_) => panic!("a live claim was taken"),
        }
        // Its lease passed: taken over.
        let expired = ClaimInfo { expires: now() - 1, ..other.clone() };
        std::fs::write(claim_path(&dest), serde_json::to_string(&expired).unwrap()).unwrap();
        assert!(matches!(try_claim(&dest, lease).unwrap(), Attempt::Held(_)));
        // A dead process on this host: taken over at once, whatever its lease.
        let dead = ClaimInfo {
            worker: format!("{}@{}", u32::MAX - 7, host()),
            pid: u32::MAX - 7,
            host: host(),
            expires: now() + 600,
        };
        std::fs::write(claim_path(&dest), serde_json::to_string(&dead).unwrap()).unwrap();
        assert!(matches!(try_claim(&dest, lease).unwrap(), Attempt::Held(_)));
    }

    #[test]
    fn a_held_claim_is_renewed() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("stage");
        let Attempt::Held(_held) = try_claim(&dest, Duration::from_secs(2)).unwrap() else { panic!() };
        let first = read(&dest).unwrap().expires;
        std::thread::sleep(Duration::from_millis(2300));
        let later = read(&dest).unwrap();
        assert!(later.expires > first, "renewed: {} then {}", first, later.expires);
        assert!(!later.is_stale());
    }
}
