//! Reading real model output: markdown fences, numbered or bulleted lists, chatter, JSON (even
//! cut off by the token limit), and tagged tokens as `token<TAB>LABEL`, `token LABEL`,
//! `token-LABEL`, `token/LABEL` or JSON. Nothing here panics on any input; every output that
//! cannot be used is a [`Reject`] with a reason.
//!
//! Labels are checked against the dataset's entity types (case-insensitively, `B_X` and
//! `b-x` accepted). Ill-formed IOB2 (an `I-` that starts an entity or changes type) is
//! handled by the [`IobPolicy`]: repaired the way seqeval reads it (`Repair`, the default)
//! or rejected (`Reject`).
//!
//! ```
//! use hilgen_llm::parse::{parse_sentences, parse_tagged, Labels};
//! let out = "Sure! Here are the sentences:\n1. Aspirin reduced fever in children.\n2) \"Ibuprofen eased the pain.\"";
//! let list = parse_sentences(out, 2);
//! assert_eq!(list.sentences, ["Aspirin reduced fever in children.", "Ibuprofen eased the pain."]);
//! let labels = Labels::new(["Chemical", "Disease"]);
//! let tagged = parse_tagged("Aspirin\tB-Chemical\nreduced O\nfever\tb-disease\n.\tO", &labels);
//! assert_eq!(tagged[0].as_ref().unwrap().tags, ["B-Chemical", "O", "B-Disease", "O"]);
//! ```

use hilgen_corpus::scheme::{decode_strict, repair};
use hilgen_corpus::tokenize::tokenize;
use hilgen_corpus::{Scheme, Sentence, Span};
use serde_json::Value;
use std::collections::HashSet;

/// Why a piece of model output was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reject {
    /// Nothing usable in the answer.
    Unparseable,
    /// Fewer sentences than asked (one count per missing sentence).
    TooFewSentences,
    /// More sentences than asked (one count per extra sentence, dropped).
    ExtraSentences,
    /// A sentence repeated within the answer or repeating the source.
    Duplicate,
    /// A "sentence" of fewer than three words.
    TooShort,
    /// A tag whose entity type is not in the dataset.
    UnknownLabel,
    /// A tag that is not `O`, `B-X` or `I-X`.
    BadTag,
    /// Ill-formed IOB2 under [`IobPolicy::Reject`].
    IllFormedIob,
    /// Tokens that do not spell the sentence they tag.
    TokenMismatch,
    /// A different number of tags than tokens.
    TagCountMismatch,
    /// A grounded sentence that lacks a mention it had to use verbatim.
    MissingMention,
    /// An entity the model listed that does not occur in its sentence.
    EntityNotInSentence,
    /// A tagged sentence with no entity at all (generation asked for entities).
    NoEntity,
    /// The request failed (after retries) or the answer was cut off before any use.
    RequestFailed,
}

impl Reject {
    /// The reason's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Reject::Unparseable => "unparseable",
            Reject::TooFewSentences => "too-few-sentences",
            Reject::ExtraSentences => "extra-sentences",
            Reject::Duplicate => "duplicate",
            Reject::TooShort => "too-short",
            Reject::UnknownLabel => "unknown-label",
            Reject::BadTag => "bad-tag",
            Reject::IllFormedIob => "ill-formed-iob",
            Reject::TokenMismatch => "token-mismatch",
            Reject::TagCountMismatch => "tag-count-mismatch",
            Reject::MissingMention => "missing-mention",
            Reject::EntityNotInSentence => "entity-not-in-sentence",
            Reject::NoEntity => "no-entity",
            Reject::RequestFailed => "request-failed",
        }
    }
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do with ill-formed IOB2 from a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IobPolicy {
    /// Repair as seqeval reads it (a stray `I-X` starts an entity).
    #[default]
    Repair,
    /// Reject the sentence.
    Reject,
}

/// The dataset's entity types, for checking and normalizing tags.
#[derive(Debug, Clone)]
pub struct Labels {
    types: Vec<String>,
}

impl Labels {
    /// The entity types (without prefixes), e.g. `Chemical`, `Disease`.
    pub fn new<S: Into<String>>(types: impl IntoIterator<Item = S>) -> Labels {
        Labels { types: types.into_iter().map(Into::into).collect() }
    }

