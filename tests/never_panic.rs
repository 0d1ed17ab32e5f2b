//! Never-panic tests for every parser a user's file reaches: CoNLL/TSV, JSON Lines, PubTator,
//! UMLS RRF (each file of a `META/` folder), CTD (plain and gzip), the MeSH tree and XML, OBO,
//! the experiment TOML, the LLM configuration, LLM answers, the knowledge index file, and each
//! file of a saved model folder (`tagger.json`, `model.safetensors`, `tokenizer.json`, DANN's
//! `dann.json` and `dann.safetensors`: the folder loaded and a sentence tagged by both systems),
//! and a kept system's `system.json` and `dictionary/dictionary.json` (the folder loaded and a
//! sentence tagged by its union of dictionary and tagger).
//!
//! Each parser gets random bytes and mutations of real files (the shared data and knowledge
//! files, or the committed experiments): bytes flipped, inserted and deleted, lines cut and
//! duplicated, columns dropped and duplicated, fields of several megabytes, files truncated.
//! Every case must end, within a deadline, in a result or in an error that names the file,
//! without a panic and within a memory bound (a counting allocator measures each case's peak).
//!
//! - Short run, part of the README's test command: `HILGEN_NEVER_PANIC_CASES` cases per parser
//!   (default 200).
//! - Long run: `cargo xtask never-panic [MINUTES]` runs each parser for MINUTES (default 10) in
//!   release mode and prints the number of cases per parser.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- memory per case

/// The system allocator, counting the bytes each thread holds and its peak.
struct Counting;

thread_local! {
    static HELD: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn count(add: usize, sub: usize) {
    let _ = HELD.try_with(|h| {
        let now = h.get().saturating_add(add).saturating_sub(sub);
        h.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size(), 0);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        count(0, layout.size());
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size, layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ---------------------------------------------------------------- inputs

/// A change to a real file.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    CutLine(usize),
    DuplicateLine(usize),
    DropColumn(usize, usize),
    DuplicateColumn(usize, usize),
    HugeField(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Flip(a, b)),
        2 => (any::<usize>(), prop::collection::vec(prop_oneof![
            Just(b'\t'), Just(b'|'), Just(b'\n'), Just(b' '), Just(b'"'), Just(b'{'), Just(b'['),
            Just(b'='), Just(0u8), Just(0xff), Just(b'B'), Just(b'-'), any::<u8>()
        ], 1..12)).prop_map(|(a, b)| Mutation::Insert(a, b)),
        2 => (any::<usize>(), 1usize..64).prop_map(|(a, n)| Mutation::Delete(a, n)),
        2 => any::<usize>().prop_map(Mutation::CutLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(l, c)| Mutation::DropColumn(l, c)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(l, c)| Mutation::DuplicateColumn(l, c)),
        1 => (any::<usize>(), prop_oneof![1usize..4096, (1usize << 20)..(3usize << 20)])
            .prop_map(|(a, n)| Mutation::HugeField(a, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// Byte ranges of the lines of `b` (without their `\n`).
fn lines(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' {
            out.push((start, i));
            start = i + 1;
        }
    }
    if start < b.len() {
        out.push((start, b.len()));
    }
    out
}

fn apply(mut b: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
    match m {
        Mutation::Flip(i, x) if !b.is_empty() => {
            let n = b.len();
            b[i % n] ^= x | 1;
        }
        Mutation::Insert(i, bytes) => {
            let p = at(*i, b.len());
            b.splice(p..p, bytes.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let p = at(*i, b.len());
            let end = (p + n).min(b.len());
            b.drain(p..end);
        }
        Mutation::Truncate(i) => b.truncate(at(*i, b.len())),
        Mutation::HugeField(i, n) => {
            let p = at(*i, b.len());
            b.splice(p..p, std::iter::repeat_n(b'a', *n));
        }
        Mutation::CutLine(l)
        | Mutation::DuplicateLine(l)
        | Mutation::DropColumn(l, _)
        | Mutation::DuplicateColumn(l, _) => {
            let ls = lines(&b);
            if ls.is_empty() {
                return b;
            }
            let (s, e) = ls[l % ls.len()];
            let line = b[s..e].to_vec();
            let new: Vec<u8> = match m {
                Mutation::CutLine(_) => line[..line.len() / 2].to_vec(),
                Mutation::DuplicateLine(_) => [line.clone(), b"\n".to_vec(), line].concat(),
                Mutation::DropColumn(_, c) | Mutation::DuplicateColumn(_, c) => {
                    let sep = [b'\t', b'|', b' '].into_iter().max_by_key(|s| line.iter().filter(|x| *x == s).count());
                    let sep = sep.unwrap_or(b'\t');
                    let mut cols: Vec<&[u8]> = line.split(|x| *x == sep).collect();
                    let k = c % cols.len();
                    if matches!(m, Mutation::DropColumn(..)) {
                        cols.remove(k);
                    } else {
                        cols.insert(k, cols[k]);
                    }
                    cols.join(&sep)
                }
                _ => unreachable!(),
            };
            b.splice(s..e, new);
        }
        _ => {}
    }
    b
}

/// A case: random bytes, or a real file (by index) with mutations.
fn case(seeds: usize) -> impl Strategy<Value = (Option<usize>, Vec<u8>, Vec<Mutation>)> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..2048).prop_map(|b| (None, b, vec![])),
        5 => (0..seeds, prop::collection::vec(mutation(), 0..6)).prop_map(|(i, m)| (Some(i), vec![], m)),
    ]
}

fn shared(var: &str, rel: &str) -> PathBuf {
    PathBuf::from(std::env::var_os(var).unwrap_or_else(|| panic!("{var} is set by .cargo/config.toml"))).join(rel)
}

/// The first `n` lines of a shared file (gzip read whole).
fn head(path: &Path, n: usize) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut out).unwrap();
        out
    } else {
        bytes
    };
    let ls = lines(&bytes);
    let end = ls.get(n.saturating_sub(1)).map_or(bytes.len(), |&(_, e)| (e + 1).min(bytes.len()));
    bytes[..end].to_vec()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

