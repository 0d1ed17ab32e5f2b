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
///
/// The other parameters (all off by default: the paper's layer) make the substitutes look
/// like text: `uninvert` writes MeSH's "Diseases, Valvular Heart" as "Valvular Heart
/// Diseases"; `clean` leaves out OMIM-style names ("DEAFNESS, AUTOSOMAL DOMINANT 1; DFNA1")
/// and abbreviations where the mention is none; `same_level` keeps no ancestor of the mention's
/// concept and nothing above its level in the hierarchy (no "Neuropeptides" for a peptide);
/// `learned_types` keeps only substitutes whose concept the shots' types give the mention's
/// label, and no substitutes at all for a mention linked by its text to a concept of another
/// label; `attested_first` ranks names found in the unlabelled pool first (still `k`);
/// `attested_only` keeps only those; `mention_free` adds real sentences without entities
/// (pool sentences where the dictionary finds none) at the dev split's rate.
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
    /// Un-invert "X, Y" names.
    pub uninvert: bool,
    /// Leave out OMIM-style names, and abbreviations for mentions that are none.
    pub clean: bool,
    /// No ancestors, nothing above the mention concept's level.
    pub same_level: bool,
    /// Only substitutes of the mention's label by the types learned from the shots.
    pub learned_types: bool,
    /// Names attested in the pool first.
    pub attested_first: bool,
    /// Only names attested in the pool.
    pub attested_only: bool,
    /// Mix in mention-free pool sentences at the dev split's rate.
    pub mention_free: bool,
}

impl Default for KnowledgeLayer {
    fn default() -> Self {
        KnowledgeLayer {
            layer: Layer::Synonyms,
            k: 10,
            link_unlabelled: true,
            uninvert: false,
            clean: false,
            same_level: false,
            learned_types: false,
            attested_first: false,
            attested_only: false,
            mention_free: false,
        }
    }
}

/// "X, Y" (up to three parts) as "Y X".
pub fn uninvert(name: &str) -> String {
    let parts: Vec<&str> = name.split(", ").collect();
    if parts.len() < 2 || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return name.to_string();
    }
    parts.iter().rev().copied().collect::<Vec<_>>().join(" ")
}

fn is_abbreviation(s: &str) -> bool {
    let letters = s.chars().filter(|c| c.is_alphabetic()).count();
    s.chars().count() <= 6 && letters >= 2 && !s.chars().any(char::is_lowercase) && !s.contains(' ')
}

/// OMIM-style names: with a `;`, or several words and no lower-case letter.
fn is_omim_style(s: &str) -> bool {
    s.contains(';')
        || (s.split_whitespace().count() >= 2
            && s.chars().any(char::is_alphabetic)
            && !s.chars().any(char::is_lowercase))
}

/// Hierarchy depth of a concept: the fewest parent steps to a root (0 for a root).
fn depth(kb: &Kb, c: u32, memo: &mut std::collections::HashMap<u32, usize>) -> usize {
    let mut frontier = vec![c];
    let mut seen = std::collections::HashSet::from([c]);
    let mut d = 0;
    while !frontier.is_empty() && d < 64 {
        let mut next = Vec::new();
        for x in frontier {
            if let Some(&m) = memo.get(&x) {
                let total = d + m;
                memo.insert(c, total);
                return total;
            }
            let parents = kb.expand(x, Relation::Parent, None, 1000).unwrap_or_default();
            if parents.is_empty() {
                memo.insert(c, d);
                return d;
            }
            next.extend(parents.iter().filter_map(|e| kb.lookup(&e.concept)).filter(|p| seen.insert(*p)));
        }
        frontier = next;
        d += 1;
    }
    memo.insert(c, d);
    d
}

/// Every ancestor of a concept.
fn ancestors(kb: &Kb, c: u32) -> std::collections::HashSet<u32> {
    let mut out = std::collections::HashSet::new();
    let mut stack = vec![c];
    while let Some(x) = stack.pop() {
        for e in kb.expand(x, Relation::Parent, None, 1000).unwrap_or_default() {
            if let Some(p) = kb.lookup(&e.concept) {
                if out.insert(p) {
                    stack.push(p);
                }
            }
        }
    }
    out
}

