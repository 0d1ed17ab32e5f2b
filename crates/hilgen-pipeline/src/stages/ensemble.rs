//! `seed-S/ensemble`: the best combination on dev (single systems, weighted vote,
//! intersection, union, majority) of the best systems on dev, applied to test.

use crate::flow::System;
use crate::files::FileRef;
use crate::graph::{ids, At, Node};
use crate::plan::Plan;
use crate::results::SystemScore;
use crate::stage::{Context, Stage};
use crate::stages::evaluate::{score, scoring};
use crate::stages::evaluate::{system_stages, systems};
use crate::flow::{Outputs, Planned};
use crate::Result;
use hilgen_corpus::{Scheme, Sentence};
use hilgen_metrics::{bootstrap, ensemble, GuardTest};
use serde::{Deserialize, Serialize};

/// What the ensemble search reads.
#[derive(Debug, Clone, Serialize)]
pub struct EnsembleInput {
    /// Gold dev split (the choice is made on it).
    pub dev: FileRef,
    /// Gold test split (the choice is scored on it).
    pub test: FileRef,
    /// The candidates, best on dev first.
    pub candidates: Vec<System>,
    /// Bootstrap resamples.
    pub bootstrap: usize,
    /// Bootstrap seed.
    pub seed: u64,
    /// `[selection] dev = "none"`: the union of the candidates, chosen on nothing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fixed: bool,
    /// `[selection] guard_p`: the default union stays unless dev overturns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<Guard>,
    /// How the fixed or guarded default combines its members (`[selection] default_ensemble`).
    #[serde(skip_serializing_if = "is_union")]
    pub default_method: ensemble::Method,
}

/// Whether `m` is the union (the default method; left out of settings hashes).
pub(crate) fn is_union(m: &ensemble::Method) -> bool {
    *m == ensemble::Method::Union
}

/// `[selection] guard_p`: the union of `default` is the ensemble unless the combination best
/// on dev beats it with p at most `p` (a paired bootstrap over the dev sentences, or with
/// `test` = max-permutation, a permutation test that counts every combination tried).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guard {
    /// The largest p-value that lets the dev choice through.
    pub p: f64,
    /// The default members (system names); those among the candidates are combined.
    pub default: Vec<String>,
    /// The test's seed (the sample's).
    pub seed: u64,
    /// `[selection] guard_test` (default: the paired bootstrap; left out of settings then).
    #[serde(default, skip_serializing_if = "GuardTest::is_default")]
    pub test: GuardTest,
}

/// The chosen ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleOutput {
    /// Its test scores; `note` says what was chosen.
    pub score: SystemScore,
    /// Its test predictions.
    pub test: FileRef,
}

/// The stage.
pub struct Ensemble;

impl Stage for Ensemble {
    type Input = EnsembleInput;
    type Output = EnsembleOutput;

    fn run(input: &EnsembleInput, cx: &Context<'_>) -> Result<EnsembleOutput> {
        let gold_dev = super::io::read(&cx.path(&input.dev))?;
        let gold_test = super::io::read(&cx.path(&input.test))?;
        let dev: Vec<Vec<Sentence>> =
            input.candidates.iter().map(|s| super::io::read(&cx.path(&s.predictions.dev))).collect::<Result<_>>()?;
        let test: Vec<Vec<Sentence>> =
            input.candidates.iter().map(|s| super::io::read(&cx.path(&s.predictions.test))).collect::<Result<_>>()?;
        let dev_refs: Vec<&[Sentence]> = dev.iter().map(Vec::as_slice).collect();
        let test_refs: Vec<&[Sentence]> = test.iter().map(Vec::as_slice).collect();
        let choice = choose(&gold_dev, &dev_refs, &input.candidates, input.fixed, input.guard.as_ref(), &input.default_method)?;
        let combined = choice.apply(&test_refs)?;
        super::io::write_tsv(&cx.dir.join("ensemble.test.tsv"), &combined)?;
        let (prf, ci, e) = score(&gold_test, &combined, input.bootstrap, input.seed)?;
        let mut s = SystemScore::new(prf, ci, choice.dev_f1).with_types(&e);
        s.note = Some(choice.note());
        Ok(EnsembleOutput { score: s, test: cx.output("ensemble.test.tsv")? })
    }
}

