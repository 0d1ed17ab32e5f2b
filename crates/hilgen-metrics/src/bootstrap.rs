//! Bootstrap statistics over sentences: a confidence interval for micro F1 and the paired
//! bootstrap test between two systems on the same gold standard.
//!
//! Sentences are resampled with replacement (ChaCha8 seeded, so results are reproducible);
//! entity counts are summed per replicate, so each replicate costs O(sentences).
//!
//! ```
//! use hilgen_metrics::{bootstrap, Options};
//! let gold = vec![vec!["B-X", "O"], vec!["B-X", "I-X"], vec!["O", "B-Y"]];
//! let pred = vec![vec!["B-X", "O"], vec!["B-X", "O"], vec!["O", "B-Y"]];
//! let ci = bootstrap::f1_interval(&gold, &pred, Options::default(), &bootstrap::Config::default()).unwrap();
//! assert!(ci.lower <= ci.estimate && ci.estimate <= ci.upper);
//! ```

use crate::error::{MetricsError, Result};
use crate::scores::{check_lengths, check_tokens, entities, merge, prf_quiet, sorted_unique, Options, ZeroDivision};
use hilgen_corpus::Sentence;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Bootstrap settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Number of replicates (default 1000).
    pub replicates: usize,
    /// Random seed (default 1).
    pub seed: u64,
    /// Confidence level of intervals (default 0.95).
    pub confidence: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config { replicates: 1000, seed: 1, confidence: 0.95 }
    }
}

impl Config {
    fn check(&self) -> Result<()> {
        if self.replicates == 0 || !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(MetricsError::Invalid(format!(
                "bootstrap needs at least 1 replicate and a confidence in (0, 1); got {} and {}",
                self.replicates, self.confidence
            )));
        }
        Ok(())
    }
}

/// A point estimate with a percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Micro F1 on the full data.
    pub estimate: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Confidence level.
    pub confidence: f64,
}

/// Result of a paired bootstrap test of "system A is better than system B".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedTest {
    /// Micro F1 of A.
    pub f1_a: f64,
    /// Micro F1 of B.
    pub f1_b: f64,
    /// F1(A) - F1(B) with its interval.
    pub delta: Interval,
    /// One-sided p-value: (1 + replicates where A is not better) / (1 + replicates).
    pub p_value: f64,
}

/// Per-sentence (tp, predicted, gold) entity counts over all types.
pub fn sentence_counts<Q, S, R, T>(gold: &[Q], pred: &[R], options: Options) -> Result<Vec<[usize; 3]>>
where
    Q: AsRef<[S]>,
    S: AsRef<str>,
    R: AsRef<[T]>,
    T: AsRef<str>,
{
    check_lengths(gold, pred)?;
    let g = entities(gold, options.mode)?;
    let p = entities(pred, options.mode)?;
    let (g, p) = (sorted_unique(&g), sorted_unique(&p));
    let last = gold.len().saturating_sub(1);
    let mut counts = vec![[0usize; 3]; gold.len()];
    for e in &g {
        counts[e.sentence.min(last)][2] += 1;
    }
    merge(&g, &p, |e, hit| {
        let c = &mut counts[e.sentence.min(last)];
        c[1] += 1;
        c[0] += usize::from(hit);
    });
    Ok(counts)
}

fn micro_f1(tp: usize, pred: usize, gold: usize, zd: ZeroDivision) -> f64 {
    prf_quiet(tp, pred, gold, zd).2
}

/// Per-sentence counts of a non-empty evaluation.
fn resamplable<Q, S, R, T>(gold: &[Q], pred: &[R], options: Options) -> Result<Vec<[usize; 3]>>
where
    Q: AsRef<[S]>,
    S: AsRef<str>,
    R: AsRef<[T]>,
    T: AsRef<str>,
{
    let counts = sentence_counts(gold, pred, options)?;
    if counts.is_empty() {
        return Err(MetricsError::Empty("no sentences to resample".into()));
    }
    Ok(counts)
}

fn total(counts: &[[usize; 3]], idx: impl Iterator<Item = usize>) -> [usize; 3] {
    idx.fold([0; 3], |a, i| [a[0] + counts[i][0], a[1] + counts[i][1], a[2] + counts[i][2]])
}

/// numpy's default (linear) percentile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn interval(estimate: f64, mut values: Vec<f64>, confidence: f64) -> Interval {
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    Interval { estimate, lower: quantile(&values, tail), upper: quantile(&values, 1.0 - tail), confidence }
}

