//! `seed-S/dictionary`: the knowledge graph as a tagger. Its entity types are learned from the
//! seed's shots, its filters chosen on dev; with `[dictionary] heldout_agreement` the names a
//! tagger trained without their silver labels doubts are dropped then (`heldout.rs`); it tags
//! dev and test.

use crate::flow::Predictions;
use crate::files::FileRef;
use crate::graph::{ids, At, Node};
use crate::plan::Plan;
use crate::stage::{Context, Stage};
use crate::flow::{Outputs, Planned, System};
use crate::Result;
use hilgen_dictionary::{select_guarded, Grid, Guard, SavedDictionary, TypeMap};
use serde::{Deserialize, Serialize};

/// What the dictionary reads.
#[derive(Debug, Clone, Serialize)]
pub struct DictionaryInput {
    /// The knowledge index.
    pub kb: FileRef,
    /// The shots (their mentions' concepts give the entity types).
    pub shots: FileRef,
    /// The gold dev split (the filters are chosen on it).
    pub dev: FileRef,
    /// The test split (tokens and document ids).
    pub test: FileRef,
    /// What the search tries.
    pub grid: Grid,
    /// `[selection] dictionary_guard_p`: the grid's default stays unless dev's choice is
    /// significantly better.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<Guard>,
    /// `[dictionary] heldout_agreement`: names a tagger trained without their silver labels
    /// doubts are dropped after the dev search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heldout: Option<super::heldout::HeldOutInput>,
}

/// The tuned dictionary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DictionaryOutput {
    /// `dictionary.json`: the learned types and the chosen configuration.
    pub dictionary: FileRef,
    /// The dev choice.
    pub dev_f1: f64,
    /// Its predictions.
    pub predictions: Predictions,
}

/// The stage.
pub struct TuneDictionary;

impl Stage for TuneDictionary {
    type Input = DictionaryInput;
    type Output = DictionaryOutput;

    fn run(input: &DictionaryInput, cx: &Context<'_>) -> Result<DictionaryOutput> {
        let kb = hilgen_kb::Kb::open(cx.path(&input.kb))?;
        let shots = super::io::read(&cx.path(&input.shots))?;
        let dev = super::io::read(&cx.path(&input.dev))?;
        let test = super::io::read(&cx.path(&input.test))?;
        let types = TypeMap::learn(&kb, &shots);
        // `adjective_evidence`: what the shots and dev mark (under `dev = "none"` dev is the
        // shots; repeats count once).
        let labelled = [shots.as_slice(), dev.as_slice()].concat();
        let (grid, evidence) = input.grid.settle_adjectives(&kb, &types, &labelled)?;
        let (mut dictionary, mut selection) = select_guarded(&kb, &types, &dev, &grid, input.guard.as_ref())?;
        selection.adjective_evidence = evidence;
        if let Some(h) = &input.heldout {
            super::heldout::vet_and_drop(h, &mut dictionary, &mut selection, &shots, cx)?;
        }
        match &selection.overruled {
            None => tracing::info!(
                dev_f1 = selection.dev_f1,
                dropped = ?selection.config.dropped_types,
                "dictionary chosen on dev"
            ),
            Some(o) => tracing::info!(
                dev_f1 = selection.dev_f1,
                best = o.dev_f1,
                p = o.p_value,
                "dictionary defaults kept by dictionary_guard_p"
            ),
        }
        super::io::write_tsv(&cx.dir.join("dictionary.dev.tsv"), &dictionary.tag(&dev))?;
        super::io::write_tsv(&cx.dir.join("dictionary.test.tsv"), &dictionary.tag(&test))?;
        let saved = SavedDictionary { types, selection };
        let p = cx.dir.join("dictionary.json");
        crate::files::write_file(&p, serde_json::to_string_pretty(&saved).expect("serializes").as_bytes())?;
        Ok(DictionaryOutput {
            dictionary: cx.output("dictionary.json")?,
            dev_f1: saved.selection.dev_f1,
            predictions: Predictions { dev: cx.output("dictionary.dev.tsv")?, test: cx.output("dictionary.test.tsv")? },
        })
    }
}

impl Planned for TuneDictionary {
    const KIND: &'static str = "dictionary";

    fn nodes(plan: &Plan) -> Vec<Node> {
        if plan.dictionary.is_none() {
            return vec![];
        }
        let node = |u| {
            let deps = [vec![ids::sample(u)], super::kb::deps(plan)].concat();
            Node::new(ids::dictionary(u), Self::KIND, At::unit(u), deps)
        };
        plan.units().into_iter().map(node).collect()
    }

    fn input(plan: &Plan, at: At, outputs: &Outputs<'_>) -> Option<DictionaryInput> {
        Some(DictionaryInput {
            kb: super::kb::index(plan, outputs)?,
            shots: super::sample::shots(outputs, at.sample())?.shots,
            dev: plan.dev(at.sample()).labelled.clone(),
            test: plan.data.test.tokens.clone(),
            grid: plan.dictionary.clone().expect("a dictionary stage is planned for a grid"),
            guard: plan.selection.dictionary_guard_p.map(|p| Guard { test: plan.selection.guard_test, ..Guard::new(p, at.sample().seed) }),
            heldout: super::heldout::planned(plan, at.sample().seed),
        })
    }

    fn rows(plan: &Plan, _: At) -> Vec<(String, String)> {
        match plan.dictionary_system {
            true => vec![("dictionary".into(), "dictionary (types from the shots, filters on dev)".into())],
            false => vec![],
        }
    }

    fn systems(plan: &Plan, _: At, output: &DictionaryOutput) -> Vec<System> {
        if plan.dictionary_system {
            vec![System { name: "dictionary".into(), predictions: output.predictions.clone() }]
        } else {
            vec![]
        }
    }
}