/// The combination chosen on dev: which candidates, combined how.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The chosen candidates' names (`dictionary`, `tagger/distant`, ...), in candidate order.
    pub names: Vec<String>,
    /// Their indices among the candidates.
    pub members: Vec<usize>,
    /// The rule (a single system: its spans as they are).
    pub method: ensemble::Method,
    /// Each chosen candidate's weight (its dev F1 for a weighted vote, else 1).
    pub weights: Vec<f64>,
    /// The combination's dev F1.
    pub dev_f1: f64,
    /// Under a guard: the dev-best combination, its dev F1 and the paired bootstrap p-value of
    /// it beating the default, where the default was kept.
    pub overruled: Option<(String, f64, f64)>,
    chosen: ensemble::Candidate,
    all_weights: Vec<f64>,
}

impl Choice {
    /// `tagger/distant`, or `union of dictionary + tagger/distant`.
    pub fn describe(&self) -> String {
        describe(&self.names, &self.method)
    }

    /// What the stage notes: the choice, and where a guard kept the default over the dev-best
    /// combination, that combination with its dev F1 and p-value.
    pub fn note(&self) -> String {
        match &self.overruled {
            None => self.describe(),
            Some((best, f1, p)) => format!(
                "{} (kept by guard_p: {best} scored {:.1} on dev, p = {p:.2})",
                self.describe(),
                100.0 * f1
            ),
        }
    }

    /// The combination of the candidates' predictions (all candidates, in candidate order).
    pub fn apply(&self, candidates: &[&[Sentence]]) -> Result<Vec<Sentence>> {
        Ok(ensemble::apply(&self.chosen, candidates, &self.all_weights, Scheme::Iob2)?)
    }
}

/// The best combination on dev of the candidates (their dev predictions in candidate order):
/// every single system, and for every subset of two or more the dev-F1-weighted vote,
/// intersection, union and majority (ties: the earlier). With `fixed`, nothing is chosen: all
/// the candidates combined by `default_method` (dev only scores it). With a `guard`, its
/// default members combined by `default_method` stay unless the best beats them on dev with a
/// paired bootstrap p-value at most `guard.p` (resamples seeded by `guard.seed`). A back-off
/// member ([`crate::results::is_confident_system`]) enters no combination but the default.
pub fn choose(
    gold_dev: &[Sentence],
    dev: &[&[Sentence]],
    candidates: &[System],
    fixed: bool,
    guard: Option<&Guard>,
    default_method: &ensemble::Method,
) -> Result<Choice> {
    let by_default =
        |systems: Vec<usize>| ensemble::Candidate { systems, method: default_method.clone(), dev_weights: false };
    let mut default: Vec<usize> = guard
        .map(|g| (0..candidates.len()).filter(|&i| g.default.contains(&candidates[i].name)).collect())
        .unwrap_or_default();
    // A back-off's order is the default's (the dictionary first), whatever the ranking on dev;
    // the other methods keep candidate order (earlier runs' choices).
    if let (Some(g), true) = (guard, default_method.is_backoff()) {
        default.sort_by_key(|&i| g.default.iter().position(|n| n == &candidates[i].name));
    }
    let cands = if fixed {
        vec![by_default((0..candidates.len()).collect())]
    } else {
        // The search runs over the ordinary systems; the default joins it.
        let searched: Vec<usize> =
            (0..candidates.len()).filter(|&i| !crate::results::is_confident_system(&candidates[i].name)).collect();
        let mut cands: Vec<ensemble::Candidate> = ensemble::default_candidates(searched.len())
            .into_iter()
            .map(|mut c| {
                c.systems = c.systems.iter().map(|&i| searched[i]).collect();
                c
            })
            .collect();
        if default.len() > 1 && !cands.contains(&by_default(default.clone())) {
            cands.push(by_default(default.clone()));
        }
        cands
    };
    let sel = ensemble::select_best(gold_dev, dev, &cands, scoring(), Scheme::Iob2)?;
    let mut chosen = sel.chosen().clone();
    let mut overruled = None;
    if let (Some(g), false) = (guard, default.is_empty() || fixed) {
        let fallback = sel
            .tried
            .iter()
            .find(|t| t.candidate == by_default(default.clone()) || (default.len() == 1 && t.candidate.systems == default))
            .expect("the default is tried");
        if fallback.candidate != chosen.candidate {
            let p_value = guard_p_value(gold_dev, dev, &sel, &chosen.candidate, &fallback.candidate, g)?;
            if p_value > g.p {
                let members: Vec<&str> = chosen.candidate.systems.iter().map(|&i| candidates[i].name.as_str()).collect();
                let name = describe(&members, &chosen.candidate.method);
                tracing::info!(
                    "the default ensemble stays: {name} scores {:.4} on dev against its {:.4}, p = {:.3} > {} ({})",
                    chosen.dev_f1,
                    fallback.dev_f1,
                    p_value,
                    g.p,
                    g.test
                );
                overruled = Some((name, chosen.dev_f1, p_value));
                chosen = fallback.clone();
            }
        }
    }
    let c = &chosen.candidate;
    Ok(Choice {
        names: c.systems.iter().map(|&i| candidates[i].name.clone()).collect(),
        members: c.systems.clone(),
        method: c.method.clone(),
        weights: c.systems.iter().map(|&i| if c.dev_weights { sel.weights[i] } else { 1.0 }).collect(),
        dev_f1: chosen.dev_f1,
        overruled,
        chosen: chosen.candidate,
        all_weights: sel.weights,
    })
}