    /// The types of some sentences.
    pub fn of_sentences<'a>(sentences: impl IntoIterator<Item = &'a Sentence>) -> Labels {
        Labels { types: hilgen_corpus::label_set(sentences).into_iter().collect() }
    }

    /// The types from tags such as `O`, `B-Chemical`, `I-Chemical` (a tag without a prefix is
    /// taken as a type).
    pub fn from_tags<'a>(tags: impl IntoIterator<Item = &'a String>) -> Labels {
        let mut types: Vec<String> = tags
            .into_iter()
            .filter(|t| *t != "O")
            .map(|t| t.split_once('-').map_or(t.as_str(), |(_, ty)| ty).to_string())
            .collect();
        types.sort();
        types.dedup();
        Labels { types }
    }

    /// The types.
    pub fn types(&self) -> &[String] {
        &self.types
    }

    /// Every IOB2 tag: `O`, then `B-X`, `I-X` per type.
    pub fn iob2_tags(&self) -> Vec<String> {
        let mut v = vec!["O".to_string()];
        for t in &self.types {
            v.push(format!("B-{t}"));
            v.push(format!("I-{t}"));
        }
        v
    }

    /// The type named `raw`, compared case-insensitively and ignoring `_`/space/`-` differences.
    pub fn find_type(&self, raw: &str) -> Option<&str> {
        let key = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
        let k = key(raw);
        self.types.iter().find(|t| key(t) == k).map(String::as_str)
    }

    /// Normalizes one tag: `O` (also `o`, `0`), or `B-`/`I-` (any case, `-` or `_`) and a
    /// known type.
    pub fn normalize_tag(&self, raw: &str) -> Result<String, Reject> {
        let raw = raw.trim().trim_matches(|c| c == '"' || c == '\'' || c == ',' || c == '[' || c == ']');
        if matches!(raw, "O" | "o" | "0") {
            return Ok("O".into());
        }
        let mut chars = raw.chars();
        let (Some(p), Some(sep)) = (chars.next(), chars.next()) else { return Err(Reject::BadTag) };
        if !matches!(p, 'B' | 'I' | 'b' | 'i') || !matches!(sep, '-' | '_') {
            return Err(Reject::BadTag);
        }
        match self.find_type(&raw[2..]) {
            Some(t) => Ok(format!("{}-{t}", p.to_ascii_uppercase())),
            None => Err(Reject::UnknownLabel),
        }
    }

    fn looks_like_tag(&self, raw: &str) -> bool {
        !matches!(self.normalize_tag(raw), Err(Reject::BadTag))
    }
}

/// The text inside markdown code fences, or the whole text when there are none.
pub fn strip_fences(text: &str) -> String {
    if !text.contains("```") {
        return text.to_string();
    }
    let mut inside = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
            continue;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    if out.trim().is_empty() {
        text.replace("```", "")
    } else {
        out
    }
}

/// The first JSON value in `text` (after any chatter), if one parses.
pub fn first_json(text: &str) -> Option<Value> {
    let t = text.trim();
    if let Ok(v) = serde_json::from_str::<Value>(t) {
        return Some(v);
    }
    for (i, c) in t.char_indices() {
        if c == '{' || c == '[' {
            let mut de = serde_json::Deserializer::from_str(&t[i..]).into_iter::<Value>();
            if let Some(Ok(v)) = de.next() {
                if v.is_object() || v.is_array() {
                    return Some(v);
                }
            }
        }
    }
    None
}

/// The items of a list answer: the array under `key` in the first JSON value of `text` (fences
/// stripped), or that value itself when it is an array; when there is no complete JSON value
/// (cut off by the token limit), the complete objects that have `item_key`.
///
/// ```
/// use hilgen_llm::parse::json_list;
/// assert_eq!(json_list("```json\n{\"items\": [1, 2]}\n```", "items", "x").len(), 2);
/// assert_eq!(json_list("Here: [1, 2, 3]", "items", "x").len(), 3);
/// ```
pub fn json_list(text: &str, key: &str, item_key: &str) -> Vec<Value> {
    let body = strip_fences(text);
    match first_json(&body) {
        Some(v) => v.get(key).and_then(Value::as_array).or_else(|| v.as_array()).cloned().unwrap_or_default(),
        None => json_objects_with(&body, item_key),
    }
}

/// Every complete JSON object in `text` that has key `key`, outermost first, in order: what can
/// be saved of a JSON array cut off by the token limit.
pub fn json_objects_with(text: &str, key: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = text[i..].find('{') {
        let at = i + off;
        let mut de = serde_json::Deserializer::from_str(&text[at..]).into_iter::<Value>();
        match de.next() {
            Some(Ok(v)) if v.get(key).is_some() => {
                out.push(v);
                i = at + de.byte_offset();
            }
            _ => i = at + 1,
        }
    }
    out
}

