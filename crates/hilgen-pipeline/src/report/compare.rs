//! Reports of different experiments side by side (another encoder, another knowledge source,
//! a changed strategy): per system, test and dev F1 over the seeds every report has, and each
//! report's difference to the first, paired by seed.
//!
//! ```no_run
//! use hilgen_pipeline::compare::{compare, Labelled};
//! # fn report(name: &str) -> hilgen_pipeline::report::Report {
//! #     serde_json::from_value(serde_json::json!({"name": name, "dataset": "d", "k": 5, "seeds": [],
//! #         "test_sentences": 1, "rows": [], "ensembles": [], "rejections": {}, "stage_seconds": {},
//! #         "per_seed": []})).unwrap()
//! # }
//! let runs = vec![Labelled::new("MiniLM", report("a")), Labelled::new("MPNet", report("b"))];
//! // Reports without a seed in common cannot be paired: the error says which seeds each has.
//! assert!(compare(&runs, None, None).is_err());
//! ```

use crate::error::{PipelineError, Result};
use crate::report::{mean_sd_of, pct, MeanSd, Report};
use crate::results::{SeedResult, SystemScore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The name the comparison gives the dev-chosen ensemble of each seed.
pub const ENSEMBLE: &str = "best ensemble";

/// A report with the label its column gets.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// Column label (an encoder, a knowledge source, a variant).
    pub label: String,
    /// The report.
    pub report: Report,
}

impl Labelled {
    /// A labelled report.
    pub fn new(label: impl Into<String>, report: Report) -> Labelled {
        Labelled { label: label.into(), report }
    }
}

/// One system in one report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Test F1 over the compared seeds.
    pub test: MeanSd,
    /// Dev F1 over the compared seeds.
    pub dev: MeanSd,
    /// Test F1 of each compared seed, in seed order.
    pub per_seed: Vec<f64>,
    /// Test F1 minus the first report's, seed by seed (absent in the first report's column and
    /// where the first report lacks the system).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<Diff>,
}

/// A paired difference to the first report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    /// Mean and sd of the per-seed differences.
    pub delta: MeanSd,
    /// Seeds on which this report is higher.
    pub higher: usize,
}

/// A system's row: one entry per report (`None` where a report lacks the system).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// `tagger/CONFIG`, `dann/CONFIG`, `dictionary`, `llm/zero-shot` or [`ENSEMBLE`].
    pub system: String,
    /// Per report, in the order given.
    pub entries: Vec<Option<Entry>>,
}

/// The comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Column labels.
    pub labels: Vec<String>,
    /// Experiment name of each report.
    pub names: Vec<String>,
    /// The seeds compared (every report has them).
    pub seeds: Vec<u64>,
    /// Shots per type compared.
    pub k: usize,
    /// One row per system, in the reports' order (tagger and DANN of each training set, then
    /// the other systems, then the ensemble).
    pub rows: Vec<Row>,
    /// Per report, the ensemble dev chose on each compared seed (what the [`ENSEMBLE`] row is:
    /// reports whose runs had other systems to choose from compare different things there).
    #[serde(default)]
    pub ensembles: Vec<Vec<(u64, String)>>,
    /// Test sentences each report was scored on (their differences are not paired on one
    /// test set when these differ).
    #[serde(default)]
    pub test_sentences: Vec<usize>,
    /// Each report's selection protocol (which labelled data chose), where it recorded one.
    #[serde(default)]
    pub protocols: Vec<Option<String>>,
}

impl Comparison {
    /// A warning when the reports were scored on test sets of different sizes.
    pub fn test_set_warning(&self) -> Option<String> {
        let first = *self.test_sentences.first()?;
        self.test_sentences.iter().any(|&n| n != first).then(|| {
            let sizes: Vec<String> =
                self.labels.iter().zip(&self.test_sentences).map(|(l, n)| format!("{l} on {n}")).collect();
            format!(
                "the reports were scored on different test sets ({} sentences): their differences are not paired on one test set",
                sizes.join(", ")
            )
        })
    }
}

