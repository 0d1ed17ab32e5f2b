//! Full-scale check of the knowledge index on synthetic RRF (see `hilgen_kb::synth`): build
//! time, peak memory, index size, and lookup latency p50/p99.
//!
//! Run: `cargo bench -p hilgen-kb --bench kb_scale` (full UMLS scale: 4M concepts, 16M atoms,
//! 60M relation rows; about 7 GB of RRF is generated once under target/kb-scale-1/).
//! `HILGEN_KB_SCALE=0.1` runs a tenth of that; `HILGEN_KB_SCALE_QUERIES_ONLY=1` reuses the
//! index of an earlier run and measures the queries only.

use hilgen_kb::{build, synth, Kb, RrfOptions, Sources};
use std::path::PathBuf;
use std::time::Instant;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[v.len() * 99 / 100])
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists; nothing to list here.
    }
    let scale: f64 = std::env::var("HILGEN_KB_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target").join(format!("kb-scale-{scale}"));
    let rrf = root.join("META");
    let out = root.join("index");
    if std::env::var("HILGEN_KB_SCALE_STEP").as_deref() == Ok("build") {
        // Child process: only the build, so that its peak RSS is the build's.
        let t = Instant::now();
        let report = build(&Sources { rrf: Some((rrf, RrfOptions::default())), ..Default::default() }, &out).unwrap();
        println!("{} {} {:.1} {:.0}", report.concepts, report.bytes, t.elapsed().as_secs_f64(), peak_rss_mib());
        return;
    }
    let spec = synth::SynthSpec::umls(scale);
    if !rrf.join("MRFILES.RRF").exists() {
        let t = Instant::now();
        let bytes = synth::write(&rrf, &spec).unwrap();
        eprintln!("generated {:.2} GB of RRF in {:.0}s: {spec:?}", bytes as f64 / 1e9, t.elapsed().as_secs_f64());
    }
    // HILGEN_KB_SCALE_QUERIES_ONLY=1 reuses an existing index and measures queries only.
    let queries_only =
        std::env::var("HILGEN_KB_SCALE_QUERIES_ONLY").is_ok() && out.join(hilgen_kb::INDEX_FILE).exists();
    let line = if queries_only {
        format!(
            "{} {} - -",
            Kb::open(&out).unwrap().len(),
            std::fs::metadata(out.join(hilgen_kb::INDEX_FILE)).unwrap().len()
        )
    } else {
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .env("HILGEN_KB_SCALE_STEP", "build")
            .output()
            .unwrap();
        assert!(child.status.success(), "{}", String::from_utf8_lossy(&child.stderr));
        String::from_utf8_lossy(&child.stdout).trim().to_string()
    };
    let f: Vec<&str> = line.split_whitespace().collect();
    let t = Instant::now();
    let kb = Kb::open(&out).unwrap();
    let open_s = t.elapsed().as_secs_f64();
    let n = kb.len() as u32;
    let sample: Vec<u32> = (0..20_000u64).map(|i| ((i * 2_654_435_761) % n as u64) as u32).collect();
    let names: Vec<String> = sample.iter().map(|&c| kb.preferred_name(c).to_string()).collect();
    // First pass: pages of the index not yet touched (cold); second pass: warm.
    let mut cold = Vec::with_capacity(names.len());
    let mut exact = Vec::with_capacity(names.len());
    for timings in [&mut cold, &mut exact] {
        for name in &names {
            let t = Instant::now();
            let hits = kb.link(name, 0, 10);
            timings.push(t.elapsed().as_secs_f64() * 1e6);
            assert!(!hits.is_empty());
        }
    }
    let (cold50, _) = percentiles(cold);
    let mut fuzzy = Vec::with_capacity(2000);
    for name in names.iter().take(2000) {
        let mut chars: Vec<char> = name.chars().collect();
        let i = chars.len() / 2;
        chars[i] = if chars[i] == 'z' { 'y' } else { 'z' };
        let q: String = chars.into_iter().collect();
        let t = Instant::now();
        std::hint::black_box(kb.link(&q, 1, 10));
        fuzzy.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let t = Instant::now();
    let mut expansions = 0usize;
    for &c in &sample {
        for r in [
            hilgen_kb::Relation::Parent,
            hilgen_kb::Relation::Child,
            hilgen_kb::Relation::Sibling,
            hilgen_kb::Relation::Synonym,
        ] {
            expansions += kb.expand(c, r, None, 10).unwrap().len();
        }
    }
    let exp_rate = expansions as f64 / t.elapsed().as_secs_f64();
    let (e50, e99) = percentiles(exact);
    let (f50, f99) = percentiles(fuzzy);
    println!("| scale | concepts | build s | peak RSS MiB | index MB | open s | exact cold p50 us | exact p50/p99 us | fuzzy(1) p50/p99 us | expansions/s |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {scale} | {} | {} | {} | {:.0} | {open_s:.2} | {cold50:.1} | {e50:.1} / {e99:.1} | {f50:.0} / {f99:.0} | {exp_rate:.0} |",
        f[0],
        f[2],
        f[3],
        f[1].parse::<f64>().unwrap() / 1e6
    );
}
