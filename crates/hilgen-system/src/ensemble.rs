//! Several systems combined by a rule (union, intersection, weighted vote, majority, token
//! vote, back-off), as the run's ensemble stage combined their predictions. Members that are heads of one
//! model folder share its encoder pass.

use crate::neural::{Head, Model, Neural};
use crate::{Result, System, Tag};
use hilgen_corpus::{Scheme, Sentence};
use hilgen_metrics::ensemble::{combine, Method};
use std::rc::Rc;

/// A member's index and the member (a head of a shared model folder).
type MemberHead<'a> = (usize, &'a Model);

/// An ensemble ready to tag.
pub struct EnsembleSystem {
    /// The members with their names.
    pub members: Vec<(String, System)>,
    /// The rule.
    pub method: Method,
    /// Each member's weight.
    pub weights: Vec<f64>,
}

impl EnsembleSystem {
    /// Each member's tagged sentences, in member order.
    pub fn member_predictions(&self, sentences: &[Sentence]) -> Result<Vec<Vec<Sentence>>> {
        let mut out: Vec<Option<Vec<Sentence>>> = vec![None; self.members.len()];
        // Heads of one folder: one pass.
        let mut folders: Vec<(Rc<Neural>, Vec<MemberHead<'_>>)> = Vec::new();
        for (i, (_, m)) in self.members.iter().enumerate() {
            match m {
                System::Model(model) => match folders.iter_mut().find(|(n, _)| Rc::ptr_eq(n, &model.neural)) {
                    Some((_, heads)) => heads.push((i, model)),
                    None => folders.push((model.neural.clone(), vec![(i, model)])),
                },
                other => out[i] = Some(other.tag(sentences)?),
            }
        }
        for (neural, heads) in folders {
            let which: Vec<Head> = heads.iter().map(|(_, m)| m.head).collect();
            for (&(i, model), predicted) in heads.iter().zip(neural.predict(sentences, &which)?) {
                out[i] = Some(
                    predicted.iter().zip(sentences).map(|(p, s)| model.entities(p, &s.tokens).to_sentence(s)).collect(),
                );
            }
        }
        Ok(out.into_iter().map(|p| p.expect("every member tagged")).collect())
    }
}

impl Tag for EnsembleSystem {
    fn describe(&self) -> String {
        let names: Vec<&str> = self.members.iter().map(|(n, _)| n.as_str()).collect();
        format!("{} of {}", self.method, names.join(" + "))
    }

    fn types(&self) -> Vec<String> {
        let mut t: Vec<String> = self.members.iter().flat_map(|(_, m)| m.types()).collect();
        t.sort();
        t.dedup();
        t
    }

    fn tag(&self, sentences: &[Sentence]) -> Result<Vec<Sentence>> {
        let predictions = self.member_predictions(sentences)?;
        let refs: Vec<&[Sentence]> = predictions.iter().map(Vec::as_slice).collect();
        Ok(combine(&refs, &self.method, &self.weights, Scheme::Iob2)?)
    }
}
