//! `seed-S/sample`: the paper's K-per-type sample of the training split.

use crate::files::FileRef;
use crate::stage::{Context, Stage};
use crate::Result;
use serde::{Deserialize, Serialize};

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
}

/// The stage.
pub struct Sample;

impl Stage for Sample {
    type Input = SampleInput;
    type Output = SampleOutput;

    fn run(input: &SampleInput, cx: &Context<'_>) -> Result<SampleOutput> {
        let train = super::read(&cx.path(&input.train))?;
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
        super::write_tsv(&cx.dir.join("fewshot.tsv"), &shots)?;
        hilgen_corpus::jsonl::write_path(cx.dir.join("fewshot.jsonl"), &shots)?;
        Ok(SampleOutput { shots: cx.output("fewshot.jsonl")?, count: shots.len() })
    }
}
