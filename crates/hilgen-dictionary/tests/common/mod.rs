//! What the shared-data tests share: the index of the shared CTD MEDIC and MeSH 2017 tree
//! (`HILGEN_KB`), and a corpus's dev split with the entity types of seed 1's 5 shots
//! (`HILGEN_DATA`); both variables are set by `.cargo/config.toml`.

use hilgen_corpus::{dataset, fetch::Fetcher, sample, Sentence};
use hilgen_dictionary::TypeMap;
use std::path::PathBuf;

/// The index, built in a temporary folder (kept alive by the second value).
pub fn kb() -> (hilgen_kb::Kb, tempfile::TempDir) {
    let kb_dir = PathBuf::from(std::env::var_os("HILGEN_KB").expect("HILGEN_KB is set by .cargo/config.toml"));
    let index = tempfile::tempdir().unwrap();
    let sources = hilgen_kb::Sources {
        ctd: vec![kb_dir.join("ctd-medic-2017/CTD_diseases.tsv.gz")],
        mesh_tree: vec![kb_dir.join("mesh-tree-2017/2017MeshTree.txt")],
        ..Default::default()
    };
    hilgen_kb::build(&sources, index.path()).unwrap();
    (hilgen_kb::Kb::open(index.path().join(hilgen_kb::INDEX_FILE)).unwrap(), index)
}

/// A registry dataset's dev sentences and the types learned from seed 1's 5 shots.
#[allow(dead_code)] // each test file compiles this module; not every one calls it
pub fn dev_and_types(kb: &hilgen_kb::Kb, name: &str) -> (Vec<Sentence>, TypeMap) {
    dev_and_types_of_seed(kb, name, 1)
}

/// A registry dataset's dev sentences and the types learned from `seed`'s 5 shots.
#[allow(dead_code)] // each test file compiles this module; not every one calls it
pub fn dev_and_types_of_seed(kb: &hilgen_kb::Kb, name: &str, seed: u64) -> (Vec<Sentence>, TypeMap) {
    let loaded = dataset::load(name, &Fetcher::from_env()).unwrap();
    let train = loaded.corpus.split("train").unwrap();
    let shots = sample::sample_per_type(train, 5, seed).unwrap().sentences(train);
    (loaded.corpus.split("devel").unwrap().to_vec(), TypeMap::learn(kb, &shots))
}
