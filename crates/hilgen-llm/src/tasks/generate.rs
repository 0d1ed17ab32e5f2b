//! The generation tasks: HILGEN's three LLM variants (generate, then convert to IOB in a second
//! turn), grounded generation, the ZeroGen baseline, and the LLM as a zero-shot tagger.
//!
//! In the IOB turn and as a tagger the model annotates as [`Annotation`] says: by listing
//! entities (`{text, type}`, tags made by finding them in the sentence; the default) or by
//! writing one IOB2 tag per token.
//!
//! Every rejected output is counted in the client's [`crate::Accounting`] by reason, and
//! reported per call in [`Outcome`].

use crate::client::{ChatRequest, Completion, LlmClient, Message};
use crate::config::{Annotation, GenerationOptions};
use crate::error::Result;
use crate::parse::{
    align_tagged, check_iob, entity_mentions, first_json, json_list, label_by_matching, parse_sentences, parse_tagged,
    tag_by_matching, IobPolicy, Labels, Reject,
};
use crate::prompts::Prompts;
use hilgen_corpus::{Sentence, Span};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};

/// The relation a HILGEN prompt asks the model to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// Related concepts of the same semantic type.
    Related,
    /// Parents and children in the SNOMED CT hierarchy.
    ParentsChildren,
    /// Siblings in the hierarchy.
    Siblings,
}

impl Variant {
    /// The strategy name (`llm-related`, ...).
    pub fn strategy(self) -> &'static str {
        match self {
            Variant::Related => "llm-related",
            Variant::ParentsChildren => "llm-parents-children",
            Variant::Siblings => "llm-siblings",
        }
    }
    fn phrase(self) -> &'static str {
        match self {
            Variant::Related => "related concepts of the same semantic type",
            Variant::ParentsChildren => "broader (parent) or narrower (child) concepts in the SNOMED CT hierarchy",
            Variant::Siblings => "sibling concepts (sharing a parent in the SNOMED CT hierarchy)",
        }
    }
}

/// A mention of a source sentence with the knowledge-graph names that may replace it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MentionHint {
    /// The mention's tokens and type.
    pub span: Span,
    /// Its text.
    pub text: String,
    /// Its concept, when linked.
    pub concept: Option<String>,
    /// Names of related concepts (for grounded generation: the substitutes to use verbatim).
    pub candidates: Vec<String>,
}

/// A few-shot sentence to generate from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// Its index among the few-shot sentences (kept in provenance).
    pub index: usize,
    /// The sentence.
    pub sentence: Sentence,
    /// Its mentions with hints.
    pub hints: Vec<MentionHint>,
}

impl Source {
    /// A source whose hints are its mentions without candidates.
    pub fn plain(index: usize, sentence: Sentence) -> Result<Source> {
        let hints = sentence
            .mentions()?
            .into_iter()
            .map(|m| MentionHint {
                text: sentence.tokens[m.span.start..m.span.end].join(" "),
                concept: m.concept_ids.first().cloned(),
                span: m.span,
                candidates: Vec::new(),
            })
            .collect();
        Ok(Source { index, sentence, hints })
    }
}

/// One generated, labelled sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generated {
    /// The sentence (corpus tokenizer, IOB2).
    pub sentence: Sentence,
    /// The source sentence's index (none for ZeroGen).
    pub source: Option<usize>,
    /// Strategy name.
    pub strategy: String,
    /// The knowledge-graph names the prompt offered or required.
    pub substitutes: Vec<String>,
    /// The model.
    pub model: String,
    /// Cache key of the request that produced it.
    pub request: String,
}

/// What a generation call produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Accepted sentences.
    pub generated: Vec<Generated>,
    /// Sentences asked for.
    pub requested: usize,
    /// Rejections by reason.
    pub rejected: BTreeMap<String, u64>,
}

impl Outcome {
    fn reject(&mut self, client: &LlmClient, r: Reject, times: usize) {
        for _ in 0..times {
            client.accounting().reject(r.as_str());
        }
        if times > 0 {
            *self.rejected.entry(r.as_str().to_string()).or_default() += times as u64;
        }
    }
}