/// Complete JSON string literals in `text`, decoded: what can be saved of JSON cut off by the
/// token limit.
pub fn complete_json_strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let start = i;
            i += 1;
            let mut closed = false;
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 2,
                    b'"' => {
                        closed = true;
                        break;
                    }
                    _ => i += 1,
                }
            }
            if !closed || i >= b.len() {
                break;
            }
            if let Ok(s) = serde_json::from_str::<String>(&text[start..=i]) {
                out.push(s);
            }
        }
        i += 1;
    }
    out
}

/// Sentences parsed from an answer that should hold `n` of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SentenceList {
    /// The sentences, cleaned, at most `n`.
    pub sentences: Vec<String>,
    /// Rejections, one per dropped or missing sentence.
    pub rejected: Vec<Reject>,
}

const CHATTER: [&str; 12] = [
    "here are",
    "here is",
    "sure",
    "certainly",
    "of course",
    "note:",
    "i hope",
    "these sentences",
    "let me",
    "below are",
    "the following",
    "sentences:",
];

/// Removes list markers (`1.`, `2)`, `(3)`, `-`, `*`, `•`), markdown emphasis and wrapping quotes.
pub fn clean_sentence(line: &str) -> String {
    let mut s = line.trim();
    // List markers.
    let digits = s.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 && digits < 4 {
        let rest = &s[digits..];
        if let Some(r) = rest.strip_prefix('.').or_else(|| rest.strip_prefix(')')).or_else(|| rest.strip_prefix(':')) {
            s = r.trim_start();
        }
    } else if let Some(r) = s.strip_prefix('(') {
        let d = r.chars().take_while(|c| c.is_ascii_digit()).count();
        if d > 0 && r[d..].starts_with(')') {
            s = r[d + 1..].trim_start();
        }
    }
    for marker in ["- ", "* ", "• ", "– "] {
        if let Some(r) = s.strip_prefix(marker) {
            s = r.trim_start();
        }
    }
    let mut out = s.replace("**", "").replace("__", "");
    if out.starts_with('*') && !out.starts_with("**") {
        out = out.replace('*', "");
    }
    let t = out.trim().trim_end_matches(',').trim();
    let t = t.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(t);
    let t = t.strip_prefix('\u{201c}').and_then(|x| x.strip_suffix('\u{201d}')).unwrap_or(t);
    t.trim().to_string()
}

fn is_chatter(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    l.is_empty() || l.ends_with(':') || CHATTER.iter().any(|c| l.starts_with(c))
}

fn strings_of(v: &Value) -> Vec<String> {
    let field = |o: &serde_json::Map<String, Value>| {
        ["sentence", "text", "content"].iter().find_map(|k| o.get(*k).and_then(Value::as_str).map(str::to_string))
    };
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => field(o),
                _ => None,
            })
            .collect(),
        Value::Object(o) => {
            if let Some(inner) = ["sentences", "items", "results", "data"].iter().find_map(|k| o.get(*k)) {
                return strings_of(inner);
            }
            field(o).into_iter().collect()
        }
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Sentences from a generation answer (JSON or text, see the module docs); keeps the first `n`.
pub fn parse_sentences(text: &str, n: usize) -> SentenceList {
    let body = strip_fences(text);
    let raw: Vec<String> = match first_json(&body) {
        Some(v) => strings_of(&v),
        None if body.trim_start().starts_with(['{', '[']) => complete_json_strings(&body)
            .into_iter()
            .filter(|s| !matches!(s.as_str(), "sentences" | "sentence" | "text"))
            .collect(),
        None => body.lines().filter(|l| !is_chatter(l)).map(str::to_string).collect(),
    };
    let mut list = SentenceList::default();
    let mut seen = HashSet::new();
    for r in raw {
        let s = clean_sentence(&r);
        if s.split_whitespace().count() < 3 {
            if !s.is_empty() {
                list.rejected.push(Reject::TooShort);
            }
            continue;
        }
        if !seen.insert(s.to_lowercase()) {
            list.rejected.push(Reject::Duplicate);
            continue;
        }
        if list.sentences.len() == n {
            list.rejected.push(Reject::ExtraSentences);
            continue;
        }
        list.sentences.push(s);
    }
    // Each requested sentence that did not come is counted once: `unparseable` when the answer
    // held nothing sentence-like at all, else `too-few-sentences`.
    let missing = if list.sentences.is_empty() && list.rejected.is_empty() {
        Reject::Unparseable
    } else {
        Reject::TooFewSentences
    };
    for _ in list.sentences.len()..n {
        list.rejected.push(missing);
    }
    list
}

