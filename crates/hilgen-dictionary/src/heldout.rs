//! Names judged by a tagger that never saw them: a dev-free check of the dictionary's names
//! that the shots do not vouch for.
//!
//! A concept gets its label from its fine types (MeSH tree branches such as `D02`, CTD slim
//! categories) when the shots name any of them, else from its coarse type, the tree letter
//! (`D`; see [`crate::TypeMap`]). Some branches reached only that way are classes a corpus does
//! not mark ("enzymes", "analgesic", "tablets" on BC5CDR), and choosing which to drop took
//! hundreds of labelled dev sentences. Here the pool's matches labelled only through a coarse
//! type are held out of the silver labels ([`hold_out`]: their words are unknown, out of the
//! loss), a tagger is trained on the rest (the caller's), and each held-out name is judged by
//! how sure that tagger is, over the pool, that its matches are entities of the label the
//! dictionary gave them ([`agreement`]): every word's probability of its `B-`/`I-` tag, the
//! least of them per match, the mean over a name's matches. Names below a threshold
//! ([`doubted`]; 0.5, the tagger's majority) go to
//! [`crate::DictionaryConfig::dropped_names`]. No labelled sentence chooses anything.
//!
//! ```
//! use hilgen_dictionary::heldout::{agreement, doubted, HeldMention};
//! use hilgen_corpus::Span;
//!
//! // One held-out match, "enzymes" as a Chemical, that a tagger tags as O.
//! let held = vec![HeldMention { sentence: 0, span: Span::new(1, 2, "Chemical"), key: "enzymes".into() }];
//! let labels: Vec<String> = ["O", "B-Chemical", "I-Chemical"].map(String::from).to_vec();
//! let log_probs = vec![vec![vec![0.0f32, -9.0, -9.0], vec![-0.1, -2.4, -9.0]]];
//! let names = agreement(&held, &labels, &log_probs);
//! assert!(names["enzymes"].mean < 0.1);
//! assert!(doubted(&names, 0.5).contains("enzymes"));
//! ```

use crate::{Dictionary, Match, TypeMap};
use hilgen_corpus::{scheme, Scheme, Sentence, Span};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A held-out match in the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldMention {
    /// Its sentence (index into the pool given to [`hold_out`]).
    pub sentence: usize,
    /// Its words and the dictionary's label.
    pub span: Span,
    /// Its name as the dictionary keys it.
    pub key: String,
}

/// The pool's silver labels with the held-out matches taken out.
#[derive(Debug, Clone, Default)]
pub struct HeldOut {
    /// The pool tagged by the dictionary, the held-out matches' words `O` and unknown.
    pub silver: Vec<Sentence>,
    /// The held-out matches.
    pub mentions: Vec<HeldMention>,
}

/// How a tagger trained without a name's labels reads its matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameAgreement {
    /// The dictionary's label of its matches (the first match's).
    pub label: String,
    /// Its matches in the pool.
    pub mentions: usize,
    /// The mean over its matches of the least probability, over the match's words, of the
    /// `B-`/`I-` tag of the dictionary's label.
    pub mean: f64,
}

/// Whether a match has its label only through a coarse type: its concept has types, and the
/// shots named none of them (none has votes in `types`' fine level). Abbreviations (no
/// concept) and concepts without types are not.
pub fn unseen_branch(types: &TypeMap, m: &Match) -> bool {
    m.target.as_ref().is_some_and(|t| !t.types.is_empty() && t.types.iter().all(|x| !types.fine.contains_key(x)))
}