/// The guard's p-value of `best` beating `default` on dev ([`GuardTest::p_value`]; the
/// permutation test counts every combination tried).
fn guard_p_value(
    gold_dev: &[Sentence],
    dev: &[&[Sentence]],
    sel: &ensemble::Selection,
    best: &ensemble::Candidate,
    default: &ensemble::Candidate,
    g: &Guard,
) -> Result<f64> {
    let tagged = |c: &ensemble::Candidate| ensemble::apply(c, dev, &sel.weights, Scheme::Iob2);
    let tried = || {
        sel.tried.iter().map(|t| bootstrap::sentence_counts_of(gold_dev, &tagged(&t.candidate)?, scoring())).collect()
    };
    Ok(g.test.p_value(gold_dev, &tagged(best)?, &tagged(default)?, tried, scoring(), g.seed)?)
}

/// Members combined by `method` in words: `tagger/distant` (one member), or `union of
/// dictionary + tagger/distant`.
fn describe<S: AsRef<str>>(names: &[S], method: &ensemble::Method) -> String {
    match names {
        [one] => one.as_ref().to_string(),
        _ => format!("{method} of {}", names.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" + ")),
    }
}

/// The candidates of a sample's ensemble: its best systems on dev (a stable sort: report order
/// among equals), at most the plan's `ensemble_systems`; under `[selection] dev = "none"`, the
/// plan's fixed members in its order.
pub(crate) fn ranked(plan: &Plan, unit: crate::graph::Unit, outputs: &Outputs<'_>) -> Option<Vec<System>> {
    let all = systems(plan, unit, outputs)?;
    if let Some(fixed) = plan.fixed_ensemble() {
        let mut ranked = all;
        ranked.retain(|s| fixed.contains(&s.name));
        ranked.sort_by_key(|s| fixed.iter().position(|f| f == &s.name));
        return Some(ranked);
    }
    // A back-off member is never ranked: it can only be the default's.
    let (confident, mut ranked): (Vec<System>, Vec<System>) =
        all.into_iter().partition(|s| crate::results::is_confident_system(&s.name));
    let scores = outputs.get::<super::evaluate::Scores>(&ids::evaluate(unit))?;
    ranked.sort_by(|a, b| scores[&b.name].dev_f1.total_cmp(&scores[&a.name].dev_f1));
    let mut rest = ranked.split_off(plan.ensemble_systems.max(1).min(ranked.len()));
    rest.extend(confident);
    let mut top = ranked;
    if plan.selection.guard_p.is_some() {
        // The default members are candidates whatever their dev rank, so the guard can keep them.
        let default = plan.default_ensemble();
        top.extend(rest.into_iter().filter(|s| default.contains(&s.name)));
    }
    Some(top)
}

