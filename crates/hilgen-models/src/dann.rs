//! DANN (Ge et al. 2024): NNShot over a trained tagger's outputs. Every token of the support
//! set (the few-shot and synthetic training sentences; padding never enters) is represented by
//! the tagger's emissions (log-softmax) or last hidden state, L2-normalised. A query token's
//! score for a tag is its highest similarity to a support token carrying that tag; the
//! prediction is the arg-max. Similarity is minus the Minkowski distance (p = 3 by default, as
//! in the authors' code), minus the Euclidean distance, or the cosine. Optionally, StructShot's
//! Viterbi decoding adds abstract transition scores estimated on the support set, weighted by
//! `tau`.

use crate::decode::viterbi;
use crate::error::{ModelError, Result};
use crate::tagger::{Features, Prediction, Tagger};
use hilgen_corpus::Sentence;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// Similarity between normalised vectors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Distance {
    /// Minus the Minkowski distance of order p.
    Minkowski(f64),
    /// Minus the Euclidean distance.
    Euclidean,
    /// Cosine similarity.
    Cosine,
}

/// DANN settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DannConfig {
    /// Which vectors (default: emissions).
    pub features: Features,
    /// Similarity (default: Minkowski p = 3).
    pub distance: Distance,
    /// StructShot transition weight; `None` decodes by arg-max (default).
    pub structshot_tau: Option<f64>,
}

impl Default for DannConfig {
    fn default() -> Self {
        DannConfig { features: Features::Emissions, distance: Distance::Minkowski(3.0), structshot_tau: None }
    }
}

/// A fitted nearest-neighbour tagger.
pub struct Dann {
    support: Tensor,
    /// For each label, the support rows carrying it.
    columns: Vec<Option<Tensor>>,
    transitions: Vec<Vec<f32>>,
    labels: Vec<String>,
    /// Settings.
    pub config: DannConfig,
}

fn normalise(x: &Tensor) -> Tensor {
    x / x.norm_scalaropt_dim(2, [1], true).clamp_min(1e-12)
}

/// Abstract transition log-probabilities (StructShot): O->O, O->B, B/I->same I, B/I->O,
/// B/I->other B, estimated from the support tags with add-one smoothing and shared by every
/// entity type.
fn abstract_transitions(support: &[Sentence], labels: &[String]) -> Vec<Vec<f32>> {
    let class = |p: &str, c: &str| -> usize {
        let (pt, ct) = (p.split_once('-').map(|x| x.1), c.split_once('-').map(|x| x.1));
        match (p == "O", c) {
            (true, "O") => 0,
            (true, _) => 1,
            (false, "O") => 3,
            _ if c.starts_with("I-") && pt == ct => 2,
            _ => 4,
        }
    };
    let mut counts = [1.0f32; 5];
    for s in support {
        for w in s.tags.windows(2) {
            counts[class(&w[0], &w[1])] += 1.0;
        }
    }
    let (from_o, from_e) = (counts[0] + counts[1], counts[2] + counts[3] + counts[4]);
    labels
        .iter()
        .map(|p| {
            labels
                .iter()
                .map(|c| {
                    let k = class(p, c);
                    let total = if p == "O" { from_o } else { from_e };
                    // Probability mass of a class is shared by the tags in it.
                    let members = labels.iter().filter(|x| class(p, x) == k).count().max(1) as f32;
                    (counts[k] / total / members).ln()
                })
                .collect()
        })
        .collect()
}

impl Dann {
    /// Builds the support set from `support` sentences through `tagger`.
    pub fn fit(tagger: &Tagger, support: &[Sentence], config: DannConfig) -> Result<Dann> {
        let labels = tagger.labels().to_vec();
        let features = tagger.word_features(support, config.features)?;
        let mut tags = Vec::new();
        for (si, s) in support.iter().enumerate() {
            for (w, t) in s.tags.iter().enumerate() {
                let id = labels.iter().position(|l| l == t).ok_or_else(|| {
                    ModelError::Invalid(format!(
                        "support sentence {si}, word {w}: tag `{t}` is not among the tagger's labels"
                    ))
                })?;
                tags.push(id as i64);
            }
        }
        if tags.is_empty() {
            return Err(ModelError::Invalid("DANN needs a non-empty support set".into()));
        }
        let support_rows = normalise(&Tensor::cat(&features, 0));
        let tag_tensor = Tensor::from_slice(&tags);
        let columns = (0..labels.len() as i64)
            .map(|l| {
                let idx = tag_tensor.eq(l).nonzero().view([-1]);
                (idx.size()[0] > 0).then_some(idx)
            })
            .collect();
        Ok(Dann { support: support_rows, columns, transitions: abstract_transitions(support, &labels), labels, config })
    }

    /// Per-label scores `[tokens, labels]` of query rows.
    fn scores(&self, query: &Tensor) -> Tensor {
        let q = normalise(query);
        let sim = match self.config.distance {
            Distance::Cosine => q.matmul(&self.support.tr()),
            Distance::Euclidean => -Tensor::cdist(&q, &self.support, 2.0, None),
            Distance::Minkowski(p) => -Tensor::cdist(&q, &self.support, p, None),
        };
        let cols: Vec<Tensor> = self
            .columns
            .iter()
            .map(|c| match c {
                Some(idx) => sim.index_select(1, idx).amax([1], false),
                None => Tensor::full([sim.size()[0]], f64::NEG_INFINITY, (Kind::Float, sim.device())),
            })
            .collect();
        Tensor::stack(&cols, 1)
    }

    /// Tags for `query` sentences.
    pub fn predict(&self, tagger: &Tagger, query: &[Sentence]) -> Result<Vec<Prediction>> {
        let features = tagger.word_features(query, self.config.features)?;
        Ok(self.predict_features(&features))
    }

    /// Tags from per-sentence word vectors already computed with
    /// [`Tagger::word_features`] (of this DANN's feature kind).
    pub fn predict_features(&self, features: &[Tensor]) -> Vec<Prediction> {
        let mut out = Vec::with_capacity(features.len());
        tch::no_grad(|| {
            for f in features {
                if f.size()[0] == 0 {
                    out.push(Prediction { tags: vec![], probs: vec![] });
                    continue;
                }
                let scores = self.scores(f);
                let logp = scores.log_softmax(-1, Kind::Float);
                let rows: Vec<Vec<f32>> =
                    (0..logp.size()[0]).map(|i| Vec::<f32>::try_from(logp.get(i)).expect("float rows")).collect();
                let ids: Vec<usize> = match self.config.structshot_tau {
                    Some(tau) => {
                        let extra: Vec<Vec<f32>> =
                            self.transitions.iter().map(|r| r.iter().map(|v| v * tau as f32).collect()).collect();
                        viterbi(&rows, &self.labels, Some(&extra))
                    }
                    None => rows
                        .iter()
                        .map(|r| r.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i))
                        .collect(),
                };
                out.push(Prediction {
                    tags: ids.iter().map(|&i| self.labels[i].clone()).collect(),
                    probs: ids.iter().zip(&rows).map(|(&i, r)| r[i].exp()).collect(),
                });
            }
        });
        out
    }

    /// The query sentences with DANN's tags.
    pub fn predict_sentences(&self, tagger: &Tagger, query: &[Sentence]) -> Result<Vec<Sentence>> {
        Ok(self.predict(tagger, query)?.iter().zip(query).map(|(p, s)| p.to_sentence(s)).collect())
    }
}
