//! Typing a match by its context, for entity types that share concepts. NCBI-Disease's four
//! types are all diseases: "colorectal cancer" is a `SpecificDisease` in "patients with
//! colorectal cancer" but a `Modifier` in "colorectal cancer families", and "cancer" alone is
//! most often a `DiseaseClass`. A concept's type votes cannot tell these apart; the words around
//! and inside the mention can.
//!
//! [`ContextCounts`] counts, per label, the context features of the shots' mentions (the words
//! before and after, the first and last word, plural and acronym shape, length, a coordination
//! inside). [`ContextCounts::label`] scores a match with naive Bayes over the features it has
//! (features never seen in the shots ignored), its prior the label's share of the shot mentions,
//! and picks among the labels the match's concept types were seen with. Each feature is one value
//! of a group (the next word, the head word, the length...) and is add-one smoothed over that
//! group's values; the plural and acronym flags count when absent too. (Smoothing each feature
//! over present/absent made a value unseen with a label cost a label of n mentions ln(n + 2),
//! so the label with the fewest shot mentions won: "breast cancer" went to `DiseaseClass`.) (A
//! prior from those types' votes scored lower on NCBI-Disease dev.) A label most of whose shot
//! mentions hold a coordination (NCBI-Disease's `CompositeMention`: "breast and ovarian
//! cancer") is no candidate for a match without one: a few shots' add-one smoothed counts
//! cannot say that firmly enough, and "breast cancer" went to `CompositeMention` because the
//! composites' shots link to its concept. Whether context typing is used at all is chosen on
//! dev ([`crate::Grid::context_typing`]).

use crate::words::is_word;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Bound;

/// Feature counts per label, learned from the shots' mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextCounts {
    /// Mentions per label.
    pub mentions: BTreeMap<String, usize>,
    /// Feature -> label -> mentions with it.
    pub features: BTreeMap<String, BTreeMap<String, usize>>,
}

/// Words that follow a mention without making it a modifier ("cancer in", "cancer is").
const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "had", "has", "have", "in", "into", "is",
    "it", "may", "nor", "not", "of", "on", "or", "than", "that", "the", "to", "was", "were", "which", "while", "who",
    "with",
];

/// Features present or absent, each a group of its own; every other feature is one value of
/// the group its name starts with (`next:of` of `next:`).
const FLAGS: &[&str] = &["shape:plural", "shape:acronym"];

fn is_acronym(t: &str) -> bool {
    t.chars().filter(|c| c.is_alphabetic()).count() >= 2 && !t.chars().any(char::is_lowercase)
}

fn is_plural(t: &str) -> bool {
    let l = t.to_lowercase();
    l.chars().count() > 3 && l.ends_with('s') && !["ss", "is", "us"].iter().any(|e| l.ends_with(e))
}

/// Whether the mention `tokens[start..end]` holds a coordination ("and", "or", "/", ",").
fn is_coordinated<S: AsRef<str>>(tokens: &[S], start: usize, end: usize) -> bool {
    tokens[start..end].iter().any(|t| matches!(t.as_ref().to_lowercase().as_str(), "and" | "or" | "/" | ","))
}

/// The context features of the mention `tokens[start..end]`, with how broad its concept is
/// when it has one (its number of children in the hierarchy: leaf, narrow up to 4, broad).
pub fn features<S: AsRef<str>>(tokens: &[S], start: usize, end: usize, children: Option<usize>) -> Vec<String> {
    let lower = |i: usize| tokens[i].as_ref().to_lowercase();
    let mut f = Vec::with_capacity(9);
    match tokens.get(end) {
        Some(t) if is_word(t.as_ref()) => {
            let w = lower(end);
            let kind = if FUNCTION_WORDS.contains(&w.as_str()) { "next-is:function" } else { "next-is:content" };
            f.push(format!("next:{w}"));
            f.push(kind.to_string());
        }
        Some(t) => {
            f.push(format!("next:{}", t.as_ref()));
            f.push("next-is:punct".to_string());
        }
        None => f.push("next-is:end".to_string()),
    }
    f.push(match start.checked_sub(1) {
        Some(p) => format!("prev:{}", lower(p)),
        None => "prev:<start>".to_string(),
    });
    f.push(format!("head:{}", lower(end - 1)));
    if end - start > 1 {
        f.push(format!("first:{}", lower(start)));
    }
    f.push(format!("len:{}", (end - start).min(3)));
    if is_plural(tokens[end - 1].as_ref()) {
        f.push("shape:plural".to_string());
    }
    if tokens[start..end].iter().any(|t| is_acronym(t.as_ref())) {
        f.push("shape:acronym".to_string());
    }
    f.push(if is_coordinated(tokens, start, end) { "shape:coordinated" } else { "shape:single" }.to_string());
    if let Some(n) = children {
        f.push(
            match n {
                0 => "kb:leaf",
                1..=4 => "kb:narrow",
                _ => "kb:broad",
            }
            .to_string(),
        );
    }
    f
}

