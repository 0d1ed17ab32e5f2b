//! Annotation guidelines read off the labelled sentences a few-shot user has (the shots and a
//! dev sample), where dev F1 over a handful of sentences cannot decide them.
//!
//! Adjectives of disease names are the case in point: BC5CDR marks "hypertensive" and
//! "epileptic" as mentions, NCBI-Disease leaves "diabetic" out. Ten dev sentences rarely move
//! F1 either way, so a search ties or follows noise; but a single sentence of the shots that
//! marks "hypotensive" as a whole mention, or leaves it outside every mention, says which
//! guideline the corpus follows. [`adjective_evidence`] counts those sentences: the matches
//! that entering adjectives adds, as whole gold mentions against outside every mention
//! (matches inside a longer gold mention, "pancreatic cancer", say nothing).

use crate::dictionary::{Dictionary, DictionaryConfig};
use crate::select::Grid;
use crate::types::TypeMap;
use crate::Result;
use hilgen_corpus::{Sentence, Span};
use hilgen_kb::Kb;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// What the labelled sentences say about adjective forms of names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjectiveEvidence {
    /// Matches only adjectives add that are whole gold mentions of their label.
    pub whole: usize,
    /// Matches only adjectives add that lie outside every gold mention.
    pub outside: usize,
}

impl AdjectiveEvidence {
    /// On where more added matches are whole mentions than lie outside, off where fewer;
    /// `None` on a tie (none either way included): the evidence does not decide.
    pub fn decision(&self) -> Option<bool> {
        match self.whole.cmp(&self.outside) {
            std::cmp::Ordering::Greater => Some(true),
            std::cmp::Ordering::Less => Some(false),
            std::cmp::Ordering::Equal => None,
        }
    }

    /// `grid` with its adjectives fixed to the [`decision`](Self::decision) where there is one,
    /// as it was otherwise.
    pub fn apply(&self, mut grid: Grid) -> Grid {
        if let Some(on) = self.decision() {
            grid.adjectives = vec![on];
        }
        grid
    }
}

/// Counts, on `labelled` (gold sentences; repeats counted once), the matches a dictionary of
/// `base`'s options gains when adjectives are entered: whole gold mentions of the match's
/// label against matches outside every gold mention.
///
/// ```no_run
/// use hilgen_dictionary::{evidence::adjective_evidence, DictionaryConfig, TypeMap};
/// let kb = hilgen_kb::Kb::open("kb").unwrap();
/// let shots = hilgen_corpus::jsonl::read_path("shots.jsonl").unwrap();
/// let types = TypeMap::learn(&kb, &shots);
/// let e = adjective_evidence(&kb, &types, &DictionaryConfig::recommended(), &shots).unwrap();
/// println!("{} whole, {} outside: adjectives {:?}", e.whole, e.outside, e.decision());
/// ```
pub fn adjective_evidence(
    kb: &Kb,
    types: &TypeMap,
    base: &DictionaryConfig,
    labelled: &[Sentence],
) -> Result<AdjectiveEvidence> {
    let off = Dictionary::build(kb, types, DictionaryConfig { adjectives: false, ..base.clone() })?;
    let on = Dictionary::build(kb, types, DictionaryConfig { adjectives: true, ..base.clone() })?;
    count(&on, &off, labelled)
}

/// The matches of `on` that `off` lacks, on `labelled` (repeats once), as whole gold mentions
/// or outside every one.
fn count(on: &Dictionary, off: &Dictionary, labelled: &[Sentence]) -> Result<AdjectiveEvidence> {
    let mut seen = HashSet::new();
    let labelled: Vec<Sentence> = labelled.iter().filter(|s| seen.insert(&s.tokens)).cloned().collect();
    let spans = |s: &Sentence| -> Result<Vec<Span>> { Ok(s.mentions()?.into_iter().map(|m| m.span).collect()) };
    let mut e = AdjectiveEvidence::default();
    for ((gold, with), without) in labelled.iter().zip(on.tag(&labelled)).zip(off.tag(&labelled)) {
        let gold = spans(gold)?;
        let without = spans(&without)?;
        for m in spans(&with)? {
            if without.contains(&m) {
                continue;
            }
            if gold.contains(&m) {
                e.whole += 1;
            } else if !gold.iter().any(|g| g.overlaps(&m)) {
                e.outside += 1;
            }
        }
    }
    Ok(e)
}

impl Grid {
    /// The grid with adjectives fixed by the evidence of `labelled` where
    /// [`Grid::adjective_evidence`] is set and the evidence decides (counted with the grid's
    /// default configuration); otherwise the grid as it is. The evidence, when counted, is
    /// returned beside it.
    pub fn settle_adjectives(
        &self,
        kb: &Kb,
        types: &TypeMap,
        labelled: &[Sentence],
    ) -> Result<(Grid, Option<AdjectiveEvidence>)> {
        if !self.adjective_evidence {
            return Ok((self.clone(), None));
        }
        let e = adjective_evidence(kb, types, &self.default_config(), labelled)?;
        let grid = e.apply(self.clone());
        tracing::info!(whole = e.whole, outside = e.outside, decision = ?e.decision(), "adjective evidence");
        Ok((grid, Some(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_majority_decides_and_a_tie_leaves_it_open() {
        assert_eq!(AdjectiveEvidence { whole: 2, outside: 1 }.decision(), Some(true));
        assert_eq!(AdjectiveEvidence { whole: 0, outside: 1 }.decision(), Some(false));
        assert_eq!(AdjectiveEvidence { whole: 1, outside: 1 }.decision(), None);
        assert_eq!(AdjectiveEvidence::default().decision(), None);
    }

    #[test]
    fn only_the_matches_adjectives_add_are_counted() {
        let names: Vec<(&str, &str, &[&str])> =
            vec![("hypertension", "Disease", &["C14"][..]), ("hypotension", "Disease", &["C14"][..])];
        let build = |adjectives| {
            let c = DictionaryConfig { adjectives, ..DictionaryConfig::default() };
            Dictionary::from_names(&names, TypeMap::default(), c)
        };
        let (on, off) = (build(true), build(false));
        let s = |text: &str, tags: &str| {
            Sentence::new(text.split(' ').map(String::from).collect(), tags.split(' ').map(String::from).collect())
                .unwrap()
        };
        let whole = s("hypertensive rats had hypertension", "B-Disease O O B-Disease");
        let outside = s("hypotensive drugs", "O O");
        let inside = s("hypertensive heart disease", "B-Disease I-Disease I-Disease");
        let e = count(&on, &off, &[whole.clone(), whole.clone(), inside.clone()]).unwrap();
        // The name "hypertension" is a match either way; the repeat counts once; a match inside
        // a longer mention says nothing.
        assert_eq!(e, AdjectiveEvidence { whole: 1, outside: 0 });
        assert_eq!(e.decision(), Some(true));
        let e = count(&on, &off, &[whole, outside.clone(), outside.clone(), inside]).unwrap();
        assert_eq!((e, e.decision()), (AdjectiveEvidence { whole: 1, outside: 1 }, None));
        let e = count(&on, &off, &[outside]).unwrap();
        assert_eq!(e.decision(), Some(false));
    }
}