/// Tokens and normalized tags as the model gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    /// Tokens.
    pub tokens: Vec<String>,
    /// Tags (normalized, not yet checked for IOB2 well-formedness).
    pub tags: Vec<String>,
}

fn tagged_from_pairs(pairs: Vec<(String, String)>, labels: &Labels) -> Result<Tagged, Reject> {
    if pairs.is_empty() {
        return Err(Reject::Unparseable);
    }
    let mut t = Tagged { tokens: Vec::new(), tags: Vec::new() };
    for (tok, tag) in pairs {
        t.tags.push(labels.normalize_tag(&tag)?);
        t.tokens.push(tok);
    }
    Ok(t)
}

fn tagged_from_json(v: &Value, labels: &Labels) -> Vec<Result<Tagged, Reject>> {
    let as_strs =
        |v: &Value| v.as_array().map(|a| a.iter().map(|x| x.as_str().map(str::to_string)).collect::<Option<Vec<_>>>());
    match v {
        Value::Object(o) if o.contains_key("sentences") => match &o["sentences"] {
            Value::Array(items) => items.iter().flat_map(|x| tagged_from_json(x, labels)).collect(),
            _ => vec![Err(Reject::Unparseable)],
        },
        Value::Object(o) if o.contains_key("tokens") && (o.contains_key("tags") || o.contains_key("labels")) => {
            let tags = o.get("tags").or_else(|| o.get("labels")).unwrap_or(&Value::Null);
            match (as_strs(&o["tokens"]), as_strs(tags)) {
                (Some(Some(tok)), Some(Some(tg))) if tok.len() == tg.len() => {
                    vec![tagged_from_pairs(tok.into_iter().zip(tg).collect(), labels)]
                }
                (Some(Some(_)), Some(Some(_))) => vec![Err(Reject::TagCountMismatch)],
                _ => vec![Err(Reject::Unparseable)],
            }
        }
        Value::Array(items)
            if items.iter().all(|x| x.is_object() && (x.get("token").is_some() || x.get("word").is_some())) =>
        {
            let pairs: Option<Vec<(String, String)>> = items
                .iter()
                .map(|x| {
                    let tok = x.get("token").or_else(|| x.get("word"))?.as_str()?;
                    let tag = x.get("tag").or_else(|| x.get("label")).or_else(|| x.get("ner"))?.as_str()?;
                    Some((tok.to_string(), tag.to_string()))
                })
                .collect();
            vec![pairs.map_or(Err(Reject::Unparseable), |p| tagged_from_pairs(p, labels))]
        }
        Value::Array(items)
            if items.iter().all(|x| x.as_array().is_some_and(|a| a.len() == 2)) && !items.is_empty() =>
        {
            let pairs: Option<Vec<(String, String)>> =
                items.iter().map(|x| Some((x[0].as_str()?.to_string(), x[1].as_str()?.to_string()))).collect();
            vec![pairs.map_or(Err(Reject::Unparseable), |p| tagged_from_pairs(p, labels))]
        }
        Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
            items.iter().flat_map(|x| tagged_from_json(x, labels)).collect()
        }
        _ => vec![Err(Reject::Unparseable)],
    }
}

/// Splits an inline `word-TAG`, `word/TAG` or `word_TAG` item at the separator before a tag.
fn split_inline<'a>(item: &'a str, labels: &Labels) -> Option<(&'a str, &'a str)> {
    for (i, c) in item.char_indices().rev() {
        if matches!(c, '-' | '/' | '_' | ':' | '|') && i > 0 && labels.looks_like_tag(&item[i + 1..]) {
            return Some((&item[..i], &item[i + 1..]));
        }
    }
    None
}

fn tagged_from_block(lines: &[&str], labels: &Labels) -> Result<Tagged, Reject> {
    let mut pairs = Vec::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() || is_chatter(line) {
            continue;
        }
        let parts: Vec<&str> = if line.contains('\t') {
            line.split('\t').map(str::trim).filter(|p| !p.is_empty()).collect()
        } else {
            line.split_whitespace().collect()
        };
        match parts.as_slice() {
            [tok, tag] if labels.looks_like_tag(tag) => pairs.push((tok.to_string(), tag.to_string())),
            [tok, "-" | ":" | "->" | "=>", tag] if labels.looks_like_tag(tag) => {
                pairs.push((tok.to_string(), tag.to_string()))
            }
            _ => {
                // One line of inline items, or a single `word-TAG`.
                let items: Option<Vec<(&str, &str)>> = parts.iter().map(|p| split_inline(p, labels)).collect();
                match items {
                    Some(items) if !items.is_empty() => {
                        pairs.extend(items.into_iter().map(|(a, b)| (a.to_string(), b.to_string())))
                    }
                    _ => {
                        // A header such as "Sentence 1" or stray prose: skipped if nothing parsed yet.
                        if !pairs.is_empty() {
                            return Err(Reject::Unparseable);
                        }
                    }
                }
            }
        }
    }
    tagged_from_pairs(pairs, labels)
}

