//! The stage graph of a plan: every stage with its id (its folder under the run directory) and
//! the stages whose outputs are its inputs.
//!
//! ```text
//! kb ─┐
//!     ├─ seed-S/sample ─ seed-S/augment/NAME ─ seed-S/train/CONFIG ─ seed-S/predict/CONFIG ─┐
//!     │                                                                                     ├─ seed-S/evaluate ─ seed-S/ensemble ─┐
//! llm-tagger ───────────────────────────────────────────────────────────────────────────────┘         └─ seed-S/best          ├─ report
//! ```

use crate::plan::{KbPlan, Plan};
use serde::Serialize;

/// A training configuration: the shots alone, or the shots plus a strategy's sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Config {
    /// The shots alone.
    Original,
    /// The shots and strategy `i`'s sentences.
    Strategy(usize),
}

/// One sample: a K and a seed. Its stages live under `seed-S/`, or `kK/seed-S/` when the
/// experiment has several K (a learning curve).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// Shots per entity type.
    pub k: usize,
    /// The seed.
    pub seed: u64,
    /// Whether the experiment has several K (the folder names carry K).
    pub curve: bool,
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.curve {
            write!(f, "k{}/seed-{}", self.k, self.seed)
        } else {
            write!(f, "seed-{}", self.seed)
        }
    }
}

/// What a stage does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Step {
    /// Build the knowledge index.
    Kb,
    /// The LLM as a zero-shot tagger of dev and test.
    LlmTagger,
    /// Sample the shots.
    Sample {
        /// The sample.
        unit: Unit,
    },
    /// Tune the dictionary on dev and tag dev and test with it.
    Dictionary {
        /// The sample (the entity types are learned from its shots).
        unit: Unit,
    },
    /// Run strategy `strategy`.
    Augment {
        /// The sample.
        unit: Unit,
        /// Index into the plan's strategies.
        strategy: usize,
    },
    /// Choose the teacher of strategy `strategy` (the best system on dev so far) and label the
    /// pool and dev with it.
    Teacher {
        /// The sample.
        unit: Unit,
        /// Index into the plan's strategies.
        strategy: usize,
    },
    /// Train the tagger and fit DANN.
    Train {
        /// The sample.
        unit: Unit,
        /// Which training set.
        config: Config,
    },
    /// Predict dev and test with a trained model.
    Predict {
        /// The sample.
        unit: Unit,
        /// Which model.
        config: Config,
    },
    /// Score every system.
    Evaluate {
        /// The sample.
        unit: Unit,
    },
    /// The best ensemble on dev, scored on test.
    Ensemble {
        /// The sample.
        unit: Unit,
    },
    /// Keep the best single model on dev.
    Best {
        /// The sample.
        unit: Unit,
    },
    /// The report over seeds.
    Report,
}

/// A stage of the graph.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// Its id and folder.
    pub id: String,
    /// What it does.
    pub step: Step,
    /// The stages it reads.
    pub deps: Vec<String>,
}

/// Stage ids.
pub mod ids {
    use super::Unit;
    /// The knowledge index.
    pub const KB: &str = "kb";
    /// The LLM zero-shot tagger.
    pub const LLM_TAGGER: &str = "llm-tagger";
    /// The report.
    pub const REPORT: &str = "report";
    /// A seed's sample.
    pub fn sample(u: Unit) -> String {
        format!("{u}/sample")
    }
    /// A seed's dictionary.
    pub fn dictionary(u: Unit) -> String {
        format!("{u}/dictionary")
    }
    /// A seed's strategy output.
    pub fn augment(u: Unit, name: &str) -> String {
        format!("{u}/augment/{name}")
    }
    /// A seed's teacher of a strategy.
    pub fn teacher(u: Unit, name: &str) -> String {
        format!("{u}/teacher/{name}")
    }
    /// A seed's model of a configuration.
    pub fn train(u: Unit, config: &str) -> String {
        format!("{u}/train/{config}")
    }
    /// A seed's predictions of a configuration.
    pub fn predict(u: Unit, config: &str) -> String {
        format!("{u}/predict/{config}")
    }
    /// A seed's scores.
    pub fn evaluate(u: Unit) -> String {
        format!("{u}/evaluate")
    }
    /// A seed's ensemble.
    pub fn ensemble(u: Unit) -> String {
        format!("{u}/ensemble")
    }
    /// A seed's kept model.
    pub fn best(u: Unit) -> String {
        format!("{u}/best")
    }
}

impl Plan {
    /// Every sample: each K with each seed.
    pub fn units(&self) -> Vec<Unit> {
        let curve = self.ks.len() > 1;
        self.ks.iter().flat_map(|&k| self.seeds.iter().map(move |&seed| Unit { k, seed, curve })).collect()
    }

    /// The name of a configuration.
    pub fn config_name(&self, c: Config) -> &str {
        match c {
            Config::Original => "original",
            Config::Strategy(i) => self.strategies[i].spec.id(),
        }
    }

    /// Every configuration, `original` first.
    pub fn all_configs(&self) -> Vec<Config> {
        std::iter::once(Config::Original).chain((0..self.strategies.len()).map(Config::Strategy)).collect()
    }

    /// The configurations a teacher of strategy `i` chooses from: the original, every strategy
    /// without a teacher, and the strategies with one planned before `i` (earlier rounds).
    pub fn teacher_candidates(&self, i: usize) -> Vec<Config> {
        std::iter::once(Config::Original)
            .chain(
                (0..self.strategies.len())
                    .filter(|&j| !self.strategies[j].needs.teacher || j < i)
                    .filter(|&j| j != i)
                    .map(Config::Strategy),
            )
            .collect()
    }