/// Runs the tasks through one client.
pub struct Generator<'a> {
    client: &'a LlmClient,
    prompts: Prompts,
    labels: Labels,
    /// What to do with ill-formed IOB2 from the model.
    pub policy: IobPolicy,
    /// ZeroGen sentences per request.
    pub zerogen_per_request: usize,
    /// How the model annotates entities.
    pub annotation: Annotation,
}

fn sentences_schema(n: usize) -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["sentences"],
           "properties": {"sentences": {"type": "array", "items": {"type": "string"}, "minItems": n, "maxItems": n}}})
}

/// JSON schema of a list of `{text, type}` entities with `types`.
fn entities_schema(types: &[String]) -> Value {
    json!({"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["text", "type"],
        "properties": {"text": {"type": "string"}, "type": {"type": "string", "enum": types}}}})
}

/// The per-sentence entity lists of an answer to the entities turn: `{"sentences": [{"entities":
/// [...]}, ...]}`, a bare list of such objects or of lists, or (cut off) the complete objects.
fn entity_lists(content: &str) -> Vec<Value> {
    json_list(content, "sentences", "entities").into_iter().map(|x| x.get("entities").cloned().unwrap_or(x)).collect()
}

/// Labels `text` with the entities a model listed for it: there must be some, and each must
/// occur in `text`.
fn label_listed(text: &str, mentions: &[(String, String)]) -> std::result::Result<Sentence, Reject> {
    if mentions.is_empty() {
        return Err(Reject::NoEntity);
    }
    let (sentence, found) = label_by_matching(text, mentions);
    if found.iter().any(|f| !f) {
        return Err(Reject::EntityNotInSentence);
    }
    Ok(sentence)
}

