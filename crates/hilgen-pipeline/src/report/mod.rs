//! The report: the paper's Table 2 layout (rows: original K-shot, each strategy, best ensemble;
//! columns: P, R, F1 for the tagger and DANN), mean ± sd over seeds, bootstrap 95% intervals,
//! the chosen ensembles, synthetic sentence counts and wall time per stage; as Markdown, JSON
//! and an SVG chart of F1 per strategy.

pub mod compare;
pub mod merge;
pub mod results;

use crate::error::{PipelineError, Result};
pub use crate::results::{model_systems, AugmentResult, KeptModel, SeedResult, SystemScore};
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Bumped when the report's files change form, so that complete runs write them again.
pub const FORMAT_VERSION: u32 = 5;

/// What the report says about the experiment (beyond the per-seed results).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportMeta {
    /// Experiment name.
    pub name: String,
    /// Dataset.
    pub dataset: String,
    /// Shots per type (of the main table).
    pub k: usize,
    /// Every K (a learning curve when several).
    #[serde(default)]
    pub ks: Vec<usize>,
    /// The training configurations, `original` first.
    pub configs: Vec<String>,
    /// Test sentences.
    pub test_sentences: usize,
    /// Systems reported on rows of their own (in the tagger columns), in row order, as the
    /// stages that make them declare (the dictionary, the LLM tagger).
    #[serde(default)]
    pub systems: Vec<String>,
    /// The title of each of those rows (absent in reports written before it existed, whose
    /// titles [`crate::merge::meta_of`] takes from their rows).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub titles: BTreeMap<String, String>,
    /// sha256 of the plan's settings without the seeds and the run folder ([`Plan::settings_hash`](crate::plan::Plan::settings_hash)):
    /// reports merge only when it is the same (absent in reports written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<String>,
    /// Which labelled data the choices were made on, and how many sentences
    /// (`Plan::protocol`); absent from reports written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// Mean and standard deviation (sample, n-1) over seeds.
pub fn mean_sd_of(xs: &[f64]) -> MeanSd {
    mean_sd(xs)
}

/// Mean and standard deviation (sample, n-1) over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanSd {
    /// Mean.
    pub mean: f64,
    /// Standard deviation (0 for one seed).
    pub sd: f64,
}

fn mean_sd(xs: &[f64]) -> MeanSd {
    let n = xs.len().max(1) as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = if xs.len() > 1 { (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { 0.0 };
    MeanSd { mean, sd }
}

/// One row of the table for one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Precision over seeds.
    pub precision: MeanSd,
    /// Recall over seeds.
    pub recall: MeanSd,
    /// F1 over seeds.
    pub f1: MeanSd,
    /// Mean of the per-seed bootstrap 95% intervals of F1.
    pub f1_ci: (f64, f64),
}

fn per_type(scores: &[&SystemScore]) -> BTreeMap<String, MeanSd> {
    let mut types: Vec<&String> = scores.iter().flat_map(|s| s.per_type.keys()).collect();
    types.sort();
    types.dedup();
    types
        .into_iter()
        .map(|t| {
            (t.clone(), mean_sd(&scores.iter().map(|s| s.per_type.get(t).copied().unwrap_or(0.0)).collect::<Vec<_>>()))
        })
        .collect()
}

fn cell(scores: &[&SystemScore]) -> Cell {
    let get = |f: fn(&SystemScore) -> f64| mean_sd(&scores.iter().map(|s| f(s)).collect::<Vec<_>>());
    Cell {
        precision: get(|s| s.precision),
        recall: get(|s| s.recall),
        f1: get(|s| s.f1),
        f1_ci: (get(|s| s.f1_ci.0).mean, get(|s| s.f1_ci.1).mean),
    }
}

/// A row: a training set (or the ensemble).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// `original 5-shot`, `+ related`, ..., `best ensemble`.
    pub name: String,
    /// Mean synthetic sentences per seed (0 for the original and the ensemble).
    pub synthetic: f64,
    /// The tagger's scores.
    pub tagger: Option<Cell>,
    /// DANN's scores.
    pub dann: Option<Cell>,
    /// The ensemble's scores (ensemble row only).
    pub ensemble: Option<Cell>,
    /// Test F1 per entity type over seeds (of the tagger, or of the row's only system).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_type: BTreeMap<String, MeanSd>,
}