/// Tagged sentences from an answer, in order: JSON (`{"sentences": [{"tokens", "tags"}]}`,
/// `{"tokens", "tags"}`, `[{"token", "tag"}]`, `[["tok", "tag"]]`) or text blocks separated by
/// blank lines or numbered headers, one `token TAG` per line or `token-TAG` items inline.
pub fn parse_tagged(text: &str, labels: &Labels) -> Vec<Result<Tagged, Reject>> {
    let body = strip_fences(text);
    if let Some(v) = first_json(&body) {
        let r = tagged_from_json(&v, labels);
        if r.iter().any(|x| x != &Err(Reject::Unparseable)) {
            return r;
        }
    } else if body.trim_start().starts_with(['{', '[']) {
        let objs = json_objects_with(&body, "tokens");
        if !objs.is_empty() {
            return objs.iter().flat_map(|o| tagged_from_json(o, labels)).collect();
        }
    }
    let mut blocks: Vec<Vec<&str>> = vec![Vec::new()];
    for line in body.lines() {
        let t = line.trim();
        let header = t.trim_end_matches(':').to_lowercase();
        let is_header = header.starts_with("sentence") && header.split_whitespace().count() <= 2
            || (!t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ')' || c == ':'));
        if t.is_empty() || is_header {
            if !blocks.last().expect("never empty").is_empty() {
                blocks.push(Vec::new());
            }
            continue;
        }
        blocks.last_mut().expect("never empty").push(line);
    }
    let out: Vec<Result<Tagged, Reject>> =
        blocks.iter().filter(|b| !b.is_empty()).map(|b| tagged_from_block(b, labels)).collect();
    if out.is_empty() {
        vec![Err(Reject::Unparseable)]
    } else {
        out
    }
}

/// Text without whitespace, for checking that tokens spell a sentence.
pub(crate) fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Whether `tokens` spell `text` (whitespace ignored).
pub fn reconstructs(tokens: &[String], text: &str) -> bool {
    squeeze(&tokens.concat()) == squeeze(text)
}

/// Checks IOB2 and applies `policy`.
pub fn check_iob(tags: Vec<String>, policy: IobPolicy) -> Result<Vec<String>, Reject> {
    match decode_strict(&tags, Scheme::Iob2) {
        Ok(Ok(_)) => Ok(tags),
        Ok(Err(_)) if policy == IobPolicy::Repair => {
            repair(&tags, Scheme::Iob2).map(|(t, _)| t).map_err(|_| Reject::BadTag)
        }
        _ => Err(Reject::IllFormedIob),
    }
}

/// Turns a model's tagging of `text` into a sentence with the corpus tokenizer's tokens: the
/// model's tokens must spell the text; its entity spans are carried over by character offsets.
pub fn align_tagged(text: &str, tagged: &Tagged, policy: IobPolicy) -> Result<Sentence, Reject> {
    if !reconstructs(&tagged.tokens, text) {
        return Err(Reject::TokenMismatch);
    }
    let tags = check_iob(tagged.tags.clone(), policy)?;
    let spans = match decode_strict(&tags, Scheme::Iob2) {
        Ok(Ok(s)) => s,
        _ => return Err(Reject::IllFormedIob),
    };
    // Character offsets (in the squeezed text) of each model token.
    let mut offs = Vec::with_capacity(tagged.tokens.len() + 1);
    let mut pos = 0;
    for t in &tagged.tokens {
        offs.push(pos);
        pos += squeeze(t).chars().count();
    }
    offs.push(pos);
    let char_spans: Vec<(usize, usize, String)> =
        spans.iter().map(|s| (offs[s.start], offs[s.end], s.label.clone())).collect();
    let ours = tokenize(text, &[]);
    let mut token_offs = Vec::with_capacity(ours.len() + 1);
    let mut p = 0;
    for t in &ours {
        token_offs.push(p);
        p += squeeze(&text[t.start..t.end]).chars().count();
    }
    token_offs.push(p);
    let mut out_spans = Vec::new();
    for (a, b, label) in char_spans {
        let start = token_offs.iter().position(|&o| o == a);
        let end = token_offs.iter().position(|&o| o == b);
        match (start, end) {
            (Some(s), Some(e)) if e > s => out_spans.push(Span::new(s, e, label)),
            // The model split a word of ours inside an entity boundary.
            _ => return Err(Reject::TokenMismatch),
        }
    }
    sentence_from_spans(text, &ours, &out_spans)
}

