//! Precision, recall, F1 and support per type and averaged, exactly as seqeval 1.2.2 computes
//! them (including its zero-division rules), plus token accuracy.

use crate::entities::{default_entities, strict_entities, Entity};
use crate::error::{MetricsError, Result};
use hilgen_corpus::{Scheme, Sentence};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How entities are read from tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Mode {
    /// seqeval's default, conlleval-compatible chunking (any tag accepted).
    #[default]
    Default,
    /// seqeval's `mode="strict"` with this scheme (ill-formed entities yield nothing).
    Strict(Scheme),
}

/// What a ratio with a zero denominator becomes (seqeval's `zero_division`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ZeroDivision {
    /// 0, with a warning in the log (seqeval's default, `"warn"`).
    #[default]
    Warn,
    /// 0, silently.
    Zero,
    /// 1.
    One,
}

impl std::str::FromStr for ZeroDivision {
    type Err = MetricsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "warn" => Ok(ZeroDivision::Warn),
            "0" => Ok(ZeroDivision::Zero),
            "1" => Ok(ZeroDivision::One),
            _ => Err(MetricsError::Invalid(format!("zero division must be warn, 0 or 1, not `{s}`"))),
        }
    }
}

impl ZeroDivision {
    fn value(self) -> f64 {
        if self == ZeroDivision::One {
            1.0
        } else {
            0.0
        }
    }
}

/// Scoring options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Options {
    /// Entity reading mode (default: seqeval's default mode).
    pub mode: Mode,
    /// Zero-division rule (default: warn, i.e. 0).
    pub zero_division: ZeroDivision,
}

/// Precision, recall, F1 and support of one row of a report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prf {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Number of gold entities.
    pub support: usize,
}

/// Counts of one entity type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Entities found in both.
    pub tp: usize,
    /// Predicted entities.
    pub predicted: usize,
    /// Gold entities.
    pub gold: usize,
}

/// The full evaluation of a prediction against a gold standard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Per entity type, sorted by type.
    pub per_type: BTreeMap<String, Prf>,
    /// Counts per type.
    pub counts: BTreeMap<String, Counts>,
    /// Micro average.
    pub micro: Prf,
    /// Macro average (NaN when there is no entity type at all, as in seqeval).
    pub macro_avg: Prf,
    /// Support-weighted average.
    pub weighted: Prf,
    /// Token accuracy.
    pub accuracy: f64,
    /// Options used.
    pub options: Options,
}

/// Entities of gold and prediction under a mode.
pub fn entities<'a, Q: AsRef<[S]>, S: AsRef<str> + 'a>(seqs: &'a [Q], mode: Mode) -> Result<Vec<Entity<'a>>> {
    match mode {
        Mode::Default => Ok(default_entities(seqs)),
        Mode::Strict(scheme) => strict_entities(seqs, scheme),
    }
}

/// Checks that gold and prediction have the same number of sentences and tokens per sentence.
pub fn check_lengths<Q: AsRef<[S]>, S, R: AsRef<[T]>, T>(gold: &[Q], pred: &[R]) -> Result<()> {
    if gold.len() != pred.len() {
        return Err(MetricsError::SentenceCount { gold: gold.len(), pred: pred.len() });
    }
    for (i, (g, p)) in gold.iter().zip(pred).enumerate() {
        let (g, p) = (g.as_ref(), p.as_ref());
        if g.len() != p.len() {
            return Err(MetricsError::SentenceMismatch {
                sentence: i,
                message: format!("gold has {} tokens but the prediction has {}", g.len(), p.len()),
            });
        }
    }
    Ok(())
}

/// Entities sorted by (type, sentence, start, end) with duplicates removed (seqeval uses sets).
pub fn sorted_unique<'a>(entities: &[Entity<'a>]) -> Vec<Entity<'a>> {
    let mut v = entities.to_vec();
    v.sort_unstable_by(|a, b| (a.label, a.sentence, a.start, a.end).cmp(&(b.label, b.sentence, b.start, b.end)));
    v.dedup();
    v
}

