//! `kb`: builds the knowledge index from the plan's sources.

use crate::files::FileRef;
use crate::plan::KbSources;
use crate::stage::{Context, Stage};
use crate::Result;
use serde::{Deserialize, Serialize};

/// The built index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KbOutput {
    /// The index file.
    pub index: FileRef,
    /// Concepts in it.
    pub concepts: usize,
}

/// The stage.
pub struct BuildKb;

impl Stage for BuildKb {
    type Input = KbSources;
    type Output = KbOutput;

    fn run(input: &KbSources, cx: &Context<'_>) -> Result<KbOutput> {
        let paths = |refs: &[FileRef]| refs.iter().map(|r| cx.path(r)).collect();
        let sources = hilgen_kb::Sources {
            rrf: input.rrf.as_ref().map(|(dir, opts)| (cx.path(dir), opts.clone())),
            ctd: paths(&input.ctd),
            mesh_tree: paths(&input.mesh_tree),
            mesh_xml: paths(&input.mesh_xml),
            obo: paths(&input.obo),
        };
        let r = hilgen_kb::build(&sources, cx.dir)?;
        Ok(KbOutput { index: cx.output(hilgen_kb::INDEX_FILE)?, concepts: r.concepts })
    }
}