impl Comparison {
    /// Only the systems every report has.
    pub fn common(mut self) -> Comparison {
        self.rows.retain(|r| r.entries.iter().all(Option::is_some));
        self
    }
}

/// Compares `runs` on the seeds they share (or `seeds`, which each must have) at `k` (default:
/// the reports' main K, which must agree). Errors name the report that lacks a seed or K.
pub fn compare(runs: &[Labelled], seeds: Option<&[u64]>, k: Option<usize>) -> Result<Comparison> {
    if runs.len() < 2 {
        return Err(PipelineError::Invalid("a comparison needs at least two reports".into()));
    }
    let k = match k {
        Some(k) => k,
        None => {
            let first = runs[0].report.k;
            if let Some(other) = runs.iter().find(|r| r.report.k != first) {
                return Err(PipelineError::Invalid(format!(
                    "`{}` is {}-shot but `{}` is {}-shot: choose one K to compare",
                    runs[0].label, first, other.label, other.report.k
                )));
            }
            first
        }
    };
    let seeds_of = |r: &Labelled| -> BTreeSet<u64> { at_k(&r.report, k).map(|s| s.seed).collect() };
    let chosen: Vec<u64> = match seeds {
        Some(list) => {
            for r in runs {
                let have = seeds_of(r);
                if let Some(missing) = list.iter().find(|s| !have.contains(s)) {
                    return Err(PipelineError::Invalid(format!(
                        "`{}` has no seed {missing} at K = {k} (it has {})",
                        r.label,
                        join(&have)
                    )));
                }
            }
            let mut l = list.to_vec();
            l.sort_unstable();
            l.dedup();
            l
        }
        None => {
            let mut common = seeds_of(&runs[0]);
            for r in &runs[1..] {
                common = common.intersection(&seeds_of(r)).copied().collect();
            }
            if common.is_empty() {
                let each: Vec<String> = runs.iter().map(|r| format!("`{}`: {}", r.label, join(&seeds_of(r)))).collect();
                return Err(PipelineError::Invalid(format!(
                    "the reports share no seed at K = {k} ({}): nothing to pair",
                    each.join("; ")
                )));
            }
            common.into_iter().collect()
        }
    };
    let systems = system_order(runs, &chosen, k);
    let rows = systems
        .into_iter()
        .map(|system| {
            let per_report: Vec<Option<Vec<&SystemScore>>> = runs
                .iter()
                .map(|r| chosen.iter().map(|&seed| score(&r.report, k, seed, &system)).collect::<Option<Vec<_>>>())
                .collect();
            let first = per_report[0].as_ref().map(|v| v.iter().map(|s| s.f1).collect::<Vec<_>>());
            let entries = per_report
                .iter()
                .enumerate()
                .map(|(i, scores)| {
                    let scores = scores.as_ref()?;
                    let per_seed: Vec<f64> = scores.iter().map(|s| s.f1).collect();
                    let diff = match (&first, i) {
                        (Some(base), i) if i > 0 => {
                            let d: Vec<f64> = per_seed.iter().zip(base).map(|(a, b)| a - b).collect();
                            Some(Diff { delta: mean_sd_of(&d), higher: d.iter().filter(|&&x| x > 0.0).count() })
                        }
                        _ => None,
                    };
                    Some(Entry {
                        test: mean_sd_of(&per_seed),
                        dev: mean_sd_of(&scores.iter().map(|s| s.dev_f1).collect::<Vec<_>>()),
                        per_seed,
                        diff,
                    })
                })
                .collect();
            Row { system, entries }
        })
        .collect();
    let ensembles = runs
        .iter()
        .map(|r| {
            chosen
                .iter()
                .map(|&seed| (seed, seed_result(&r.report, k, seed).ensemble.note.clone().unwrap_or_default()))
                .collect()
        })
        .collect();
    Ok(Comparison {
        ensembles,
        labels: runs.iter().map(|r| r.label.clone()).collect(),
        names: runs.iter().map(|r| r.report.name.clone()).collect(),
        protocols: runs.iter().map(|r| r.report.meta.as_ref().and_then(|m| m.protocol.clone())).collect(),
        seeds: chosen,
        k,
        rows,
        test_sentences: runs.iter().map(|r| r.report.test_sentences).collect(),
    })
    .inspect(|c: &Comparison| {
        if let Some(w) = c.test_set_warning() {
            tracing::warn!("{w}");
        }
    })
}

