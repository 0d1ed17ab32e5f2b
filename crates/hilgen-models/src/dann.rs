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
use crate::nearest::Distance;
use crate::nearest::LabelTrees;
use crate::tagger::{Features, Prediction, Tagger};
use hilgen_corpus::Sentence;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// DANN settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
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

/// File of a saved support set's tensors.
pub const DANN_TENSORS: &str = "dann.safetensors";
/// File of a saved support set's settings.
pub const DANN_META: &str = "dann.json";

#[derive(Serialize, Deserialize)]
struct Saved {
    config: DannConfig,
    labels: Vec<String>,
    transitions: Vec<Vec<f32>>,
}

/// A fitted nearest-neighbour tagger.
pub struct Dann {
    support: Tensor,
    /// The label id of each support row.
    tags: Tensor,
    /// For each label, the support rows carrying it.
    columns: Vec<Option<Tensor>>,
    transitions: Vec<Vec<f32>>,
    labels: Vec<String>,
    /// Per-label k-d trees over the support rows when they have few dimensions (emissions).
    trees: Option<LabelTrees>,
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
        // Rows of words whose tag is known (partial annotation leaves some out).
        let mut known = Vec::new();
        let mut row = 0i64;
        for (si, s) in support.iter().enumerate() {
            for (w, t) in s.tags.iter().enumerate() {
                row += 1;
                if s.unknown.binary_search(&w).is_ok() {
                    continue;
                }
                known.push(row - 1);
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
        let mut all = Tensor::cat(&features, 0);
        if known.len() as i64 != row {
            all = all.index_select(0, &Tensor::from_slice(&known).to_device(all.device()));
        }
        let support_rows = normalise(&all);
        let transitions = abstract_transitions(support, &labels);
        Ok(Dann::from_parts(support_rows, Tensor::from_slice(&tags), transitions, labels, config))
    }

    fn from_parts(
        support: Tensor,
        tags: Tensor,
        transitions: Vec<Vec<f32>>,
        labels: Vec<String>,
        config: DannConfig,
    ) -> Dann {
        let columns = (0..labels.len() as i64)
            .map(|l| {
                let idx = tags.eq(l).nonzero().view([-1]);
                (idx.size()[0] > 0).then_some(idx)
            })
            .collect();
        let trees = Dann::trees_of(&support, &tags, labels.len(), config.distance);
        Dann { support, tags, columns, transitions, labels, trees, config }
    }

    fn trees_of(support: &Tensor, tags: &Tensor, labels: usize, distance: Distance) -> Option<LabelTrees> {
        let dims = usize::try_from(*support.size().get(1)?).ok()?;
        if dims > crate::nearest::MAX_TREE_DIMS {
            return None;
        }
        let rows = Vec::<f32>::try_from(support.to_device(Device::Cpu).contiguous().view([-1])).ok()?;
        let tags = Vec::<i64>::try_from(tags.to_device(Device::Cpu)).ok()?;
        LabelTrees::build(&rows, dims, &tags, labels, distance)
    }

    /// Whether the nearest support rows are found with per-label k-d trees (vectors of at most
    /// 16 dimensions, such as emissions) rather than the full distance matrix.
    pub fn uses_trees(&self) -> bool {
        self.trees.is_some()
    }

    /// Drops the k-d trees, so that every query computes its full distance matrix to the
    /// support set (the reference the trees are checked and benchmarked against).
    pub fn without_trees(mut self) -> Dann {
        self.trees = None;
        self
    }

    /// Support rows (tokens) in the set.
    pub fn len(&self) -> usize {
        self.support.size()[0] as usize
    }

    /// Whether the support set is empty (never, for a fitted DANN).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the support set into folder `dir` (which must exist): `dann.safetensors`
    /// (`support` `[tokens, dim]`, L2-normalised; `tags` `[tokens]`) and `dann.json` (settings,
    /// labels, StructShot transitions).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let file = dir.join(DANN_TENSORS);
        Tensor::write_safetensors(&[("support", &self.support), ("tags", &self.tags)], &file)?;
        let meta = Saved { config: self.config, labels: self.labels.clone(), transitions: self.transitions.clone() };
        let p = dir.join(DANN_META);
        let text = serde_json::to_string_pretty(&meta).map_err(|e| ModelError::Invalid(e.to_string()))?;
        std::fs::write(&p, text + "\n").map_err(|e| ModelError::Io { path: p, cause: e })
    }