/// The pool tagged by `dictionary`, with the matches [`unseen_branch`] says are labelled only
/// through a coarse type held out (of the labels in `only`, when given): their words are tagged
/// `O` and marked unknown ([`Sentence::unknown`]), so a tagger trained on the silver is taught
/// nothing about them.
pub fn hold_out(dictionary: &Dictionary, pool: &[Sentence], only: Option<&BTreeSet<String>>) -> HeldOut {
    let mut out = HeldOut::default();
    for (i, (s, ms)) in pool.iter().zip(dictionary.match_all(pool, false)).enumerate() {
        let mut spans: Vec<Span> = Vec::new();
        let mut unknown: Vec<usize> = Vec::new();
        for m in ms {
            if unseen_branch(&dictionary.types, &m) && only.is_none_or(|o| o.contains(&m.span.label)) {
                unknown.extend(m.span.start..m.span.end);
                out.mentions.push(HeldMention { sentence: i, span: m.span, key: m.key });
            } else {
                spans.push(m.span);
            }
        }
        let tags = scheme::encode(&spans, s.len(), Scheme::Iob2).expect("matches are disjoint and sorted");
        out.silver.push(Sentence {
            tokens: s.tokens.clone(),
            tags,
            doc_id: s.doc_id.clone(),
            concepts: Vec::new(),
            unknown,
            soft: None,
        });
    }
    out
}

/// Per held-out name, how a tagger reads its matches: `log_probs[s][w][l]` is the tagger's
/// log-probability of `labels[l]` at word `w` of pool sentence `s`. A match's agreement is the
/// least probability over its words of its `B-`/`I-` tag (0 where the tagger has no such
/// label); a name's is the mean over its matches.
pub fn agreement(
    held: &[HeldMention],
    labels: &[String],
    log_probs: &[Vec<Vec<f32>>],
) -> BTreeMap<String, NameAgreement> {
    let index: BTreeMap<&str, usize> = labels.iter().enumerate().map(|(i, l)| (l.as_str(), i)).collect();
    let mut sums: BTreeMap<String, (String, usize, f64)> = BTreeMap::new();
    for h in held {
        let rows = &log_probs[h.sentence];
        let p = (h.span.start..h.span.end)
            .map(|w| {
                let tag = format!("{}-{}", if w == h.span.start { "B" } else { "I" }, h.span.label);
                index.get(tag.as_str()).map_or(0.0, |&l| (rows[w][l] as f64).exp())
            })
            .fold(f64::INFINITY, f64::min);
        let e = sums.entry(h.key.clone()).or_insert_with(|| (h.span.label.clone(), 0, 0.0));
        e.1 += 1;
        e.2 += p;
    }
    sums.into_iter()
        .map(|(k, (label, n, sum))| (k, NameAgreement { label, mentions: n, mean: sum / n as f64 }))
        .collect()
}