impl ContextCounts {
    /// Counts one labelled mention (`children`: see [`features`]).
    pub fn add<S: AsRef<str>>(&mut self, tokens: &[S], start: usize, end: usize, children: Option<usize>, label: &str) {
        *self.mentions.entry(label.to_string()).or_default() += 1;
        for f in features(tokens, start, end, children) {
            *self.features.entry(f).or_default().entry(label.to_string()).or_default() += 1;
        }
    }

    /// `P(feature | label)`, add-one smoothed within the feature's group (the values of one
    /// slot: the next word, the head word, the length...), so that a value never seen with a
    /// label costs a label with many mentions about what it costs one with few; `None` for a
    /// feature no shot mention had (no evidence either way). A flag ([`FLAGS`]: plural,
    /// acronym) is its own group of two values, present and absent.
    fn likelihood(&self, feature: &str, label: &str) -> Option<f64> {
        let count = self.features.get(feature)?.get(label).copied().unwrap_or(0) as f64;
        if FLAGS.contains(&feature) {
            let n = self.mentions.get(label).copied().unwrap_or(0) as f64;
            return Some((count + 1.0) / (n + 2.0));
        }
        let prefix = &feature[..=feature.find(':')?];
        let (mut values, mut with_label) = (0usize, 0usize);
        for (f, by_label) in self.features.range::<str, _>((Bound::Included(prefix), Bound::Unbounded)) {
            if !f.starts_with(prefix) {
                break;
            }
            if FLAGS.contains(&f.as_str()) {
                continue;
            }
            values += 1;
            with_label += by_label.get(label).copied().unwrap_or(0);
        }
        Some((count + 1.0) / (with_label + values) as f64)
    }

