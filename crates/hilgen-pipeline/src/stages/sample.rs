//! `seed-S/sample`: the paper's K-per-type sample of the training split.

use crate::files::FileRef;
use crate::graph::{ids, At, Node, Unit};
use crate::plan::Plan;
use crate::stage::{Context, Stage};
use crate::flow::{Outputs, Planned};
use crate::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the sample reads.
#[derive(Debug, Clone, Serialize)]
pub struct SampleInput {
    /// The training split (JSON Lines, with concept IDs).
    pub train: FileRef,
    /// Sentences per entity type.
    pub k: usize,
    /// Seed.
    pub seed: u64,
}

/// The shots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleOutput {
    /// `fewshot.jsonl` (concept IDs kept: gold links for the knowledge layers).
    pub shots: FileRef,
    /// How many.
    pub count: usize,
    /// Sentences per entity type (absent in run folders written before it existed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sentences_per_type: BTreeMap<String, usize>,
    /// Types with fewer than K sentences in the training split.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub short: Vec<String>,
}

impl SampleOutput {
    /// The real counts when the sample is short of K, for the report.
    pub fn short_sample(&self) -> Option<crate::results::ShortSample> {
        (!self.short.is_empty()).then(|| crate::results::ShortSample {
            sentences: self.count,
            sentences_per_type: self.sentences_per_type.clone(),
            short: self.short.clone(),
        })
    }
}

/// The stage.
pub struct Sample;

impl Stage for Sample {
    type Input = SampleInput;
    type Output = SampleOutput;

    fn run(input: &SampleInput, cx: &Context<'_>) -> Result<SampleOutput> {
        let train = super::io::read(&cx.path(&input.train))?;
        let sample = hilgen_corpus::sample::sample_per_type(&train, input.k, input.seed)?;
        if !sample.short.is_empty() {
            // K larger than the pool has: the run goes on with what there is, and says so.
            tracing::warn!(
                "K = {}: the training split has fewer than {} sentences for {}; the sample holds {} sentences",
                input.k,
                input.k,
                sample.short.join(", "),
                sample.indices.len()
            );
        }
        let shots = sample.sentences(&train);
        super::io::write_tsv(&cx.dir.join("fewshot.tsv"), &shots)?;
        hilgen_corpus::jsonl::write_path(cx.dir.join("fewshot.jsonl"), &shots)?;
        Ok(SampleOutput {
            shots: cx.output("fewshot.jsonl")?,
            count: shots.len(),
            sentences_per_type: sample.sentences_per_type,
            short: sample.short,
        })
    }
}

impl Planned for Sample {
    const KIND: &'static str = "sample";

    fn nodes(plan: &Plan) -> Vec<Node> {
        plan.units().into_iter().map(|u| Node::new(ids::sample(u), Self::KIND, At::unit(u), vec![])).collect()
    }

    fn input(plan: &Plan, at: At, _: &Outputs<'_>) -> Option<SampleInput> {
        let unit = at.sample();
        Some(SampleInput { train: plan.data.train.labelled.clone(), k: unit.k, seed: unit.seed })
    }
}

/// The shots of `unit` (a reader declares `ids::sample(unit)`).
pub(crate) fn shots(outputs: &Outputs<'_>, unit: Unit) -> Option<SampleOutput> {
    outputs.get::<SampleOutput>(&ids::sample(unit))
}