// ---------------------------------------------------------------- parsers

/// What a parser must do with a case.
struct Target {
    name: &'static str,
    /// Real files to mutate.
    seeds: Vec<Vec<u8>>,
    /// The folder the case's file is written into.
    folder: Folder,
    /// File name the case is written to.
    file: &'static str,
    /// Reads the file; `Err` carries the error's text.
    run: fn(&Path) -> Result<(), String>,
    /// Errors must name the file (false for LLM answers, which come from a server).
    names_file: bool,
}

/// What else is in the folder of a case's file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Folder {
    /// Nothing.
    Alone,
    /// A copy of the shared RRF sample folder (the case replaces one of its files).
    Rrf,
    /// A copy of a real saved model folder (tagger and DANN; the case replaces one file).
    Model,
    /// A copy of a real kept system (dictionary over an index, and a model folder, in union;
    /// the case replaces one file).
    Kept,
}

/// The files of a saved model folder that `hilgen tag --model` reads.
const MODEL_FILES: [&str; 5] = ["tagger.json", "model.safetensors", "tokenizer.json", "dann.json", "dann.safetensors"];

/// A real model folder, saved once per process: a tiny random BERT with the MiniLM tokenizer,
/// trained for one epoch on BC5CDR sentences, with DANN's support set.
fn saved_model() -> &'static Path {
    static DIR: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    &DIR.get_or_init(|| {
        use hilgen::models::{Dann, DannConfig, EncoderConfig, Tagger, TaggerConfig, WordEncoder};
        let enc =
            PathBuf::from(std::env::var_os("HILGEN_ENCODER").expect("HILGEN_ENCODER is set by .cargo/config.toml"));
        let words = WordEncoder::from_folder(&enc).unwrap();
        let train = hilgen_corpus::conll::read_str(
            std::str::from_utf8(&head(&shared("HILGEN_DATA", "bc5cdr/iob/train.tsv"), 60)).unwrap(),
            "train.tsv",
            &Default::default(),
        )
        .unwrap();
        let labels = Tagger::labels_of(&train);
        let cfg = TaggerConfig { epochs: 1, ..TaggerConfig::default() };
        let mut tagger = Tagger::with_random_weights(
            EncoderConfig::tiny(words.vocab_size() as i64),
            words,
            labels,
            cfg,
            hilgen::models::DeviceChoice::Cpu.resolve().unwrap(),
        )
        .unwrap();
        let report = tagger.train(&train, None, None).unwrap();
        let dann = Dann::fit(&tagger, &train, DannConfig::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("model");
        tagger.save_model(&out, &report, |d| dann.save(d)).unwrap();
        (dir, out)
    })
    .1
}