impl<'a> Generator<'a> {
    /// A generator for a dataset with entity types `labels`, with the shipped prompts and
    /// entity-list annotation.
    pub fn new(client: &'a LlmClient, labels: Labels) -> Result<Generator<'a>> {
        Generator::with_options(client, labels, &GenerationOptions::default())
    }

    /// A generator with `options` (annotation, prompt overrides read from `prompts_dir`).
    pub fn with_options(client: &'a LlmClient, labels: Labels, options: &GenerationOptions) -> Result<Generator<'a>> {
        let prompts = Prompts::load(options.prompts_dir.as_deref())?;
        Ok(Generator::with_prompts(client, labels, options.annotation, prompts))
    }

    /// A generator with templates already loaded (for callers that hashed their texts).
    pub fn with_prompts(
        client: &'a LlmClient,
        labels: Labels,
        annotation: Annotation,
        prompts: Prompts,
    ) -> Generator<'a> {
        Generator { client, prompts, labels, policy: IobPolicy::Repair, zerogen_per_request: 10, annotation }
    }

    fn system(&self) -> Result<Message> {
        Ok(Message::system(self.prompts.render("system.j2", json!({}))?))
    }

    fn model(&self) -> String {
        self.client.config().model.clone()
    }

    async fn run(
        &self,
        reqs: &[ChatRequest],
        what: &str,
        out: &mut Outcome,
        per_request: usize,
    ) -> Vec<Option<Completion>> {
        let mut answers = Vec::with_capacity(reqs.len());
        for r in self.client.chat_all(reqs, what).await {
            match r {
                Ok(c) => answers.push(Some(c)),
                Err(e) => {
                    tracing::warn!(error = %e, "request failed");
                    if matches!(e, crate::LlmError::Auth { .. } | crate::LlmError::OfflineMiss { .. }) {
                        // Every other request would fail the same way: say so once, loudly.
                        tracing::error!("{e}");
                    }
                    out.reject(self.client, Reject::RequestFailed, per_request);
                    answers.push(None);
                }
            }
        }
        answers
    }

    /// HILGEN's LLM generation: `n` sentences per source using `variant` concepts, then a second
    /// turn converting them to IOB with the dataset's types.
    pub async fn hilgen(&self, variant: Variant, sources: &[Source], n: usize) -> Result<Outcome> {
        let mut out = Outcome { requested: n * sources.len(), ..Outcome::default() };
        let types = self.labels.types().to_vec();
        let system = self.system()?;
        let mut first = Vec::new();
        for s in sources {
            let entities: Vec<Value> =
                s.hints.iter().map(|h| json!({"text": h.text, "type": h.span.label, "hints": h.candidates})).collect();
            let user = self.prompts.render(
                "hilgen_generate.j2",
                json!({"sentence": s.sentence.text(), "entities": entities, "relation": variant.phrase(), "n": n, "types": types}),
            )?;
            first.push(ChatRequest {
                messages: vec![system.clone(), Message::user(user)],
                schema: Some(("sentences".into(), sentences_schema(n))),
            });
        }
        let answers = self.run(&first, variant.strategy(), &mut out, n).await;
        // Second turn: the accepted sentences, to IOB.
        let mut second = Vec::new();
        let mut pending = Vec::new();
        for ((s, req), ans) in sources.iter().zip(&first).zip(answers) {
            let Some(ans) = ans else { continue };
            let list = parse_sentences(&ans.content, n);
            for r in &list.rejected {
                out.reject(self.client, *r, 1);
            }
            // The source sentence again, up to spacing and case, is no new sentence.
            let squeeze = |t: &str| crate::parse::squeeze(t).to_lowercase();
            let own = squeeze(&s.sentence.text());
            let sentences: Vec<String> = list
                .sentences
                .into_iter()
                .filter(|x| {
                    let dup = squeeze(x) == own;
                    if dup {
                        out.reject(self.client, Reject::Duplicate, 1);
                    }
                    !dup
                })
                .collect();
            if sentences.is_empty() {
                continue;
            }
            let mut messages = req.messages.clone();
            messages.push(Message::assistant(json!({"sentences": sentences}).to_string()));
            let k = sentences.len();
            let (template, schema) = match self.annotation {
                Annotation::Entities => (
                    "hilgen_to_entities.j2",
                    json!({"type": "object", "additionalProperties": false,
                    "required": ["sentences"], "properties": {"sentences": {"type": "array", "minItems": k, "maxItems": k,
                        "items": {"type": "object", "additionalProperties": false, "required": ["entities"],
                            "properties": {"entities": entities_schema(&types)}}}}}),
                ),
                Annotation::Tokens => (
                    "hilgen_to_iob.j2",
                    json!({"type": "object", "additionalProperties": false,
                    "required": ["sentences"], "properties": {"sentences": {"type": "array", "minItems": k, "maxItems": k,
                        "items": {"type": "object", "additionalProperties": false, "required": ["tokens", "tags"],
                            "properties": {"tokens": {"type": "array", "items": {"type": "string"}},
                                "tags": {"type": "array", "items": {"type": "string", "enum": self.labels.iob2_tags()}}}}}}}),
                ),
            };
            messages.push(Message::user(
                self.prompts.render(template, json!({"n": k, "types": types, "sentences": sentences}))?,
            ));
            second.push(ChatRequest { messages, schema: Some(("iob".into(), schema)) });
            pending.push((s, sentences));
        }
        let tagged_answers = self.run(&second, "to IOB", &mut out, 0).await;
        for ((s, sentences), ans) in pending.into_iter().zip(tagged_answers) {
            let Some(ans) = ans else {
                out.reject(self.client, Reject::RequestFailed, sentences.len());
                continue;
            };
            let substitutes: Vec<String> = s.hints.iter().flat_map(|h| h.candidates.iter().cloned()).collect();
            let results = match self.annotation {
                Annotation::Entities => self.label_from_entities(&ans.content, &sentences),
                Annotation::Tokens => self.label_from_tokens(&ans.content, &sentences),
            };
            for result in results {
                match result {
                    Ok(sentence) if sentence.tags.iter().all(|t| t == "O") => {
                        out.reject(self.client, Reject::NoEntity, 1)
                    }
                    Ok(sentence) => out.generated.push(Generated {
                        sentence,
                        source: Some(s.index),
                        strategy: variant.strategy().into(),
                        substitutes: substitutes.clone(),
                        model: self.model(),
                        request: ans.key.clone(),
                    }),
                    Err(r) => out.reject(self.client, r, 1),
                }
            }
        }
        Ok(out)
    }

    /// Labels `sentences` from an answer listing each one's entities: the strings must occur in
    /// their sentence.
    fn label_from_entities(&self, content: &str, sentences: &[String]) -> Vec<std::result::Result<Sentence, Reject>> {
        let lists = entity_lists(content);
        sentences
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let mentions = entity_mentions(lists.get(i).ok_or(Reject::Unparseable)?, &self.labels)?;
                label_listed(text, &mentions)
            })
            .collect()
    }

    /// Labels `sentences` from an answer giving tokens and tags per sentence: the tokens must
    /// spell their sentence (the i-th tagging, or else the first unused one that does).
    fn label_from_tokens(&self, content: &str, sentences: &[String]) -> Vec<std::result::Result<Sentence, Reject>> {
        let tagged = parse_tagged(content, &self.labels);
        let mut used = vec![false; tagged.len()];
        sentences
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let pick = match tagged.get(i) {
                    Some(Ok(t)) if !used[i] && crate::parse::reconstructs(&t.tokens, text) => Some(i),
                    _ => tagged.iter().enumerate().position(|(j, t)| {
                        !used[j] && matches!(t, Ok(t) if crate::parse::reconstructs(&t.tokens, text))
                    }),
                };
                match pick {
                    Some(j) => {
                        used[j] = true;
                        align_tagged(text, tagged[j].as_ref().expect("picked an Ok"), self.policy)
                    }
                    None => Err(match tagged.get(i) {
                        Some(Err(r)) => *r,
                        Some(Ok(_)) => Reject::TokenMismatch,
                        None => Reject::Unparseable,
                    }),
                }
            })
            .collect()
    }

    /// Grounded generation: sentence `k` of a source must use, verbatim, candidate `k` (cycling)
    /// of each hinted mention; labels come from exact matching, never from the model. Sources
    /// without candidates are skipped.
    pub async fn grounded(&self, sources: &[Source], n: usize) -> Result<Outcome> {
        let mut out = Outcome::default();
        let system = self.system()?;
        let mut reqs = Vec::new();
        let mut plans = Vec::new();
        for s in sources {
            let hinted: Vec<&MentionHint> = s.hints.iter().filter(|h| !h.candidates.is_empty()).collect();
            if hinted.is_empty() {
                continue;
            }
            let sets: Vec<Vec<(String, String, String)>> = (0..n)
                .map(|k| {
                    hinted
                        .iter()
                        .map(|h| (h.text.clone(), h.candidates[k % h.candidates.len()].clone(), h.span.label.clone()))
                        .collect()
                })
                .collect();
            let sets_json: Vec<Value> = sets
                .iter()
                .map(|set| {
                    Value::Array(
                        set.iter().map(|(o, sub, t)| json!({"original": o, "substitute": sub, "type": t})).collect(),
                    )
                })
                .collect();
            let user = self
                .prompts
                .render("grounded_generate.j2", json!({"sentence": s.sentence.text(), "sets": sets_json, "n": n}))?;
            reqs.push(ChatRequest {
                messages: vec![system.clone(), Message::user(user)],
                schema: Some(("sentences".into(), sentences_schema(n))),
            });
            out.requested += n;
            plans.push((s, sets));
        }
        let answers = self.run(&reqs, "grounded", &mut out, n).await;
        for ((s, sets), ans) in plans.into_iter().zip(answers) {
            let Some(ans) = ans else { continue };
            let list = parse_sentences(&ans.content, n);
            for r in &list.rejected {
                out.reject(self.client, *r, 1);
            }
            // Unchanged mentions of the source are labelled too when they reappear.
            let others: Vec<(String, String)> = s
                .hints
                .iter()
                .filter(|h| h.candidates.is_empty())
                .map(|h| (h.text.clone(), h.span.label.clone()))
                .collect();
            let mut used_sets = HashSet::new();
            for (k, text) in list.sentences.iter().enumerate() {
                let try_set = |set: &Vec<(String, String, String)>| {
                    let mut mentions: Vec<(String, String)> =
                        set.iter().map(|(_, sub, t)| (sub.clone(), t.clone())).collect();
                    let required = mentions.len();
                    mentions.extend(others.iter().cloned());
                    let (sentence, found) = label_by_matching(text, &mentions);
                    found[..required].iter().all(|&f| f).then_some(sentence)
                };
                let hit = try_set(&sets[k]).map(|x| (k, x)).or_else(|| {
                    sets.iter()
                        .enumerate()
                        .filter(|(j, _)| *j != k && !used_sets.contains(j))
                        .find_map(|(j, set)| try_set(set).map(|x| (j, x)))
                });
                match hit {
                    Some((j, sentence)) if used_sets.insert(j) => out.generated.push(Generated {
                        sentence,
                        source: Some(s.index),
                        strategy: "grounded".into(),
                        substitutes: sets[j].iter().map(|(_, sub, _)| sub.clone()).collect(),
                        model: self.model(),
                        request: ans.key.clone(),
                    }),
                    Some(_) => out.reject(self.client, Reject::Duplicate, 1),
                    None => out.reject(self.client, Reject::MissingMention, 1),
                }
            }
        }
        Ok(out)
    }

    /// ZeroGen: `n` sentences per entity type with no examples; each sentence comes with the
    /// entities the model says it mentions, which must occur in it verbatim.
    pub async fn zerogen(&self, n: usize) -> Result<Outcome> {
        let mut out = Outcome::default();
        let system = self.system()?;
        let types = self.labels.types().to_vec();
        let per = self.zerogen_per_request.max(1);
        let mut reqs = Vec::new();
        let mut sizes = Vec::new();
        for t in &types {
            let mut left = n;
            let mut batch = 0;
            while left > 0 {
                let k = left.min(per);
                batch += 1;
                let mut user =
                    self.prompts.render("zerogen_generate.j2", json!({"type": t, "types": types, "n": k}))?;
                if batch > 1 {
                    user.push_str(&format!("\n\n(Batch {batch}: write sentences unlike those of earlier batches.)"));
                }
                let schema = json!({"type": "object", "additionalProperties": false, "required": ["items"],
                    "properties": {"items": {"type": "array", "minItems": k, "maxItems": k,
                        "items": {"type": "object", "additionalProperties": false, "required": ["sentence", "entities"],
                            "properties": {"sentence": {"type": "string"},
                                "entities": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                                    "required": ["text", "type"],
                                    "properties": {"text": {"type": "string"}, "type": {"type": "string", "enum": types}}}}}}}}});
                reqs.push(ChatRequest {
                    messages: vec![system.clone(), Message::user(user)],
                    schema: Some(("zerogen".into(), schema)),
                });
                sizes.push(k);
                out.requested += k;
                left -= k;
            }
        }
        let answers = self.run(&reqs, "zerogen", &mut out, 0).await;
        let mut seen = HashSet::new();
        for (ans, k) in answers.into_iter().zip(sizes.iter()) {
            let Some(ans) = ans else {
                out.reject(self.client, Reject::RequestFailed, *k);
                continue;
            };
            let items = json_list(&ans.content, "items", "sentence");
            let mut accepted = 0;
            for item in items.iter().take(*k) {
                match self.zerogen_item(item) {
                    Ok(sentence) => {
                        if !seen.insert(sentence.text().to_lowercase()) {
                            out.reject(self.client, Reject::Duplicate, 1);
                            continue;
                        }
                        accepted += 1;
                        out.generated.push(Generated {
                            sentence,
                            source: None,
                            strategy: "zerogen".into(),
                            substitutes: Vec::new(),
                            model: self.model(),
                            request: ans.key.clone(),
                        });
                    }
                    Err(r) => {
                        accepted += 1; // counted as produced-but-rejected, not as missing
                        out.reject(self.client, r, 1);
                    }
                }
            }
            out.reject(self.client, Reject::ExtraSentences, items.len().saturating_sub(*k));
            out.reject(self.client, Reject::TooFewSentences, k.saturating_sub(accepted));
        }
        Ok(out)
    }

    fn zerogen_item(&self, item: &Value) -> std::result::Result<Sentence, Reject> {
        let text = item
            .get("sentence")
            .and_then(Value::as_str)
            .map(crate::parse::clean_sentence)
            .ok_or(Reject::Unparseable)?;
        if text.split_whitespace().count() < 3 {
            return Err(Reject::TooShort);
        }
        let mentions = match item.get("entities") {
            Some(v) => entity_mentions(v, &self.labels)?,
            None => Vec::new(),
        };
        label_listed(&text, &mentions)
    }

    /// The LLM as a zero-shot tagger: one request per sentence. With
    /// [`Annotation::Entities`] the model lists the sentence's entities and the tags come from
    /// finding them in its tokens (a listed entity that is not there is dropped and counted as
    /// `entity-not-in-sentence`); with [`Annotation::Tokens`] it gives one tag per token. A
    /// sentence whose answer cannot be used is predicted all `O` (and counted as rejected).
    pub async fn tag(&self, sentences: &[Sentence]) -> Result<(Vec<Sentence>, Outcome)> {
        let mut out = Outcome { requested: sentences.len(), ..Outcome::default() };
        let system = self.system()?;
        let types = self.labels.types().to_vec();
        let tags = self.labels.iob2_tags();
        let mut reqs = Vec::new();
        for s in sentences {
            let (user, schema) = match self.annotation {
                Annotation::Entities => (
                    self.prompts.render("tag_entities.j2", json!({"sentence": s.text(), "types": types}))?,
                    json!({"type": "object", "additionalProperties": false, "required": ["entities"],
                        "properties": {"entities": entities_schema(&types)}}),
                ),
                Annotation::Tokens => (
                    self.prompts.render("tag_zero_shot.j2", json!({"tokens": s.tokens, "types": types}))?,
                    json!({"type": "object", "additionalProperties": false, "required": ["tags"],
                        "properties": {"tags": {"type": "array", "minItems": s.len(), "maxItems": s.len(),
                            "items": {"type": "string", "enum": tags}}}}),
                ),
            };
            reqs.push(ChatRequest {
                messages: vec![system.clone(), Message::user(user)],
                schema: Some(("tags".into(), schema)),
            });
        }
        let answers = self.run(&reqs, "zero-shot tagging", &mut out, 1).await;
        let mut predictions = Vec::with_capacity(sentences.len());
        for (s, ans) in sentences.iter().zip(answers) {
            let parsed = match (ans, self.annotation) {
                (Some(a), Annotation::Entities) => self.tags_from_entities(&a.content, s, &mut out),
                (Some(a), Annotation::Tokens) => self.tags_of(&a.content, s),
                (None, _) => Err(Reject::RequestFailed),
            };
            let mut p = Sentence::new(s.tokens.clone(), vec!["O".to_string(); s.len()]).expect("same length");
            p.doc_id = s.doc_id.clone();
            match parsed {
                Ok(tags) => p.tags = tags,
                Err(Reject::RequestFailed) => {}
                Err(r) => out.reject(self.client, r, 1),
            }
            predictions.push(p);
        }
        Ok((predictions, out))
    }

    fn tags_from_entities(
        &self,
        content: &str,
        s: &Sentence,
        out: &mut Outcome,
    ) -> std::result::Result<Vec<String>, Reject> {
        let body = crate::parse::strip_fences(content);
        let v = first_json(&body).ok_or(Reject::Unparseable)?;
        let list = v.get("entities").unwrap_or(&v);
        let mentions = entity_mentions(list, &self.labels)?;
        let (tags, found) = tag_by_matching(&s.tokens, &mentions);
        out.reject(self.client, Reject::EntityNotInSentence, found.iter().filter(|f| !**f).count());
        Ok(tags)
    }

    fn tags_of(&self, content: &str, s: &Sentence) -> std::result::Result<Vec<String>, Reject> {
        let body = crate::parse::strip_fences(content);
        let raw: Vec<String> = if let Some(list) = first_json(&body).and_then(|v| {
            v.get("tags")
                .or(Some(&v))
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|x| x.as_str().unwrap_or("?").to_string()).collect::<Vec<_>>())
        }) {
            list
        } else {
            // token<TAB>tag lines (tokens must match), or bare tags one per line.
            let tagged = parse_tagged(&body, &self.labels);
            match tagged.into_iter().next() {
                Some(Ok(t)) if t.tokens == s.tokens => t.tags,
                Some(Ok(t)) if t.tokens.len() == s.len() => return Err(Reject::TokenMismatch),
                _ => body
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| l.rsplit(['\t', ' ']).next().unwrap_or(l).to_string())
                    .collect(),
            }
        };
        if raw.len() != s.len() {
            return Err(Reject::TagCountMismatch);
        }
        let tags = raw.iter().map(|t| self.labels.normalize_tag(t)).collect::<std::result::Result<Vec<_>, _>>()?;
        check_iob(tags, self.policy)
    }
}