/// Every system any report scored on the compared seeds: training sets in the order the
/// reports list them (tagger, then DANN), then the other systems by name, then the ensemble.
fn system_order(runs: &[Labelled], seeds: &[u64], k: usize) -> Vec<String> {
    let mut configs: Vec<String> = Vec::new();
    for r in runs {
        for c in crate::merge::meta_of(&r.report).configs {
            if !configs.contains(&c) {
                configs.push(c);
            }
        }
    }
    let mut scored: BTreeSet<String> = BTreeSet::new();
    for r in runs {
        for &seed in seeds {
            scored.extend(seed_result(&r.report, k, seed).scores.keys().cloned());
        }
    }
    let mut out = Vec::new();
    for c in &configs {
        for name in crate::results::model_systems(c) {
            if scored.remove(&name) {
                out.push(name);
            }
        }
    }
    // Models of training sets no report lists (older reports), then the other systems.
    let (models, others): (Vec<String>, Vec<String>) =
        scored.into_iter().partition(|s| s.starts_with("tagger/") || s.starts_with("dann/"));
    out.extend(models);
    out.extend(others);
    out.push(ENSEMBLE.to_string());
    out
}

/// The seeds' results at `k` (reports older than learning curves record no K per seed).
fn at_k(r: &Report, k: usize) -> impl Iterator<Item = &SeedResult> {
    r.per_seed.iter().filter(move |s| s.k == k || (s.k == 0 && r.k == k))
}

/// One seed's result at `k`; the seed was checked to be there.
fn seed_result(r: &Report, k: usize, seed: u64) -> &SeedResult {
    at_k(r, k).find(|s| s.seed == seed).expect("compared seeds are in every report")
}

/// One system's scores in one seed at `k` ([`ENSEMBLE`]: the dev-chosen ensemble's).
fn score<'a>(r: &'a Report, k: usize, seed: u64, system: &str) -> Option<&'a SystemScore> {
    let s = seed_result(r, k, seed);
    if system == ENSEMBLE {
        Some(&s.ensemble)
    } else {
        s.scores.get(system)
    }
}