    /// Whether folder `dir` holds a saved support set.
    pub fn exists_in(dir: &Path) -> bool {
        dir.join(DANN_TENSORS).exists() && dir.join(DANN_META).exists()
    }

    /// Reads a support set written by [`Dann::save`].
    pub fn load(dir: &Path) -> Result<Dann> {
        let p = dir.join(DANN_META);
        crate::limits::check_file(&dir.join(DANN_TENSORS), crate::limits::SUPPORT_BYTES)?;
        let text = crate::limits::read_text(&p, crate::limits::SETTINGS_BYTES)?;
        let meta: Saved = serde_json::from_str(&text)
            .map_err(|e| ModelError::folder(&p, format!("unreadable DANN settings: {e}")))?;
        let file = dir.join(DANN_TENSORS);
        let tensors = Tensor::read_safetensors(&file)
            .map_err(|e| ModelError::folder(&file, format!("cannot read the support set: {e}")))?;
        let get = |name: &str| {
            tensors
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.shallow_clone())
                .ok_or_else(|| ModelError::folder(&file, format!("no tensor `{name}`")))
        };
        let (support, tags) = (get("support")?.to_kind(Kind::Float), get("tags")?.to_kind(Kind::Int64));
        if support.dim() != 2 || tags.size() != [support.size()[0]] {
            return Err(ModelError::folder(&file, "`support` must be [tokens, dim] and `tags` [tokens]"));
        }
        let n = meta.labels.len();
        if n < 2 || crate::tagger::unwritable_label(&meta.labels).is_some() {
            return Err(ModelError::folder(
                &p,
                format!("labels {:?}: at least two, none empty or with white space", meta.labels),
            ));
        }
        if meta.transitions.len() != n || meta.transitions.iter().any(|r| r.len() != n || r.iter().any(|v| v.is_nan()))
        {
            return Err(ModelError::folder(&p, format!("`transitions` must be {n} x {n} numbers, one per label pair")));
        }
        if meta.config.structshot_tau.is_some_and(|t| !t.is_finite()) {
            return Err(ModelError::folder(&p, "`structshot_tau` must be a finite number"));
        }
        if tags.numel() > 0 && (tags.min().int64_value(&[]) < 0 || tags.max().int64_value(&[]) >= n as i64) {
            return Err(ModelError::folder(&file, format!("`tags` must be label ids in [0, {n})")));
        }
        if meta.config.features == Features::Emissions && support.size()[1] != n as i64 {
            return Err(ModelError::folder(
                &file,
                format!(
                    "`support` rows have {} values but DANN over emissions needs one per label ({n})",
                    support.size()[1]
                ),
            ));
        }
        Ok(Dann::from_parts(support, tags, meta.transitions, meta.labels, meta.config))
    }

    /// Checks that this support set belongs to `tagger`: the same labels, and support rows as
    /// wide as the tagger's features of DANN's kind.
    pub fn check_fits(&self, tagger: &Tagger) -> Result<()> {
        if self.labels != tagger.labels() {
            return Err(ModelError::Invalid(format!(
                "DANN's labels {:?} are not the tagger's {:?}: the support set belongs to another model",
                self.labels,
                tagger.labels()
            )));
        }
        let want = match self.config.features {
            Features::Emissions => self.labels.len() as i64,
            Features::Hidden => tagger.bert_config().hidden_size,
        };
        let have = self.support.size()[1];
        if have != want {
            return Err(ModelError::Invalid(format!(
                "DANN's support rows have {have} values but the tagger's {:?} have {want}",
                self.config.features
            )));
        }
        Ok(())
    }

    /// Per-label scores `[tokens, labels]` of query rows.
    fn scores(&self, query: &Tensor) -> Tensor {
        let q = normalise(query);
        if let Some(trees) = &self.trees {
            let n = q.size()[0];
            if let Ok(flat) = Vec::<f32>::try_from(q.to_device(Device::Cpu).contiguous().view([-1])) {
                let rows: Vec<f32> = trees.similarities(&flat).into_iter().flatten().collect();
                return Tensor::from_slice(&rows).view([n, self.labels.len() as i64]);
            }
        }
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
