//! Counters for one client: requests, retries, tokens, cache hits, rejected outputs by reason,
//! and the estimated cost.

use crate::config::Price;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// Live counters, shared by the client, its transport and the parsers.
#[derive(Debug, Default)]
pub struct Accounting {
    pub(crate) http_attempts: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) prompt_tokens: AtomicU64,
    pub(crate) completion_tokens: AtomicU64,
    pub(crate) cached_prompt_tokens: AtomicU64,
    pub(crate) cached_completion_tokens: AtomicU64,
    rejections: Mutex<BTreeMap<String, u64>>,
}

impl Accounting {
    /// Counts one rejected model output (a sentence or a tagging) with its reason.
    pub fn reject(&self, reason: &str) {
        *self.rejections.lock().expect("accounting lock").entry(reason.to_string()).or_default() += 1;
    }

    /// A snapshot of the counters, with the cost under `price`.
    pub fn summary(&self, price: Option<Price>) -> Summary {
        let prompt = self.prompt_tokens.load(Relaxed);
        let completion = self.completion_tokens.load(Relaxed);
        let cost = |p: u64, c: u64| {
            price.map(|pr| (p as f64 * pr.prompt_per_million + c as f64 * pr.completion_per_million) / 1e6)
        };
        let cached_p = self.cached_prompt_tokens.load(Relaxed);
        let cached_c = self.cached_completion_tokens.load(Relaxed);
        Summary {
            requests: self.requests.load(Relaxed),
            http_attempts: self.http_attempts.load(Relaxed),
            retries: self.retries.load(Relaxed),
            cache_hits: self.cache_hits.load(Relaxed),
            failures: self.failures.load(Relaxed),
            prompt_tokens: prompt,
            completion_tokens: completion,
            cost_usd: cost(prompt, completion),
            saved_by_cache_usd: cost(cached_p, cached_c),
            rejections: self.rejections.lock().expect("accounting lock").clone(),
        }
    }
}

/// A snapshot of [`Accounting`], for reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Chat completions answered by the server (not the cache).
    pub requests: u64,
    /// HTTP requests sent, retries included.
    pub http_attempts: u64,
    /// Retries (429, 5xx, timeouts, refused connections).
    pub retries: u64,
    /// Chat completions answered from the cache.
    pub cache_hits: u64,
    /// Chat completions that failed after all retries.
    pub failures: u64,
    /// Prompt tokens the server reported, cache hits excluded.
    pub prompt_tokens: u64,
    /// Completion tokens the server reported, cache hits excluded.
    pub completion_tokens: u64,
    /// Estimated cost of the server requests, when the price table knows the model.
    pub cost_usd: Option<f64>,
    /// What the cache hits would have cost.
    pub saved_by_cache_usd: Option<f64>,
    /// Rejected outputs by reason.
    pub rejections: BTreeMap<String, u64>,
}

impl Summary {
    /// All rejections.
    pub fn rejected(&self) -> u64 {
        self.rejections.values().sum()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "requests {} (HTTP attempts {}, retries {}, failures {}), cache hits {}, tokens {} prompt + {} completion",
            self.requests,
            self.http_attempts,
            self.retries,
            self.failures,
            self.cache_hits,
            self.prompt_tokens,
            self.completion_tokens
        )?;
        if let Some(c) = self.cost_usd {
            write!(f, ", cost ${c:.4}")?;
        }
        if !self.rejections.is_empty() {
            let r: Vec<String> = self.rejections.iter().map(|(k, v)| format!("{k} {v}")).collect();
            write!(f, "; rejected {} ({})", self.rejected(), r.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_and_rejections() {
        let a = Accounting::default();
        a.prompt_tokens.store(2_000_000, Relaxed);
        a.completion_tokens.store(1_000_000, Relaxed);
        a.reject("unknown-label");
        a.reject("unknown-label");
        a.reject("too-few-sentences");
        let s = a.summary(Some(Price { prompt_per_million: 0.5, completion_per_million: 1.5 }));
        assert!((s.cost_usd.unwrap() - 2.5).abs() < 1e-12);
        assert_eq!(s.rejected(), 3);
        assert_eq!(s.rejections["unknown-label"], 2);
        assert!(s.to_string().contains("rejected 3 (too-few-sentences 1, unknown-label 2)"));
        assert_eq!(a.summary(None).cost_usd, None);
    }
}
