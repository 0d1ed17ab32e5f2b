//! `report`: the table over seeds (Markdown, JSON, SVG), also copied to the run directory.

use crate::graph::{ids, kind_of, At, Node};
use crate::plan::Plan;
use crate::report::{self, Report, ReportMeta, FORMAT_VERSION};
use crate::results::{AugmentResult, KeptSystem, SeedResult};
use crate::stages::keep::KeepOutput;
use crate::stage::{Context, Stage};
use crate::stages::augment::AugmentOutput;
use crate::stages::dictionary::TuneDictionary;
use crate::stages::llm_tagger::LlmTagger;
use crate::flow::{Outputs, Planned};
use crate::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// What the report reads.
#[derive(Debug, Clone, Serialize)]
pub struct ReportInput {
    /// About the experiment.
    pub meta: ReportMeta,
    /// Per-seed results.
    pub seeds: Vec<SeedResult>,
    /// The LLM tagger's use.
    pub llm_tagger: Option<AugmentResult>,
    /// [`report::FORMAT_VERSION`].
    pub format: u32,
}

/// The stage.
pub struct MakeReport;

impl Stage for MakeReport {
    type Input = ReportInput;
    type Output = Report;

    fn run(input: &ReportInput, cx: &Context<'_>) -> Result<Report> {
        let times = stage_seconds(cx.root);
        let r = report::build(&input.meta, &input.seeds, input.llm_tagger.as_ref(), &times);
        report::write(&r, cx.dir)?;
        Ok(r)
    }
}

impl Planned for MakeReport {
    const KIND: &'static str = "report";

    fn nodes(plan: &Plan) -> Vec<Node> {
        let mut deps = Vec::new();
        for u in plan.units() {
            deps.extend([ids::sample(u), ids::evaluate(u), ids::ensemble(u), ids::best(u), ids::kept(u)]);
            deps.extend(plan.strategies.iter().map(|s| ids::augment(u, s.spec.id())));
        }
        if plan.zero_shot_tagger {
            deps.push(ids::LLM_TAGGER.into());
        }
        deps.push(ids::KEPT.into());
        vec![Node::new(ids::REPORT.into(), Self::KIND, At::EXPERIMENT, deps)]
    }

    fn input(plan: &Plan, _: At, outputs: &Outputs<'_>) -> Option<ReportInput> {
        let run_kept = outputs.get::<KeepOutput>(ids::KEPT)?;
        let mut seeds = Vec::new();
        for unit in plan.units() {
            let mut augment: BTreeMap<String, AugmentResult> = BTreeMap::new();
            for s in &plan.strategies {
                let a = outputs.get::<AugmentOutput>(&ids::augment(unit, s.spec.id()))?;
                augment.insert(s.spec.id().to_string(), a.result);
            }
            seeds.push(SeedResult {
                seed: unit.seed,
                k: unit.k,
                scores: outputs.get::<super::evaluate::Scores>(&ids::evaluate(unit))?,
                ensemble: outputs.get::<super::ensemble::EnsembleOutput>(&ids::ensemble(unit))?.score,
                augment,
                kept: Some(outputs.get::<super::best::BestOutput>(&ids::best(unit))?.kept),
                kept_system: outputs.get::<KeepOutput>(&ids::kept(unit)).map(|k| KeptSystem {
                    run: k.sample == run_kept.sample,
                    system: k.system,
                    dev_f1: k.dev_f1,
                    test_f1: k.test_f1,
                    folder: k.folder.file.to_string_lossy().to_string(),
                }),
                short_sample: super::sample::shots(outputs, unit)?.short_sample(),
            });
        }
        let llm_tagger = match plan.zero_shot_tagger {
            true => Some(outputs.get::<super::llm_tagger::LlmTaggerOutput>(ids::LLM_TAGGER)?.result),
            false => None,
        };
        let rows = own_rows(plan);
        let meta = ReportMeta {
            name: plan.name.clone(),
            dataset: plan.dataset.clone(),
            k: plan.k,
            ks: plan.ks.clone(),
            configs: plan.configs(),
            test_sentences: plan.data.test.sentences,
            systems: rows.iter().map(|(s, _)| s.clone()).collect(),
            titles: rows.into_iter().collect(),
            settings: Some(plan.settings_hash()),
            protocol: Some(plan.protocol()),
        };
        Some(ReportInput { meta, seeds, llm_tagger, format: FORMAT_VERSION })
    }
}

/// The systems with report rows of their own, with their titles, as the kinds that make them
/// declare ([`Planned::rows`]), in row order: the dictionary (every sample's is the same
/// system), then the LLM tagger.
fn own_rows(plan: &Plan) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    if let Some(&u) = plan.units().first() {
        rows.extend(TuneDictionary::rows(plan, At::unit(u)));
        rows.extend(super::predict::Predict::rows(plan, At::unit(u)));
    }
    if plan.zero_shot_tagger {
        rows.extend(LlmTagger::rows(plan, At::EXPERIMENT));
    }
    rows
}

/// Wall time per stage kind (`sample`, `augment/related`, `train/original`, ...), summed over
/// seeds, from the manifests under `root`.
pub fn stage_seconds(root: &Path) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if p.is_dir() && !name.starts_with('.') && name != "model" {
                stack.push(p);
            } else if name == "manifest.json" {
                if let Some(m) = crate::stage::read_manifest(&d) {
                    *out.entry(kind_of(&m.stage).to_string()).or_insert(0.0) += m.seconds;
                }
            }
        }
    }
    out
}