fn join(seeds: &BTreeSet<u64>) -> String {
    if seeds.is_empty() {
        return "none".into();
    }
    seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// The comparison as a Markdown table: per report, test F1 mean ± sd (dev mean), and for the
/// reports after the first the paired difference and on how many seeds it is higher.
pub fn markdown(c: &Comparison) -> String {
    let mut s = String::new();
    let seeds: Vec<String> = c.seeds.iter().map(u64::to_string).collect();
    let _ = writeln!(s, "# Comparison, {}-shot, seeds {}\n", c.k, seeds.join(", "));
    for (i, (label, name)) in c.labels.iter().zip(&c.names).enumerate() {
        match c.protocols.get(i).cloned().flatten() {
            Some(p) if crate::plan::without_dev_labels(&p) => {
                let _ = writeln!(s, "- {label}: `{name}` ({p})");
            }
            Some(p) => {
                let _ = writeln!(s, "- {label}: `{name}` (choices on the {p})");
            }
            None => {
                let _ = writeln!(s, "- {label}: `{name}`");
            }
        }
    }
    if let Some(w) = c.test_set_warning() {
        let _ = writeln!(s, "\n**Warning**: {w}.");
    }
    let _ = writeln!(s, "\nTest F1 in %, mean ± sd over the seeds (dev F1 mean); Δ: test F1 minus {}'s, paired by seed (mean ± sd, seeds higher).\n", c.labels[0]);
    let mut header = String::from("| system |");
    let mut rule = String::from("|---|");
    for (i, l) in c.labels.iter().enumerate() {
        let _ = write!(header, " {l} test (dev) |");
        rule.push_str("---:|");
        if i > 0 {
            let _ = write!(header, " Δ {l} |");
            rule.push_str("---:|");
        }
    }
    let _ = writeln!(s, "{header}\n{rule}");
    for row in &c.rows {
        let mut line = format!("| {} |", row.system);
        for (i, e) in row.entries.iter().enumerate() {
            match e {
                Some(e) => {
                    let _ = write!(line, " {} ({:.1}) |", pct(e.test), e.dev.mean * 100.0);
                }
                None => line.push_str(" – |"),
            }
            if i > 0 {
                match e.as_ref().and_then(|e| e.diff) {
                    Some(d) => {
                        let _ = write!(
                            line,
                            " {:+.1} ± {:.1} ({}/{}) |",
                            d.delta.mean * 100.0,
                            d.delta.sd * 100.0,
                            d.higher,
                            c.seeds.len()
                        );
                    }
                    None => line.push_str(" – |"),
                }
            }
        }
        let _ = writeln!(s, "{line}");
    }
    if c.rows.iter().any(|r| r.system == ENSEMBLE) {
        let _ = writeln!(s, "\nEnsembles chosen on dev:\n");
        for (label, chosen) in c.labels.iter().zip(&c.ensembles) {
            let each: Vec<String> = chosen.iter().map(|(seed, what)| format!("seed {seed}: {what}")).collect();
            let _ = writeln!(s, "- {label}: {}", each.join("; "));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn score(f1: f64, dev: f64) -> SystemScore {
        SystemScore {
            precision: f1,
            recall: f1,
            f1,
            f1_ci: (f1 - 0.01, f1 + 0.01),
            dev_f1: dev,
            note: None,
            per_type: BTreeMap::new(),
        }
    }

    fn seed(seed: u64, systems: &[(&str, f64)], ensemble: f64) -> SeedResult {
        SeedResult {
            seed,
            k: 5,
            scores: systems.iter().map(|(n, f)| (n.to_string(), score(*f, f - 0.05))).collect(),
            ensemble: SystemScore { note: Some(format!("vote {seed}")), ..score(ensemble, ensemble) },
            augment: BTreeMap::new(),
            kept: None,
            kept_system: None,
            short_sample: None,
        }
    }

    /// The report a run over `per_seed` writes (training sets original and distant, the
    /// dictionary).
    fn report(name: &str, per_seed: Vec<SeedResult>) -> Report {
        let meta = crate::report::ReportMeta {
            name: name.into(),
            dataset: "d".into(),
            k: 5,
            ks: vec![5],
            configs: vec!["original".into(), "distant".into()],
            test_sentences: 10,
            systems: vec!["dictionary".into()],
            titles: BTreeMap::new(),
            settings: None,
            protocol: None,
        };
        crate::report::build(&meta, &per_seed, None, &BTreeMap::new())
    }

    #[test]
    fn pairs_the_shared_seeds_and_orders_the_systems() {
        let a = report(
            "a",
            vec![
                seed(1, &[("tagger/original", 0.40), ("dann/original", 0.38), ("dictionary", 0.70)], 0.72),
                seed(2, &[("tagger/original", 0.30), ("dann/original", 0.31), ("dictionary", 0.69)], 0.71),
                seed(4, &[("tagger/original", 0.99), ("dictionary", 0.99)], 0.99),
            ],
        );
        let b = report(
            "b",
            vec![
                seed(1, &[("tagger/original", 0.50), ("dictionary", 0.70), ("tagger/distant", 0.6)], 0.75),
                seed(2, &[("tagger/original", 0.20), ("dictionary", 0.69), ("tagger/distant", 0.6)], 0.70),
                seed(3, &[("tagger/original", 0.90)], 0.90),
            ],
        );
        let c = compare(&[Labelled::new("A", a), Labelled::new("B", b)], None, None).unwrap();
        assert_eq!(c.seeds, vec![1, 2], "seed 4 is only in A, seed 3 only in B");
        let names: Vec<&str> = c.rows.iter().map(|r| r.system.as_str()).collect();
        assert_eq!(names, ["tagger/original", "dann/original", "tagger/distant", "dictionary", ENSEMBLE]);
        let tagger = &c.rows[0];
        let a0 = tagger.entries[0].as_ref().unwrap();
        assert!((a0.test.mean - 0.35).abs() < 1e-12 && a0.diff.is_none());
        let b0 = tagger.entries[1].as_ref().unwrap();
        let d = b0.diff.unwrap();
        assert!(d.delta.mean.abs() < 1e-12, "+0.10 and -0.10 cancel: {d:?}");
        assert!((d.delta.sd - (0.02f64).sqrt()).abs() < 1e-12);
        assert_eq!(d.higher, 1);
        assert!((b0.dev.mean - 0.30).abs() < 1e-12);
        // DANN only in A, the distant tagger only in B: their other entries are empty.
        assert!(c.rows[1].entries[1].is_none());
        assert!(c.rows[2].entries[0].is_none() && c.rows[2].entries[1].as_ref().unwrap().diff.is_none());
        let ens = c.rows[4].entries[1].as_ref().unwrap().diff.unwrap();
        assert!((ens.delta.mean - 0.01).abs() < 1e-12 && ens.higher == 1);
        let common = c.clone().common();
        let names: Vec<&str> = common.rows.iter().map(|r| r.system.as_str()).collect();
        assert_eq!(names, ["tagger/original", "dictionary", ENSEMBLE]);
        let md = markdown(&c);
        assert!(
            md.contains("| tagger/original | 35.0 ± 7.1 (30.0) | 35.0 ± 21.2 (30.0) | +0.0 ± 14.1 (1/2) |"),
            "{md}"
        );
        assert!(md.contains("| dann/original | 34.5 ± 4.9 (29.5) | – | – |"), "{md}");
        assert!(md.contains("- B: seed 1: vote 1; seed 2: vote 2"), "{md}");
    }

    #[test]
    fn different_test_sets_are_said() {
        let a = report("a", vec![seed(1, &[("dictionary", 0.7)], 0.7)]);
        let mut b = report("b", vec![seed(1, &[("dictionary", 0.6)], 0.6)]);
        let same = compare(&[Labelled::new("A", a.clone()), Labelled::new("B", b.clone())], None, None).unwrap();
        assert_eq!(same.test_set_warning(), None);
        assert!(!markdown(&same).contains("Warning"));
        b.test_sentences = 5;
        let c = compare(&[Labelled::new("A", a), Labelled::new("B", b)], None, None).unwrap();
        assert_eq!(c.test_sentences, vec![10, 5]);
        assert!(markdown(&c).contains("different test sets (A on 10, B on 5 sentences)"), "{}", markdown(&c));
    }

    #[test]
    fn explicit_seeds_must_be_in_every_report() {
        let a = report("a", vec![seed(1, &[("dictionary", 0.7)], 0.7), seed(2, &[("dictionary", 0.7)], 0.7)]);
        let b = report("b", vec![seed(1, &[("dictionary", 0.6)], 0.6)]);
        let runs = [Labelled::new("A", a), Labelled::new("B", b)];
        let e = compare(&runs, Some(&[1, 2]), None).unwrap_err().to_string();
        assert!(e.contains("`B` has no seed 2") && e.contains("it has 1"), "{e}");
        assert_eq!(compare(&runs, Some(&[1]), None).unwrap().seeds, vec![1]);
        let e = compare(&runs[..1], None, None).unwrap_err().to_string();
        assert!(e.contains("at least two"), "{e}");
        let mut other_k = runs[1].clone();
        other_k.report.k = 10;
        let e = compare(&[runs[0].clone(), other_k], None, None).unwrap_err().to_string();
        assert!(e.contains("choose one K"), "{e}");
    }
}
