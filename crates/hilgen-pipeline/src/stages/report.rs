//! `report`: the table over seeds (Markdown, JSON, SVG), also copied to the run directory.

use crate::report::{self, Report, ReportMeta};
use crate::results::{AugmentResult, SeedResult};
use crate::stage::{Context, Stage};
use crate::Result;
use serde::Serialize;

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
        let times = crate::exec::stage_seconds(cx.root);
        let r = report::build(&input.meta, &input.seeds, input.llm_tagger.as_ref(), &times);
        report::write(&r, cx.dir)?;
        Ok(r)
    }
}