/// A real kept system, made once per process: the union of a dictionary (over an index built
/// from the CTD sample) and the saved model folder's tagger.
fn saved_kept() -> &'static Path {
    static DIR: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("CTD_diseases.tsv");
        std::fs::write(&src, head(&shared("HILGEN_KB", "ctd-medic-2017/CTD_diseases.tsv.gz"), 400)).unwrap();
        let kb_dir = dir.path().join("kb");
        hilgen_kb::build(&hilgen_kb::Sources { ctd: vec![src], ..Default::default() }, &kb_dir).unwrap();
        let saved = hilgen::dictionary::SavedDictionary {
            types: Default::default(),
            selection: hilgen::dictionary::Selection {
                config: Default::default(),
                dev_f1: 0.0,
                type_precision: Default::default(),
                tried: 0,
                overruled: None,
                adjective_evidence: None,
            },
        };
        let dictionary = dir.path().join("dictionary.json");
        std::fs::write(&dictionary, serde_json::to_string(&saved).unwrap()).unwrap();
        let out = dir.path().join("kept");
        let assembly = hilgen::system::Assembly {
            members: vec![
                (
                    "dictionary".into(),
                    hilgen::system::Source::Dictionary { dictionary, kb: kb_dir.join(hilgen_kb::INDEX_FILE) },
                ),
                (
                    "tagger/x".into(),
                    hilgen::system::Source::Model {
                        folder: saved_model().to_path_buf(),
                        head: hilgen::system::Head::Tagger,
                        min_confidence: None,
                        skip_symbols: false,
                    },
                ),
            ],
            rule: Some((hilgen::metrics::ensemble::Method::Union, vec![1.0, 1.0])),
            types: vec!["Disease".into()],
            card: Default::default(),
        };
        hilgen::system::assemble(&out, &assembly).unwrap();
        (dir, out)
    })
    .1
}

/// The files of a kept system the case replaces (one at a time).
const KEPT_FILES: [&str; 2] = ["system.json", "dictionary/dictionary.json"];

/// Loads the kept system the case's file is part of and tags a sentence with it, as `hilgen
/// tag --model` does.
fn kept_folder(p: &Path) -> Result<(), String> {
    use hilgen::system::Tag;
    let dir = p.ancestors().find(|a| a.join("system.json").is_file()).unwrap_or(p.parent().unwrap());
    let system = hilgen::system::load(dir, None, &Default::default()).map_err(|e| e.to_string())?;
    let sentence =
        hilgen_corpus::conll::read_str("Naloxone\tO\nreverses\tO\nhypotension\tO\n\n", "q.tsv", &Default::default())
            .unwrap();
    system.tag(&sentence).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(())
}

/// Loads the model folder the case's file is part of and tags a sentence with the tagger and
/// with DANN, as `hilgen tag` does.
fn model_folder(p: &Path) -> Result<(), String> {
    use hilgen::models::{Dann, Tagger};
    let dir = p.parent().unwrap();
    let tagger = Tagger::load(dir, hilgen::models::DeviceChoice::Cpu.resolve().unwrap()).map_err(|e| e.to_string())?;
    let sentence =
        hilgen_corpus::conll::read_str("Naloxone\tO\nreverses\tO\nhypotension\tO\n\n", "q.tsv", &Default::default())
            .unwrap();
    tagger.predict(&sentence).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dann = Dann::load(dir).map_err(|e| e.to_string())?;
    dann.check_fits(&tagger).map_err(|e| format!("{}: {e}", dir.display()))?;
    dann.predict(&tagger, &sentence).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(())
}

fn s<E: std::fmt::Display>(r: Result<impl Sized, E>) -> Result<(), String> {
    r.map(|_| ()).map_err(|e| e.to_string())
}

/// The files of a `META/` folder that the RRF loader reads.
const RRF_FILES: [&str; 5] = ["MRCONSO.RRF", "MRSTY.RRF", "MRREL.RRF", "MRFILES.RRF", "MRHIER.RRF"];

