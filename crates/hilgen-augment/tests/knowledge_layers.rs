//! The knowledge layers on real data: BC5CDR 5-shot sentences (MeSH IDs from PubTator
//! alignment) expanded through the CTD MEDIC + MeSH tree index from the shared folder.

use hilgen_augment::{KnowledgeLayer, Layer};
use hilgen_corpus::{align::align, conll, pubtator, sample, validate, Scheme};
use hilgen_kb::{build, Kb, Sources};
use std::collections::HashSet;
use std::path::PathBuf;

fn env_dir(var: &str) -> PathBuf {
    PathBuf::from(std::env::var_os(var).unwrap_or_else(|| panic!("{var} is set by .cargo/config.toml")))
}

#[test]
fn every_layer_substitutes_linked_mentions_with_provenance() {
    let data = env_dir("HILGEN_DATA");
    let kb_src = env_dir("HILGEN_KB");
    let mut train = conll::read_path(data.join("bc5cdr/iob/train.tsv"), &Default::default()).unwrap();
    let (docs, _) = pubtator::read_path(data.join("bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt")).unwrap();
    align(&mut train, &docs).unwrap();
    let shots = sample::sample_per_type(&train, 5, 1).unwrap().sentences(&train);
    let dir = tempfile::tempdir().unwrap();
    let sources = Sources {
        ctd: vec![kb_src.join("ctd-medic-2017/CTD_diseases.tsv.gz")],
        mesh_tree: vec![kb_src.join("mesh-tree-2017/2017MeshTree.txt")],
        ..Default::default()
    };
    build(&sources, dir.path()).unwrap();
    let kb = Kb::open(dir.path()).unwrap();
    let originals: HashSet<Vec<String>> = shots.iter().map(|s| s.tokens.clone()).collect();
    for layer in Layer::ALL {
        let synthetic = KnowledgeLayer::new(layer).synthesize(&kb, &shots).unwrap();
        assert!(!synthetic.is_empty(), "{layer:?} produced nothing");
        let sentences: Vec<_> = synthetic.iter().map(|s| s.sentence.clone()).collect();
        validate(&sentences, Scheme::Iob2).unwrap();
        let mut seen = HashSet::new();
        for s in &synthetic {
            assert!(!originals.contains(&s.sentence.tokens));
            assert!(seen.insert((s.sentence.tokens.clone(), s.sentence.tags.clone())), "duplicate");
            let p = &s.provenance;
            assert_eq!(p.strategy, layer.name());
            let source = &shots[p.source_sentence.expect("knowledge layers have a source")];
            let mention = p.mention.clone().expect("knowledge layers replace a mention");
            // Everything outside the replaced mention is unchanged.
            let new_len = s.sentence.len() + mention.len() - source.len();
            assert_eq!(&s.sentence.tokens[..mention.start], &source.tokens[..mention.start]);
            assert_eq!(&s.sentence.tags[mention.start + new_len..], &source.tags[mention.end..]);
            assert!(s.sentence.tags[mention.start].starts_with("B-"));
            if layer == Layer::Synonyms {
                assert_eq!(p.concept, p.substitute);
            } else {
                assert_ne!(p.concept, p.substitute);
            }
        }
        let per_mention = synthetic.iter().fold(std::collections::HashMap::new(), |mut m, s| {
            *m.entry((s.provenance.source_sentence, s.provenance.mention.as_ref().unwrap().start)).or_insert(0) += 1;
            m
        });
        assert!(per_mention.values().all(|&n| n <= 10), "{layer:?}: at most 10 per mention");
        println!("{}: {} synthetic sentences from {} shots", layer.name(), synthetic.len(), shots.len());
    }
}