/// Walks two [`sorted_unique`] lists together, calling `matched` for each predicted entity with
/// whether it is also in gold.
pub fn merge<'a>(gold: &[Entity<'a>], pred: &[Entity<'a>], mut matched: impl FnMut(&Entity<'a>, bool)) {
    let key = |e: &Entity<'a>| (e.label, e.sentence, e.start, e.end);
    let mut i = 0;
    for p in pred {
        while i < gold.len() && key(&gold[i]) < key(p) {
            i += 1;
        }
        matched(p, i < gold.len() && gold[i] == *p);
    }
}

/// Per-type counts (types sorted) from two entity lists.
pub fn count(gold: &[Entity<'_>], pred: &[Entity<'_>]) -> BTreeMap<String, Counts> {
    let (g, p) = (sorted_unique(gold), sorted_unique(pred));
    let mut counts: BTreeMap<&str, Counts> = BTreeMap::new();
    for e in &g {
        counts.entry(e.label).or_default().gold += 1;
    }
    merge(&g, &p, |e, hit| {
        let c = counts.entry(e.label).or_default();
        c.predicted += 1;
        c.tp += usize::from(hit);
    });
    counts.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// `num / den`, or the zero-division value (logged once through `warned` when it is `Warn`).
fn divide(num: usize, den: usize, zd: ZeroDivision, what: &str, warned: &mut bool) -> f64 {
    if den == 0 {
        if zd == ZeroDivision::Warn && !*warned {
            tracing::warn!("{what} is ill-defined and set to 0.0 where there are no entities; set the zero-division option to control this");
            *warned = true;
        }
        zd.value()
    } else {
        num as f64 / den as f64
    }
}

fn f1(p: f64, r: f64) -> f64 {
    let denom = p + r;
    2.0 * p * r / if denom == 0.0 { 1.0 } else { denom }
}

/// Precision, recall and F1 from entity counts, with seqeval's zero-division rule and no
/// warning (for resampling, where the same case recurs).
pub(crate) fn prf_quiet(tp: usize, pred: usize, gold: usize, zd: ZeroDivision) -> (f64, f64, f64) {
    let mut warned = true;
    let p = divide(tp, pred, zd, "precision", &mut warned);
    let r = divide(tp, gold, zd, "recall", &mut warned);
    (p, r, f1(p, r))
}

/// Scores from per-type counts, with seqeval's averaging and zero-division rules.
pub fn scores(counts: &BTreeMap<String, Counts>, zd: ZeroDivision) -> (BTreeMap<String, Prf>, Prf, Prf, Prf) {
    let mut warned = false;
    let mut per_type = BTreeMap::new();
    for (label, c) in counts {
        let p = divide(c.tp, c.predicted, zd, "precision", &mut warned);
        let r = divide(c.tp, c.gold, zd, "recall", &mut warned);
        per_type.insert(label.clone(), Prf { precision: p, recall: r, f1: f1(p, r), support: c.gold });
    }
    let (tp, pred, gold) = counts.values().fold((0, 0, 0), |a, c| (a.0 + c.tp, a.1 + c.predicted, a.2 + c.gold));
    let mp = divide(tp, pred, zd, "precision", &mut warned);
    let mr = divide(tp, gold, zd, "recall", &mut warned);
    let micro = Prf { precision: mp, recall: mr, f1: f1(mp, mr), support: gold };
    let n = per_type.len() as f64;
    let mean = |f: fn(&Prf) -> f64| per_type.values().map(f).sum::<f64>() / n;
    let macro_avg =
        Prf { precision: mean(|x| x.precision), recall: mean(|x| x.recall), f1: mean(|x| x.f1), support: gold };
    let weighted = if gold == 0 {
        let v = zd.value();
        let pf = if pred == 0 { v } else { 0.0 };
        Prf { precision: pf, recall: v, f1: pf, support: gold }
    } else {
        let w = |f: fn(&Prf) -> f64| per_type.values().map(|x| f(x) * x.support as f64).sum::<f64>() / gold as f64;
        Prf { precision: w(|x| x.precision), recall: w(|x| x.recall), f1: w(|x| x.f1), support: gold }
    };
    (per_type, micro, macro_avg, weighted)
}

/// Token accuracy (an error when there are no tokens).
pub fn accuracy<Q: AsRef<[S]>, S: AsRef<str>, R: AsRef<[T]>, T: AsRef<str>>(gold: &[Q], pred: &[R]) -> Result<f64> {
    let total: usize = gold.iter().map(|g| g.as_ref().len()).sum();
    if total == 0 {
        return Err(MetricsError::Empty("the gold standard has no tokens".into()));
    }
    let correct: usize = gold
        .iter()
        .zip(pred)
        .map(|(g, p)| g.as_ref().iter().zip(p.as_ref()).filter(|(a, b)| a.as_ref() == b.as_ref()).count())
        .sum();
    Ok(correct as f64 / total as f64)
}

/// Evaluates tag sequences (see the crate docs for the exact semantics).
pub fn evaluate<Q, S, R, T>(gold: &[Q], pred: &[R], options: Options) -> Result<Evaluation>
where
    Q: AsRef<[S]>,
    S: AsRef<str>,
    R: AsRef<[T]>,
    T: AsRef<str>,
{
    check_lengths(gold, pred)?;
    let accuracy = accuracy(gold, pred)?;
    let g = entities(gold, options.mode)?;
    let p = entities(pred, options.mode)?;
    let counts = count(&g, &p);
    let (per_type, micro, macro_avg, weighted) = scores(&counts, options.zero_division);
    Ok(Evaluation { per_type, counts, micro, macro_avg, weighted, accuracy, options })
}

/// Evaluates predicted sentences against gold sentences; tokens must match.
pub fn evaluate_sentences(gold: &[Sentence], pred: &[Sentence], options: Options) -> Result<Evaluation> {
    check_tokens(gold, pred)?;
    let g: Vec<&[String]> = gold.iter().map(|s| s.tags.as_slice()).collect();
    let p: Vec<&[String]> = pred.iter().map(|s| s.tags.as_slice()).collect();
    evaluate(&g, &p, options)
}

/// Checks that two sentence lists hold the same tokens; the error names the first difference.
pub fn check_tokens(a: &[Sentence], b: &[Sentence]) -> Result<()> {
    let a: Vec<&[String]> = a.iter().map(|s| s.tokens.as_slice()).collect();
    let b: Vec<&[String]> = b.iter().map(|s| s.tokens.as_slice()).collect();
    check_token_seqs(&a, &b)
}

/// Checks that two lists of token sequences are equal; the error names the first difference.
pub fn check_token_seqs<A, S, B, T>(a: &[A], b: &[B]) -> Result<()>
where
    A: AsRef<[S]>,
    S: AsRef<str>,
    B: AsRef<[T]>,
    T: AsRef<str>,
{
    if a.len() != b.len() {
        return Err(MetricsError::SentenceCount { gold: a.len(), pred: b.len() });
    }
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let (x, y) = (x.as_ref(), y.as_ref());
        if x.len() != y.len() {
            return Err(MetricsError::SentenceMismatch {
                sentence: i,
                message: format!("{} tokens versus {}", x.len(), y.len()),
            });
        }
        if let Some(t) = x.iter().zip(y).position(|(u, v)| u.as_ref() != v.as_ref()) {
            return Err(MetricsError::SentenceMismatch {
                sentence: i,
                message: format!("token {} is `{}` in one and `{}` in the other", t + 1, x[t].as_ref(), y[t].as_ref()),
            });
        }
    }
    Ok(())
}
