//! Training and inference throughput of the tagger with all-MiniLM-L6-v2 (`HILGEN_ENCODER`), or
//! any encoder folder in `HILGEN_BENCH_ENCODER` (all-mpnet-base-v2, a RoBERTa), in sub-word
//! tokens per second, at two batch sizes, on fixed-length windows of real BC5CDR text.
//! `benches/torch_anchor.py` measures the same model in PyTorch eager (transformers).
//!
//! Run: `cargo bench -p hilgen-models --bench throughput` (threads: `HILGEN_THREADS`, default 2;
//! `HILGEN_BENCH_DEVICE=cuda` on a GPU with a CUDA libtorch; `HILGEN_BENCH_PRECISION=bf16` for
//! bfloat16 mixed precision, which the anchor matches with `torch.autocast`).

use hilgen_corpus::{conll, Sentence};
use hilgen_models::{DeviceChoice, Precision, Tagger, TaggerConfig};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let threads: usize = std::env::var("HILGEN_THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(2);
    let encoder = PathBuf::from(
        std::env::var_os("HILGEN_BENCH_ENCODER")
            .or_else(|| std::env::var_os("HILGEN_ENCODER"))
            .expect("HILGEN_ENCODER"),
    );
    let device: DeviceChoice =
        std::env::var("HILGEN_BENCH_DEVICE").unwrap_or_else(|_| "cpu".into()).parse().expect("HILGEN_BENCH_DEVICE");
    let device = device.resolve().unwrap();
    let precision: Precision = std::env::var("HILGEN_BENCH_PRECISION")
        .unwrap_or_else(|_| "f32".into())
        .parse()
        .expect("HILGEN_BENCH_PRECISION");
    let data = PathBuf::from(std::env::var_os("HILGEN_DATA").expect("HILGEN_DATA"));
    let train = conll::read_path(data.join("bc5cdr/iob/train.tsv"), &Default::default()).unwrap();
    // Sentences of 20-30 words, as many as needed.
    let pool: Vec<Sentence> = train.into_iter().filter(|s| (20..=30).contains(&s.len())).take(512).collect();
    let pieces = hilgen_models::WordEncoder::from_folder(&encoder).unwrap();
    let name = encoder.canonicalize().unwrap_or(encoder.clone());
    let name = name.file_name().unwrap_or_default().to_string_lossy().into_owned();
    println!(
        "{{\"encoder\": \"{name}\", \"device\": \"{device:?}\", \"precision\": \"{precision}\", \"threads\": {threads}, \"sentences\": {}, \"results\": [",
        pool.len()
    );
    let mut first = true;
    for batch in [8usize, 32] {
        let cfg =
            TaggerConfig { batch_size: batch, epochs: 1, threads: Some(threads), precision, ..Default::default() };
        let mut tagger = Tagger::from_pretrained(&encoder, Tagger::labels_of(&pool), cfg, device).unwrap();
        let steps = 12usize;
        let subset: Vec<Sentence> = pool.iter().take(batch * steps).cloned().collect();
        // Warm-up on one batch, then a timed epoch over `steps` batches.
        tagger.train(&subset[..batch], None, None).unwrap();
        let report = tagger.train(&subset, None, None).unwrap();
        let t = Instant::now();
        let _ = tagger.predict(&pool).unwrap();
        let secs = t.elapsed().as_secs_f64();
        let tokens: usize =
            pool.iter().map(|s| pieces.encode_words(&s.tokens).unwrap().iter().map(Vec::len).sum::<usize>() + 2).sum();
        if !first {
            println!(",");
        }
        first = false;
        print!(
            "  {{\"batch\": {batch}, \"train_tokens_per_s\": {:.0}, \"infer_tokens_per_s\": {:.0}}}",
            report.tokens_per_second,
            tokens as f64 / secs
        );
    }
    println!("\n]}}");
}