/// Percentile bootstrap interval of micro F1.
pub fn f1_interval<Q, S, R, T>(gold: &[Q], pred: &[R], options: Options, config: &Config) -> Result<Interval>
where
    Q: AsRef<[S]>,
    S: AsRef<str>,
    R: AsRef<[T]>,
    T: AsRef<str>,
{
    config.check()?;
    let counts = resamplable(gold, pred, options)?;
    let n = counts.len();
    let zd = options.zero_division;
    let all = total(&counts, 0..n);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let values = (0..config.replicates)
        .map(|_| {
            let t = total(&counts, (0..n).map(|_| rng.gen_range(0..n)));
            micro_f1(t[0], t[1], t[2], zd)
        })
        .collect();
    Ok(interval(micro_f1(all[0], all[1], all[2], zd), values, config.confidence))
}

/// Paired bootstrap test: both systems are scored on the same resampled sentences.
pub fn paired_test<Q, S, R, T>(
    gold: &[Q],
    pred_a: &[R],
    pred_b: &[R],
    options: Options,
    config: &Config,
) -> Result<PairedTest>
where
    Q: AsRef<[S]>,
    S: AsRef<str>,
    R: AsRef<[T]>,
    T: AsRef<str>,
{
    config.check()?;
    let a = resamplable(gold, pred_a, options)?;
    let b = resamplable(gold, pred_b, options)?;
    let n = a.len();
    let zd = options.zero_division;
    let f = |c: [usize; 3]| micro_f1(c[0], c[1], c[2], zd);
    let (f1_a, f1_b) = (f(total(&a, 0..n)), f(total(&b, 0..n)));
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut not_better = 0usize;
    let mut deltas = Vec::with_capacity(config.replicates);
    let mut idx = vec![0usize; n];
    for _ in 0..config.replicates {
        idx.iter_mut().for_each(|i| *i = rng.gen_range(0..n));
        let d = f(total(&a, idx.iter().copied())) - f(total(&b, idx.iter().copied()));
        not_better += usize::from(d <= 0.0);
        deltas.push(d);
    }
    Ok(PairedTest {
        f1_a,
        f1_b,
        delta: interval(f1_a - f1_b, deltas, config.confidence),
        p_value: (1 + not_better) as f64 / (1 + config.replicates) as f64,
    })
}

fn tags(sentences: &[Sentence]) -> Vec<&[String]> {
    sentences.iter().map(|s| s.tags.as_slice()).collect()
}

/// [`sentence_counts`] of tagged sentences against gold sentences (the tokens must match).
pub fn sentence_counts_of(gold: &[Sentence], pred: &[Sentence], options: Options) -> Result<Vec<[usize; 3]>> {
    check_tokens(gold, pred)?;
    sentence_counts(&tags(gold), &tags(pred), options)
}

/// [`paired_test`] of two systems' tagged sentences against gold sentences (the tokens must
/// match, as [`crate::evaluate_sentences`] checks them).
pub fn paired_test_sentences(
    gold: &[Sentence],
    pred_a: &[Sentence],
    pred_b: &[Sentence],
    options: Options,
    config: &Config,
) -> Result<PairedTest> {
    check_tokens(gold, pred_a)?;
    check_tokens(gold, pred_b)?;
    paired_test(&tags(gold), &tags(pred_a), &tags(pred_b), options, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_systems_are_not_different_and_perfect_is_certain() {
        let gold: Vec<Vec<&str>> =
            (0..50).map(|i| if i % 2 == 0 { vec!["B-X", "O"] } else { vec!["O", "B-Y"] }).collect();
        let ci = f1_interval(&gold, &gold, Options::default(), &Config::default()).unwrap();
        assert_eq!((ci.estimate, ci.lower, ci.upper), (1.0, 1.0, 1.0));
        let t = paired_test(&gold, &gold, &gold, Options::default(), &Config::default()).unwrap();
        assert_eq!(t.p_value, 1.0);
        let worse: Vec<Vec<&str>> =
            gold.iter().enumerate().map(|(i, g)| if i % 3 == 0 { vec!["O", "O"] } else { g.clone() }).collect();
        let t =
            paired_test(&gold, &gold, &worse, Options::default(), &Config { replicates: 500, ..Default::default() })
                .unwrap();
        assert!(t.p_value < 0.01, "{t:?}");
        assert!(t.delta.lower > 0.0);
        assert_eq!(
            t,
            paired_test(&gold, &gold, &worse, Options::default(), &Config { replicates: 500, ..Default::default() })
                .unwrap()
        );
    }

    #[test]
    fn bad_config_is_an_error() {
        let g = vec![vec!["O"]];
        assert!(f1_interval(&g, &g, Options::default(), &Config { replicates: 0, ..Default::default() }).is_err());
        assert!(f1_interval(&g, &g, Options::default(), &Config { confidence: 1.5, ..Default::default() }).is_err());
    }
}