/// What one LLM strategy (or the zero-shot tagger) asked and got, summed over seeds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmUse {
    /// Sentences asked for (sentences to tag, for the tagger).
    pub requested: usize,
    /// Sentences kept (sentences tagged, for the tagger).
    pub produced: usize,
    /// Requests sent to the server (cache hits not counted).
    pub requests: u64,
    /// Rejected outputs by reason.
    pub rejected: BTreeMap<String, u64>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Experiment name.
    pub name: String,
    /// Dataset.
    pub dataset: String,
    /// Shots per type.
    pub k: usize,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Test sentences.
    pub test_sentences: usize,
    /// The table.
    pub rows: Vec<Row>,
    /// The ensemble chosen on dev per seed.
    pub ensembles: Vec<(u64, String)>,
    /// LLM rejections by strategy and reason, summed over seeds (the non-empty ones of `llm`).
    pub rejections: BTreeMap<String, BTreeMap<String, u64>>,
    /// LLM use per strategy (and `llm-tagger`), summed over seeds.
    #[serde(default)]
    pub llm: BTreeMap<String, LlmUse>,
    /// Wall time per stage kind, summed over seeds, in seconds.
    pub stage_seconds: BTreeMap<String, f64>,
    /// Per-seed details (of every K).
    pub per_seed: Vec<SeedResult>,
    /// Test F1 against K (a learning curve), when the experiment has several K: per system,
    /// K -> mean ± sd over seeds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub curve: BTreeMap<String, BTreeMap<usize, MeanSd>>,
    /// The experiment's description (training sets, systems, K): what reports run apart are
    /// merged by ([`crate::merge`]); absent from reports of format 4 and older.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<ReportMeta>,
}

/// F1 against K per system (tagger and DANN of each configuration, the other systems, the
/// ensemble), when there are several K.
fn curve(meta: &ReportMeta, all: &[SeedResult]) -> BTreeMap<String, BTreeMap<usize, MeanSd>> {
    let mut out: BTreeMap<String, BTreeMap<usize, MeanSd>> = BTreeMap::new();
    if meta.ks.len() < 2 {
        return out;
    }
    let mut names: Vec<String> = Vec::new();
    for c in &meta.configs {
        names.extend(model_systems(c));
    }
    names.extend(meta.systems.iter().cloned());
    for &k in &meta.ks {
        let at_k: Vec<&SeedResult> = all.iter().filter(|s| s.k == k).collect();
        for n in &names {
            let f1: Vec<f64> = at_k.iter().filter_map(|s| s.scores.get(n)).map(|s| s.f1).collect();
            if !f1.is_empty() {
                out.entry(n.clone()).or_default().insert(k, mean_sd(&f1));
            }
        }
        let ens: Vec<f64> = at_k.iter().map(|s| s.ensemble.f1).collect();
        if !ens.is_empty() {
            out.entry("best ensemble".into()).or_default().insert(k, mean_sd(&ens));
        }
    }
    out
}

