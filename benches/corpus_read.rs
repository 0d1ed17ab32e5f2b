//! Reading speed of the corpus crate on BC5CDR train (MB/s): CoNLL parse from memory, from
//! disk, and the PubTator reader.
//!
//! Run: `cargo bench --bench corpus_read`

// criterion_group! and criterion_main! define functions without doc comments.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hilgen::corpus::{conll, pubtator};
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(std::env::var_os("HILGEN_DATA").expect("HILGEN_DATA (set by .cargo/config.toml)")).join(rel)
}

fn bench(c: &mut Criterion) {
    let iob = data("bc5cdr/iob/train.tsv");
    let text = std::fs::read_to_string(&iob).unwrap();
    let fmt = conll::ConllFormat::default();
    let mut g = c.benchmark_group("bc5cdr_train");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("conll_parse_memory", |b| b.iter(|| conll::read_str(&text, "train.tsv", &fmt).unwrap()));
    g.bench_function("conll_read_file", |b| b.iter(|| conll::read_path(&iob, &fmt).unwrap()));
    let pt = data("bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt");
    let pt_text = std::fs::read_to_string(&pt).unwrap();
    g.throughput(Throughput::Bytes(pt_text.len() as u64));
    g.bench_function("pubtator_parse_memory", |b| b.iter(|| pubtator::read_str(&pt_text, "pt").unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