/// Normalized n-grams (up to 8 tokens) of sentences: where a name is "attested".
fn ngrams(sentences: &[Sentence]) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for s in sentences {
        for i in 0..s.len() {
            for j in i + 1..=(i + 8).min(s.len()) {
                out.insert(normalize(&s.tokens[i..j].join(" ")));
            }
        }
    }
    out
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
        self.synthesize_with(kb, shots, None)
    }

    /// The expansions of `c` after the filters, at most `k`, attested names first.
    fn candidates(
        &self,
        kb: &Kb,
        c: u32,
        label: &str,
        mention: &str,
        guides: &Guides<'_>,
        memo: &mut std::collections::HashMap<u32, usize>,
    ) -> Result<Vec<Expansion>> {
        let Guides { types, attested } = *guides;
        let plain = !(self.clean
            || self.same_level
            || self.learned_types
            || self.attested_first
            || self.attested_only
            || self.uninvert);
        if plain {
            return self.expansions(kb, c);
        }
        // Ask for more than k: the filters and the ranking then keep k.
        let wide = KnowledgeLayer { k: self.k * 20, ..self.clone() };
        let mut all = wide.expansions(kb, c)?;
        if self.uninvert {
            for e in &mut all {
                e.name = uninvert(&e.name);
            }
        }
        if self.clean {
            let mention_is_abbreviation = is_abbreviation(mention);
            all.retain(|e| !is_omim_style(&e.name) && (mention_is_abbreviation || !is_abbreviation(&e.name)));
        }
        if self.same_level && self.layer == Layer::Related {
            let up = ancestors(kb, c);
            let own = depth(kb, c, memo);
            all.retain(|e| kb.lookup(&e.concept).is_some_and(|o| !up.contains(&o) && depth(kb, o, memo) >= own));
        }
        if let (true, Some(t)) = (self.learned_types, types) {
            all.retain(|e| {
                e.relation == Relation::Synonym
                    || kb.lookup(&e.concept).is_some_and(|o| t.label_of(kb.types(o)).as_deref() == Some(label))
            });
        }
        if let (true, Some(a)) = (self.attested_only, attested) {
            all.retain(|e| a.contains(&normalize(&e.name)));
        }
        if let (true, Some(a)) = (self.attested_first, attested) {
            // A stable sort: attested names first, the graph's order within each group.
            all.sort_by_key(|e| !a.contains(&normalize(&e.name)));
        }
        let mut seen = std::collections::HashSet::new();
        all.retain(|e| seen.insert(normalize(&e.name)));
        all.truncate(self.k + 1);
        Ok(all)
    }

    /// [`KnowledgeLayer::synthesize`] with the unlabelled pool (for `attested_first`).
    pub fn synthesize_with(&self, kb: &Kb, shots: &[Sentence], pool: Option<&[Sentence]>) -> Result<Vec<Synthetic>> {
        let types = self.learned_types.then(|| hilgen_dictionary::TypeMap::learn(kb, shots));
        let attested = match (self.attested_first || self.attested_only, pool) {
            (true, Some(p)) => Some(ngrams(p)),
            _ => None,
        };
        let guides = Guides { types: types.as_ref(), attested: attested.as_ref() };
        let mut memo = std::collections::HashMap::new();
        let mut out = Vec::new();
        for (si, s) in shots.iter().enumerate() {
            for m in s.mentions()? {
                let Some((c, linked_by)) = self.concept_of(kb, s, m.span.start, m.span.end) else { continue };
                // A mention linked by its text to a concept whose types the other shot mentions
                // never give its label (the chemical "CPA" read as the disease "congenital primary
                // aphakia", an eye disease) is a wrong sense.
                if self.learned_types && linked_by == "linked" {
                    let mut others = shots.to_vec();
                    others[si].tags[m.span.start..m.span.end].fill("O".to_string());
                    let held_out = hilgen_dictionary::TypeMap::learn(kb, &others);
                    if !held_out.votes(kb.types(c)).contains_key(&m.span.label) {
                        continue;
                    }
                }
                let mention = s.tokens[m.span.start..m.span.end].join(" ");
                let own = normalize(&mention);
                let mut used = 0;
                let found = self.candidates(kb, c, &m.span.label, &mention, &guides, &mut memo)?;
                for e in found {
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
        Needs {
            kb: Need::Required,
            pool: if self.attested_first || self.attested_only || self.mention_free {
                Need::Required
            } else {
                Need::No
            },
            dictionary: if self.mention_free { Need::Required } else { Need::No },
            mention_free_rate: self.mention_free,
            ..Needs::default()
        }
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("parameters serialize")
    }

    fn augment(&self, input: &Input<'_>) -> Result<Output> {
        let kb = input.require_kb(self.kind())?;
        let mut synthetic = self.synthesize_with(kb, input.shots, input.pool)?;
        if self.mention_free {
            let pool = input.require_pool(self.kind())?;
            let dictionary = input.require_dictionary(self.kind())?;
            let rate = input.mention_free_rate.unwrap_or(0.0).clamp(0.0, 0.9);
            let want = ((synthetic.len() as f64) * rate / (1.0 - rate)).round() as usize;
            let shot_tokens: std::collections::HashSet<&[String]> =
                input.shots.iter().map(|s| s.tokens.as_slice()).collect();
            let mut free: Vec<Sentence> = dictionary
                .tag(pool)
                .into_iter()
                .filter(|s| {
                    !s.is_empty() && s.tags.iter().all(|t| t == "O") && !shot_tokens.contains(s.tokens.as_slice())
                })
                .collect();
            use rand::seq::SliceRandom;
            let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(input.seed);
            free.shuffle(&mut rng);
            for sentence in free.into_iter().take(want) {
                synthetic.push(Synthetic {
                    sentence,
                    provenance: Provenance {
                        strategy: self.layer.name().to_string(),
                        source_sentence: None,
                        mention: None,
                        concept: String::new(),
                        linked_by: "none".into(),
                        substitute: String::new(),
                        relation: format!("mention-free/rate={rate:.3}"),
                        model: None,
                        request: None,
                    },
                });
            }
        }
        Ok(Output::of(synthetic))
    }
}

/// What the shots and the pool tell [`KnowledgeLayer`]'s filters: the entity type of each
/// concept type (`learned_types`) and the names the pool uses (`attested_first`).
#[derive(Clone, Copy)]
struct Guides<'a> {
    types: Option<&'a hilgen_dictionary::TypeMap>,
    attested: Option<&'a std::collections::HashSet<String>>,
}