/// RRF: the case replaces one file of a copy of the sample `META/` folder.
fn rrf(p: &Path) -> Result<(), String> {
    let dir = p.parent().unwrap();
    let mut graph = hilgen_kb::Graph::new();
    s(hilgen_kb::sources::rrf::load(dir, &mut graph, &hilgen_kb::RrfOptions::default()))
}

fn kb_queries(p: &Path) -> Result<(), String> {
    let kb = hilgen_kb::Kb::open(p).map_err(|e| e.to_string())?;
    // A corrupt index that opens must still answer without panicking.
    for c in 0..kb.len().min(50) as u32 {
        let _ = kb.names(c).count();
        let _ = (kb.id(c).len(), kb.preferred_name(c).len(), kb.types(c), kb.xrefs(c));
        for r in [hilgen_kb::Relation::Synonym, hilgen_kb::Relation::Parent, hilgen_kb::Relation::Sibling] {
            let _ = kb.expand(c, r, None, 5);
        }
    }
    for m in ["asthma", "renal failure", "D001249"] {
        let _ = kb.link(m, 1, 5);
        let _ = kb.lookup(m);
    }
    let _ = kb.stats();
    Ok(())
}

fn answers(p: &Path) -> Result<(), String> {
    let text = String::from_utf8_lossy(&std::fs::read(p).map_err(|e| e.to_string())?).into_owned();
    let labels = hilgen_llm::parse::Labels::new(["Chemical", "Disease"]);
    let _ = hilgen_llm::parse::parse_sentences(&text, 10);
    let _ = hilgen_llm::parse::parse_tagged(&text, &labels);
    Ok(())
}

const MESH_XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE DescriptorRecordSet SYSTEM "desc2017.dtd">
<DescriptorRecordSet LanguageCode = "eng">
<DescriptorRecord DescriptorClass = "1">
 <DescriptorUI>D000001</DescriptorUI>
 <DescriptorName><String>Calcimycin</String></DescriptorName>
 <TreeNumberList><TreeNumber>D03.633.100.221.173</TreeNumber></TreeNumberList>
 <ConceptList><Concept PreferredConceptYN="Y"><ConceptUI>M0000001</ConceptUI>
  <ConceptName><String>Calcimycin</String></ConceptName>
  <TermList><Term><TermUI>T000002</TermUI><String>A-23187</String></Term>
  <Term><TermUI>T000003</TermUI><String>Antibiotic A23187</String></Term></TermList>
 </Concept></ConceptList>
</DescriptorRecord>
<DescriptorRecord DescriptorClass = "1">
 <DescriptorUI>D001249</DescriptorUI>
 <DescriptorName><String>Asthma</String></DescriptorName>
 <TreeNumberList><TreeNumber>C08.127.108</TreeNumber><TreeNumber>C08.381.495.108</TreeNumber></TreeNumberList>
 <ConceptList><Concept PreferredConceptYN="Y"><ConceptUI>M0001867</ConceptUI>
  <ConceptName><String>Asthma</String></ConceptName>
  <TermList><Term><TermUI>T003960</TermUI><String>Bronchial Asthma</String></Term></TermList>
 </Concept></ConceptList>
</DescriptorRecord>
</DescriptorRecordSet>
"#;