    /// Strategy indices in an order where a strategy that matches another's count comes after it
    /// (strategies with a teacher are not among them: they come after the other models).
    pub fn strategy_order(&self) -> Vec<usize> {
        let n = self.strategies.len();
        let plain = |i: &usize| !self.strategies[*i].needs.teacher;
        let mut order: Vec<usize> = (0..n).filter(plain).filter(|&i| self.strategies[i].count_from.is_none()).collect();
        let mut rest: Vec<usize> = (0..n).filter(plain).filter(|&i| self.strategies[i].count_from.is_some()).collect();
        while !rest.is_empty() {
            let before = rest.len();
            rest.retain(|&i| {
                let ready = self.strategies[i].count_from.is_some_and(|j| order.contains(&j));
                if ready {
                    order.push(i);
                }
                !ready
            });
            if rest.len() == before {
                // A cycle cannot arise (a count comes from a strategy of another kind), but never loop.
                order.append(&mut rest);
            }
        }
        order
    }
}

/// The stages of `plan`, each after its inputs.
pub fn build(plan: &Plan) -> Vec<Node> {
    let mut nodes = Vec::new();
    let kb = matches!(plan.kb, Some(KbPlan::Build(_)));
    if kb {
        nodes.push(Node { id: ids::KB.into(), step: Step::Kb, deps: vec![] });
    }
    if plan.zero_shot_tagger {
        nodes.push(Node { id: ids::LLM_TAGGER.into(), step: Step::LlmTagger, deps: vec![] });
    }
    let mut report_deps = Vec::new();
    for unit in plan.units() {
        let sample = ids::sample(unit);
        nodes.push(Node { id: sample.clone(), step: Step::Sample { unit }, deps: vec![] });
        if plan.dictionary.is_some() {
            let mut deps = vec![sample.clone()];
            if kb {
                deps.push(ids::KB.into());
            }
            nodes.push(Node { id: ids::dictionary(unit), step: Step::Dictionary { unit }, deps });
        }
        for i in plan.strategy_order() {
            let s = &plan.strategies[i];
            let mut deps = vec![sample.clone()];
            if kb && s.needs.kb.uses() {
                deps.push(ids::KB.into());
            }
            if let Some(j) = s.count_from {
                deps.push(ids::augment(unit, plan.strategies[j].spec.id()));
            }
            if s.needs.dictionary.uses() {
                deps.push(ids::dictionary(unit));
            }
            nodes.push(Node { id: ids::augment(unit, s.spec.id()), step: Step::Augment { unit, strategy: i }, deps });
        }
        let mut eval_deps = Vec::new();
        let model = |nodes: &mut Vec<Node>, eval_deps: &mut Vec<String>, config: Config| {
            let name = plan.config_name(config).to_string();
            let mut deps = vec![sample.clone()];
            if config != Config::Original {
                deps.push(ids::augment(unit, &name));
            }
            nodes.push(Node { id: ids::train(unit, &name), step: Step::Train { unit, config }, deps });
            nodes.push(Node {
                id: ids::predict(unit, &name),
                step: Step::Predict { unit, config },
                deps: vec![ids::train(unit, &name)],
            });
            eval_deps.push(ids::predict(unit, &name));
        };
        let teaching = |c: &Config| matches!(c, Config::Strategy(i) if plan.strategies[*i].needs.teacher);
        for config in plan.all_configs().into_iter().filter(|c| !teaching(c)) {
            model(&mut nodes, &mut eval_deps, config);
        }
        // Strategies with a teacher, in plan order (round after round): the teacher chooses
        // among the models before it, labels the pool, and the student trains.
        for i in (0..plan.strategies.len()).filter(|&i| plan.strategies[i].needs.teacher) {
            let s = &plan.strategies[i];
            let mut deps: Vec<String> = Vec::new();
            for c in plan.teacher_candidates(i) {
                let n = plan.config_name(c);
                deps.extend([ids::train(unit, n), ids::predict(unit, n)]);
            }
            nodes.push(Node { id: ids::teacher(unit, s.spec.id()), step: Step::Teacher { unit, strategy: i }, deps });
            let mut deps = vec![sample.clone(), ids::teacher(unit, s.spec.id())];
            if kb && s.needs.kb.uses() {
                deps.push(ids::KB.into());
            }
            if s.needs.dictionary.uses() {
                deps.push(ids::dictionary(unit));
            }
            nodes.push(Node { id: ids::augment(unit, s.spec.id()), step: Step::Augment { unit, strategy: i }, deps });
            model(&mut nodes, &mut eval_deps, Config::Strategy(i));
        }
        if plan.zero_shot_tagger {
            eval_deps.push(ids::LLM_TAGGER.into());
        }
        if plan.dictionary_system {
            eval_deps.push(ids::dictionary(unit));
        }
        nodes.push(Node { id: ids::evaluate(unit), step: Step::Evaluate { unit }, deps: eval_deps.clone() });
        let mut ens_deps = eval_deps;
        ens_deps.push(ids::evaluate(unit));
        nodes.push(Node { id: ids::ensemble(unit), step: Step::Ensemble { unit }, deps: ens_deps });
        let mut best_deps: Vec<String> =
            plan.all_configs().iter().map(|&c| ids::train(unit, plan.config_name(c))).collect();
        best_deps.push(ids::evaluate(unit));
        nodes.push(Node { id: ids::best(unit), step: Step::Best { unit }, deps: best_deps });
        report_deps.extend([ids::evaluate(unit), ids::ensemble(unit), ids::best(unit)]);
        report_deps.extend(plan.strategies.iter().map(|s| ids::augment(unit, s.spec.id())));
    }
    if plan.zero_shot_tagger {
        report_deps.push(ids::LLM_TAGGER.into());
    }
    nodes.push(Node { id: ids::REPORT.into(), step: Step::Report, deps: report_deps });
    nodes
}
