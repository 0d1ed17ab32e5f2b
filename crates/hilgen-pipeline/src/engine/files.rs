//! Files as stage inputs and outputs: a [`FileRef`] names a file (or a folder) and carries the
//! sha256 of its content; stage hashes cover the content only, so a run directory can move and
//! an unchanged file never reruns anything. Large external inputs (a UMLS release, an encoder's
//! weights) are hashed once and remembered by size and modification time in the run
//! directory's `.hashes.json`.

use crate::error::{PipelineError, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A file or folder and the sha256 of its content. `file` is relative to the run directory
/// for what stages write, absolute for external inputs. For a folder, `sha256` is the hash of
/// its files' names and hashes; for a split given as "tokens", the hash of its tokens only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// Where it is.
    pub file: PathBuf,
    /// What it holds.
    pub sha256: String,
}

impl FileRef {
    /// Its path, relative ones taken from `root`.
    pub fn path(&self, root: &Path) -> PathBuf {
        if self.file.is_absolute() {
            self.file.clone()
        } else {
            root.join(&self.file)
        }
    }
}

/// sha256 (hex) of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// sha256 (hex) of a file, streamed.
pub fn file_sha256(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| PipelineError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| PipelineError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// sha256 of a folder: its files (recursively, sorted by relative path, hidden ones skipped)
/// as `path\0sha256\n` lines.
pub fn dir_sha256(dir: &Path, cache: &mut HashCache) -> Result<String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| PipelineError::io(&d, e))? {
            let e = e.map_err(|e| PipelineError::io(&d, e))?;
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut listing = String::new();
    for f in files {
        let rel = f.strip_prefix(dir).unwrap_or(&f).to_string_lossy().to_string();
        listing.push_str(&format!("{rel}\0{}\n", cache.sha256(&f)?));
    }
    Ok(sha256_hex(listing.as_bytes()))
}

/// The hash of a stage's inputs: the LLM cache's canonical-JSON sha256 of `inputs`, where every
/// object holding a `sha256` has its `file` (location) left out.
pub fn inputs_hash(inputs: &Value) -> String {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let located = m.contains_key("sha256");
                Value::Object(
                    m.iter()
                        .filter(|(k, _)| !(located && k.as_str() == "file"))
                        .map(|(k, v)| (k.clone(), strip(v)))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    hilgen_llm::cache::key_of(&strip(inputs))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Known {
    len: u64,
    modified_ns: u128,
    sha256: String,
}

/// File hashes remembered by path, size and modification time (a changed file is hashed
/// again), optionally kept in a JSON file.
#[derive(Debug, Default)]
pub struct HashCache {
    file: Option<PathBuf>,
    known: BTreeMap<String, Known>,
    changed: bool,
}

impl HashCache {
    /// A cache kept in `file` (read when it exists; unreadable content is ignored).
    pub fn at(file: PathBuf) -> HashCache {
        let known = std::fs::read_to_string(&file).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        HashCache { file: Some(file), known, changed: false }
    }

    /// The sha256 of `path`'s content.
    pub fn sha256(&mut self, path: &Path) -> Result<String> {
        let meta = std::fs::metadata(path).map_err(|e| PipelineError::io(path, e))?;
        let modified_ns =
            meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        let key = path.to_string_lossy().to_string();
        if let Some(k) = self.known.get(&key) {
            if k.len == meta.len() && k.modified_ns == modified_ns && modified_ns != 0 {
                return Ok(k.sha256.clone());
            }
        }
        let sha256 = file_sha256(path)?;
        self.known.insert(key, Known { len: meta.len(), modified_ns, sha256: sha256.clone() });
        self.changed = true;
        Ok(sha256)
    }

    /// A [`FileRef`] for an external file (its canonical path).
    pub fn file_ref(&mut self, path: &Path) -> Result<FileRef> {
        let abs = absolute(path)?;
        Ok(FileRef { sha256: self.sha256(&abs)?, file: abs })
    }

    /// Writes the cache back to its file, atomically, when something new was hashed.
    pub fn save(&self) -> Result<()> {
        let (Some(file), true) = (&self.file, self.changed) else { return Ok(()) };
        let text = serde_json::to_string(&self.known).expect("hashes serialize");
        write_file(file, text.as_bytes())
    }
}

/// The canonical form of an existing path (links and `..` resolved), else its absolute form.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(p) => Ok(p),
        Err(_) => std::path::absolute(path).map_err(|e| PipelineError::io(path, e)),
    }
}

/// Writes `bytes` to `path` atomically (temporary file beside it, then rename).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    hilgen_corpus::write_atomic(path, |w| w.write_all(bytes).map_err(|e| hilgen_corpus::CorpusError::io(path, e)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hashes_cover_content_not_location() {
        let a = json!({"shots": {"file": "seed-1/sample/fewshot.jsonl", "sha256": "ab"}, "k": 5});
        let b = json!({"shots": {"file": "/elsewhere/fewshot.jsonl", "sha256": "ab"}, "k": 5});
        let c = json!({"shots": {"file": "seed-1/sample/fewshot.jsonl", "sha256": "ac"}, "k": 5});
        assert_eq!(inputs_hash(&a), inputs_hash(&b));
        assert_ne!(inputs_hash(&a), inputs_hash(&c));
        // `file` without a hash is a value like any other.
        assert_ne!(inputs_hash(&json!({"file": "x"})), inputs_hash(&json!({"file": "y"})));
    }

    #[test]
    fn the_cache_rehashes_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x");
        std::fs::write(&f, "one").unwrap();
        let mut c = HashCache::at(dir.path().join(".hashes.json"));
        let h1 = c.sha256(&f).unwrap();
        assert_eq!(h1, sha256_hex(b"one"));
        c.save().unwrap();
        std::fs::write(&f, "two!").unwrap();
        let mut c = HashCache::at(dir.path().join(".hashes.json"));
        assert_eq!(c.sha256(&f).unwrap(), sha256_hex(b"two!"));
        std::fs::create_dir(dir.path().join("m")).unwrap();
        std::fs::write(dir.path().join("m/a"), "1").unwrap();
        let d1 = dir_sha256(&dir.path().join("m"), &mut c).unwrap();
        std::fs::write(dir.path().join("m/.partial"), "ignored").unwrap();
        assert_eq!(d1, dir_sha256(&dir.path().join("m"), &mut c).unwrap());
    }
}
