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

/// What a stage does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Step {
    /// Build the knowledge index.
    Kb,
    /// The LLM as a zero-shot tagger of dev and test.
    LlmTagger,
    /// Sample the shots.
    Sample {
        /// Seed.
        seed: u64,
    },
    /// Tune the dictionary on dev and tag dev and test with it.
    Dictionary {
        /// Seed (the entity types are learned from this seed's shots).
        seed: u64,
    },
    /// Run strategy `strategy`.
    Augment {
        /// Seed.
        seed: u64,
        /// Index into the plan's strategies.
        strategy: usize,
    },
    /// Choose the teacher of strategy `strategy` (the best system on dev so far) and label the
    /// pool and dev with it.
    Teacher {
        /// Seed.
        seed: u64,
        /// Index into the plan's strategies.
        strategy: usize,
    },
    /// Train the tagger and fit DANN.
    Train {
        /// Seed.
        seed: u64,
        /// Which training set.
        config: Config,
    },
    /// Predict dev and test with a trained model.
    Predict {
        /// Seed.
        seed: u64,
        /// Which model.
        config: Config,
    },
    /// Score every system.
    Evaluate {
        /// Seed.
        seed: u64,
    },
    /// The best ensemble on dev, scored on test.
    Ensemble {
        /// Seed.
        seed: u64,
    },
    /// Keep the best single model on dev.
    Best {
        /// Seed.
        seed: u64,
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
    /// The knowledge index.
    pub const KB: &str = "kb";
    /// The LLM zero-shot tagger.
    pub const LLM_TAGGER: &str = "llm-tagger";
    /// The report.
    pub const REPORT: &str = "report";
    /// A seed's sample.
    pub fn sample(seed: u64) -> String {
        format!("seed-{seed}/sample")
    }
    /// A seed's dictionary.
    pub fn dictionary(seed: u64) -> String {
        format!("seed-{seed}/dictionary")
    }
    /// A seed's strategy output.
    pub fn augment(seed: u64, name: &str) -> String {
        format!("seed-{seed}/augment/{name}")
    }
    /// A seed's teacher of a strategy.
    pub fn teacher(seed: u64, name: &str) -> String {
        format!("seed-{seed}/teacher/{name}")
    }
    /// A seed's model of a configuration.
    pub fn train(seed: u64, config: &str) -> String {
        format!("seed-{seed}/train/{config}")
    }
    /// A seed's predictions of a configuration.
    pub fn predict(seed: u64, config: &str) -> String {
        format!("seed-{seed}/predict/{config}")
    }
    /// A seed's scores.
    pub fn evaluate(seed: u64) -> String {
        format!("seed-{seed}/evaluate")
    }
    /// A seed's ensemble.
    pub fn ensemble(seed: u64) -> String {
        format!("seed-{seed}/ensemble")
    }
    /// A seed's kept model.
    pub fn best(seed: u64) -> String {
        format!("seed-{seed}/best")
    }
}

impl Plan {
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
    for &seed in &plan.seeds {
        let sample = ids::sample(seed);
        nodes.push(Node { id: sample.clone(), step: Step::Sample { seed }, deps: vec![] });
        if plan.dictionary.is_some() {
            let mut deps = vec![sample.clone()];
            if kb {
                deps.push(ids::KB.into());
            }
            nodes.push(Node { id: ids::dictionary(seed), step: Step::Dictionary { seed }, deps });
        }
        for i in plan.strategy_order() {
            let s = &plan.strategies[i];
            let mut deps = vec![sample.clone()];
            if kb && s.needs.kb.uses() {
                deps.push(ids::KB.into());
            }
            if let Some(j) = s.count_from {
                deps.push(ids::augment(seed, plan.strategies[j].spec.id()));
            }
            if s.needs.dictionary.uses() {
                deps.push(ids::dictionary(seed));
            }
            nodes.push(Node { id: ids::augment(seed, s.spec.id()), step: Step::Augment { seed, strategy: i }, deps });
        }
        let mut eval_deps = Vec::new();
        let model = |nodes: &mut Vec<Node>, eval_deps: &mut Vec<String>, config: Config| {
            let name = plan.config_name(config).to_string();
            let mut deps = vec![sample.clone()];
            if config != Config::Original {
                deps.push(ids::augment(seed, &name));
            }
            nodes.push(Node { id: ids::train(seed, &name), step: Step::Train { seed, config }, deps });
            nodes.push(Node {
                id: ids::predict(seed, &name),
                step: Step::Predict { seed, config },
                deps: vec![ids::train(seed, &name)],
            });
            eval_deps.push(ids::predict(seed, &name));
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
                deps.extend([ids::train(seed, n), ids::predict(seed, n)]);
            }
            nodes.push(Node { id: ids::teacher(seed, s.spec.id()), step: Step::Teacher { seed, strategy: i }, deps });
            let mut deps = vec![sample.clone(), ids::teacher(seed, s.spec.id())];
            if kb && s.needs.kb.uses() {
                deps.push(ids::KB.into());
            }
            if s.needs.dictionary.uses() {
                deps.push(ids::dictionary(seed));
            }
            nodes.push(Node { id: ids::augment(seed, s.spec.id()), step: Step::Augment { seed, strategy: i }, deps });
            model(&mut nodes, &mut eval_deps, Config::Strategy(i));
        }
        if plan.zero_shot_tagger {
            eval_deps.push(ids::LLM_TAGGER.into());
        }
        if plan.dictionary_system {
            eval_deps.push(ids::dictionary(seed));
        }
        nodes.push(Node { id: ids::evaluate(seed), step: Step::Evaluate { seed }, deps: eval_deps.clone() });
        let mut ens_deps = eval_deps;
        ens_deps.push(ids::evaluate(seed));
        nodes.push(Node { id: ids::ensemble(seed), step: Step::Ensemble { seed }, deps: ens_deps });
        let mut best_deps: Vec<String> =
            plan.all_configs().iter().map(|&c| ids::train(seed, plan.config_name(c))).collect();
        best_deps.push(ids::evaluate(seed));
        nodes.push(Node { id: ids::best(seed), step: Step::Best { seed }, deps: best_deps });
        report_deps.extend([ids::evaluate(seed), ids::ensemble(seed), ids::best(seed)]);
        report_deps.extend(plan.strategies.iter().map(|s| ids::augment(seed, s.spec.id())));
    }
    if plan.zero_shot_tagger {
        report_deps.push(ids::LLM_TAGGER.into());
    }
    nodes.push(Node { id: ids::REPORT.into(), step: Step::Report, deps: report_deps });
    nodes
}
