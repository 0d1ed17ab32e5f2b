//! The paper's knowledge-based layers over a [`Kb`].

use crate::strategy::{bad_params, parse_params, Input, Need, Needs, Output, Strategy};
use crate::{dedup, Provenance, Result, Synthetic};
use hilgen_corpus::substitute::substitute;
use hilgen_corpus::tokenize::tokenize;
use hilgen_corpus::{Scheme, Sentence};
use hilgen_kb::{normalize, Expansion, Kb, Relation};
use serde::{Deserialize, Serialize};

/// Which expansion a layer substitutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Other names of the same concept (layer 1).
    Synonyms,
    /// Related concepts of the same semantic type (layer 2).
    Related,
    /// Parents then children in the hierarchy (layer 3).
    ParentsChildren,
    /// Siblings in the hierarchy (layer 3).
    Siblings,
}

impl Layer {
    /// Every layer, in the paper's order.
    pub const ALL: [Layer; 4] = [Layer::Synonyms, Layer::Related, Layer::ParentsChildren, Layer::Siblings];

    /// The layer's name.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Synonyms => "synonyms",
            Layer::Related => "related",
            Layer::ParentsChildren => "parents-children",
            Layer::Siblings => "siblings",
        }
    }
}

/// A knowledge-based layer: each linked mention of each shot is replaced by up to `k`
/// expansions (10 by default, as the paper's top 10), labels kept. Its kinds are the layer
/// names: `synonyms`, `related`, `parents-children`, `siblings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KnowledgeLayer {
    /// The layer (given by the kind).
    #[serde(skip)]
    pub layer: Layer,
    /// Expansions per mention.
    pub k: usize,
    /// Link mentions without a usable concept ID by the graph's `link` (exact or normalized
    /// matches only).
    pub link_unlabelled: bool,
}

impl Default for KnowledgeLayer {
    fn default() -> Self {
        KnowledgeLayer { layer: Layer::Synonyms, k: 10, link_unlabelled: true }
    }
}

impl KnowledgeLayer {
    /// A layer with k = 10 and linking of mentions without IDs.
    pub fn new(layer: Layer) -> KnowledgeLayer {
        KnowledgeLayer { layer, ..KnowledgeLayer::default() }
    }

    /// The registry's constructor: the kind names the layer.
    pub fn build(kind: &str, params: &serde_json::Map<String, serde_json::Value>) -> Result<Box<dyn Strategy>> {
        let mut s: KnowledgeLayer = parse_params(kind, params)?;
        s.layer = Layer::ALL.into_iter().find(|l| l.name() == kind).ok_or_else(|| bad_params(kind, "not a layer"))?;
        if s.k == 0 {
            return Err(bad_params(kind, "k must be at least 1"));
        }
        Ok(Box::new(s))
    }

    /// The concept of a mention: its first concept ID the graph knows, else (optionally) the
    /// best exact or normalized link of its text.
    fn concept_of(&self, kb: &Kb, sentence: &Sentence, start: usize, end: usize) -> Option<(u32, &'static str)> {
        if let Some(c) = sentence.concept_ids(start, end).iter().find_map(|id| kb.lookup(id)) {
            return Some((c, "gold"));
        }
        if !self.link_unlabelled {
            return None;
        }
        let text = sentence.tokens[start..end].join(" ");
        let hit = kb.link(&text, 0, 1).into_iter().next()?;
        (hit.score >= 0.95).then(|| kb.lookup(&hit.concept).map(|c| (c, "linked")))?
    }

    /// The mentions of `sentence` with up to `k` names of this layer's expansions each (own name
    /// left out), for prompting an LLM; unlinked mentions get no candidates.
    #[cfg(feature = "llm")]
    pub fn hints(&self, kb: &Kb, sentence: &Sentence) -> Result<Vec<hilgen_llm::generate::MentionHint>> {
        let mut out = Vec::new();
        for m in sentence.mentions()? {
            let text = sentence.tokens[m.span.start..m.span.end].join(" ");
            let mut hint = hilgen_llm::generate::MentionHint {
                span: m.span.clone(),
                text: text.clone(),
                concept: None,
                candidates: Vec::new(),
            };
            if let Some((c, _)) = self.concept_of(kb, sentence, m.span.start, m.span.end) {
                hint.concept = Some(kb.id(c).to_string());
                let own = normalize(&text);
                let mut seen = std::collections::HashSet::new();
                for e in self.expansions(kb, c)? {
                    if hint.candidates.len() == self.k {
                        break;
                    }
                    let n = normalize(&e.name);
                    if n != own && seen.insert(n) {
                        hint.candidates.push(e.name);
                    }
                }
            }
            out.push(hint);
        }
        Ok(out)
    }

    fn expansions(&self, kb: &Kb, c: u32) -> Result<Vec<Expansion>> {
        Ok(match self.layer {
            Layer::Synonyms => kb.synonyms(c, self.k + 1),
            Layer::Related => kb.related_same_type(c, self.k),
            Layer::ParentsChildren => kb.parents_and_children(c, None, self.k)?,
            Layer::Siblings => kb.expand(c, Relation::Sibling, None, self.k)?,
        })
    }

    /// The synthetic sentences of this layer for `shots`.
    pub fn synthesize(&self, kb: &Kb, shots: &[Sentence]) -> Result<Vec<Synthetic>> {
        let mut out = Vec::new();
        for (si, s) in shots.iter().enumerate() {
            for m in s.mentions()? {
                let Some((c, linked_by)) = self.concept_of(kb, s, m.span.start, m.span.end) else { continue };
                let own = normalize(&s.tokens[m.span.start..m.span.end].join(" "));
                let mut used = 0;
                for e in self.expansions(kb, c)? {
                    if used == self.k {
                        break;
                    }
                    if normalize(&e.name) == own {
                        continue;
                    }
                    let words: Vec<String> =
                        tokenize(&e.name, &[]).iter().map(|t| e.name[t.start..t.end].to_string()).collect();
                    if words.is_empty() {
                        continue;
                    }
                    let ids =
                        if e.relation == Relation::Synonym { m.concept_ids.clone() } else { vec![e.concept.clone()] };
                    let (sentence, _) = substitute(s, &m.span, words, ids, Scheme::Iob2)?;
                    out.push(Synthetic {
                        sentence,
                        provenance: Provenance {
                            strategy: self.layer.name().to_string(),
                            source_sentence: Some(si),
                            mention: Some(m.span.clone()),
                            concept: kb.id(c).to_string(),
                            linked_by: linked_by.to_string(),
                            substitute: e.concept.clone(),
                            relation: format!("{}/{}", e.relation, e.source),
                            model: None,
                            request: None,
                        },
                    });
                    used += 1;
                }
            }
        }
        Ok(dedup(shots, out))
    }
}

impl Strategy for KnowledgeLayer {
    fn kind(&self) -> &str {
        self.layer.name()
    }

    fn needs(&self) -> Needs {
        Needs { kb: Need::Required, ..Needs::default() }
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("parameters serialize")
    }

    fn augment(&self, input: &Input<'_>) -> Result<Output> {
        Ok(Output::of(self.synthesize(input.require_kb(self.kind())?, input.shots)?))
    }
}
