//! `[dictionary] heldout_agreement`, inside `seed-S/dictionary`: the names the shots do not
//! vouch for, judged by a tagger trained without their silver labels
//! (`hilgen_dictionary::heldout`). The tagger trains as the distant tagger does (the shots
//! copied and the pool's silver drawn by the schedule, the distant strategy's `O` weight),
//! reads the pool sentences with held-out matches, and the names it doubts join the
//! dictionary's dropped names. Its report is `heldout.json` beside `dictionary.json`.

use crate::experiment::Schedule;
use crate::files::FileRef;
use crate::plan::Plan;
use crate::stage::Context;
use crate::Result;
use hilgen_corpus::Sentence;
use hilgen_dictionary::heldout::{agreement, doubted, hold_out, NameAgreement};
use hilgen_dictionary::Dictionary;
use hilgen_models::TaggerConfig;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// What the held-out check reads besides the dictionary stage's input.
#[derive(Debug, Clone, Serialize)]
pub struct HeldOutInput {
    /// Names below this mean agreement are dropped.
    pub threshold: f64,
    /// The labels whose names are held out and judged (empty: every label).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels_judged: Vec<String>,
    /// The unlabelled pool (tokens).
    pub pool: FileRef,
    /// The encoder folder.
    pub encoder: FileRef,
    /// A tiny random BERT with the encoder's tokenizer instead of its weights.
    pub random_tiny: bool,
    /// The label set.
    pub labels: Vec<String>,
    /// The tagger's hyper-parameters (the run's seed).
    pub tagger: TaggerConfig,
    /// The epoch rule (epochs and batch size for the shots and the silver).
    pub schedule: Schedule,
    /// Loss weight of the silver sentences' `O` words (the distant strategy's).
    pub o_weight: f64,
}

/// `heldout.json`: what the check held out, how the tagger read it, what it dropped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldOutReport {
    /// The threshold.
    pub threshold: f64,
    /// Silver sentences the tagger trained on (besides the shots).
    pub silver_sentences: usize,
    /// Held-out matches in the pool.
    pub held_mentions: usize,
    /// Per held-out name, the tagger's agreement.
    pub names: BTreeMap<String, NameAgreement>,
    /// The names dropped (below the threshold).
    pub dropped: BTreeSet<String>,
    /// Mean loss of each epoch of the held-out tagger.
    pub losses: Vec<f64>,
    /// Wall time of the check, seconds.
    pub seconds: f64,
}

/// Runs the check on `dictionary` (whose names and options `selection` holds), adds the names it
/// doubts to both's dropped names (read only when matching, as the dev search drops its own),
/// and writes `heldout.json` into the stage's folder.
pub(crate) fn vet_and_drop(
    input: &HeldOutInput,
    dictionary: &mut Dictionary,
    selection: &mut hilgen_dictionary::Selection,
    shots: &[Sentence],
    cx: &Context<'_>,
) -> Result<HeldOutReport> {
    let report = vet(input, dictionary, shots, cx)?;
    selection.config.dropped_names.extend(report.dropped.iter().cloned());
    dictionary.config.dropped_names.clone_from(&selection.config.dropped_names);
    let p = cx.dir.join("heldout.json");
    crate::files::write_file(&p, serde_json::to_string_pretty(&report).expect("serializes").as_bytes())?;
    Ok(report)
}

/// The check's input for the sample of `seed`, when `[dictionary] heldout_agreement` is set.
pub(super) fn planned(plan: &Plan, seed: u64) -> Option<HeldOutInput> {
    let threshold = plan.heldout_agreement?;
    Some(HeldOutInput {
        threshold,
        labels_judged: plan.heldout_labels.clone(),
        pool: plan.data.pool.as_ref().expect("the plan resolves the pool for heldout_agreement").tokens.clone(),
        encoder: plan.model.encoder.clone(),
        random_tiny: plan.model.random_tiny,
        labels: plan.labels.clone(),
        tagger: TaggerConfig { seed, ..plan.model.tagger.clone() },
        schedule: plan.model.schedule.clone(),
        o_weight: plan
            .strategies
            .iter()
            .find(|s| s.strategy.kind() == "distant")
            .map_or(1.0, |s| s.strategy.o_weight()),
    })
}

/// The names `dictionary` should drop: held out of the silver labels of `pool` (without the
/// shots' sentences), judged by a tagger trained on `shots` and the rest.
fn vet(input: &HeldOutInput, dictionary: &Dictionary, shots: &[Sentence], cx: &Context<'_>) -> Result<HeldOutReport> {
    let started = std::time::Instant::now();
    let shot_tokens: HashSet<&[String]> = shots.iter().map(|s| s.tokens.as_slice()).collect();
    let pool: Vec<Sentence> = super::io::read(&cx.path(&input.pool))?
        .into_iter()
        .filter(|s| !s.is_empty() && !shot_tokens.contains(s.tokens.as_slice()))
        .collect();
    let only: BTreeSet<String> = input.labels_judged.iter().cloned().collect();
    let held = hold_out(dictionary, &pool, (!only.is_empty()).then_some(&only));
    tracing::info!(
        held = held.mentions.len(),
        names = held.mentions.iter().map(|m| m.key.as_str()).collect::<BTreeSet<_>>().len(),
        pool = pool.len(),
        "held-out agreement: matches labelled only through a coarse type held out of the silver"
    );
    let mut report = HeldOutReport {
        threshold: input.threshold,
        silver_sentences: held.silver.len(),
        held_mentions: held.mentions.len(),
        names: BTreeMap::new(),
        dropped: BTreeSet::new(),
        losses: Vec::new(),
        seconds: 0.0,
    };
    if held.mentions.is_empty() {
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    let draw = input.schedule.draw(&input.tagger, shots.len(), held.silver.len());
    let (stream, weights) =
        super::train::stream(shots, &held.silver, draw.shot_copies, draw.synthetic_slots, input.o_weight);
    let mut tagger = super::train::new_tagger(&input.encoder, input.random_tiny, &input.labels, draw.config, cx)?;
    let checkpoint = cx.runtime.checkpoints.then(|| cx.scratch.join("heldout-checkpoint"));
    report.losses = tagger.train_weighted(&stream, Some(&weights), None, checkpoint.as_deref())?.losses;
    // Only the sentences with held-out matches are read.
    let mut at: BTreeMap<usize, usize> = BTreeMap::new();
    for m in &held.mentions {
        let next = at.len();
        at.entry(m.sentence).or_insert(next);
    }
    let read: Vec<Sentence> = at.keys().map(|&i| pool[i].clone()).collect();
    let mut log_probs: Vec<Vec<Vec<f32>>> = Vec::with_capacity(read.len());
    let n = input.labels.len();
    for e in tagger.emissions(&read)? {
        let flat: Vec<f32> = Vec::try_from(e.contiguous().view([-1])).map_err(hilgen_models::ModelError::from)?;
        log_probs.push(flat.chunks(n).map(<[f32]>::to_vec).collect());
    }
    let mentions: Vec<_> = held
        .mentions
        .iter()
        .map(|m| hilgen_dictionary::heldout::HeldMention { sentence: at[&m.sentence], ..m.clone() })
        .collect();
    report.names = agreement(&mentions, tagger.labels(), &log_probs);
    report.dropped = doubted(&report.names, input.threshold);
    report.seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        names = report.names.len(),
        dropped = report.dropped.len(),
        seconds = report.seconds,
        "held-out agreement: names the tagger doubts dropped"
    );
    Ok(report)
}