impl Planned for Ensemble {
    const KIND: &'static str = "ensemble";

    fn nodes(plan: &Plan) -> Vec<Node> {
        let node = |u| {
            let deps = [system_stages(plan, u), vec![ids::evaluate(u)]].concat();
            Node::new(ids::ensemble(u), Self::KIND, At::unit(u), deps)
        };
        plan.units().into_iter().map(node).collect()
    }

    /// The best systems on dev (a stable sort: report order among equals).
    fn input(plan: &Plan, at: At, outputs: &Outputs<'_>) -> Option<EnsembleInput> {
        let unit = at.sample();
        let ranked = ranked(plan, unit, outputs)?;
        Some(EnsembleInput {
            dev: plan.dev(unit).labelled.clone(),
            test: plan.data.test.labelled.clone(),
            candidates: ranked,
            bootstrap: plan.bootstrap,
            seed: unit.seed,
            fixed: plan.fixed_ensemble().is_some(),
            guard: plan.ensemble_guard(unit),
            default_method: plan.default_method(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Predictions;

    fn system(name: &str) -> System {
        let f = FileRef { file: format!("{name}.tsv").into(), sha256: String::new() };
        System { name: name.into(), predictions: Predictions { dev: f.clone(), test: f } }
    }

    fn s(tags: &str) -> Sentence {
        let tags: Vec<String> = tags.split(' ').map(String::from).collect();
        Sentence::new((0..tags.len()).map(|i| format!("w{i}")).collect(), tags).unwrap()
    }

    /// Gold: one mention per sentence. The dictionary finds it in every other sentence, the
    /// tagger finds nothing, DANN finds all but the last `dann_misses`.
    fn dev(n: usize, dann_misses: usize) -> [Vec<Sentence>; 4] {
        let gold = vec![s("B-X O"); n];
        let dict = (0..n).map(|i| if i % 2 == 0 { s("B-X O") } else { s("O O") }).collect();
        let tagger = vec![s("O O"); n];
        let dann = (0..n).map(|i| if i + dann_misses >= n { s("O O") } else { s("B-X O") }).collect();
        [gold, dict, tagger, dann]
    }

    #[test]
    fn a_guard_keeps_the_default_union_unless_dev_is_clear() {
        let cands = [system("dictionary"), system("tagger/distant"), system("dann/distant")];
        let guard = Guard {
            p: 0.05,
            default: vec!["dictionary".into(), "tagger/distant".into()],
            seed: 1,
            test: GuardTest::PairedBootstrap,
        };
        // Four dev sentences: DANN alone is best (3 of 4 against 2 of 4), but it beats the union
        // only in resamples that hold the second sentence (p about 0.3).
        let [gold, d, t, n] = dev(4, 1);
        let refs: Vec<&[Sentence]> = vec![&d, &t, &n];
        let free = choose(&gold, &refs, &cands, false, None, &ensemble::Method::Union).unwrap();
        assert_eq!(free.describe(), "dann/distant");
        let guarded = choose(&gold, &refs, &cands, false, Some(&guard), &ensemble::Method::Union).unwrap();
        assert_eq!(guarded.describe(), "union of dictionary + tagger/distant");
        assert!(guarded.note().contains("kept by guard_p: dann/distant"), "{}", guarded.note());
        // Two hundred: the dev-best is clearly better, and the guard lets the choice through.
        let [gold, d, t, n] = dev(200, 10);
        let refs: Vec<&[Sentence]> = vec![&d, &t, &n];
        let free = choose(&gold, &refs, &cands, false, None, &ensemble::Method::Union).unwrap();
        assert_eq!(free.describe(), "union of dictionary + dann/distant");
        let guarded = choose(&gold, &refs, &cands, false, Some(&guard), &ensemble::Method::Union).unwrap();
        assert_eq!(guarded.note(), free.describe());
        // The max-statistic permutation test over the 48 combinations tried: the same choices.
        let max = Guard { test: GuardTest::MaxPermutation, ..guard.clone() };
        assert_eq!(choose(&gold, &refs, &cands, false, Some(&max), &ensemble::Method::Union).unwrap().note(), free.describe());
        let [gold, d, t, n] = dev(4, 1);
        let refs: Vec<&[Sentence]> = vec![&d, &t, &n];
        let kept = choose(&gold, &refs, &cands, false, Some(&max), &ensemble::Method::Union).unwrap();
        assert_eq!(kept.describe(), "union of dictionary + tagger/distant");
        let p = |c: &Choice| c.overruled.as_ref().map(|o| o.2).unwrap();
        assert!(p(&kept) >= p(&choose(&gold, &refs, &cands, false, Some(&guard), &ensemble::Method::Union).unwrap()), "{}", kept.note());
        // The guard's settings keep their serialized form (stage hashes of earlier runs stay).
        let v = serde_json::to_value(&guard).unwrap();
        assert!(v.get("test").is_none(), "{v}");
        assert_eq!(serde_json::to_value(&max).unwrap()["test"], "max-permutation");
    }

    #[test]
    fn a_backoff_default_is_tried_and_its_member_enters_no_other_combination() {
        let cands = [system("dictionary"), system("tagger/distant"), system("tagger/distant@0.9")];
        let guard = Guard {
            p: 0.05,
            default: vec!["dictionary".into(), "tagger/distant@0.9".into()],
            seed: 1,
            test: GuardTest::PairedBootstrap,
        };
        // Gold has two mentions a sentence; the dictionary finds the first, the sure tagger the
        // second, the full tagger both and a wrong third.
        let gold = vec![s("B-X O B-X O"); 6];
        let d = vec![s("B-X O O O"); 6];
        let t = vec![s("B-X O B-X B-X"); 6];
        let sure = vec![s("O O B-X O"); 6];
        let refs: Vec<&[Sentence]> = vec![&d, &t, &sure];
        let backoff = ensemble::Method::Backoff;
        let guarded = choose(&gold, &refs, &cands, false, Some(&guard), &backoff).unwrap();
        assert_eq!(guarded.describe(), "backoff of dictionary + tagger/distant@0.9");
        assert!((guarded.dev_f1 - 1.0).abs() < 1e-9);
        assert_eq!(guarded.apply(&refs).unwrap()[0].tags, ["B-X", "O", "B-X", "O"]);
        // Ranked below the sure tagger on dev, the dictionary still comes first in the back-off.
        let ranked = [system("tagger/distant@0.9"), system("tagger/distant"), system("dictionary")];
        let ranked_refs: Vec<&[Sentence]> = vec![&sure, &t, &d];
        let kept = choose(&gold, &ranked_refs, &ranked, false, Some(&guard), &backoff).unwrap();
        assert_eq!(kept.describe(), "backoff of dictionary + tagger/distant@0.9");
        // So in the back-off that lets a longer sure entity replace the dictionary's.
        let longer = ensemble::Method::BackoffLonger;
        let kept = choose(&gold, &ranked_refs, &ranked, false, Some(&guard), &longer).unwrap();
        assert_eq!(kept.describe(), "backoff-longer of dictionary + tagger/distant@0.9");
        // Without a guard the search runs over the ordinary systems only.
        let free = choose(&gold, &refs, &cands, false, None, &backoff).unwrap();
        assert!(!free.names.iter().any(|n| n.contains('@')), "{}", free.describe());
        // Fixed (no dev labels): all the candidates by the default method, in their order.
        let pair: Vec<&[Sentence]> = vec![&d, &sure];
        let fixed =
            choose(&gold, &pair, &[system("dictionary"), system("tagger/distant@0.9")], true, None, &backoff).unwrap();
        assert_eq!(fixed.describe(), "backoff of dictionary + tagger/distant@0.9");
        // The default method is left out of settings where it is the union (earlier runs' hashes).
        assert!(is_union(&ensemble::Method::Union) && !is_union(&backoff));
    }
}