/// The names whose agreement is below `threshold`.
pub fn doubted(names: &BTreeMap<String, NameAgreement>, threshold: f64) -> BTreeSet<String> {
    names.iter().filter(|(_, a)| a.mean < threshold).map(|(k, _)| k.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DictionaryConfig, Target};

    fn target(types: &[&str]) -> Option<Target> {
        Some(Target {
            label: "Chemical".into(),
            concept: "C1".into(),
            types: types.iter().map(|t| t.to_string()).collect(),
            children: 0,
        })
    }

    #[test]
    fn only_a_match_no_fine_type_vouches_for_is_held_out() {
        let mut types = TypeMap::default();
        types.fine.insert("D02".into(), BTreeMap::from([("Chemical".to_string(), 3)]));
        let m = |t: Option<Target>| Match { span: Span::new(0, 1, "Chemical"), key: "x".into(), target: t };
        assert!(unseen_branch(&types, &m(target(&["D08"]))));
        assert!(!unseen_branch(&types, &m(target(&["D08", "D02"]))));
        assert!(!unseen_branch(&types, &m(target(&[]))));
        assert!(!unseen_branch(&types, &m(None)));
    }

    #[test]
    fn the_least_word_per_match_and_the_mean_per_name() {
        let labels: Vec<String> = ["O", "B-Chemical", "I-Chemical"].map(String::from).to_vec();
        let ln = |p: f64| p.ln() as f32;
        // Sentence 0: "lipid peroxide" as one match, words at 0.9 and 0.3 of B- and I-.
        // Sentence 1: "lipid peroxide" again at 0.7 and 0.8; "oxygen" at 0.6.
        let log_probs = vec![
            vec![vec![ln(0.1), ln(0.9), ln(0.0001)], vec![ln(0.7), ln(0.0001), ln(0.3)]],
            vec![
                vec![ln(0.3), ln(0.7), ln(0.0001)],
                vec![ln(0.2), ln(0.0001), ln(0.8)],
                vec![ln(0.4), ln(0.6), ln(0.0001)],
            ],
        ];
        let held = vec![
            HeldMention { sentence: 0, span: Span::new(0, 2, "Chemical"), key: "lipid peroxide".into() },
            HeldMention { sentence: 1, span: Span::new(0, 2, "Chemical"), key: "lipid peroxide".into() },
            HeldMention { sentence: 1, span: Span::new(2, 3, "Chemical"), key: "oxygen".into() },
        ];
        let names = agreement(&held, &labels, &log_probs);
        assert_eq!(names["lipid peroxide"].mentions, 2);
        assert!((names["lipid peroxide"].mean - 0.5).abs() < 1e-4, "{:?}", names["lipid peroxide"]);
        assert!((names["oxygen"].mean - 0.6).abs() < 1e-4);
        assert_eq!(doubted(&names, 0.55), BTreeSet::from(["lipid peroxide".to_string()]));
        // A label the tagger does not have agrees with nothing.
        let other = vec![HeldMention { sentence: 1, span: Span::new(2, 3, "Disease"), key: "oxygen".into() }];
        assert_eq!(agreement(&other, &labels, &log_probs)["oxygen"].mean, 0.0);
    }

    #[test]
    fn held_out_words_are_unknown_and_o_in_the_silver() {
        // A graph of two chemicals, "cisplatin" in D02 (named by a shot) and "enzymes" in D08
        // (labelled through the letter D, which two D branches of the shots make chemical).
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree.txt");
        std::fs::write(
            &tree,
            "Tree Number\tDesc Ui\tTerm\nD02.1\tD1\tCisplatin\nD08.1\tD2\tEnzymes\nD09.1\tD3\tHeparin\n",
        )
        .unwrap();
        let sources = hilgen_kb::Sources { mesh_tree: vec![tree], ..Default::default() };
        hilgen_kb::build(&sources, &dir.path().join("index")).unwrap();
        let kb = hilgen_kb::Kb::open(dir.path().join("index").join(hilgen_kb::INDEX_FILE)).unwrap();
        let shot = |w: &str| {
            Sentence::new(
                vec![w.to_string(), "was".into(), "given".into()],
                ["B-Chemical", "O", "O"].map(String::from).to_vec(),
            )
            .unwrap()
        };
        let types = TypeMap::learn(&kb, &[shot("cisplatin"), shot("heparin")]);
        let d = Dictionary::build(&kb, &types, DictionaryConfig::default()).unwrap();
        let pool =
            vec![Sentence::new("cisplatin and enzymes".split(' ').map(String::from).collect(), vec!["O".into(); 3])
                .unwrap()];
        let h = hold_out(&d, &pool, None);
        assert_eq!(h.silver[0].tags, ["B-Chemical", "O", "O"]);
        assert_eq!(h.silver[0].unknown, [2]);
        assert_eq!(h.mentions, [HeldMention { sentence: 0, span: Span::new(2, 3, "Chemical"), key: "enzymes".into() }]);
        // Held out for the labels named only.
        let diseases = BTreeSet::from(["Disease".to_string()]);
        let h = hold_out(&d, &pool, Some(&diseases));
        assert_eq!(h.silver[0].tags, ["B-Chemical", "O", "B-Chemical"]);
        assert!(h.silver[0].unknown.is_empty() && h.mentions.is_empty());
        let chemicals = BTreeSet::from(["Chemical".to_string()]);
        assert_eq!(hold_out(&d, &pool, Some(&chemicals)).mentions.len(), 1);
    }
}
