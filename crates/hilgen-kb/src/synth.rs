//! A seeded generator of synthetic UMLS RRF files (MRCONSO, MRSTY, MRREL, MRFILES) with the
//! shape of a full release, so that the full-scale build path can be exercised without a UMLS
//! licence. Defaults: 4M concepts, 16M atoms, 127 semantic types, 60M relation rows (every
//! relation written in both directions, as UMLS does: PAR/CHD trees in SNOMEDCT_US and MSH,
//! and RO/RB/RN/RQ/SY between random concepts), strings of 1-8 pseudo-words (about 40
//! characters on average), 75% English atoms, 2% suppressed.

use crate::error::{KbError, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Sizes of a synthetic release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SynthSpec {
    /// Concepts (CUIs).
    pub concepts: u64,
    /// MRCONSO rows.
    pub atoms: u64,
    /// MRREL rows (even: relations are written in both directions).
    pub relation_rows: u64,
    /// Semantic types.
    pub types: u32,
    /// Random seed.
    pub seed: u64,
}

impl SynthSpec {
    /// Full UMLS scale, multiplied by `scale` (1.0: 4M concepts, 16M atoms, 60M relation rows).
    pub fn umls(scale: f64) -> SynthSpec {
        let n = |x: f64| ((x * scale) as u64).max(10);
        SynthSpec { concepts: n(4e6), atoms: n(16e6), relation_rows: n(60e6) & !1, types: 127, seed: 42 }
    }
}

const SOURCES: [&str; 12] =
    ["SNOMEDCT_US", "MSH", "NCI", "MEDDRA", "RXNORM", "LNC", "ICD10CM", "MTH", "HPO", "GO", "OMIM", "MEDLINEPLUS"];
const LANGS: [&str; 4] = ["SPA", "FRE", "GER", "DUT"];
const SYLLABLES: [&str; 40] = [
    "ab", "ac", "ad", "al", "am", "an", "ar", "as", "at", "ba", "ca", "ce", "ci", "co", "da", "de", "di", "do", "ep",
    "er", "ga", "he", "in", "is", "it", "la", "le", "li", "lo", "ma", "me", "mi", "ne", "no", "os", "pa", "ra", "ti",
    "to", "um",
];

fn word(rng: &mut ChaCha8Rng, out: &mut String) {
    for _ in 0..rng.gen_range(2..5) {
        out.push_str(SYLLABLES[rng.gen_range(0..SYLLABLES.len())]);
    }
}

fn term(rng: &mut ChaCha8Rng, out: &mut String) {
    out.clear();
    let words = 1 + (rng.gen_range(0..100u32) * rng.gen_range(0..100u32) / 1300) as usize;
    for i in 0..words.min(8) {
        if i > 0 {
            out.push(if rng.gen_bool(0.1) { ',' } else { ' ' });
            if out.ends_with(',') {
                out.push(' ');
            }
        }
        word(rng, out);
    }
    if rng.gen_bool(0.1) {
        out.push_str(&format!(" {}", rng.gen_range(1..20)));
    }
}

/// Writes MRCONSO, MRSTY, MRREL and MRFILES into `dir`; returns the bytes written.
pub fn write(dir: &Path, spec: &SynthSpec) -> Result<u64> {
    std::fs::create_dir_all(dir).map_err(|e| KbError::io(dir, e))?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut total = 0u64;
    let open = |name: &str| -> Result<(BufWriter<std::fs::File>, std::path::PathBuf)> {
        let p = dir.join(name);
        let f = std::fs::File::create(&p).map_err(|e| KbError::io(&p, e))?;
        Ok((BufWriter::with_capacity(1 << 20, f), p))
    };
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| KbError::io(&p, e)
    };

    // MRCONSO: every concept gets at least one English preferred atom; the rest are spread.
    let (mut w, p) = open("MRCONSO.RRF")?;
    let extra = spec.atoms.saturating_sub(spec.concepts);
    let mut s = String::new();
    let mut aui = 0u64;
    for c in 0..spec.concepts {
        let n = 1 + extra / spec.concepts + u64::from(rng.gen_range(0..spec.concepts) < extra % spec.concepts);
        for k in 0..n {
            term(&mut rng, &mut s);
            aui += 1;
            let lat = if k == 0 || rng.gen_bool(0.75) { "ENG" } else { LANGS[rng.gen_range(0..LANGS.len())] };
            let sab = SOURCES[rng.gen_range(0..SOURCES.len())];
            let (ts, stt, ispref) = if k == 0 { ("P", "PF", "Y") } else { ("S", "VO", "N") };
            let suppress = if k > 0 && rng.gen_bool(0.02) { "O" } else { "N" };
            let line = format!(
                "C{c:07}|{lat}|{ts}|L{c:07}|{stt}|S{aui:07}|{ispref}|A{aui:08}||||{sab}|PT|{code}|{s}|0|{suppress}|256|\n",
                code = c * 7 + k
            );
            total += line.len() as u64;
            w.write_all(line.as_bytes()).map_err(io(&p))?;
        }
    }
    w.flush().map_err(io(&p))?;

    let (mut w, p) = open("MRSTY.RRF")?;
    for c in 0..spec.concepts {
        for _ in 0..rng.gen_range(1..3) {
            let t = rng.gen_range(1..=spec.types);
            let line = format!("C{c:07}|T{t:03}|A1.{t}|Semantic Type {t}|AT{c:08}|256|\n");
            total += line.len() as u64;
            w.write_all(line.as_bytes()).map_err(io(&p))?;
        }
    }
    w.flush().map_err(io(&p))?;

    // MRREL: two trees (each concept's parent among earlier ones), then other relations.
    let (mut w, p) = open("MRREL.RRF")?;
    let pairs = spec.relation_rows / 2;
    let mut rel = 0u64;
    let mut emit = |w: &mut BufWriter<std::fs::File>,
                    a: u64,
                    b: u64,
                    fwd: &str,
                    back: &str,
                    sab: &str,
                    rela: &str|
     -> std::io::Result<u64> {
        rel += 1;
        let l1 = format!("C{a:07}||CUI|{fwd}|C{b:07}||CUI|{rela}|R{rel:08}||{sab}|{sab}|||N||\n");
        let l2 = format!("C{b:07}||CUI|{back}|C{a:07}||CUI||R{rel:08}||{sab}|{sab}|||N||\n");
        w.write_all(l1.as_bytes())?;
        w.write_all(l2.as_bytes())?;
        Ok((l1.len() + l2.len()) as u64)
    };
    let mut written = 0u64;
    'trees: for sab in ["SNOMEDCT_US", "MSH"] {
        for c in 1..spec.concepts {
            if written >= pairs {
                break 'trees;
            }
            let parent = rng.gen_range(c.saturating_sub(1000)..c);
            total += emit(&mut w, c, parent, "PAR", "CHD", sab, "isa").map_err(io(&p))?;
            written += 1;
        }
    }
    const OTHER: [(&str, &str); 4] = [("RO", "RO"), ("RB", "RN"), ("RQ", "RQ"), ("SY", "SY")];
    while written < pairs {
        let a = rng.gen_range(0..spec.concepts);
        let b = (a + rng.gen_range(1..5000)) % spec.concepts;
        let (fwd, back) = OTHER[rng.gen_range(0..OTHER.len())];
        let sab = SOURCES[rng.gen_range(0..SOURCES.len())];
        total += emit(&mut w, a, b, fwd, back, sab, "").map_err(io(&p))?;
        written += 1;
    }
    w.flush().map_err(io(&p))?;

    let (mut w, p) = open("MRFILES.RRF")?;
    w.write_all(
        b"MRCONSO.RRF|Concept names and sources|CUI,LAT,TS,LUI,STT,SUI,ISPREF,AUI,SAUI,SCUI,SDUI,SAB,TTY,CODE,STR,SRL,SUPPRESS,CVF|18|0|0|\n\
          MRSTY.RRF|Semantic Types|CUI,TUI,STN,STY,ATUI,CVF|6|0|0|\n\
          MRREL.RRF|Related Concepts|CUI1,AUI1,STYPE1,REL,CUI2,AUI2,STYPE2,RELA,RUI,SRUI,SAB,SL,RG,DIR,SUPPRESS,CVF|16|0|0|\n",
    )
    .map_err(io(&p))?;
    w.flush().map_err(io(&p))?;
    Ok(total)
}
