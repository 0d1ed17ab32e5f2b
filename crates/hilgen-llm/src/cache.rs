//! The on-disk response cache, content-addressed by the request body (model, sampling
//! parameters, messages and response format, serialized canonically; the API key is never part
//! of a request body). One JSON file per request under `DIR/ab/abcdef....json`, written to a
//! temporary file and renamed, so a crash never leaves half an entry.

use crate::error::{LlmError, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One cached exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The cache key (sha256 of the canonical request).
    pub key: String,
    /// The request body sent.
    pub request: Value,
    /// The server's response body.
    pub response: Value,
}

/// A cache directory.
#[derive(Debug, Clone)]
pub struct ResponseCache {
    dir: PathBuf,
}

/// JSON with object keys sorted at every level, so equal requests give equal bytes.
pub fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&map[k], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    write(v, &mut s);
    s
}

/// The cache key of a request body.
pub fn key_of(request: &Value) -> String {
    let digest = Sha256::digest(canonical_json(request).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl ResponseCache {
    /// A cache in `dir` (created on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> ResponseCache {
        ResponseCache { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.json"))
    }

    /// The cached response for `key`; an unreadable or corrupt entry counts as a miss (logged).
    pub fn get(&self, key: &str) -> Option<Entry> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).ok()?;
        match serde_json::from_slice::<Entry>(&bytes) {
            Ok(e) if e.key == key => Some(e),
            Ok(_) => {
                tracing::warn!(path = %path.display(), "cache entry has another key; ignored");
                None
            }
            Err(err) => {
                tracing::warn!(path = %path.display(), %err, "corrupt cache entry; ignored");
                None
            }
        }
    }

    /// Stores an exchange atomically.
    pub fn put(&self, entry: &Entry) -> Result<()> {
        let path = self.path(&entry.key);
        let dir = path.parent().expect("entries live in a sub-folder");
        std::fs::create_dir_all(dir).map_err(|e| LlmError::io(dir, e))?;
        hilgen_corpus::write_atomic(&path, |w| {
            serde_json::to_writer(&mut *w, entry)
                .map_err(|e| hilgen_corpus::CorpusError::Invalid(format!("cache entry: {e}")))?;
            Ok(())
        })?;
        Ok(())
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        let Ok(rd) = std::fs::read_dir(&self.dir) else { return 0 };
        rd.flatten()
            .filter_map(|d| std::fs::read_dir(d.path()).ok())
            .map(|sub| sub.flatten().filter(|f| f.path().extension().is_some_and(|x| x == "json")).count())
            .sum()
    }

    /// Whether the cache has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_ignores_field_order_but_not_content() {
        let a = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5});
        let b = json!({"temperature": 0.5, "messages": [{"content": "hi", "role": "user"}], "model": "m"});
        let c = json!({"temperature": 0.6, "messages": [{"content": "hi", "role": "user"}], "model": "m"});
        assert_eq!(key_of(&a), key_of(&b));
        assert_ne!(key_of(&a), key_of(&c));
    }

    #[test]
    fn round_trip_and_corrupt_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResponseCache::new(dir.path());
        let req = json!({"model": "m"});
        let key = key_of(&req);
        assert!(cache.get(&key).is_none());
        let e = Entry { key: key.clone(), request: req, response: json!({"choices": []}) };
        cache.put(&e).unwrap();
        assert_eq!(cache.get(&key), Some(e));
        assert_eq!(cache.len(), 1);
        std::fs::write(cache.path(&key), b"{not json").unwrap();
        assert!(cache.get(&key).is_none());
    }
}