/// Aggregates the seeds.
pub fn build(
    meta: &ReportMeta,
    all: &[SeedResult],
    llm_tagger: Option<&AugmentResult>,
    times: &BTreeMap<String, f64>,
) -> Report {
    let curve = curve(meta, all);
    // The main table: the first K's samples.
    let main: Vec<SeedResult> = all.iter().filter(|s| s.k == meta.k || s.k == 0).cloned().collect();
    let seeds = main.as_slice();
    let mut rows = Vec::new();
    let mut llm: BTreeMap<String, LlmUse> = BTreeMap::new();
    let mut add_use = |name: &str, a: &AugmentResult| {
        let u = llm.entry(name.to_string()).or_default();
        u.requested += a.requested;
        u.produced += a.count;
        u.requests += a.llm_requests;
        for (k, v) in &a.rejected {
            *u.rejected.entry(k.clone()).or_default() += v;
        }
    };
    for c in &meta.configs {
        let [tagger, dann] = model_systems(c);
        let pick =
            |system: &String| -> Vec<&SystemScore> { seeds.iter().filter_map(|s| s.scores.get(system)).collect() };
        let synthetic = if c == "original" {
            0.0
        } else {
            seeds.iter().filter_map(|s| s.augment.get(c)).map(|a| a.count as f64).sum::<f64>()
                / seeds.len().max(1) as f64
        };
        for s in seeds {
            if let Some(a) = s.augment.get(c).filter(|a| a.requested > 0 || a.llm_requests > 0) {
                add_use(c, a);
            }
        }
        let name = if c == "original" { format!("original {}-shot", meta.k) } else { format!("+ {c}") };
        rows.push(Row {
            name,
            synthetic,
            tagger: Some(cell(&pick(&tagger))),
            dann: Some(cell(&pick(&dann))),
            ensemble: None,
            per_type: per_type(&pick(&tagger)),
        });
    }
    if let Some(a) = llm_tagger {
        add_use(crate::graph::ids::LLM_TAGGER, a);
    }
    let rejections =
        llm.iter().filter(|(_, u)| !u.rejected.is_empty()).map(|(k, u)| (k.clone(), u.rejected.clone())).collect();
    for system in &meta.systems {
        let scores: Vec<&SystemScore> = seeds.iter().filter_map(|s| s.scores.get(system)).collect();
        if !scores.is_empty() {
            rows.push(Row {
                name: meta.titles.get(system).unwrap_or(system).clone(),
                synthetic: 0.0,
                tagger: Some(cell(&scores)),
                dann: None,
                ensemble: None,
                per_type: per_type(&scores),
            });
        }
    }
    let ens: Vec<&SystemScore> = seeds.iter().map(|s| &s.ensemble).collect();
    rows.push(Row {
        name: "best ensemble (chosen on dev)".into(),
        synthetic: 0.0,
        tagger: None,
        dann: None,
        ensemble: Some(cell(&ens)),
        per_type: per_type(&ens),
    });
    Report {
        name: meta.name.clone(),
        dataset: meta.dataset.clone(),
        k: meta.k,
        seeds: seeds.iter().map(|s| s.seed).collect(),
        test_sentences: meta.test_sentences,
        rows,
        ensembles: seeds.iter().map(|s| (s.seed, s.ensemble.note.clone().unwrap_or_default())).collect(),
        rejections,
        llm,
        stage_seconds: times.clone(),
        per_seed: all.to_vec(),
        curve,
        meta: Some(meta.clone()),
    }
}

/// A mean ± sd of fractions as percentages with one decimal (`41.3 ± 4.0`).
pub(crate) fn pct(m: MeanSd) -> String {
    format!("{:.1} ± {:.1}", 100.0 * m.mean, 100.0 * m.sd)
}

/// A warning paragraph for seeds whose sample holds fewer than K sentences of some type, with
/// the real counts (empty when every sample is whole).
fn short_samples(r: &Report) -> String {
    let mut s = String::new();
    for seed in r.per_seed.iter().filter(|x| x.short_sample.is_some()) {
        let Some(short) = &seed.short_sample else { continue };
        let per_type: Vec<String> = short.sentences_per_type.iter().map(|(t, n)| format!("{t} {n}")).collect();
        let _ = writeln!(
            s,
            "**Short sample (seed {}, K = {}):** the training split has fewer than {} sentences for {}; \
             the sample holds {} sentences ({}), not {}-shot.\n",
            seed.seed,
            seed.k,
            seed.k,
            short.short.join(", "),
            short.sentences,
            per_type.join(", "),
            seed.k
        );
    }
    s
}

