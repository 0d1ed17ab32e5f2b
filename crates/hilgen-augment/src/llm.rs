//! LLM-based strategies: HILGEN's three prompt variants (`llm-related`, `llm-parents-children`,
//! `llm-siblings`), grounded generation (`grounded-LAYER`) and ZeroGen (`zerogen`), with
//! knowledge-graph hints for the mentions of each shot. Built only with the `llm` feature.

use crate::knowledge::{KnowledgeLayer, Layer};
use crate::strategy::{bad_params, parse_params, Input, LlmContext, LlmUse, Need, Needs, Output, Strategy};
use crate::{dedup, AugmentError, Provenance, Result, Synthetic};
use hilgen_corpus::Sentence;
use hilgen_kb::Kb;
use hilgen_llm::generate::{Generated, Generator, Outcome, Source, Variant};
use hilgen_llm::parse::Labels;
use hilgen_llm::prompts::Prompts;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Which LLM strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LlmStrategy {
    /// HILGEN: generate with related / parents-children / siblings, then convert to IOB.
    Hilgen(Variant),
    /// Grounded generation: the knowledge graph's names of `Layer` used verbatim, labels by matching.
    Grounded(Layer),
    /// ZeroGen: class-conditioned generation without examples.
    #[default]
    ZeroGen,
}

impl LlmStrategy {
    /// Every LLM strategy, in registration order.
    pub const ALL: [LlmStrategy; 8] = [
        LlmStrategy::Hilgen(Variant::Related),
        LlmStrategy::Hilgen(Variant::ParentsChildren),
        LlmStrategy::Hilgen(Variant::Siblings),
        LlmStrategy::Grounded(Layer::Synonyms),
        LlmStrategy::Grounded(Layer::Related),
        LlmStrategy::Grounded(Layer::ParentsChildren),
        LlmStrategy::Grounded(Layer::Siblings),
        LlmStrategy::ZeroGen,
    ];

    /// The strategy's kind.
    pub fn name(self) -> &'static str {
        match self {
            LlmStrategy::Hilgen(v) => v.strategy(),
            LlmStrategy::Grounded(Layer::Synonyms) => "grounded-synonyms",
            LlmStrategy::Grounded(Layer::Related) => "grounded-related",
            LlmStrategy::Grounded(Layer::ParentsChildren) => "grounded-parents-children",
            LlmStrategy::Grounded(Layer::Siblings) => "grounded-siblings",
            LlmStrategy::ZeroGen => "zerogen",
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

    fn task(self) -> LlmUse {
        match self {
            LlmStrategy::Hilgen(_) => LlmUse::Hilgen,
            LlmStrategy::Grounded(_) => LlmUse::Grounded,
            LlmStrategy::ZeroGen => LlmUse::ZeroGen,
        }
    }
}

impl LlmUse {
    /// The LLM crate's task (for the templates it renders).
    pub fn task(self) -> hilgen_llm::prompts::Task {
        match self {
            LlmUse::Hilgen => hilgen_llm::prompts::Task::Hilgen,
            LlmUse::Grounded => hilgen_llm::prompts::Task::Grounded,
            LlmUse::ZeroGen => hilgen_llm::prompts::Task::ZeroGen,
            LlmUse::Tag => hilgen_llm::prompts::Task::Tag,
        }
    }
}

/// An LLM strategy's parameters: `n` sentences asked per shot (per entity type for ZeroGen),
/// or, with `match_count`, as many as the matching knowledge layer produced when it ran in
/// the same experiment (the paper's setting); `hints` knowledge-graph names per mention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmAugmenter {
    /// The strategy (given by the kind).
    #[serde(skip)]
    pub strategy: LlmStrategy,
    /// Sentences per shot (per entity type for ZeroGen).
    pub n: usize,
    /// Match the count of the knowledge layer of the same name, when it ran.
    pub match_count: bool,
    /// Knowledge-graph names offered (or, grounded, required) per mention.
    pub hints: usize,
}

impl Default for LlmAugmenter {
    fn default() -> Self {
        LlmAugmenter { strategy: LlmStrategy::default(), n: 10, match_count: true, hints: 10 }
    }
}

impl LlmAugmenter {
    /// `strategy` with n = 10, matched counts and 10 hints per mention.
    pub fn new(strategy: LlmStrategy) -> LlmAugmenter {
        LlmAugmenter { strategy, ..LlmAugmenter::default() }
    }

    /// The registry's constructor: the kind names the strategy.
    pub fn build(kind: &str, params: &Map<String, Value>) -> Result<Box<dyn Strategy>> {
        let strategy = LlmStrategy::ALL
            .into_iter()
            .find(|s| s.name() == kind)
            .ok_or_else(|| bad_params(kind, "not an LLM kind"))?;
        if strategy == LlmStrategy::ZeroGen {
            // ZeroGen has no shots to match or hint: only `n`.
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct ZeroGen {
                #[serde(default = "ten")]
                n: usize,
            }
            fn ten() -> usize {
                10
            }
            let z: ZeroGen = parse_params(kind, params)?;
            return LlmAugmenter { strategy, n: z.n, match_count: false, hints: 0 }.checked(kind);
        }
        let mut s: LlmAugmenter = parse_params(kind, params)?;
        s.strategy = strategy;
        s.checked(kind)
    }

