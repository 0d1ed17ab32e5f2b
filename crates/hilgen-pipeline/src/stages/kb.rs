//! `kb`: builds the knowledge index from the plan's sources.

use crate::files::FileRef;
use crate::graph::{ids, At, Node};
use crate::plan::KbSources;
use crate::plan::{KbPlan, Plan};
use crate::stage::{Context, Stage};
use crate::flow::{Outputs, Planned};
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

impl Planned for BuildKb {
    const KIND: &'static str = "kb";

    fn nodes(plan: &Plan) -> Vec<Node> {
        deps(plan).into_iter().map(|id| Node::new(id, Self::KIND, At::EXPERIMENT, vec![])).collect()
    }

    fn input(plan: &Plan, _: At, _: &Outputs<'_>) -> Option<KbSources> {
        match &plan.kb {
            Some(KbPlan::Build(sources)) => Some(sources.clone()),
            _ => None,
        }
    }
}

/// The stage a reader of the knowledge index depends on: `kb` when the plan builds one.
pub(crate) fn deps(plan: &Plan) -> Vec<String> {
    if matches!(plan.kb, Some(KbPlan::Build(_))) {
        vec![ids::KB.to_string()]
    } else {
        vec![]
    }
}

/// The knowledge index: the plan's own, or the one the `kb` stage built (declared through
/// [`deps`]).
pub(crate) fn index(plan: &Plan, outputs: &Outputs<'_>) -> Option<FileRef> {
    match &plan.kb {
        Some(KbPlan::Index { index }) => Some(index.clone()),
        Some(KbPlan::Build(_)) => outputs.get::<KbOutput>(ids::KB).map(|o| o.index),
        None => None,
    }
}