/// The report as Markdown.
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}: {} {}-shot, seeds {:?}\n", r.name, r.dataset, r.k, r.seeds);
    let _ = write!(s, "{}", short_samples(r));
    if !r.curve.is_empty() {
        let _ = writeln!(s, "A learning curve: the tables are at K = {}; test F1 at every K is at the end.\n", r.k);
    }
    let _ = writeln!(s, "Test sentences: {}. Figures are entity-level micro P/R/F1 (seqeval default mode) in %, mean ± sd over seeds; CI is the mean of the per-seed bootstrap 95% intervals of F1.\n", r.test_sentences);
    if let Some(p) = r.meta.as_ref().and_then(|m| m.protocol.as_ref()) {
        let _ = if crate::plan::without_dev_labels(p) {
            writeln!(s, "Selection protocol: {p}; the dev figures below are scores on the shots.\n")
        } else {
            writeln!(s, "Every choice (dictionary filters, teachers, ensembles, kept systems) is made on the {p}.\n")
        };
    }
    let _ = writeln!(s, "| training data | synthetic | tagger P | tagger R | tagger F1 | tagger F1 CI | DANN P | DANN R | DANN F1 | DANN F1 CI |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &r.rows {
        let c = |x: &Option<Cell>| match x {
            Some(c) => format!(
                "{} | {} | {} | {:.1}-{:.1}",
                pct(c.precision),
                pct(c.recall),
                pct(c.f1),
                100.0 * c.f1_ci.0,
                100.0 * c.f1_ci.1
            ),
            None => " | | | ".into(),
        };
        if let Some(e) = &row.ensemble {
            let _ = writeln!(
                s,
                "| {} | | {} | {} | {} | {:.1}-{:.1} | | | | |",
                row.name,
                pct(e.precision),
                pct(e.recall),
                pct(e.f1),
                100.0 * e.f1_ci.0,
                100.0 * e.f1_ci.1
            );
        } else {
            let _ = writeln!(s, "| {} | {:.0} | {} | {} |", row.name, row.synthetic, c(&row.tagger), c(&row.dann));
        }
    }
    let types: Vec<&String> = {
        let mut t: Vec<&String> = r.rows.iter().flat_map(|row| row.per_type.keys()).collect();
        t.sort();
        t.dedup();
        t
    };
    if types.len() > 1 {
        let _ = writeln!(s, "\nTest F1 per entity type (the tagger's; the row's system for the others), mean ± sd:\n");
        let head: Vec<String> = types.iter().map(|t| t.to_string()).collect();
        let _ = writeln!(s, "| training data | {} |", head.join(" | "));
        let _ = writeln!(s, "|---|{}", "---:|".repeat(types.len()));
        for row in &r.rows {
            let cells: Vec<String> =
                types.iter().map(|t| row.per_type.get(*t).map(|m| pct(*m)).unwrap_or_default()).collect();
            let _ = writeln!(s, "| {} | {} |", row.name, cells.join(" | "));
        }
    }
    let _ = writeln!(s, "\nEnsembles chosen on dev (ensemble row, in the tagger columns):\n");
    for (seed, e) in &r.ensembles {
        let _ = writeln!(s, "- seed {seed}: {e}");
    }
    if !r.curve.is_empty() {
        let ks: Vec<usize> = {
            let mut k: Vec<usize> = r.curve.values().flat_map(|m| m.keys().copied()).collect();
            k.sort();
            k.dedup();
            k
        };
        let _ = writeln!(s, "\nTest F1 against K (shots per type), mean ± sd over seeds:\n");
        let head: Vec<String> = ks.iter().map(|k| format!("K = {k}")).collect();
        let _ = writeln!(s, "| system | {} |", head.join(" | "));
        let _ = writeln!(s, "|---|{}", "---:|".repeat(ks.len()));
        for (name, points) in &r.curve {
            let cells: Vec<String> = ks.iter().map(|k| points.get(k).map(|m| pct(*m)).unwrap_or_default()).collect();
            let _ = writeln!(s, "| {name} | {} |", cells.join(" | "));
        }
    }
    let kept: Vec<&SeedResult> = r.per_seed.iter().filter(|p| p.kept.is_some()).collect();
    if !kept.is_empty() {
        let _ = writeln!(
            s,
            "\nModels kept (the best single system on dev; Hugging Face folders for `hilgen tag --model`):\n"
        );
        for p in kept {
            let k = p.kept.as_ref().expect("filtered");
            let _ = writeln!(
                s,
                "- K = {}, seed {}: {} (dev F1 {:.1}) in `{}`",
                p.k,
                p.seed,
                k.system,
                100.0 * k.dev_f1,
                k.folder
            );
        }
    }
    let systems: Vec<&SeedResult> = r.per_seed.iter().filter(|p| p.kept_system.is_some()).collect();
    if !systems.is_empty() {
        let _ = writeln!(
            s,
            "\nSystems kept (what dev chose, the ensemble row, as one folder with its model card for \
             `hilgen tag --model`; the run's is the one best on dev, in `kept/system`):\n"
        );
        for p in systems {
            let k = p.kept_system.as_ref().expect("filtered");
            let run = if k.run { "; the run's kept system" } else { "" };
            let _ = writeln!(
                s,
                "- K = {}, seed {}: {} (dev F1 {:.1}, test F1 {:.1}) in `{}`{run}",
                p.k,
                p.seed,
                k.system,
                100.0 * k.dev_f1,
                100.0 * k.test_f1,
                k.folder
            );
        }
    }
    if !r.llm.is_empty() {
        let _ = writeln!(s, "\nLLM use (summed over seeds; for the tagger, sentences to tag and tagged):\n");
        let _ = writeln!(s, "| strategy | asked | produced | requests | rejected, by reason |");
        let _ = writeln!(s, "|---|---:|---:|---:|---|");
        for (k, u) in &r.llm {
            let mut reasons: Vec<(&String, &u64)> = u.rejected.iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let reasons: Vec<String> = reasons.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let reasons = if reasons.is_empty() { "none".to_string() } else { reasons.join(", ") };
            let _ = writeln!(s, "| {k} | {} | {} | {} | {reasons} |", u.requested, u.produced, u.requests);
        }
    }
    let _ = writeln!(s, "\nWall time per stage (summed over seeds):\n");
    for (k, v) in &r.stage_seconds {
        let _ = writeln!(s, "- {k}: {v:.1} s");
    }
    s
}