    /// Labels with at least one mention.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.mentions.keys().map(String::as_str)
    }

    /// Whether more than half of `label`'s shot mentions hold a coordination: then a match
    /// without one does not take it.
    pub fn coordinations_only(&self, label: &str) -> bool {
        let coordinated = self.features.get("shape:coordinated").and_then(|b| b.get(label)).copied().unwrap_or(0);
        2 * coordinated > self.mentions.get(label).copied().unwrap_or(0)
    }

    /// The best label for the mention `tokens[start..end]` among the labels `votes` has (those
    /// the shots saw with the match's concept types; for a match without a coordination, not
    /// those [`ContextCounts::coordinations_only`]), its prior the label's share of the shot
    /// mentions among them (add-one smoothed); the one left where that rule leaves one; `None`
    /// when fewer than two of those labels have mentions (nothing to choose between) or the
    /// rule leaves none.
    pub fn label<S: AsRef<str>>(
        &self,
        tokens: &[S],
        start: usize,
        end: usize,
        children: Option<usize>,
        votes: &BTreeMap<String, usize>,
    ) -> Option<String> {
        let seen: Vec<&str> =
            votes.keys().filter(|l| self.mentions.get(*l).is_some_and(|n| *n > 0)).map(String::as_str).collect();
        if seen.len() < 2 {
            return None;
        }
        let single = !is_coordinated(tokens, start, end);
        let candidates: Vec<&str> = seen.into_iter().filter(|l| !(single && self.coordinations_only(l))).collect();
        if candidates.len() < 2 {
            return candidates.first().map(|l| l.to_string());
        }
        let all: usize = candidates.iter().map(|l| self.mentions[*l]).sum();
        let k = candidates.len() as f64;
        let feats = features(tokens, start, end, children);
        let score = |label: &str| -> f64 {
            let n = self.mentions[label] as f64;
            let mut s = ((n + 1.0) / (all as f64 + k)).ln();
            for f in &feats {
                if let Some(p) = self.likelihood(f, label) {
                    s += p.ln();
                }
            }
            // A flag the mention lacks is evidence too (naive Bayes over present and absent).
            for flag in FLAGS.iter().filter(|f| !feats.iter().any(|x| x == *f)) {
                if let Some(p) = self.likelihood(flag, label) {
                    s += (1.0 - p).ln();
                }
            }
            s
        };
        let mut best: Option<(&str, f64)> = None;
        for c in candidates {
            let s = score(c);
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((c, s));
            }
        }
        best.map(|(l, _)| l.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(t: &str) -> Vec<String> {
        t.split(' ').map(String::from).collect()
    }

    #[test]
    fn features_of_a_modifier_and_a_class() {
        let t = words("the DM gene maps to 19q");
        assert_eq!(
            features(&t, 1, 2, None),
            ["next:gene", "next-is:content", "prev:the", "head:dm", "len:1", "shape:acronym", "shape:single"]
                .map(String::from)
        );
        let t = words("hereditary cancers .");
        assert_eq!(
            features(&t, 0, 2, Some(7)),
            [
                "next:.",
                "next-is:punct",
                "prev:<start>",
                "head:cancers",
                "first:hereditary",
                "len:2",
                "shape:plural",
                "shape:single",
                "kb:broad"
            ]
            .map(String::from)
        );
        assert!(features(&words("breast and ovarian cancer"), 0, 4, None).contains(&"shape:coordinated".to_string()));
    }

    #[test]
    fn context_decides_between_labels_that_share_concepts() {
        let mut c = ContextCounts::default();
        for s in ["patients with colon cancer .", "risk of breast cancer ,", "cases of renal cancer ."] {
            c.add(&words(s), 2, 4, None, "SpecificDisease");
        }
        for s in ["the colon cancer families", "in breast cancer patients", "two DMD patients"] {
            let w = words(s);
            c.add(&w, 1, w.len() - 1, None, "Modifier");
        }
        let votes: BTreeMap<String, usize> = [("SpecificDisease".to_string(), 3), ("Modifier".to_string(), 3)].into();
        let t = words("among lung cancer patients");
        assert_eq!(c.label(&t, 1, 3, None, &votes).as_deref(), Some("Modifier"));
        let t = words("diagnosed with lung cancer .");
        assert_eq!(c.label(&t, 2, 4, None, &votes).as_deref(), Some("SpecificDisease"));
        // One candidate with mentions: nothing to decide.
        let one: BTreeMap<String, usize> = [("SpecificDisease".to_string(), 3), ("Chemical".to_string(), 1)].into();
        assert_eq!(c.label(&t, 2, 4, None, &one), None);
    }

    #[test]
    fn a_label_of_coordinations_goes_to_coordinations_only() {
        let mut c = ContextCounts::default();
        // The composites' concept is breast cancer's: their head and first word pull it there.
        for s in ["breast and ovarian cancer", "breast or ovarian cancer", "inherited breast - ovarian cancer"] {
            let w = words(s);
            c.add(&w, 0, w.len(), None, "CompositeMention");
        }
        c.add(&words("familial breast cancer"), 0, 3, None, "SpecificDisease");
        c.add(&words("DMD"), 0, 1, None, "SpecificDisease");
        assert!(c.coordinations_only("CompositeMention"));
        assert!(!c.coordinations_only("SpecificDisease"));
        let votes: BTreeMap<String, usize> =
            [("SpecificDisease".to_string(), 2), ("CompositeMention".to_string(), 3)].into();
        // Without the rule, naive Bayes would say CompositeMention (more mentions, and "breast"
        // first and "cancer" head in two of three): a plain mention cannot be one.
        let t = words("breast cancer");
        assert_eq!(c.label(&t, 0, 2, None, &votes).as_deref(), Some("SpecificDisease"));
        let only: BTreeMap<String, usize> = [("CompositeMention".to_string(), 3)].into();
        assert_eq!(c.label(&t, 0, 2, None, &only), None, "one label seen: nothing to decide");
        let t = words("breast and colon cancer");
        assert_eq!(c.label(&t, 0, 4, None, &votes).as_deref(), Some("CompositeMention"));
    }

    #[test]
    fn a_value_unseen_with_a_label_costs_a_large_label_no_more_than_a_small_one() {
        let mut c = ContextCounts::default();
        // Eight specific diseases, one a cancer; two classes, neither a cancer. The mention's
        // first word and next word were seen only with the composites (no candidate here).
        for s in [
            "risk of familial breast cancer in",
            "with von Willebrand disease .",
            "with Huntington disease .",
            "with Coats telangiectasis .",
            "with Lesch - Nyhan syndrome",
            "with copper deficiency .",
            "with retinoblastoma .",
            "with goiter .",
        ] {
            let w = words(s);
            let end = w.len() - 1;
            c.add(&w, if s.starts_with("risk") { 2 } else { 1 }, end, None, "SpecificDisease");
        }
        for s in ["a tumour suppressor", "of tumors ."] {
            let w = words(s);
            c.add(&w, 1, 2, None, "DiseaseClass");
        }
        for s in ["hereditary breast and ovarian cancer research", "of breast or ovarian cancer research"] {
            let w = words(s);
            let start = if s.starts_with("of") { 1 } else { 0 };
            c.add(&w, start + 1, w.len() - 1, None, "CompositeMention");
        }
        let votes: BTreeMap<String, usize> =
            [("SpecificDisease".to_string(), 1), ("DiseaseClass".to_string(), 1), ("CompositeMention".to_string(), 2)]
                .into();
        // Add-one smoothing per feature made each unseen value cost the eight-mention label
        // ln(10/4) more than the two-mention one: "breast cancer" went to DiseaseClass.
        let t = words("for breast cancer research");
        assert_eq!(c.label(&t, 1, 3, None, &votes).as_deref(), Some("SpecificDisease"));
        // One-word mentions that look like the classes still go there.
        let t = words("of tumours .");
        assert_eq!(c.label(&t, 1, 2, None, &votes).as_deref(), Some("DiseaseClass"));
    }
}
