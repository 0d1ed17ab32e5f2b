//! `llm-tagger`: the LLM as a zero-shot tagger of dev and test (the paper's Table 4).

use crate::flow::Predictions;
use crate::error::PipelineError;
use crate::files::FileRef;
use crate::graph::{ids, At, Node};
use crate::plan::LlmInput;
use crate::plan::Plan;
use crate::results::AugmentResult;
use crate::stage::{Context, Stage};
use crate::flow::{Outputs, Planned, System};
use crate::Result;
use hilgen_llm::generate::Generator;
use hilgen_llm::parse::Labels;
use hilgen_llm::prompts::Prompts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the tagger reads.
#[derive(Debug, Clone, Serialize)]
pub struct LlmTaggerInput {
    /// The LLM.
    pub llm: LlmInput,
    /// Entity types.
    pub types: Vec<String>,
    /// The dev split (hash of its tokens).
    pub dev: FileRef,
    /// The test split (hash of its tokens).
    pub test: FileRef,
}

/// The tagger's predictions and LLM use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmTaggerOutput {
    /// Sentences tagged, requests, rejections.
    pub result: AugmentResult,
    /// Predictions.
    pub predictions: Predictions,
}

/// The stage.
pub struct LlmTagger;

impl Stage for LlmTagger {
    type Input = LlmTaggerInput;
    type Output = LlmTaggerOutput;

    fn run(input: &LlmTaggerInput, cx: &Context<'_>) -> Result<LlmTaggerOutput> {
        let cfg = cx.runtime.llm.clone().ok_or_else(|| PipelineError::Invalid("llm-tagger without an LLM".into()))?;
        if cfg.request_fingerprint() != input.llm.request {
            return Err(PipelineError::Invalid(
                "llm-tagger: the LLM configuration differs from the planned one".into(),
            ));
        }
        let client = hilgen_llm::LlmClient::new(cfg)?;
        let prompts = Prompts::from_texts(input.llm.templates.clone())?;
        let generator =
            Generator::with_prompts(&client, Labels::new(input.types.iter().cloned()), input.llm.annotation, prompts);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| PipelineError::io("tokio runtime", e))?;
        let mut rejected = BTreeMap::new();
        let mut count = 0;
        for (split, file) in [("dev", &input.dev), ("test", &input.test)] {
            let gold = super::io::read(&cx.path(file))?;
            let (pred, outcome) = rt.block_on(generator.tag(&gold))?;
            super::io::write_tsv(&cx.dir.join(format!("llm.{split}.tsv")), &pred)?;
            count += gold.len();
            for (k, v) in outcome.rejected {
                *rejected.entry(k).or_insert(0) += v;
            }
        }
        let result = AugmentResult { count, requested: count, rejected, llm_requests: client.summary().requests };
        let predictions = Predictions { dev: cx.output("llm.dev.tsv")?, test: cx.output("llm.test.tsv")? };
        Ok(LlmTaggerOutput { result, predictions })
    }
}

impl Planned for LlmTagger {
    const KIND: &'static str = "llm-tagger";

    fn nodes(plan: &Plan) -> Vec<Node> {
        if plan.zero_shot_tagger {
            vec![Node::new(ids::LLM_TAGGER.into(), Self::KIND, At::EXPERIMENT, vec![])]
        } else {
            vec![]
        }
    }

    fn input(plan: &Plan, _: At, _: &Outputs<'_>) -> Option<LlmTaggerInput> {
        let llm = plan.llm.as_ref().expect("checked when planned");
        Some(LlmTaggerInput {
            llm: llm.input(hilgen_llm::prompts::Task::Tag),
            types: plan.types(),
            dev: plan.data.dev.tokens.clone(),
            test: plan.data.test.tokens.clone(),
        })
    }

    /// The paper's Table 4: the LLM alone (in the tagger columns); its ensembles with the
    /// trained systems are among the candidates of the ensemble row.
    fn rows(_: &Plan, _: At) -> Vec<(String, String)> {
        vec![("llm/zero-shot".into(), "LLM zero-shot tagger".into())]
    }

    fn systems(_: &Plan, _: At, output: &LlmTaggerOutput) -> Vec<System> {
        vec![System { name: "llm/zero-shot".into(), predictions: output.predictions.clone() }]
    }
}
