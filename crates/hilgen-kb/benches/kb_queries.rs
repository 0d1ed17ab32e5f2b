//! Criterion benchmarks of linking and of each expansion kind on the shared CTD MEDIC + MeSH
//! tree index (the design card's "expansion speed").
//!
//! Run: `cargo bench -p hilgen-kb --bench kb_queries`

// criterion_group! and criterion_main! define functions without doc comments.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hilgen_kb::{build, Kb, Relation, Sources};
use std::path::PathBuf;

fn kb_dir(rel: &str) -> PathBuf {
    PathBuf::from(std::env::var_os("HILGEN_KB").expect("HILGEN_KB (set by .cargo/config.toml)")).join(rel)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let sources = Sources {
        ctd: vec![kb_dir("ctd-medic-2017/CTD_diseases.tsv.gz")],
        mesh_tree: vec![kb_dir("mesh-tree-2017/2017MeshTree.txt")],
        ..Default::default()
    };
    build(&sources, dir.path()).unwrap();
    let kb = Kb::open(dir.path()).unwrap();
    // 1,000 concepts spread over the index.
    let concepts: Vec<u32> = (0..1000).map(|i| (i * (kb.len() as u32 / 1000)) % kb.len() as u32).collect();
    let names: Vec<String> = concepts.iter().map(|&c| kb.preferred_name(c).to_string()).collect();
    let misspelled: Vec<String> = names
        .iter()
        .map(|n| {
            let mut chars: Vec<char> = n.to_lowercase().chars().collect();
            let i = chars.len() / 2;
            chars[i] = if chars[i] == 'x' { 'y' } else { 'x' };
            chars.into_iter().collect()
        })
        .collect();
    let mut g = c.benchmark_group("kb_link");
    g.throughput(Throughput::Elements(names.len() as u64));
    g.bench_function("exact_1000", |b| b.iter(|| names.iter().map(|n| kb.link(n, 0, 10).len()).sum::<usize>()));
    g.bench_function("fuzzy1_1000", |b| b.iter(|| misspelled.iter().map(|n| kb.link(n, 1, 10).len()).sum::<usize>()));
    g.finish();
    let mut g = c.benchmark_group("kb_expand");
    g.throughput(Throughput::Elements(concepts.len() as u64));
    for relation in [Relation::Synonym, Relation::RelatedSameType, Relation::Parent, Relation::Child, Relation::Sibling]
    {
        g.bench_with_input(BenchmarkId::new(relation.to_string(), 1000), &relation, |b, &r| {
            b.iter(|| concepts.iter().map(|&c| kb.expand(c, r, None, 10).unwrap().len()).sum::<usize>())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
