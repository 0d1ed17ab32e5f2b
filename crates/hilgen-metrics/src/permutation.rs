//! The max-statistic permutation test over sentences (Westfall and Young 1993): does the best of
//! several systems, picked on the same sentences, beat a default by more than picking the best
//! of that many systems gives by chance?
//!
//! A paired test of the winner against the default ([`crate::bootstrap::paired_test`]) forgets
//! that the winner was picked as the maximum: on ten dev sentences the best of fifty ensembles, or
//! of six hundred dictionary configurations, beats the default "at p <= 0.05" far more often than
//! one time in twenty. Here, under the null hypothesis that the systems are exchangeable on every
//! sentence (none is better), each replicate shuffles the systems' outputs within every sentence
//! and takes the largest F1 gain of any system over the default; the p-value is the share of
//! replicates whose largest gain reaches the observed one. Its level holds however few the
//! sentences and however many the systems; with few sentences it rarely lets a choice through.
//!
//! ```
//! use hilgen_metrics::{bootstrap::sentence_counts, permutation, Options, ZeroDivision};
//! let gold = vec![vec!["B-X", "O"], vec!["O", "B-X"], vec!["B-X", "I-X"]];
//! let default = vec![vec!["B-X", "O"], vec!["O", "O"], vec!["O", "O"]];
//! let better = vec![vec!["B-X", "O"], vec!["O", "B-X"], vec!["B-X", "I-X"]];
//! let counts = vec![
//!     sentence_counts(&gold, &default, Options::default()).unwrap(),
//!     sentence_counts(&gold, &better, Options::default()).unwrap(),
//! ];
//! let t = permutation::max_test(&counts, 0, ZeroDivision::Zero, &permutation::Config::default()).unwrap();
//! assert_eq!(t.best, 1);
//! // Three sentences, two of them different: a swap of those two is as likely as what we saw.
//! assert!(t.p_value > 0.2);
//! ```

use crate::bootstrap;
use crate::error::{MetricsError, Result};
use crate::scores::{prf_quiet, Options, ZeroDivision};
use hilgen_corpus::Sentence;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The test a guard on a dev choice runs (`[selection] guard_test`): whether the configuration
/// best on dev beats the default by more than chance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuardTest {
    /// The paired bootstrap of the best against the default alone
    /// ([`crate::bootstrap::paired_test`]); it ignores that the best was picked among many.
    #[default]
    PairedBootstrap,
    /// [`max_test`] over every configuration tried: the best's gain against the largest gain of
    /// any configuration when outputs are shuffled within sentences.
    MaxPermutation,
}

impl GuardTest {
    /// Whether this is the default (left out of settings, so their hashes stay).
    pub fn is_default(&self) -> bool {
        *self == GuardTest::default()
    }

    /// The p-value of `best` beating `default` on the `gold` sentences, seeded by `seed`.
    /// `tried` gives the per-sentence counts ([`crate::bootstrap::sentence_counts_of`]) of
    /// every candidate the best was picked among; only [`GuardTest::MaxPermutation`] calls it,
    /// and adds the default's counts itself.
    pub fn p_value(
        self,
        gold: &[Sentence],
        best: &[Sentence],
        default: &[Sentence],
        tried: impl FnOnce() -> Result<Vec<Vec<[usize; 3]>>>,
        options: Options,
        seed: u64,
    ) -> Result<f64> {
        Ok(match self {
            GuardTest::PairedBootstrap => {
                let config = bootstrap::Config { seed, ..Default::default() };
                bootstrap::paired_test_sentences(gold, best, default, options, &config)?.p_value
            }
            GuardTest::MaxPermutation => {
                let counts = std::iter::once(bootstrap::sentence_counts_of(gold, default, options)?)
                    .chain(tried()?)
                    .collect::<Vec<_>>();
                let config = Config { seed, ..Default::default() };
                max_test(&counts, 0, options.zero_division, &config)?.p_value
            }
        })
    }
}

impl std::fmt::Display for GuardTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GuardTest::PairedBootstrap => "paired bootstrap",
            GuardTest::MaxPermutation => "max-statistic permutation",
        })
    }
}

/// Permutation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Number of replicates (default 1000).
    pub replicates: usize,
    /// Random seed (default 1).
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { replicates: 1000, seed: 1 }
    }
}