fn sentence_from_spans(
    text: &str,
    toks: &[hilgen_corpus::tokenize::Token],
    spans: &[Span],
) -> Result<Sentence, Reject> {
    let tokens: Vec<String> = toks.iter().map(|t| text[t.start..t.end].to_string()).collect();
    let tags = hilgen_corpus::scheme::encode(spans, tokens.len(), Scheme::Iob2).map_err(|_| Reject::IllFormedIob)?;
    Sentence::new(tokens, tags).map_err(|_| Reject::TagCountMismatch)
}

/// Labels `text` by finding each `(surface, type)` verbatim (token sequence, case-insensitive),
/// longest first, without overlaps. Returns the sentence and, per mention, whether it was found.
pub fn label_by_matching(text: &str, mentions: &[(String, String)]) -> (Sentence, Vec<bool>) {
    let toks = tokenize(text, &[]);
    let lower: Vec<String> = toks.iter().map(|t| text[t.start..t.end].to_lowercase()).collect();
    let (spans, found) = match_mentions(&lower, mentions);
    let sentence = sentence_from_spans(text, &toks, &spans).unwrap_or_default();
    (sentence, found)
}

/// IOB2 tags for the given `tokens` from `(surface, type)` mentions found in them, as
/// [`label_by_matching`] finds them. Returns the tags and, per mention, whether it was found.
///
/// ```
/// use hilgen_llm::parse::tag_by_matching;
/// let tokens = ["Cisplatin", "-", "induced", "acute", "renal", "failure", "."].map(String::from);
/// let mentions = [("cisplatin".to_string(), "Chemical".to_string()), ("acute renal failure".into(), "Disease".into()), ("fever".into(), "Disease".into())];
/// let (tags, found) = tag_by_matching(&tokens, &mentions);
/// assert_eq!(tags, ["B-Chemical", "O", "O", "B-Disease", "I-Disease", "I-Disease", "O"]);
/// assert_eq!(found, [true, true, false]);
/// ```
pub fn tag_by_matching(tokens: &[String], mentions: &[(String, String)]) -> (Vec<String>, Vec<bool>) {
    let lower: Vec<String> = tokens.iter().map(|t| t.to_lowercase()).collect();
    let (spans, found) = match_mentions(&lower, mentions);
    let tags = hilgen_corpus::scheme::encode(&spans, tokens.len(), Scheme::Iob2)
        .unwrap_or_else(|_| vec!["O".to_string(); tokens.len()]);
    (tags, found)
}

/// Spans of `mentions` in lower-cased tokens: every occurrence, longest mention first, no overlaps.
fn match_mentions(lower: &[String], mentions: &[(String, String)]) -> (Vec<Span>, Vec<bool>) {
    let mut order: Vec<usize> = (0..mentions.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(mentions[i].0.len()));
    let mut taken = vec![false; lower.len()];
    let mut found = vec![false; mentions.len()];
    let mut spans = Vec::new();
    for i in order {
        let (surface, label) = &mentions[i];
        let words: Vec<String> =
            tokenize(surface, &[]).iter().map(|t| surface[t.start..t.end].to_lowercase()).collect();
        if words.is_empty() || words.len() > lower.len() {
            continue;
        }
        for s in 0..=lower.len() - words.len() {
            let e = s + words.len();
            if lower[s..e] == words[..] {
                if taken[s..e].iter().any(|&t| t) {
                    // Already part of a longer mention: the surface occurs, nothing to add.
                    found[i] = true;
                    continue;
                }
                taken[s..e].iter_mut().for_each(|t| *t = true);
                spans.push(Span::new(s, e, label.clone()));
                found[i] = true;
            }
        }
    }
    spans.sort_by_key(|s| s.start);
    (spans, found)
}

