//! OpenAI Batch API files: export the requests a generation still needs (those not in the
//! cache) as JSONL, and import a results file (from the Batch API, or from vLLM's
//! `run_batch`, which writes the same format) into the cache, so that the generation then runs
//! from the cache unchanged. HILGEN's generation has two turns, the second built from the first
//! answers: export, run, import, and repeat until an export is empty.
//!
//! Request line: `{"custom_id": KEY, "method": "POST", "url": "/v1/chat/completions", "body": {...}}`,
//! where KEY is the cache key. Result line: `{"custom_id": KEY, "response": {"status_code": 200,
//! "body": {...}}, "error": null}`.

use crate::cache::{key_of, Entry, ResponseCache};
use crate::error::{LlmError, Result};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

/// Writes `(key, body)` requests as a Batch API input file, atomically.
pub fn export(requests: &[(String, Value)], path: &Path) -> Result<()> {
    hilgen_corpus::write_atomic(path, |w| {
        for (key, body) in requests {
            let line = json!({"custom_id": key, "method": "POST", "url": "/v1/chat/completions", "body": body});
            writeln!(w, "{line}").map_err(|e| hilgen_corpus::CorpusError::io(path, e))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Responses stored in the cache.
    pub imported: usize,
    /// Result lines that carried an error or a non-200 status (left out; they will be
    /// exported again).
    pub failed: usize,
    /// Result lines whose request was not in the requests file (when one was given).
    pub unknown: usize,
}

fn read_jsonl(path: &Path, mut each: impl FnMut(usize, Value) -> Result<()>) -> Result<()> {
    let f = std::fs::File::open(path).map_err(|e| LlmError::io(path, e))?;
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| LlmError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&line).map_err(|e| LlmError::Batch {
            path: path.to_path_buf(),
            line: i + 1,
            message: format!("expected one JSON object per line: {e}"),
        })?;
        each(i + 1, v)?;
    }
    Ok(())
}

/// Imports a results file into `cache`. With the requests file, each request body is stored
/// with its response and checked against its key.
pub fn import(results: &Path, requests: Option<&Path>, cache: &ResponseCache) -> Result<ImportReport> {
    let mut bodies: HashMap<String, Value> = HashMap::new();
    if let Some(req) = requests {
        read_jsonl(req, |line, v| {
            let (Some(id), Some(body)) = (v.get("custom_id").and_then(Value::as_str), v.get("body")) else {
                return Err(LlmError::Batch {
                    path: req.to_path_buf(),
                    line,
                    message: "expected `custom_id` and `body`".into(),
                });
            };
            if key_of(body) != id {
                return Err(LlmError::Batch {
                    path: req.to_path_buf(),
                    line,
                    message: format!("`custom_id` {id} is not the cache key of its body (edited file?)"),
                });
            }
            bodies.insert(id.to_string(), body.clone());
            Ok(())
        })?;
    }
    let mut report = ImportReport::default();
    read_jsonl(results, |line, v| {
        let bad = |m: &str| LlmError::Batch { path: results.to_path_buf(), line, message: m.to_string() };
        let id = v.get("custom_id").and_then(Value::as_str).ok_or_else(|| bad("expected `custom_id`"))?;
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(&format!("`custom_id` {id:?} is not a hilgen cache key (64 hex digits)")));
        }
        let status = v.pointer("/response/status_code").and_then(Value::as_u64).unwrap_or(0);
        let body = v.pointer("/response/body");
        let errored = v.get("error").is_some_and(|e| !e.is_null());
        match body {
            Some(b) if status == 200 && !errored && b.get("choices").is_some() => {
                let request = match bodies.get(id) {
                    Some(r) => r.clone(),
                    None if requests.is_some() => {
                        report.unknown += 1;
                        return Ok(());
                    }
                    None => Value::Null,
                };
                cache.put(&Entry { key: id.to_string(), request, response: b.clone() })?;
                report.imported += 1;
            }
            _ => report.failed += 1,
        }
        Ok(())
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_then_import_fills_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        let key = key_of(&body);
        let req = dir.path().join("req.jsonl");
        export(&[(key.clone(), body.clone())], &req).unwrap();
        let res = dir.path().join("res.jsonl");
        let ok = json!({"id": "b1", "custom_id": key, "response": {"status_code": 200, "body": {"choices": [{"message": {"content": "hello"}}]}}, "error": null});
        let failed = json!({"id": "b2", "custom_id": "f".repeat(64), "response": {"status_code": 500, "body": {}}, "error": null});
        std::fs::write(&res, format!("{ok}\n\n{failed}\n")).unwrap();
        let cache = ResponseCache::new(dir.path().join("cache"));
        let r = import(&res, Some(&req), &cache).unwrap();
        assert_eq!(r, ImportReport { imported: 1, failed: 1, unknown: 0 });
        assert_eq!(cache.get(&key).unwrap().request, body);
        std::fs::write(&res, "{\"custom_id\": \"x\"}\n").unwrap();
        let e = import(&res, None, &cache).unwrap_err().to_string();
        assert!(e.contains("res.jsonl:1") && e.contains("64 hex"), "{e}");
        std::fs::write(&res, "not json\n").unwrap();
        assert!(import(&res, None, &cache).unwrap_err().to_string().contains("res.jsonl:1"));
    }
}