fn committed(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

fn targets() -> Vec<Target> {
    let data = |rel: &str, n: usize| head(&shared("HILGEN_DATA", rel), n);
    let kb = |rel: &str, n: usize| head(&shared("HILGEN_KB", rel), n);
    let conll = vec![data("bc5cdr/iob/train.tsv", 300), data("ncbi-disease/iob/devel.tsv", 300)];
    let jsonl = {
        let sentences =
            hilgen_corpus::conll::read_str(std::str::from_utf8(&conll[0]).unwrap(), "train.tsv", &Default::default())
                .unwrap();
        let mut out = Vec::new();
        hilgen_corpus::jsonl::write(&mut out, &sentences).unwrap();
        vec![out]
    };
    let mut t = vec![
        Target {
            name: "conll",
            seeds: conll,
            folder: Folder::Alone,
            file: "corpus.tsv",
            run: |p| s(hilgen_corpus::conll::read_path(p, &Default::default())),
            names_file: true,
        },
        Target {
            name: "jsonl",
            seeds: jsonl,
            folder: Folder::Alone,
            file: "corpus.jsonl",
            run: |p| s(hilgen_corpus::jsonl::read_path(p)),
            names_file: true,
        },
        Target {
            name: "pubtator",
            seeds: vec![
                data("bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt", 120),
                data("ncbi-disease/pubtator/NCBIdevelopset_corpus.txt", 120),
            ],
            folder: Folder::Alone,
            file: "corpus.pubtator",
            run: |p| s(hilgen_corpus::pubtator::read_path(p)),
            names_file: true,
        },
    ];
    for f in RRF_FILES {
        let mut seeds = vec![kb(&format!("umls-sample-nci/{f}"), 400)];
        seeds.retain(|x| !x.is_empty());
        t.push(Target { name: f, seeds, folder: Folder::Rrf, file: f, run: rrf, names_file: true });
    }
    let ctd = kb("ctd-medic-2017/CTD_diseases.tsv.gz", 400);
    t.extend([
        Target {
            name: "ctd",
            seeds: vec![ctd.clone()],
            folder: Folder::Alone,
            file: "CTD_diseases.tsv",
            run: ctd_load,
            names_file: true,
        },
        Target {
            name: "ctd.gz",
            seeds: vec![gzip(&ctd), [gzip(&ctd[..ctd.len() / 2]), gzip(&ctd[ctd.len() / 2..])].concat()],
            folder: Folder::Alone,
            file: "CTD_diseases.tsv.gz",
            run: ctd_load,
            names_file: true,
        },
        Target {
            name: "mesh-tree",
            seeds: vec![kb("mesh-tree-2017/2017MeshTree.txt", 400)],
            folder: Folder::Alone,
            file: "mtrees2017.txt",
            run: |p| s(hilgen_kb::sources::mesh::load_tree(p, &mut hilgen_kb::Graph::new())),
            names_file: true,
        },
        Target {
            name: "mesh-xml",
            seeds: vec![MESH_XML.as_bytes().to_vec()],
            folder: Folder::Alone,
            file: "desc2017.xml",
            run: |p| s(hilgen_kb::sources::mesh::load_xml(p, &mut hilgen_kb::Graph::new())),
            names_file: true,
        },
        Target {
            name: "obo",
            seeds: vec![kb("doid-2016/doid_2016.obo", 600)],
            folder: Folder::Alone,
            file: "doid.obo",
            run: |p| s(hilgen_kb::sources::obo::load(p, &mut hilgen_kb::Graph::new())),
            names_file: true,
        },
        Target {
            name: "experiment",
            seeds: vec![
                committed("experiments/bc5cdr.toml"),
                committed("experiments/results/ncbi_disease.toml"),
                committed("docs/results/bc5cdr-llm/experiment.toml"),
            ],
            folder: Folder::Alone,
            file: "experiment.toml",
            run: |p| s(hilgen_pipeline::Experiment::from_file(p)),
            names_file: true,
        },
        Target {
            name: "llm-config",
            seeds: vec![committed("docs/results/bc5cdr-llm/llm.toml")],
            folder: Folder::Alone,
            file: "llm.toml",
            run: |p| s(hilgen_llm::LlmConfig::from_file(p)),
            names_file: true,
        },
        Target {
            name: "llm-answers",
            seeds: vec![
                br#"{"sentences": ["Cisplatin induced renal failure.", "Lithium caused tremor."]}"#.to_vec(),
                b"1. Cisplatin B-Chemical\ninduced O\nrenal B-Disease\nfailure I-Disease\n\n2. Tremor B-Disease\n"
                    .to_vec(),
                br#"```json
{"sentences": [{"tokens": ["Naloxone", "reverses", "hypotension"], "tags": ["B-Chemical", "O", "B-Disease"]}]}
```"#
                    .to_vec(),
                br#"[{"token": "aspirin", "tag": "B-Chemical"}, {"token": "asthma", "tag": "B-Disease"}]"#.to_vec(),
            ],
            folder: Folder::Alone,
            file: "answer.txt",
            run: answers,
            names_file: false,
        },
    ]);
    // Model folders: each file of a real saved model, mutated in a copy of the folder.
    for (name, file) in [
        ("model-tagger.json", "tagger.json"),
        ("model-safetensors", "model.safetensors"),
        ("model-tokenizer", "tokenizer.json"),
        ("model-dann.json", "dann.json"),
        ("model-dann-tensors", "dann.safetensors"),
    ] {
        t.push(Target {
            name,
            seeds: vec![std::fs::read(saved_model().join(file)).unwrap()],
            folder: Folder::Model,
            file,
            run: model_folder,
            names_file: true,
        });
    }
    // Kept systems: `system.json` and the dictionary's `dictionary.json` of a real one.
    for (name, file) in [("kept-system", KEPT_FILES[0]), ("kept-dictionary", KEPT_FILES[1])] {
        t.push(Target {
            name,
            seeds: vec![std::fs::read(saved_kept().join(file)).unwrap()],
            folder: Folder::Kept,
            file,
            run: kept_folder,
            names_file: true,
        });
    }
    // The knowledge index: a real build from the CTD sample, its bytes mutated.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("CTD_diseases.tsv");
    std::fs::write(&src, &ctd).unwrap();
    let out = dir.path().join("kb");
    let sources = hilgen_kb::Sources { ctd: vec![src], ..Default::default() };
    hilgen_kb::build(&sources, &out).unwrap();
    let index = std::fs::read(out.join(hilgen_kb::INDEX_FILE)).unwrap();
    t.push(Target {
        name: "kb-index",
        seeds: vec![index],
        folder: Folder::Alone,
        file: hilgen_kb::INDEX_FILE,
        run: kb_queries,
        names_file: true,
    });
    t
}

/// Copies a folder's files and subfolders (a kept system) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn ctd_load(p: &Path) -> Result<(), String> {
    s(hilgen_kb::sources::ctd::load(p, &mut hilgen_kb::Graph::new()))
}

// ---------------------------------------------------------------- the check

/// Memory a case may use: a generous multiple of its input plus a fixed allowance.
fn memory_bound(input: usize) -> usize {
    64 * input + (256 << 20)
}

/// Cases that parsed (the others ended in an error naming the file).
static PARSED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

const DEADLINE: Duration = Duration::from_secs(60);

/// Runs one case in a thread of its own: a result or an error naming the file, in time and
/// within the memory bound.
fn check(t: &Target, dir: &Path, bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let path = dir.join(t.file);
    std::fs::write(&path, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let (tx, rx) = std::sync::mpsc::channel();
    let run = t.run;
    let p = path.clone();
    std::thread::spawn(move || {
        PEAK.with(|x| x.set(0));
        HELD.with(|x| x.set(0));
        let r = std::panic::catch_unwind(|| run(&p));
        let _ = tx.send((r, PEAK.with(Cell::get)));
    });
    let (outcome, peak) = match rx.recv_timeout(DEADLINE) {
        Ok(x) => x,
        Err(_) => return Err(TestCaseError::fail(format!("{}: no answer within {DEADLINE:?} (a hang)", t.name))),
    };
    let bound = memory_bound(bytes.len());
    if peak > bound {
        return Err(TestCaseError::fail(format!(
            "{}: used {peak} bytes on a {}-byte input (bound {bound})",
            t.name,
            bytes.len()
        )));
    }
    match outcome {
        Err(_) => Err(TestCaseError::fail(format!("{}: panicked", t.name))),
        Ok(Ok(())) => {
            PARSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        }
        Ok(Err(msg)) => {
            let named = msg.contains(t.file) || msg.contains(&dir.display().to_string());
            if t.names_file && !named {
                return Err(TestCaseError::fail(format!("{}: the error does not name the file: {msg}", t.name)));
            }
            Ok(())
        }
    }
}

/// Runs `cases` cases of `t` (or as many as fit in `budget`), from RNG seed `seed`; returns
/// the number run.
fn fuzz(t: &Target, cases: u32, budget: Option<Duration>, seed: u64) -> usize {
    let dir = tempfile::tempdir().unwrap();
    match t.folder {
        Folder::Rrf => {
            for f in RRF_FILES {
                let p = shared("HILGEN_KB", &format!("umls-sample-nci/{f}"));
                std::fs::write(dir.path().join(f), head(&p, 400)).unwrap();
            }
        }
        Folder::Model => {
            for f in MODEL_FILES {
                std::fs::copy(saved_model().join(f), dir.path().join(f)).unwrap();
            }
        }
        Folder::Kept => copy_tree(saved_kept(), dir.path()),
        Folder::Alone => {}
    }
    let start = Instant::now();
    let mut done = 0usize;
    let mut round = 0u64;
    loop {
        let n = if budget.is_some() { 64 } else { cases };
        let config = Config { cases: n, failure_persistence: None, max_shrink_iters: 200, ..Config::default() };
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&round.to_le_bytes());
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key));
        let seeds = &t.seeds;
        let result = runner.run(&case(seeds.len()), |(which, random, mutations)| {
            let bytes = match which {
                None => random,
                // Gzip targets' seeds are compressed: the mutations hit the compressed bytes.
                Some(i) => mutations.iter().fold(seeds[i].clone(), apply),
            };
            check(t, dir.path(), bytes)
        });
        match result {
            Ok(()) => {}
            Err(TestError::Fail(why, input)) => {
                panic!("{}: {why}; smallest failing case: {:?}", t.name, (input.0, input.1.len(), input.2))
            }
            Err(e) => panic!("{}: {e}", t.name),
        }
        done += n as usize;
        round += 1;
        match budget {
            Some(b) if start.elapsed() < b => continue,
            _ => break,
        }
    }
    done
}

#[test]
fn every_parser_answers_random_and_mutated_files_without_panicking() {
    let cases: u32 = std::env::var("HILGEN_NEVER_PANIC_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let budget = std::env::var("HILGEN_NEVER_PANIC_MINUTES")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .map(|m| Duration::from_secs_f64(m * 60.0));
    let only = std::env::var("HILGEN_NEVER_PANIC_ONLY").ok();
    let seed = std::env::var("HILGEN_NEVER_PANIC_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let all = targets();
    assert_eq!(all.len(), 24, "every parser is covered (17 parsers, 5 files of a model folder, 2 of a kept system)");
    for t in all.iter().filter(|t| only.as_deref().is_none_or(|o| o.split(',').any(|x| x == t.name))) {
        let start = Instant::now();
        PARSED.store(0, std::sync::atomic::Ordering::Relaxed);
        let n = fuzz(t, cases, budget, seed);
        let parsed = PARSED.load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "never-panic {:<12} {n:>8} cases ({parsed} parsed, {} refused with the file named), 0 panics, {:.1} s",
            t.name,
            n - parsed.min(n),
            start.elapsed().as_secs_f64()
        );
    }
}

#[test]
fn mutations_change_real_files_as_named() {
    let b = b"a\tb\tc\nd\te\tf\n".to_vec();
    assert_eq!(apply(b.clone(), &Mutation::DropColumn(1, 1)), b"a\tb\tc\nd\tf\n");
    assert_eq!(apply(b.clone(), &Mutation::DuplicateColumn(0, 2)), b"a\tb\tc\tc\nd\te\tf\n");
    assert_eq!(apply(b.clone(), &Mutation::DuplicateLine(0)), b"a\tb\tc\na\tb\tc\nd\te\tf\n");
    assert_eq!(apply(b.clone(), &Mutation::CutLine(1)), b"a\tb\tc\nd\t\n");
    assert_eq!(apply(b.clone(), &Mutation::HugeField(1, 3)).len(), b.len() + 3);
    assert_eq!(apply(b.clone(), &Mutation::Truncate(3)), b"a\tb");
    // The checker catches what it must: a panicking parser fails the run.
    let t = Target {
        name: "panics",
        seeds: vec![b.clone()],
        folder: Folder::Alone,
        file: "x",
        run: |_| panic!("boom"),
        names_file: true,
    };
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fuzz(&t, 4, None, 1)));
    assert!(caught.is_err());
    let t = Target {
        name: "anonymous",
        seeds: vec![b],
        folder: Folder::Alone,
        file: "x.tsv",
        run: |_| Err("bad row".into()),
        names_file: true,
    };
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fuzz(&t, 4, None, 1)));
    assert!(caught.is_err(), "an error that does not name the file fails");
}
