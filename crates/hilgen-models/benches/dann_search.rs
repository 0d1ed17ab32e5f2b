//! DANN's nearest-neighbour search at the size of a silver support set: 120,000 support words
//! with emission-like vectors (5 labels, BC5CDR's O/B/I x Chemical/Disease), queried by 200
//! sentences of 25 words, with the per-label k-d trees and with the full distance matrix
//! (Minkowski p = 3, the default). Prints JSON: seconds per path and the speed-up; the two
//! paths must agree on every tag.
//!
//! Run: `cargo bench -p hilgen-models --bench dann_search`.

use hilgen_models::{Dann, DannConfig};
use rand::{Rng, SeedableRng};
use std::time::Instant;
use tch::{Kind, Tensor};

fn emissions(rng: &mut rand_chacha::ChaCha8Rng, n: usize, labels: usize) -> Vec<f32> {
    (0..n)
        .flat_map(|_| {
            let peak = rng.gen_range(0..labels);
            let mut row: Vec<f32> = (0..labels).map(|_| rng.gen_range(-12.0f32..-2.0)).collect();
            row[peak] = rng.gen_range(-0.5f32..0.0);
            row
        })
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (support_n, labels, sentences, words) = (120_000usize, 5usize, 200usize, 25usize);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let dir = tempfile::tempdir().unwrap();
    let support = Tensor::from_slice(&emissions(&mut rng, support_n, labels)).view([support_n as i64, labels as i64]);
    let support = &support / support.norm_scalaropt_dim(2, [1], true);
    let tags = Tensor::from_slice(&(0..support_n).map(|_| rng.gen_range(0..labels as i64)).collect::<Vec<_>>());
    Tensor::write_safetensors(&[("support", &support), ("tags", &tags)], dir.path().join(hilgen_models::DANN_TENSORS))
        .unwrap();
    let names = ["O", "B-Chemical", "I-Chemical", "B-Disease", "I-Disease"];
    let meta = serde_json::json!({
        "config": DannConfig::default(),
        "labels": names,
        "transitions": vec![vec![0.0f32; labels]; labels],
    });
    std::fs::write(dir.path().join(hilgen_models::DANN_META), meta.to_string()).unwrap();
    let queries: Vec<Tensor> = (0..sentences)
        .map(|_| {
            Tensor::from_slice(&emissions(&mut rng, words, labels))
                .view([words as i64, labels as i64])
                .to_kind(Kind::Float)
        })
        .collect();
    let trees = Dann::load(dir.path()).unwrap();
    assert!(trees.uses_trees());
    let t = Instant::now();
    let a = trees.predict_features(&queries);
    let tree_s = t.elapsed().as_secs_f64();
    let matrix = Dann::load(dir.path()).unwrap().without_trees();
    let t = Instant::now();
    let b = matrix.predict_features(&queries);
    let matrix_s = t.elapsed().as_secs_f64();
    let agree = a.iter().zip(&b).all(|(x, y)| x.tags == y.tags);
    println!(
        "{{\"support_words\": {support_n}, \"query_words\": {}, \"trees_s\": {tree_s:.3}, \"matrix_s\": {matrix_s:.3}, \"speedup\": {:.1}, \"same_tags\": {agree}}}",
        sentences * words,
        matrix_s / tree_s
    );
    assert!(agree, "the two searches disagree");
}
