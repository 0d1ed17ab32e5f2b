//! LLM-based strategies as [`Augmenter`]s: HILGEN's three prompt variants, grounded generation
//! and ZeroGen, with knowledge-graph hints for the mentions of each shot.

use crate::{dedup, Augmenter, KnowledgeLayer, Layer, Provenance, Result, Synthetic};
use hilgen_corpus::Sentence;
use hilgen_kb::Kb;
use hilgen_llm::generate::{Generated, Generator, Outcome, Source, Variant};
use hilgen_llm::parse::Labels;
use hilgen_llm::LlmClient;

/// Which LLM strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmStrategy {
    /// HILGEN: generate with related / parents-children / siblings, then convert to IOB.
    Hilgen(Variant),
    /// Grounded generation: the knowledge graph's names of `Layer` used verbatim, labels by matching.
    Grounded(Layer),
    /// ZeroGen: class-conditioned generation without examples.
    ZeroGen,
}

impl LlmStrategy {
    /// The strategy's name in provenance and reports.
    pub fn name(self) -> String {
        match self {
            LlmStrategy::Hilgen(v) => v.strategy().to_string(),
            LlmStrategy::Grounded(l) => format!("grounded-{}", l.name()),
            LlmStrategy::ZeroGen => "zerogen".into(),
        }
    }

    /// The knowledge layer whose names are given to the prompt.
    pub fn layer(self) -> Option<Layer> {
        match self {
            LlmStrategy::Hilgen(Variant::Related) => Some(Layer::Related),
            LlmStrategy::Hilgen(Variant::ParentsChildren) => Some(Layer::ParentsChildren),
            LlmStrategy::Hilgen(Variant::Siblings) => Some(Layer::Siblings),
            LlmStrategy::Grounded(l) => Some(l),
            LlmStrategy::ZeroGen => None,
        }
    }
}

/// An LLM strategy over a client (and a knowledge graph for hints).
pub struct LlmAugmenter<'a> {
    client: &'a LlmClient,
    kb: Option<&'a Kb>,
    labels: Labels,
    /// The strategy.
    pub strategy: LlmStrategy,
    /// Sentences asked for per shot (per entity type for ZeroGen).
    pub n: usize,
    /// The outcome of the last [`Augmenter::augment`] call (counts and rejections).
    pub last: std::sync::Mutex<Option<Outcome>>,
}

impl<'a> LlmAugmenter<'a> {
    /// A strategy for a dataset with entity types `labels`.
    pub fn new(client: &'a LlmClient, kb: Option<&'a Kb>, labels: Labels, strategy: LlmStrategy, n: usize) -> Self {
        LlmAugmenter { client, kb, labels, strategy, n, last: std::sync::Mutex::new(None) }
    }

    /// The shots as generation sources, with the knowledge graph's names as hints.
    pub fn sources(&self, shots: &[Sentence]) -> Result<Vec<Source>> {
        let mut out = Vec::new();
        for (i, s) in shots.iter().enumerate() {
            let mut src = Source::plain(i, s.clone())?;
            if let (Some(kb), Some(layer)) = (self.kb, self.strategy.layer()) {
                src.hints = KnowledgeLayer::new(kb, layer).hints(s)?;
            }
            out.push(src);
        }
        Ok(out)
    }

    /// Runs the strategy (async); the sentences with provenance, and the outcome.
    pub async fn run(&self, shots: &[Sentence]) -> Result<(Vec<Synthetic>, Outcome)> {
        let generator = Generator::new(self.client, self.labels.clone())?;
        let sources = self.sources(shots)?;
        let outcome = match self.strategy {
            LlmStrategy::Hilgen(v) => generator.hilgen(v, &sources, self.n).await?,
            LlmStrategy::Grounded(_) => generator.grounded(&sources, self.n).await?,
            LlmStrategy::ZeroGen => generator.zerogen(self.n).await?,
        };
        let synthetic = outcome.generated.iter().map(|g| self.synthetic(g, &sources)).collect();
        Ok((dedup(shots, synthetic), outcome))
    }

    fn synthetic(&self, g: &Generated, sources: &[Source]) -> Synthetic {
        let hints = g.source.and_then(|i| sources.get(i)).map(|s| s.hints.as_slice()).unwrap_or(&[]);
        let concepts: Vec<String> = hints.iter().filter_map(|h| h.concept.clone()).collect();
        Synthetic {
            sentence: g.sentence.clone(),
            provenance: Provenance {
                strategy: self.strategy.name(),
                source_sentence: g.source,
                mention: None,
                linked_by: if concepts.is_empty() { "none".into() } else { "gold-or-linked".into() },
                concept: concepts.join(","),
                substitute: g.substitutes.join(","),
                relation: format!("llm/{}", self.strategy.layer().map_or("zerogen", Layer::name)),
                model: Some(g.model.clone()),
                request: Some(g.request.clone()),
            },
        }
    }
}

impl Augmenter for LlmAugmenter<'_> {
    fn name(&self) -> String {
        self.strategy.name()
    }

    /// Blocks on [`LlmAugmenter::run`] in a private runtime (call `run` from async code).
    fn augment(&self, shots: &[Sentence]) -> Result<Vec<Synthetic>> {
        let rt =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(crate::AugmentError::Runtime)?;
        let (synthetic, outcome) = rt.block_on(self.run(shots))?;
        *self.last.lock().expect("outcome lock") = Some(outcome);
        Ok(synthetic)
    }
}
