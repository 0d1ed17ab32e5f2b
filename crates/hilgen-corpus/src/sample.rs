//! Few-shot samplers, seeded and deterministic (ChaCha8 from the seed; the same corpus and seed
//! always give the same sample).
//!
//! - [`sample_per_type`]: the HILGEN paper's sampler: for each entity type (in sorted order),
//!   K sentences containing that type, drawn at random without replacement from the sentences
//!   not yet chosen.
//! - [`sample_greedy_nway`]: Few-NERD's greedy N-way K~2K sampler: sentences in random order are
//!   added when they bring a type still below K mentions and push no type above 2K.
//!
//! ```
//! use hilgen_corpus::{sample::sample_per_type, Sentence};
//! let s = |tags: &str| Sentence::new(tags.split(' ').map(|_| "w".into()).collect(),
//!                                    tags.split(' ').map(String::from).collect()).unwrap();
//! let pool = vec![s("B-X O"), s("O B-Y"), s("B-X B-Y"), s("O O")];
//! let sample = sample_per_type(&pool, 1, 42).unwrap();
//! assert_eq!(sample.indices.len(), 2);
//! ```

use crate::error::{CorpusError, Result};
use crate::sentence::{label_set, Sentence};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;

/// The default number of shots.
pub const DEFAULT_K: usize = 5;

/// What a sampler realised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// Indices of the chosen sentences in the pool, in the order drawn.
    pub indices: Vec<usize>,
    /// Sentences chosen per type (sentences containing that type).
    pub sentences_per_type: BTreeMap<String, usize>,
    /// Mentions per type over the whole sample.
    pub mentions_per_type: BTreeMap<String, usize>,
    /// Types for which fewer than K sentences (or mentions) could be found.
    pub short: Vec<String>,
}

impl Sample {
    /// The chosen sentences, cloned from `pool`.
    pub fn sentences(&self, pool: &[Sentence]) -> Vec<Sentence> {
        self.indices.iter().map(|&i| pool[i].clone()).collect()
    }

    fn realise(indices: Vec<usize>, pool: &[Sentence], short: Vec<String>) -> Result<Sample> {
        let mut sentences_per_type = BTreeMap::new();
        let mut mentions_per_type = BTreeMap::new();
        for &i in &indices {
            let counts = type_counts(&pool[i])?;
            for (label, n) in counts {
                *sentences_per_type.entry(label.clone()).or_default() += 1;
                *mentions_per_type.entry(label).or_default() += n;
            }
        }
        Ok(Sample { indices, sentences_per_type, mentions_per_type, short })
    }
}

fn type_counts(s: &Sentence) -> Result<BTreeMap<String, usize>> {
    let mut counts = BTreeMap::new();
    for m in s.mentions()? {
        *counts.entry(m.span.label).or_default() += 1;
    }
    Ok(counts)
}

fn check_k(k: usize) -> Result<()> {
    if k == 0 {
        return Err(CorpusError::Invalid("K must be at least 1".into()));
    }
    Ok(())
}

/// The paper's sampler (see the module docs).
pub fn sample_per_type(pool: &[Sentence], k: usize, seed: u64) -> Result<Sample> {
    check_k(k)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let counts: Vec<BTreeMap<String, usize>> = pool.iter().map(type_counts).collect::<Result<_>>()?;
    let mut chosen = vec![false; pool.len()];
    let mut indices = Vec::new();
    let mut short = Vec::new();
    for label in label_set(pool) {
        let mut candidates: Vec<usize> =
            (0..pool.len()).filter(|&i| !chosen[i] && counts[i].contains_key(&label)).collect();
        candidates.shuffle(&mut rng);
        if candidates.len() < k {
            short.push(label.clone());
        }
        for &i in candidates.iter().take(k) {
            chosen[i] = true;
            indices.push(i);
        }
    }
    Sample::realise(indices, pool, short)
}

/// Few-NERD's greedy N-way K~2K sampler (see the module docs).
pub fn sample_greedy_nway(pool: &[Sentence], k: usize, seed: u64) -> Result<Sample> {
    check_k(k)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels: Vec<String> = label_set(pool).into_iter().collect();
    let mut have: BTreeMap<&str, usize> = labels.iter().map(|l| (l.as_str(), 0)).collect();
    let mut order: Vec<usize> = (0..pool.len()).collect();
    order.shuffle(&mut rng);
    let mut indices = Vec::new();
    for i in order {
        if have.values().all(|&n| n >= k) {
            break;
        }
        let counts = type_counts(&pool[i])?;
        let helps = counts.keys().any(|l| have[l.as_str()] < k);
        let fits = counts.iter().all(|(l, n)| have[l.as_str()] + n <= 2 * k);
        if helps && fits {
            for (l, n) in &counts {
                *have.get_mut(l.as_str()).expect("label of the pool") += n;
            }
            indices.push(i);
        }
    }
    let short = have.iter().filter(|(_, &n)| n < k).map(|(l, _)| l.to_string()).collect();
    Sample::realise(indices, pool, short)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> Vec<Sentence> {
        let s = |tags: &str| {
            Sentence::new(tags.split(' ').map(|_| "w".into()).collect(), tags.split(' ').map(String::from).collect())
                .unwrap()
        };
        (0..40)
            .map(|i| match i % 4 {
                0 => s("B-X O"),
                1 => s("O B-Y"),
                2 => s("B-X B-Y B-X"),
                _ => s("O O"),
            })
            .collect()
    }

    #[test]
    fn per_type_is_deterministic_and_counts() {
        let p = pool();
        let a = sample_per_type(&p, 5, 7).unwrap();
        assert_eq!(a, sample_per_type(&p, 5, 7).unwrap());
        assert_ne!(a.indices, sample_per_type(&p, 5, 8).unwrap().indices);
        assert_eq!(a.indices.len(), 10);
        assert!(a.sentences_per_type["X"] >= 5 && a.sentences_per_type["Y"] >= 5);
        assert!(a.short.is_empty());
        let mut sorted = a.indices.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), 10);
    }

    #[test]
    fn greedy_respects_k_to_2k() {
        let p = pool();
        for seed in 0..20 {
            let s = sample_greedy_nway(&p, 3, seed).unwrap();
            for l in ["X", "Y"] {
                let n = s.mentions_per_type[l];
                assert!((3..=6).contains(&n), "seed {seed}: {l} has {n}");
            }
        }
        assert!(sample_greedy_nway(&p, 0, 1).is_err());
    }
}