    fn checked(self, kind: &str) -> Result<Box<dyn Strategy>> {
        if self.n == 0 || (self.strategy != LlmStrategy::ZeroGen && self.hints == 0) {
            return Err(bad_params(kind, "n and hints must be at least 1"));
        }
        Ok(Box::new(self))
    }

    /// The shots as generation sources, with the knowledge graph's names as hints.
    pub fn sources(&self, kb: Option<&Kb>, shots: &[Sentence]) -> Result<Vec<Source>> {
        let mut out = Vec::new();
        for (i, s) in shots.iter().enumerate() {
            let mut src = Source::plain(i, s.clone())?;
            if let (Some(kb), Some(layer)) = (kb, self.strategy.layer()) {
                let layer = KnowledgeLayer { k: self.hints, ..KnowledgeLayer::new(layer) };
                src.hints = layer.hints(kb, s)?;
            }
            out.push(src);
        }
        Ok(out)
    }

    /// Sentences to ask for per shot: matched to `count` when asked to, else `n`.
    pub fn per_shot(&self, shots: usize, count: Option<usize>) -> usize {
        match count {
            Some(c) if self.match_count && shots > 0 => c.div_ceil(shots).max(1),
            _ => self.n,
        }
    }

    /// Runs the strategy (async); the sentences with provenance, and the outcome.
    pub async fn run(
        &self,
        generator: &Generator<'_>,
        kb: Option<&Kb>,
        shots: &[Sentence],
        count: Option<usize>,
    ) -> Result<(Vec<Synthetic>, Outcome)> {
        let sources = self.sources(kb, shots)?;
        let n = self.per_shot(shots.len(), count);
        let outcome = match self.strategy {
            LlmStrategy::Hilgen(v) => generator.hilgen(v, &sources, n).await?,
            LlmStrategy::Grounded(_) => generator.grounded(&sources, n).await?,
            LlmStrategy::ZeroGen => generator.zerogen(n).await?,
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
                strategy: self.strategy.name().to_string(),
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

impl Strategy for LlmAugmenter {
    fn kind(&self) -> &str {
        self.strategy.name()
    }

    fn needs(&self) -> Needs {
        let kb = match self.strategy {
            LlmStrategy::Grounded(_) => Need::Required,
            LlmStrategy::Hilgen(_) => Need::Optional,
            LlmStrategy::ZeroGen => Need::No,
        };
        let count_of = self.strategy.layer().filter(|_| self.match_count).map(|l| l.name().to_string());
        Needs { kb, llm: Some(self.strategy.task()), count_of, ..Needs::default() }
    }

    fn params(&self) -> Value {
        if self.strategy == LlmStrategy::ZeroGen {
            return serde_json::json!({"n": self.n});
        }
        serde_json::to_value(self).expect("parameters serialize")
    }

    /// Runs on a private two-thread runtime (call [`LlmAugmenter::run`] from async code).
    fn augment(&self, input: &Input<'_>) -> Result<Output> {
        let llm: &LlmContext<'_> = input
            .llm
            .ok_or_else(|| AugmentError::Missing { strategy: self.kind().to_string(), what: "an LLM (llm config)" })?;
        let kb = match self.needs().kb {
            Need::Required => Some(input.require_kb(self.kind())?),
            Need::Optional => input.kb,
            Need::No => None,
        };
        let labels = labels_of(input);
        if labels.types().is_empty() {
            return Err(bad_params(self.kind(), "no entity types: the shots have no entities and no types were given"));
        }
        let (generator, rt) = generator(llm, labels)?;
        let before = llm.client.summary().requests;
        let (synthetic, outcome) = rt.block_on(self.run(&generator, kb, input.shots, input.count_to_match))?;
        Ok(Output {
            synthetic,
            requested: outcome.requested,
            rejected: outcome.rejected,
            llm_requests: llm.client.summary().requests - before,
        })
    }
}

/// LLM silver labels (`llm-silver`): the LLM tags a sample of the unlabelled pool as a
/// zero-shot tagger, and each entity it finds is kept only if its text links (exactly or
/// normalized) to a concept that the types learned from the shots give the same label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmSilver {
    /// Pool sentences tagged (a seeded sample).
    pub sample: usize,
    /// Loss weight of the silver sentences' `O` words.
    pub o_weight: f64,
}

impl Default for LlmSilver {
    fn default() -> Self {
        LlmSilver { sample: 200, o_weight: 1.0 }
    }
}

impl LlmSilver {
    /// The registry's constructor.
    pub fn build(kind: &str, params: &Map<String, Value>) -> Result<Box<dyn Strategy>> {
        let s: LlmSilver = parse_params(kind, params)?;
        if s.sample == 0 || !(0.0..=1.0).contains(&s.o_weight) {
            return Err(bad_params(kind, "sample must be at least 1 and o_weight in [0, 1]"));
        }
        Ok(Box::new(s))
    }
}

/// The spans of `tagged` whose text links to a concept of the span's label (by `types`).
pub fn keep_linked(kb: &Kb, types: &hilgen_dictionary::TypeMap, tagged: &Sentence) -> (Sentence, usize) {
    use hilgen_corpus::{scheme, Scheme};
    let spans = scheme::parse_tags(&tagged.tags).map(|p| scheme::decode_lenient(&p)).unwrap_or_default();
    let total = spans.len();
    let kept: Vec<hilgen_corpus::Span> = spans
        .into_iter()
        .filter(|sp| {
            let text = tagged.tokens[sp.start..sp.end].join(" ");
            kb.link(&text, 0, 3)
                .into_iter()
                .filter(|h| h.score >= 0.95)
                .filter_map(|h| kb.lookup(&h.concept))
                .any(|c| types.label_of(kb.types(c)).as_deref() == Some(sp.label.as_str()))
        })
        .collect();
    let dropped = total - kept.len();
    let tags = scheme::encode(&kept, tagged.len(), Scheme::Iob2).expect("decoded spans are disjoint");
    (
        Sentence {
            tokens: tagged.tokens.clone(),
            tags,
            doc_id: tagged.doc_id.clone(),
            concepts: Vec::new(),
            unknown: Vec::new(),
            soft: None,
        },
        dropped,
    )
}

impl Strategy for LlmSilver {
    fn kind(&self) -> &str {
        "llm-silver"
    }

    fn needs(&self) -> Needs {
        Needs {
            kb: Need::Required,
            pool: Need::Required,
            dictionary: Need::Required,
            llm: Some(LlmUse::Tag),
            ..Needs::default()
        }
    }

    fn params(&self) -> Value {
        serde_json::to_value(self).expect("parameters serialize")
    }

    fn o_weight(&self) -> f64 {
        self.o_weight
    }

    fn augment(&self, input: &Input<'_>) -> Result<Output> {
        use rand::seq::SliceRandom;
        let llm = input
            .llm
            .ok_or_else(|| AugmentError::Missing { strategy: self.kind().to_string(), what: "an LLM (llm config)" })?;
        let kb = input.require_kb(self.kind())?;
        let dictionary = input.require_dictionary(self.kind())?;
        let pool = input.require_pool(self.kind())?;
        let shot_tokens: std::collections::HashSet<&[String]> =
            input.shots.iter().map(|s| s.tokens.as_slice()).collect();
        let mut chosen: Vec<Sentence> =
            pool.iter().filter(|s| !s.is_empty() && !shot_tokens.contains(s.tokens.as_slice())).cloned().collect();
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(input.seed);
        chosen.shuffle(&mut rng);
        chosen.truncate(self.sample);
        let (generator, rt) = generator(llm, labels_of(input))?;
        let before = llm.client.summary().requests;
        let (tagged, mut outcome) = rt.block_on(generator.tag(&chosen))?;
        let mut synthetic = Vec::new();
        let mut unlinked = 0u64;
        for t in &tagged {
            let (sentence, dropped) = keep_linked(kb, &dictionary.types, t);
            unlinked += dropped as u64;
            synthetic.push(Synthetic {
                sentence,
                provenance: Provenance {
                    strategy: "llm-silver".into(),
                    source_sentence: None,
                    mention: None,
                    concept: String::new(),
                    linked_by: "llm+kb".into(),
                    substitute: String::new(),
                    relation: "llm/zero-shot".into(),
                    model: Some(llm.client.config().model.clone()),
                    request: None,
                },
            });
        }
        if unlinked > 0 {
            *outcome.rejected.entry("entity-not-linked".into()).or_default() += unlinked;
        }
        Ok(Output {
            synthetic,
            requested: chosen.len(),
            rejected: outcome.rejected,
            llm_requests: llm.client.summary().requests - before,
        })
    }
}

/// The entity types the LLM may use: those given, else the shots'.
fn labels_of(input: &Input<'_>) -> Labels {
    match input.types {
        Some(t) => Labels::new(t.iter().cloned()),
        None => Labels::of_sentences(input.shots),
    }
}

/// A generator over the run's client, annotation and prompt texts, and the runtime to drive it.
fn generator<'a>(llm: &LlmContext<'a>, labels: Labels) -> Result<(Generator<'a>, tokio::runtime::Runtime)> {
    let prompts = Prompts::from_texts(llm.prompts.clone())?;
    let generator = Generator::with_prompts(llm.client, labels, llm.annotation, prompts);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(AugmentError::Runtime)?;
    Ok((generator, rt))
}
