//! Reports of the same experiment run apart (seeds on different machines, days or Slurm jobs)
//! merged into one: the per-seed results are pooled and the table, means, standard deviations,
//! ensembles and plots are computed again, exactly as one run over all the seeds would.
//!
//! ```no_run
//! use hilgen_pipeline::merge::merge;
//! # fn reports() -> Vec<(std::path::PathBuf, hilgen_pipeline::report::Report)> { vec![] }
//! let parts = reports(); // (file, report) of `results.json` files
//! if !parts.is_empty() {
//!     let all = merge(&parts).unwrap();
//!     println!("{} seeds", all.seeds.len());
//! }
//! ```

use crate::error::{PipelineError, Result};
use crate::report::{self, AugmentResult, Report, ReportMeta};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Reads a `results.json` written by a run (or by an earlier merge).
pub fn read(path: &Path) -> Result<Report> {
    let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        PipelineError::Invalid(format!(
            "{}: line {}, column {}: not a results.json of `hilgen run` ({e})",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    check_scores(path, &report)?;
    Ok(report)
}

/// Every score of every seed is a share in [0, 1] (a hand-edited or corrupt file is refused
/// rather than averaged).
fn check_scores(path: &Path, r: &Report) -> Result<()> {
    for s in &r.per_seed {
        for (system, sc) in &s.scores {
            let named = [("precision", sc.precision), ("recall", sc.recall), ("F1", sc.f1), ("dev F1", sc.dev_f1)];
            let per_type = sc.per_type.iter().map(|(t, v)| (t.as_str(), *v));
            if let Some((what, v)) = named.into_iter().chain(per_type).find(|(_, v)| !(0.0..=1.0).contains(v)) {
                return Err(PipelineError::Invalid(format!(
                    "{}: seed {}, K = {}, system `{system}`: {what} is {v}, not a share between 0 and 1",
                    path.display(),
                    s.seed,
                    s.k
                )));
            }
        }
    }
    Ok(())
}

/// The experiment description of a report: stored in reports since format 5, rebuilt from the
/// rows for older ones. Reports written before row titles were stored get them (and, for the
/// LLM tagger's row, its system) from their rows.
pub fn meta_of(r: &Report) -> ReportMeta {
    let mut meta = match &r.meta {
        Some(m) => m.clone(),
        None => {
            let configs = r
                .rows
                .iter()
                .filter_map(|row| match row.name.strip_prefix("+ ") {
                    Some(c) => Some(c.to_string()),
                    None => row.name.starts_with("original ").then(|| "original".to_string()),
                })
                .collect();
            // K values in the order the run listed them (a learning curve when several).
            let mut ks: Vec<usize> = Vec::new();
            for s in &r.per_seed {
                if !ks.contains(&s.k) {
                    ks.push(s.k);
                }
            }
            ReportMeta {
                name: r.name.clone(),
                dataset: r.dataset.clone(),
                k: r.k,
                ks,
                configs,
                test_sentences: r.test_sentences,
                systems: Vec::new(),
                titles: BTreeMap::new(),
                settings: None,
                protocol: None,
            }
        }
    };
    if meta.titles.is_empty() {
        // The rows between the training sets' and the ensemble's are the systems of their own
        // rows, in the order of their names among the scores (what every run wrote).
        let config_systems: BTreeSet<String> =
            meta.configs.iter().flat_map(|c| crate::results::model_systems(c)).collect();
        let own: BTreeSet<&String> =
            r.per_seed.iter().flat_map(|s| s.scores.keys()).filter(|k| !config_systems.contains(*k)).collect();
        let titled = r.rows.iter().skip(meta.configs.len()).take(r.rows.len().saturating_sub(meta.configs.len() + 1));
        meta.systems = own.iter().map(|s| s.to_string()).collect();
        meta.titles = own.into_iter().cloned().zip(titled.map(|row| row.name.clone())).collect();
    }
    meta
}

/// Pools the seeds of `parts` (each a report and the file it came from) into one report.
/// The parts must describe the same experiment (name, dataset, K, training sets, systems and
/// test split) and hold different seeds; the error names the file that differs and how.
pub fn merge(parts: &[(PathBuf, Report)]) -> Result<Report> {
    let Some((first_path, first)) = parts.first() else {
        return Err(PipelineError::Invalid("nothing to merge: name at least one results.json".into()));
    };
    let meta = meta_of(first);
    let mut seeds: Vec<crate::results::SeedResult> = Vec::new();
    let mut owner: BTreeMap<(u64, usize), &Path> = BTreeMap::new();
    let mut times: BTreeMap<String, f64> = BTreeMap::new();
    let mut tagger: Option<AugmentResult> = None;
    for (path, r) in parts {
        let m = meta_of(r);
        let differs = |what: &str, a: String, b: String| {
            PipelineError::Invalid(format!(
                "{}: {what} is {b}, but {} has {a}: only reports of one experiment can be merged",
                path.display(),
                first_path.display()
            ))
        };
        if m.name != meta.name {
            return Err(differs("the experiment", meta.name.clone(), m.name));
        }
        if let (Some(a), Some(b)) = (&meta.settings, &m.settings) {
            if a != b {
                return Err(differs(
                    "the settings hash (data, knowledge, models, strategies: something other than the seeds differs)",
                    a.get(..12).unwrap_or(a).to_string(),
                    b.get(..12).unwrap_or(b).to_string(),
                ));
            }
        }
        if m.dataset != meta.dataset {
            return Err(differs("the dataset", meta.dataset.clone(), m.dataset));
        }
        if m.k != meta.k || m.ks != meta.ks {
            return Err(differs("K", format!("{:?}", (meta.k, &meta.ks)), format!("{:?}", (m.k, &m.ks))));
        }
        if m.configs != meta.configs {
            return Err(differs("the training sets", meta.configs.join(", "), m.configs.join(", ")));
        }
        if m.systems != meta.systems {
            return Err(differs("the systems", meta.systems.join(", "), m.systems.join(", ")));
        }
        if m.test_sentences != meta.test_sentences {
            return Err(differs(
                "the number of test sentences",
                meta.test_sentences.to_string(),
                m.test_sentences.to_string(),
            ));
        }
        for s in &r.per_seed {
            if let Some(other) = owner.insert((s.seed, s.k), path) {
                return Err(PipelineError::Invalid(format!(
                    "seed {} (K = {}) is in both {} and {}: merge reports of different seeds",
                    s.seed,
                    s.k,
                    other.display(),
                    path.display()
                )));
            }
            seeds.push(s.clone());
        }
        for (stage, secs) in &r.stage_seconds {
            *times.entry(stage.clone()).or_default() += secs;
        }
        if let Some(u) = r.llm.get(crate::graph::ids::LLM_TAGGER) {
            let t = tagger.get_or_insert(AugmentResult {
                count: 0,
                requested: 0,
                rejected: BTreeMap::new(),
                llm_requests: 0,
            });
            t.count += u.produced;
            t.requested += u.requested;
            t.llm_requests += u.requests;
            for (k, v) in &u.rejected {
                *t.rejected.entry(k.clone()).or_default() += v;
            }
        }
    }
    seeds.sort_by_key(|s| (meta.ks.iter().position(|&k| k == s.k), s.seed));
    mark_run_kept(&mut seeds);
    Ok(report::build(&meta, &seeds, tagger.as_ref(), &times))
}

/// Each part marks its own run's kept system (its seeds' best on dev); pooled, the mark goes
/// to the one the kept stage would choose over all seeds: the first best on dev.
fn mark_run_kept(seeds: &mut [crate::results::SeedResult]) {
    let best = seeds
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.kept_system.as_ref().map(|k| (i, k.dev_f1)))
        .reduce(|a, b| if b.1 > a.1 { b } else { a })
        .map(|(i, _)| i);
    for (i, s) in seeds.iter_mut().enumerate() {
        if let Some(k) = &mut s.kept_system {
            k.run = Some(i) == best;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{SeedResult, SystemScore};

    fn score(f1: f64) -> SystemScore {
        SystemScore {
            precision: f1,
            recall: f1,
            f1,
            f1_ci: (f1 - 0.01, f1 + 0.01),
            dev_f1: f1,
            note: Some("union".into()),
            per_type: [("Disease".to_string(), f1)].into(),
        }
    }

    fn seed(seed: u64, base: f64) -> SeedResult {
        let scores = [
            ("tagger/original".to_string(), score(base)),
            ("dann/original".to_string(), score(base + 0.01)),
            ("tagger/distant".to_string(), score(base + 0.4)),
            ("dann/distant".to_string(), score(base + 0.3)),
            ("dictionary".to_string(), score(base + 0.45)),
        ]
        .into();
        let augment = [(
            "distant".to_string(),
            AugmentResult { count: 100, requested: 0, rejected: BTreeMap::new(), llm_requests: 0 },
        )]
        .into();
        SeedResult {
            seed,
            k: 5,
            scores,
            ensemble: score(base + 0.5),
            augment,
            kept: None,
            kept_system: None,
            short_sample: None,
        }
    }

    fn meta() -> ReportMeta {
        ReportMeta {
            name: "x".into(),
            dataset: "ncbi-disease".into(),
            k: 5,
            ks: vec![5],
            configs: vec!["original".into(), "distant".into()],
            test_sentences: 940,
            systems: vec!["dictionary".into()],
            titles: [("dictionary".to_string(), "dictionary (types from the shots, filters on dev)".to_string())]
                .into(),
            settings: Some("a".repeat(64)),
            protocol: None,
        }
    }

    #[test]
    fn merged_parts_equal_one_run_over_all_seeds() {
        let all = vec![seed(1, 0.1), seed(2, 0.2), seed(3, 0.15)];
        let t = |s: f64| BTreeMap::from([("train/original".to_string(), s)]);
        let whole = report::build(&meta(), &all, None, &t(6.0));
        let a = report::build(&meta(), &all[..1], None, &t(2.0));
        let b = report::build(&meta(), &all[1..], None, &t(4.0));
        let merged = merge(&[("a.json".into(), b.clone()), ("b.json".into(), a.clone())]).unwrap();
        assert_eq!(merged, whole);
        // Reports written before the description was stored are rebuilt from their rows.
        let (mut old_a, mut old_b) = (a, b);
        old_a.meta = None;
        old_b.meta = None;
        assert_eq!(meta_of(&old_a), ReportMeta { settings: None, ..meta() });
        let mut merged_old = merge(&[("a.json".into(), old_a), ("b.json".into(), old_b)]).unwrap();
        merged_old.meta = whole.meta.clone();
        assert_eq!(merged_old, whole);
    }

    #[test]
    fn different_experiments_and_repeated_seeds_are_refused() {
        let a = report::build(&meta(), &[seed(1, 0.1)], None, &BTreeMap::new());
        let again = merge(&[("a.json".into(), a.clone()), ("b.json".into(), a.clone())]).unwrap_err().to_string();
        assert!(again.contains("seed 1") && again.contains("a.json") && again.contains("b.json"), "{again}");
        let other =
            report::build(&ReportMeta { test_sentences: 100, ..meta() }, &[seed(2, 0.1)], None, &BTreeMap::new());
        let e = merge(&[("a.json".into(), a.clone()), ("c.json".into(), other)]).unwrap_err().to_string();
        assert!(e.contains("c.json") && e.contains("test sentences") && e.contains("940"), "{e}");
        // Same name, other settings (a learning rate, say): the plan's settings hash differs.
        let lr = report::build(
            &ReportMeta { settings: Some("b".repeat(64)), ..meta() },
            &[seed(3, 0.1)],
            None,
            &BTreeMap::new(),
        );
        let e = merge(&[("a.json".into(), a.clone()), ("d.json".into(), lr)]).unwrap_err().to_string();
        assert!(e.contains("d.json") && e.contains("settings hash") && e.contains("bbbbbbbbbbbb"), "{e}");
        assert!(merge(&[]).is_err());
    }

    #[test]
    fn a_merge_marks_one_run_kept_system_the_first_best_on_dev() {
        let kept = |seed_no: u64, dev_f1: f64| {
            let mut s = seed(seed_no, 0.1);
            s.kept_system = Some(crate::results::KeptSystem {
                system: "union".into(),
                dev_f1,
                test_f1: 0.5,
                folder: format!("seed-{seed_no}/kept/system"),
                run: true,
            });
            s
        };
        let a = report::build(&meta(), &[kept(1, 0.6), kept(2, 0.9)], None, &BTreeMap::new());
        let b = report::build(&meta(), &[kept(3, 0.9)], None, &BTreeMap::new());
        let merged = merge(&[("b.json".into(), b), ("a.json".into(), a)]).unwrap();
        let runs: Vec<u64> =
            merged.per_seed.iter().filter(|s| s.kept_system.as_ref().is_some_and(|k| k.run)).map(|s| s.seed).collect();
        assert_eq!(runs, vec![2]);
        assert_eq!(report::markdown(&merged).matches("the run's kept system").count(), 1);
    }

    #[test]
    fn a_short_sample_is_reported_with_its_real_counts() {
        let whole = report::build(&meta(), &[seed(1, 0.1)], None, &BTreeMap::new());
        assert!(!report::markdown(&whole).contains("Short sample"));
        let mut short = seed(2, 0.1);
        short.short_sample = Some(crate::results::ShortSample {
            sentences: 254,
            sentences_per_type: [("Disease".to_string(), 254)].into(),
            short: vec!["Disease".into()],
        });
        let r = report::build(&meta(), &[seed(1, 0.1), short], None, &BTreeMap::new());
        let md = report::markdown(&r);
        assert!(
            md.contains("**Short sample (seed 2, K = 5):**")
                && md.contains("the sample holds 254 sentences (Disease 254)"),
            "{md}"
        );
        // Kept through a merge.
        let merged = merge(&[("r.json".into(), r)]).unwrap();
        assert!(report::markdown(&merged).contains("Short sample (seed 2"));
    }

    #[test]
    fn the_committed_seed_one_report_is_rebuilt_to_the_digit() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results/ncbi-disease-few-shot/results.json");
        let committed = read(&path).unwrap();
        let mut again = merge(&[(path, committed.clone())]).unwrap();
        again.meta = committed.meta.clone();
        assert_eq!(again, committed);
    }
}
