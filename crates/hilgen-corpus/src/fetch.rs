//! Locating and downloading dataset files, verified by sha256.
//!
//! A [`Fetcher`] has a data folder (`HILGEN_DATA`, else `~/.cache/hilgen/data`) and optionally a
//! mirror (`HILGEN_DATA_MIRROR`: an `http://`, `https://` or `file://` base under which files
//! sit at their registry paths). A file already in the data folder is verified and used; a
//! missing one is downloaded from the mirror, else from its canonical URL, into a temporary file
//! that is renamed into place only once its checksum matches.
//!
//! ```no_run
//! use hilgen_corpus::{fetch::Fetcher, registry};
//! let fetcher = Fetcher::from_env();
//! let paths = fetcher.fetch(&registry::get("bc5cdr").unwrap()).unwrap();
//! println!("{}", paths[0].display());
//! ```

use crate::error::{CorpusError, Result};
use crate::registry::{DataFile, DatasetSpec};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Finds dataset files in a data folder and downloads missing ones.
#[derive(Debug, Clone)]
pub struct Fetcher {
    /// Folder the registry paths are relative to.
    pub data_dir: PathBuf,
    /// Optional base URL tried before the canonical URL.
    pub mirror: Option<String>,
}

impl Fetcher {
    /// A fetcher over `data_dir` with no mirror.
    pub fn new(data_dir: impl Into<PathBuf>) -> Fetcher {
        Fetcher { data_dir: data_dir.into(), mirror: None }
    }

    /// From `HILGEN_DATA` (else `~/.cache/hilgen/data`) and `HILGEN_DATA_MIRROR`.
    pub fn from_env() -> Fetcher {
        let data_dir = std::env::var_os("HILGEN_DATA").map(PathBuf::from).unwrap_or_else(|| {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
            home.join(".cache/hilgen/data")
        });
        Fetcher { data_dir, mirror: std::env::var("HILGEN_DATA_MIRROR").ok().filter(|m| !m.is_empty()) }
    }

    /// Makes every file of `spec` present and verified; returns their local paths in order.
    pub fn fetch(&self, spec: &DatasetSpec) -> Result<Vec<PathBuf>> {
        if spec.files.is_empty() {
            return Err(CorpusError::Invalid(format!(
                "dataset `{}` has no downloadable files: {}",
                spec.name, spec.how_to_obtain
            )));
        }
        spec.files.iter().map(|f| self.fetch_file(f)).collect()
    }

    /// Makes one file present and verified; returns its local path.
    pub fn fetch_file(&self, file: &DataFile) -> Result<PathBuf> {
        let local = self.data_dir.join(file.path);
        if local.exists() {
            verify(&local, file)?;
            return Ok(local);
        }
        let sources: Vec<String> = self
            .mirror
            .iter()
            .map(|m| format!("{}/{}", m.trim_end_matches('/'), file.path))
            .chain([file.url.to_string()])
            .collect();
        let mut errors = Vec::new();
        for url in &sources {
            match download(url, &local, file) {
                Ok(()) => return Ok(local),
                Err(e) => {
                    tracing::warn!("{e}");
                    errors.push(e.to_string());
                }
            }
        }
        let why = errors.join("; ");
        Err(CorpusError::Fetch {
            url: file.url.to_string(),
            message: format!(
                "{} is missing and could not be downloaded ({why}); set HILGEN_DATA to the folder that holds {}, or HILGEN_DATA_MIRROR to a mirror",
                local.display(),
                file.path
            ),
        })
    }
}

/// Checks a local file against its pinned checksum.
fn verify(path: &Path, file: &DataFile) -> Result<()> {
    let Some(want) = file.sha256 else {
        tracing::info!("{}: no pinned sha256, not verified", path.display());
        return Ok(());
    };
    let got = sha256_path(path)?;
    if got != want {
        return Err(CorpusError::Fetch {
            url: path.display().to_string(),
            message: format!("sha256 is {got}, expected {want}; remove the file to download it again"),
        });
    }
    Ok(())
}

/// sha256 of a file, in lower-case hex.
pub fn sha256_path(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| CorpusError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| CorpusError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

fn download(url: &str, local: &Path, file: &DataFile) -> Result<()> {
    let fail = |m: String| CorpusError::Fetch { url: url.to_string(), message: m };
    let dir = local.parent().expect("registry paths have a folder");
    std::fs::create_dir_all(dir).map_err(|e| CorpusError::io(dir, e))?;
    let mut tmp = crate::io_util::temp_beside(local).map_err(|e| CorpusError::io(dir, e))?;
    let mut reader: Box<dyn Read> = if let Some(path) = url.strip_prefix("file://") {
        Box::new(std::fs::File::open(path).map_err(|e| fail(e.to_string()))?)
    } else {
        let response = ureq::get(url).timeout(std::time::Duration::from_secs(120)).call().map_err(|e| match e {
            ureq::Error::Status(code, _) => fail(format!("HTTP status {code}")),
            ureq::Error::Transport(t) => fail(format!("{}: {}", t.kind(), t.message().unwrap_or("no detail"))),
        })?;
        response.into_reader()
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf).map_err(|e| fail(e.to_string()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n]).map_err(|e| CorpusError::io(tmp.path(), e))?;
    }
    let got = format!("{:x}", hasher.finalize());
    match file.sha256 {
        Some(want) if want != got => {
            return Err(fail(format!("sha256 is {got}, expected {want}; nothing was written")))
        }
        None => tracing::warn!("{url}: sha256 {got} (not pinned in the registry)"),
        _ => {}
    }
    tmp.persist(local).map_err(|e| CorpusError::io(local, e.error))?;
    tracing::info!("downloaded {url} -> {}", local.display());
    Ok(())
}