/// An SVG bar chart of mean F1 per row, tagger and DANN (ensemble alone).
pub fn svg(r: &Report) -> Result<String> {
    let mut out = String::new();
    {
        let n = r.rows.len();
        let root = SVGBackend::with_string(&mut out, (900, 120 + 40 * n as u32)).into_drawing_area();
        let err = |e: String| PipelineError::Invalid(format!("chart: {e}"));
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let max = r
            .rows
            .iter()
            .flat_map(|row| [&row.tagger, &row.dann, &row.ensemble])
            .flatten()
            .map(|c| c.f1.mean + c.f1.sd)
            .fold(0.0f64, f64::max);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{}: F1 per training set, mean of {} seed(s) (blue tagger, red DANN, green ensemble)",
                    r.name,
                    r.seeds.len()
                ),
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(260)
            .build_cartesian_2d(0.0..(max * 100.0 * 1.1).max(1.0), 0..(2 * n))
            .map_err(|e| err(e.to_string()))?;
        let names: Vec<String> = r.rows.iter().map(|r| r.name.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(2 * n)
            // Row i's two bars span [y, y + 2]; its name sits at the middle tick y + 1.
            .y_label_formatter(&|y| match (y % 2, n.checked_sub(1 + y / 2)) {
                (1, Some(i)) => names[i].clone(),
                _ => String::new(),
            })
            .x_desc("F1 (%)")
            .draw()
            .map_err(|e| err(e.to_string()))?;
        for (i, row) in r.rows.iter().enumerate() {
            let y = 2 * (n - 1 - i);
            let bars =
                [(&row.tagger, BLUE.mix(0.7), 1), (&row.dann, RED.mix(0.6), 0), (&row.ensemble, GREEN.mix(0.7), 1)];
            for (c, color, off) in bars {
                if let Some(c) = c {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(0.0, y + off), (100.0 * c.f1.mean, y + off + 1)],
                            color.filled(),
                        )))
                        .map_err(|e| err(e.to_string()))?;
                }
            }
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(out)
}

/// An SVG line chart of test F1 against K, one line per system of the curve.
pub fn curve_svg(r: &Report) -> Result<String> {
    let mut out = String::new();
    {
        let err = |e: String| PipelineError::Invalid(format!("chart: {e}"));
        let root = SVGBackend::with_string(&mut out, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let kmax = r.curve.values().flat_map(|m| m.keys().copied()).max().unwrap_or(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{}: test F1 against K, mean of {} seed(s)", r.name, r.seeds.len()), ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(45)
            .build_cartesian_2d(0.0..kmax * 1.05, 0.0..100.0)
            .map_err(|e| err(e.to_string()))?;
        chart.configure_mesh().x_desc("K (shots per type)").y_desc("F1 (%)").draw().map_err(|e| err(e.to_string()))?;
        for (i, (name, points)) in
            r.curve.iter().filter(|(n, _)| n.split('/').next() != Some(results::DANN)).enumerate()
        {
            let color = Palette99::pick(i).to_rgba();
            let line: Vec<(f64, f64)> = points.iter().map(|(k, m)| (*k as f64, 100.0 * m.mean)).collect();
            chart
                .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
                .map_err(|e| err(e.to_string()))?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
            chart
                .draw_series(line.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                .map_err(|e| err(e.to_string()))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(out)
}

/// The files [`write`] may write into a report folder.
pub const FILES: [&str; 4] = ["results.md", "results.json", "f1.svg", "curve.svg"];

/// Writes `results.md`, `results.json` and `f1.svg` (and `curve.svg`) into `dir`, each
/// atomically (a temporary file beside it, then a rename).
pub fn write(r: &Report, dir: &Path) -> Result<()> {
    let mut files = vec![
        ("results.md", markdown(r)),
        ("results.json", serde_json::to_string_pretty(r).expect("reports serialize")),
        ("f1.svg", svg(r)?),
    ];
    if !r.curve.is_empty() {
        files.push(("curve.svg", curve_svg(r)?));
    }
    for (name, text) in files {
        crate::files::write_file(&dir.join(name), text.as_bytes())?;
    }
    Ok(())
}