/// Entity mentions from a model's JSON: a list of `{"text": ..., "type": ...}` objects (also
/// `entity`/`mention` for the text and `label`/`category` for the type, or `[text, type]`
/// pairs). Types are checked against `labels`; an empty text is skipped.
///
/// ```
/// use hilgen_llm::parse::{entity_mentions, Labels};
/// let v = serde_json::json!([{"text": "cocaine", "type": "chemical"}, ["chest pain", "Disease"]]);
/// let m = entity_mentions(&v, &Labels::new(["Chemical", "Disease"])).unwrap();
/// assert_eq!(m, [("cocaine".to_string(), "Chemical".to_string()), ("chest pain".into(), "Disease".into())]);
/// ```
pub fn entity_mentions(v: &Value, labels: &Labels) -> Result<Vec<(String, String)>, Reject> {
    let items = v.as_array().ok_or(Reject::Unparseable)?;
    let mut out = Vec::with_capacity(items.len());
    for e in items {
        let field = |keys: &[&str]| keys.iter().find_map(|k| e.get(*k).and_then(Value::as_str));
        let (text, ty) = match e {
            Value::Array(pair) if pair.len() == 2 => (pair[0].as_str(), pair[1].as_str()),
            _ => (field(&["text", "entity", "mention", "name"]), field(&["type", "label", "category", "entity_type"])),
        };
        let (Some(text), Some(ty)) = (text, ty) else { return Err(Reject::Unparseable) };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let ty = labels.find_type(ty).ok_or(Reject::UnknownLabel)?;
        out.push((text.to_string(), ty.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels {
        Labels::new(["Chemical", "Disease"])
    }

    #[test]
    fn label_sets() {
        let tags = ["O", "B-Chemical", "I-Chemical", "Disease"].map(String::from);
        assert_eq!(Labels::from_tags(tags.iter()).types(), ["Chemical", "Disease"]);
        let s = Sentence::new(vec!["a".into(), "b".into()], vec!["B-Disease".into(), "O".into()]).unwrap();
        assert_eq!(Labels::of_sentences([&s]).types(), ["Disease"]);
    }

    #[test]
    fn sentence_lists_in_many_shapes() {
        let fenced = "```json\n{\"sentences\": [\"Aspirin caused gastric bleeding.\", \"Heparin induced thrombocytopenia here.\"]}\n```";
        assert_eq!(parse_sentences(fenced, 2).sentences.len(), 2);
        let bullets = "Here are 3 sentences:\n\n- **Aspirin** caused gastric bleeding.\n* Heparin induced thrombocytopenia here.\n(3) Cocaine causes chest pain often.\nI hope this helps!";
        let l = parse_sentences(bullets, 3);
        assert_eq!(l.sentences[0], "Aspirin caused gastric bleeding.");
        assert_eq!(l.sentences.len(), 3, "{l:?}");
        let l = parse_sentences("1. one two three\n2. one two three\n3. a b\n4. x y z w", 2);
        assert_eq!(l.sentences, ["one two three", "x y z w"]);
        assert_eq!(l.rejected, [Reject::Duplicate, Reject::TooShort]);
        let l = parse_sentences("1. aa bb cc\n2. dd ee ff\n3. gg hh ii", 2);
        assert_eq!(l.rejected, [Reject::ExtraSentences]);
        let l = parse_sentences("only one good sentence here", 3);
        assert_eq!(l.rejected, [Reject::TooFewSentences, Reject::TooFewSentences]);
        assert_eq!(parse_sentences("", 2).rejected, [Reject::Unparseable, Reject::Unparseable]);
    }

    #[test]
    fn truncated_json_keeps_complete_strings() {
        // A real SmolLM2 answer cut off at max_tokens (shortened).
        let cut = "{\n    \"sentences\": [\n        \"1. *Artemis* - An herbal remedy derived from mint.\",\n        \"2. *Steroid* - An anti-inflammatory medica";
        let l = parse_sentences(cut, 3);
        assert_eq!(l.sentences, ["Artemis - An herbal remedy derived from mint."]);
    }

    #[test]
    fn tagged_text_formats() {
        let l = labels();
        let tab = parse_tagged("Aspirin\tB-Chemical\ncaused\tO\nbleeding\tB-Disease", &l);
        assert_eq!(tab[0].as_ref().unwrap().tags, ["B-Chemical", "O", "B-Disease"]);
        let inline = parse_tagged("Aspirin-B-Chemical caused-O gastric-B-Disease bleeding-I-Disease", &l);
        let t = inline[0].as_ref().unwrap();
        assert_eq!(t.tokens, ["Aspirin", "caused", "gastric", "bleeding"]);
        assert_eq!(t.tags[3], "I-Disease");
        let slash = parse_tagged("Sentence 1:\nnon-steroidal/O drugs/O\n\nSentence 2:\nfever/B_DISEASE", &l);
        assert_eq!(slash.len(), 2);
        assert_eq!(slash[0].as_ref().unwrap().tokens[0], "non-steroidal");
        assert_eq!(slash[1].as_ref().unwrap().tags, ["B-Disease"]);
        let unknown = parse_tagged("Aspirin B-Drug\ncaused O", &l);
        assert_eq!(unknown[0], Err(Reject::UnknownLabel));
        assert_eq!(parse_tagged("the model rambles on", &l)[0], Err(Reject::Unparseable));
    }

    #[test]
    fn truncated_tagged_json_keeps_complete_sentences() {
        let cut = r#"{"sentences": [{"tokens": ["fever"], "tags": ["B-Disease"]}, {"tokens": ["asp"#;
        let r = parse_tagged(cut, &labels());
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].as_ref().unwrap().tokens, ["fever"]);
    }

    #[test]
    fn tagged_json_formats() {
        let l = labels();
        let a = parse_tagged(r#"{"sentences":[{"tokens":["Aspirin","works"],"tags":["B-Chemical","O"]}]}"#, &l);
        assert_eq!(a[0].as_ref().unwrap().tokens, ["Aspirin", "works"]);
        let b = parse_tagged(r#"Output: [{"token":"fever","label":"B-Disease"}]"#, &l);
        assert_eq!(b[0].as_ref().unwrap().tags, ["B-Disease"]);
        let c = parse_tagged(r#"[["fever","B-Disease"],["x","O"]]"#, &l);
        assert_eq!(c[0].as_ref().unwrap().tokens.len(), 2);
        let d = parse_tagged(r#"{"tokens":["a","b"],"tags":["O"]}"#, &l);
        assert_eq!(d[0], Err(Reject::TagCountMismatch));
    }

    #[test]
    fn alignment_to_our_tokens_and_iob_policy() {
        let text = "Non-steroidal drugs caused renal failure.";
        let tagged = Tagged {
            tokens: vec!["Non-steroidal".into(), "drugs".into(), "caused".into(), "renal".into(), "failure.".into()],
            tags: vec!["B-Chemical".into(), "I-Chemical".into(), "O".into(), "I-Disease".into(), "I-Disease".into()],
        };
        assert_eq!(align_tagged(text, &tagged, IobPolicy::Reject), Err(Reject::IllFormedIob));
        // "failure." is one model token for two of ours: the model's entity takes the period.
        let s = align_tagged(text, &tagged, IobPolicy::Repair).unwrap();
        assert_eq!(s.tags.last().unwrap(), "I-Disease");
        // An entity boundary inside one of our tokens cannot be carried over.
        let inside =
            Tagged { tokens: vec!["Cisplat".into(), "in-induced".into()], tags: vec!["B-Chemical".into(), "O".into()] };
        assert_eq!(align_tagged("Cisplatin-induced", &inside, IobPolicy::Repair), Err(Reject::TokenMismatch));
        let mut ok = tagged.clone();
        ok.tokens[4] = "failure".into();
        ok.tokens.push(".".into());
        ok.tags.push("O".into());
        let s = align_tagged(text, &ok, IobPolicy::Repair).unwrap();
        assert_eq!(s.tokens, ["Non", "-", "steroidal", "drugs", "caused", "renal", "failure", "."]);
        assert_eq!(
            s.tags,
            ["B-Chemical", "I-Chemical", "I-Chemical", "I-Chemical", "O", "B-Disease", "I-Disease", "O"]
        );
        let wrong = Tagged { tokens: vec!["Other".into()], tags: vec!["O".into()] };
        assert_eq!(align_tagged(text, &wrong, IobPolicy::Repair), Err(Reject::TokenMismatch));
    }

    #[test]
    fn matching_labels_longest_first() {
        let m = vec![
            ("renal failure".to_string(), "Disease".to_string()),
            ("failure".to_string(), "Disease".to_string()),
            ("cisplatin".to_string(), "Chemical".to_string()),
        ];
        let (s, found) = label_by_matching("Cisplatin caused acute renal failure.", &m);
        assert_eq!(s.tags, ["B-Chemical", "O", "O", "B-Disease", "I-Disease", "O"]);
        assert_eq!(found, [true, true, true]);
        let (_, found) = label_by_matching("Nothing here.", &m);
        assert_eq!(found, [false, false, false]);
    }

    #[test]
    fn never_panics_on_odd_input() {
        let l = labels();
        for s in [
            "",
            "\"",
            "{",
            "[[[",
            "```",
            "\u{0}",
            "é-B-Chemical",
            "-O",
            "1.",
            "{\"sentences\": 5}",
            "[\"a\\",
            "B- I- O-",
        ] {
            let _ = parse_sentences(s, 3);
            let _ = parse_tagged(s, &l);
            let _ = label_by_matching(s, &[("é".into(), "Chemical".into())]);
        }
    }
}
