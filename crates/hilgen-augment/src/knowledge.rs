//! The paper's knowledge-based layers over a [`Kb`].

use crate::{dedup, Augmenter, Provenance, Result, Synthetic};
use hilgen_corpus::substitute::substitute;
use hilgen_corpus::tokenize::tokenize;
use hilgen_corpus::{Scheme, Sentence};
use hilgen_kb::{normalize, Expansion, Kb, Relation};
use hilgen_llm::generate::MentionHint;

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

/// A knowledge-based augmenter: each linked mention of each shot is replaced by up to `k`
/// expansions (10 by default, as the paper's top 10), labels kept.
pub struct KnowledgeLayer<'a> {
    kb: &'a Kb,
    /// The layer.
    pub layer: Layer,
    /// Expansions per mention.
    pub k: usize,
    /// Link mentions without a usable concept ID by the graph's `link` (exact or normalized
    /// matches only).
    pub link_unlabelled: bool,
}

impl<'a> KnowledgeLayer<'a> {
    /// A layer over `kb` with k = 10 and linking of mentions without IDs.
    pub fn new(kb: &'a Kb, layer: Layer) -> KnowledgeLayer<'a> {
        KnowledgeLayer { kb, layer, k: 10, link_unlabelled: true }
    }

    /// The concept of a mention: its first concept ID the graph knows, else (optionally) the
    /// best exact or normalized link of its text.
    fn concept_of(&self, sentence: &Sentence, start: usize, end: usize) -> Option<(u32, &'static str)> {
        if let Some(c) = sentence.concept_ids(start, end).iter().find_map(|id| self.kb.lookup(id)) {
            return Some((c, "gold"));
        }
        if !self.link_unlabelled {
            return None;
        }
        let text = sentence.tokens[start..end].join(" ");
        let hit = self.kb.link(&text, 0, 1).into_iter().next()?;
        (hit.score >= 0.95).then(|| self.kb.lookup(&hit.concept).map(|c| (c, "linked")))?
    }

    /// The mentions of `sentence` with up to `k` names of this layer's expansions each (own name
    /// left out), for prompting an LLM; unlinked mentions get no candidates.
    pub fn hints(&self, sentence: &Sentence) -> Result<Vec<MentionHint>> {
        let mut out = Vec::new();
        for m in sentence.mentions()? {
            let text = sentence.tokens[m.span.start..m.span.end].join(" ");
            let mut hint =
                MentionHint { span: m.span.clone(), text: text.clone(), concept: None, candidates: Vec::new() };
            if let Some((c, _)) = self.concept_of(sentence, m.span.start, m.span.end) {
                hint.concept = Some(self.kb.id(c).to_string());
                let own = normalize(&text);
                let mut seen = std::collections::HashSet::new();
                for e in self.expansions(c)? {
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

    fn expansions(&self, c: u32) -> Result<Vec<Expansion>> {
        Ok(match self.layer {
            Layer::Synonyms => self.kb.synonyms(c, self.k + 1),
            Layer::Related => self.kb.related_same_type(c, self.k),
            Layer::ParentsChildren => self.kb.parents_and_children(c, None, self.k)?,
            Layer::Siblings => self.kb.expand(c, Relation::Sibling, None, self.k)?,
        })
    }
}

impl Augmenter for KnowledgeLayer<'_> {
    fn name(&self) -> String {
        self.layer.name().to_string()
    }

    fn augment(&self, shots: &[Sentence]) -> Result<Vec<Synthetic>> {
        let mut out = Vec::new();
        for (si, s) in shots.iter().enumerate() {
            for m in s.mentions()? {
                let Some((c, linked_by)) = self.concept_of(s, m.span.start, m.span.end) else { continue };
                let own = normalize(&s.tokens[m.span.start..m.span.end].join(" "));
                let mut used = 0;
                for e in self.expansions(c)? {
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
                            strategy: self.name(),
                            source_sentence: Some(si),
                            mention: Some(m.span.clone()),
                            concept: self.kb.id(c).to_string(),
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
