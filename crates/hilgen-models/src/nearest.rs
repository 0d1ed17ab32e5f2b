//! Exact nearest support rows per label for DANN when the vectors have few dimensions (the
//! emissions have one per label): one k-d tree per label instead of the full query x support
//! distance matrix. With 120,000 silver support tokens the matrix costs minutes per split; the
//! trees give the same nearest distances in seconds.

use kdtree::KdTree;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Similarity between normalised vectors; written `"minkowski3"` (any order: `"minkowski1.5"`),
/// `"euclidean"` or `"cosine"` in configuration files.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distance {
    /// Minus the Minkowski distance of order p.
    Minkowski(f64),
    /// Minus the Euclidean distance.
    Euclidean,
    /// Cosine similarity.
    Cosine,
}

impl std::fmt::Display for Distance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Distance::Minkowski(p) => write!(f, "minkowski{p}"),
            Distance::Euclidean => f.write_str("euclidean"),
            Distance::Cosine => f.write_str("cosine"),
        }
    }
}

impl std::str::FromStr for Distance {
    type Err = String;
    fn from_str(s: &str) -> Result<Distance, String> {
        match s {
            "euclidean" => Ok(Distance::Euclidean),
            "cosine" => Ok(Distance::Cosine),
            _ => s
                .strip_prefix("minkowski")
                .and_then(|p| p.parse::<f64>().ok())
                .filter(|p| *p >= 1.0 && p.is_finite())
                .map(Distance::Minkowski)
                .ok_or_else(|| {
                    format!("distance `{s}`: expected minkowski3 (minkowskiP, P >= 1), euclidean or cosine")
                }),
        }
    }
}

impl Serialize for Distance {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Distance {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Distance, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// Vectors of at most this many dimensions are searched with trees; longer ones (hidden
/// states) with the distance matrix, where trees no longer prune.
pub(crate) const MAX_TREE_DIMS: usize = 16;

/// One tree per label over the (L2-normalised) support rows carrying it.
pub(crate) struct LabelTrees {
    dims: usize,
    distance: Distance,
    trees: Vec<Option<KdTree<f32, (), Vec<f32>>>>,
}

/// The tree's monotone stand-in for a distance: sum of |a-b|^p (p = 2 for Euclidean and cosine).
fn power_sum(distance: Distance) -> impl Fn(&[f32], &[f32]) -> f32 + Sync {
    let p = match distance {
        Distance::Minkowski(p) => p as f32,
        Distance::Euclidean | Distance::Cosine => 2.0,
    };
    move |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| {
                let d = (x - y).abs();
                if p == 2.0 {
                    d * d
                } else if p == 3.0 {
                    d * d * d
                } else {
                    d.powf(p)
                }
            })
            .sum()
    }
}

impl LabelTrees {
    /// Trees over `rows` (`dims` floats each, row-major) grouped by `tags` (label ids below
    /// `labels`); `None` when the vectors are too long for trees or hold a non-finite value.
    pub(crate) fn build(
        rows: &[f32],
        dims: usize,
        tags: &[i64],
        labels: usize,
        distance: Distance,
    ) -> Option<LabelTrees> {
        if dims == 0 || dims > MAX_TREE_DIMS || rows.len() != dims * tags.len() {
            return None;
        }
        let mut trees: Vec<Option<KdTree<f32, (), Vec<f32>>>> = (0..labels).map(|_| None).collect();
        for (row, &tag) in rows.chunks_exact(dims).zip(tags) {
            let slot = trees.get_mut(usize::try_from(tag).ok()?)?;
            slot.get_or_insert_with(|| KdTree::new(dims)).add(row.to_vec(), ()).ok()?;
        }
        Some(LabelTrees { dims, distance, trees })
    }

    /// Similarity `[queries][labels]` of each (normalised) query row to its nearest support row
    /// of each label, as [`Distance`] defines it; minus infinity for a label without rows.
    pub(crate) fn similarities(&self, queries: &[f32]) -> Vec<Vec<f32>> {
        let sum = power_sum(self.distance);
        let distance = self.distance;
        queries
            .par_chunks_exact(self.dims)
            .map(|q| {
                self.trees
                    .iter()
                    .map(|tree| {
                        let Some(tree) = tree else { return f32::NEG_INFINITY };
                        let s = match tree.nearest(q, 1, &sum) {
                            Ok(found) => found.first().map_or(f32::INFINITY, |(d, _)| *d),
                            Err(_) => f32::NAN,
                        };
                        match distance {
                            Distance::Minkowski(p) => -s.powf(1.0 / p as f32),
                            Distance::Euclidean => -s.sqrt(),
                            Distance::Cosine => 1.0 - s / 2.0,
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn unit_rows(rng: &mut rand_chacha::ChaCha8Rng, n: usize, dims: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(n * dims);
        for _ in 0..n {
            // Emission-like: log-probabilities of a peaked distribution, then normalised.
            let row: Vec<f32> = (0..dims).map(|_| -rng.gen_range(0.0f32..12.0).powi(2) / 10.0).collect();
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            out.extend(row.iter().map(|x| x / norm));
        }
        out
    }

    fn brute(rows: &[f32], tags: &[i64], labels: usize, q: &[f32], distance: Distance) -> Vec<f32> {
        let dims = q.len();
        let mut best = vec![f32::NEG_INFINITY; labels];
        for (row, &t) in rows.chunks_exact(dims).zip(tags) {
            let sim = match distance {
                Distance::Minkowski(p) => {
                    -row.iter().zip(q).map(|(a, b)| (a - b).abs().powf(p as f32)).sum::<f32>().powf(1.0 / p as f32)
                }
                Distance::Euclidean => -row.iter().zip(q).map(|(a, b)| (a - b).powi(2)).sum::<f32>().sqrt(),
                Distance::Cosine => row.iter().zip(q).map(|(a, b)| a * b).sum(),
            };
            best[t as usize] = best[t as usize].max(sim);
        }
        best
    }

    #[test]
    fn trees_find_the_nearest_row_of_every_label() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for (dims, labels) in [(3usize, 3usize), (5, 5), (9, 9), (16, 4)] {
            let n = 3000;
            let rows = unit_rows(&mut rng, n, dims);
            // The last label has no rows: its similarity is minus infinity.
            let tags: Vec<i64> = (0..n).map(|_| rng.gen_range(0..labels as i64 - 1)).collect();
            let queries = unit_rows(&mut rng, 200, dims);
            for distance in [Distance::Minkowski(3.0), Distance::Minkowski(1.5), Distance::Euclidean, Distance::Cosine]
            {
                let trees = LabelTrees::build(&rows, dims, &tags, labels, distance).unwrap();
                let got = trees.similarities(&queries);
                for (q, g) in queries.chunks_exact(dims).zip(&got) {
                    let want = brute(&rows, &tags, labels, q, distance);
                    assert_eq!(g[labels - 1], f32::NEG_INFINITY);
                    for (a, b) in g.iter().zip(&want).take(labels - 1) {
                        assert!((a - b).abs() < 1e-4, "{dims} dims, {distance}: tree {a} against {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn long_or_non_finite_vectors_get_no_trees() {
        assert!(LabelTrees::build(&[0.0; 34], 17, &[0, 1], 2, Distance::Euclidean).is_none());
        assert!(LabelTrees::build(&[f32::NAN, 1.0], 2, &[0], 1, Distance::Euclidean).is_none());
        assert!(LabelTrees::build(&[1.0, 0.0], 2, &[3], 2, Distance::Euclidean).is_none(), "tag beyond the labels");
    }
}