/// Result of [`max_test`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MaxTest {
    /// The system with the highest micro F1 (the first of equals).
    pub best: usize,
    /// Its micro F1.
    pub f1_best: f64,
    /// The default's micro F1.
    pub f1_default: f64,
    /// How many distinct systems took part (systems with the same counts on every sentence
    /// count once).
    pub distinct: usize,
    /// One-sided p-value: (1 + replicates whose largest gain reaches the observed) / (1 + replicates).
    pub p_value: f64,
}

fn f1(c: [usize; 3], zd: ZeroDivision) -> f64 {
    prf_quiet(c[0], c[1], c[2], zd).2
}

/// Tests "the best of the systems beats `systems[default]`" on per-sentence entity counts
/// (`counts[system][sentence]` = (tp, predicted, gold), as [`crate::bootstrap::sentence_counts`]
/// gives them), accounting for the best having been picked among all of them.
pub fn max_test(counts: &[Vec<[usize; 3]>], default: usize, zd: ZeroDivision, config: &Config) -> Result<MaxTest> {
    if config.replicates == 0 {
        return Err(MetricsError::Invalid("permutation test needs at least 1 replicate".into()));
    }
    let Some(n) = counts.first().map(Vec::len) else {
        return Err(MetricsError::Empty("no systems to compare".into()));
    };
    if default >= counts.len() {
        return Err(MetricsError::Invalid(format!("default system {default} of {} systems", counts.len())));
    }
    if n == 0 {
        return Err(MetricsError::Empty("no sentences to permute".into()));
    }
    if let Some((i, c)) = counts.iter().enumerate().find(|(_, c)| c.len() != n) {
        return Err(MetricsError::Invalid(format!(
            "system {i} has counts for {} sentences, system 0 for {n}",
            c.len()
        )));
    }
    if let Some(i) = (0..n).find(|&i| counts.iter().any(|c| c[i][2] != counts[0][i][2])) {
        return Err(MetricsError::Invalid(format!("sentence {i}: the systems were scored against different gold")));
    }
    let totals = |c: &Vec<[usize; 3]>| c.iter().fold([0; 3], |a, x| [a[0] + x[0], a[1] + x[1], a[2] + x[2]]);
    let scores: Vec<f64> = counts.iter().map(|c| f1(totals(c), zd)).collect();
    let best = (0..scores.len()).fold(0, |b, i| if scores[i] > scores[b] { i } else { b });
    // Distinct systems, the default first.
    let mut seen = HashSet::new();
    let distinct: Vec<&Vec<[usize; 3]>> =
        std::iter::once(&counts[default]).chain(counts.iter()).filter(|c| seen.insert(c.as_slice())).collect();
    let m = distinct.len();
    // Per sentence, the distinct systems' counts.
    let rows: Vec<Vec<[usize; 3]>> = (0..n).map(|i| distinct.iter().map(|c| c[i]).collect()).collect();
    let observed = scores[best] - scores[default];
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut reached = 0usize;
    let mut perm: Vec<usize> = (0..m).collect();
    let mut sums = vec![[0usize; 3]; m];
    for _ in 0..config.replicates {
        sums.iter_mut().for_each(|s| *s = [0; 3]);
        for row in &rows {
            for j in (1..m).rev() {
                perm.swap(j, rng.gen_range(0..=j));
            }
            for (s, &from) in sums.iter_mut().zip(&perm) {
                let c = row[from];
                s[0] += c[0];
                s[1] += c[1];
                s[2] += c[2];
            }
        }
        let base = f1(sums[0], zd);
        let top = sums.iter().map(|&s| f1(s, zd)).fold(f64::NEG_INFINITY, f64::max);
        // A tolerance, so that equal F1s computed in another order count as reached.
        reached += usize::from(top - base >= observed - 1e-12);
    }
    Ok(MaxTest {
        best,
        f1_best: scores[best],
        f1_default: scores[default],
        distinct: m,
        p_value: (1 + reached) as f64 / (1 + config.replicates) as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::sentence_counts;
    use crate::Options;

    fn counts(gold: &[Vec<&str>], pred: &[Vec<&str>]) -> Vec<[usize; 3]> {
        sentence_counts(gold, pred, Options::default()).unwrap()
    }

    /// `n` sentences with one entity each; a system finds the entity in the sentences `hit` says.
    fn system(n: usize, hit: impl Fn(usize) -> bool) -> (Vec<Vec<&'static str>>, Vec<Vec<&'static str>>) {
        let gold = (0..n).map(|_| vec!["B-X", "O"]).collect();
        let pred = (0..n).map(|i| if hit(i) { vec!["B-X", "O"] } else { vec!["O", "O"] }).collect();
        (gold, pred)
    }

    #[test]
    fn a_clear_winner_on_many_sentences_passes() {
        let (gold, default) = system(200, |i| i % 2 == 0);
        let (_, better) = system(200, |i| i % 10 != 0);
        let c = vec![counts(&gold, &default), counts(&gold, &better)];
        let t = max_test(&c, 0, ZeroDivision::Zero, &Config::default()).unwrap();
        assert_eq!(t.best, 1);
        assert!(t.p_value < 0.01, "{t:?}");
        assert_eq!(t, max_test(&c, 0, ZeroDivision::Zero, &Config::default()).unwrap(), "seeded");
    }

    #[test]
    fn picking_the_best_of_many_on_few_sentences_is_not_enough() {
        // Ten sentences; the default finds 5 entities; 40 systems find 5 or 6 entities each, in
        // different sentences. The best gains a tenth of recall, which a paired test of it alone
        // against the default would credit; among 40 it is what chance gives.
        let n = 10;
        let (gold, default) = system(n, |i| i < 5);
        let mut c = vec![counts(&gold, &default)];
        for k in 0..40 {
            let extra = usize::from(k == 17);
            let (_, p) = system(n, |i| (i + k) % n < 5 + extra);
            c.push(counts(&gold, &p));
        }
        let t = max_test(&c, 0, ZeroDivision::Zero, &Config::default()).unwrap();
        assert_eq!(t.best, 18);
        assert!(t.f1_best > t.f1_default);
        assert!(t.p_value > 0.2, "{t:?}");
        // Duplicates count once: 10 rotations of 5 hits, the default among them, and the 6-hit one.
        assert_eq!(t.distinct, 11);
    }

    #[test]
    fn the_default_best_gives_one_and_bad_input_is_an_error() {
        let (gold, default) = system(5, |_| true);
        let (_, worse) = system(5, |i| i > 2);
        let c = vec![counts(&gold, &default), counts(&gold, &worse)];
        let t = max_test(&c, 0, ZeroDivision::Zero, &Config::default()).unwrap();
        assert_eq!((t.best, t.p_value), (0, 1.0));
        assert!(max_test(&c, 2, ZeroDivision::Zero, &Config::default()).is_err());
        assert!(max_test(&[], 0, ZeroDivision::Zero, &Config::default()).is_err());
        assert!(max_test(&c, 0, ZeroDivision::Zero, &Config { replicates: 0, seed: 1 }).is_err());
        let short = vec![c[0].clone(), c[1][..3].to_vec()];
        assert!(max_test(&short, 0, ZeroDivision::Zero, &Config::default()).is_err());
        let (other_gold, p) = system(5, |_| true);
        let mut other = counts(&other_gold, &p);
        other[0][2] += 1;
        assert!(max_test(&[c[0].clone(), other], 0, ZeroDivision::Zero, &Config::default()).is_err());
    }

    #[test]
    fn level_holds_under_the_null() {
        // Systems drawn alike (each sentence's entity found with probability 1/2): the test
        // should reject at 0.05 about one time in twenty or less.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 12;
        let mut rejected = 0;
        for round in 0..100 {
            let gold: Vec<Vec<&str>> = (0..n).map(|_| vec!["B-X", "O"]).collect();
            let c: Vec<Vec<[usize; 3]>> = (0..8)
                .map(|_| {
                    let pred: Vec<Vec<&str>> =
                        (0..n).map(|_| if rng.gen_bool(0.5) { vec!["B-X", "O"] } else { vec!["O", "O"] }).collect();
                    counts(&gold, &pred)
                })
                .collect();
            let t = max_test(&c, 0, ZeroDivision::Zero, &Config { replicates: 200, seed: round }).unwrap();
            rejected += usize::from(t.p_value <= 0.05);
        }
        assert!(rejected <= 10, "{rejected} of 100 rejected under the null");
    }
}
