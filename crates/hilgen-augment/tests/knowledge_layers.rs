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
    let (train, kb, _dir) = bc5cdr_and_kb();
    let shots = sample::sample_per_type(&train, 5, 1).unwrap().sentences(&train);
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

/// BC5CDR train with MeSH IDs, and the CTD MEDIC + MeSH tree index (kept alive by the tempdir).
fn bc5cdr_and_kb() -> (Vec<hilgen_corpus::Sentence>, Kb, tempfile::TempDir) {
    let data = env_dir("HILGEN_DATA");
    let kb_src = env_dir("HILGEN_KB");
    let mut train = conll::read_path(data.join("bc5cdr/iob/train.tsv"), &Default::default()).unwrap();
    let (docs, _) = pubtator::read_path(data.join("bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt")).unwrap();
    align(&mut train, &docs).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sources = Sources {
        ctd: vec![kb_src.join("ctd-medic-2017/CTD_diseases.tsv.gz")],
        mesh_tree: vec![kb_src.join("mesh-tree-2017/2017MeshTree.txt")],
        ..Default::default()
    };
    build(&sources, dir.path()).unwrap();
    let kb = Kb::open(dir.path()).unwrap();
    (train, kb, dir)
}

#[test]
fn learned_types_drop_wrong_senses_and_attested_only_keeps_pool_names() {
    let (mut train, kb, _dir) = bc5cdr_and_kb();
    // As the pipeline samples: empty sentences left out.
    train.retain(|s| !s.is_empty());
    let pool = &train[..];
    let pool_names: HashSet<String> = {
        let mut out = HashSet::new();
        for s in pool {
            for i in 0..s.len() {
                for j in i + 1..=(i + 8).min(s.len()) {
                    out.insert(hilgen_kb::normalize(&s.tokens[i..j].join(" ")));
                }
            }
        }
        out
    };
    let mut wrong_senses_without = 0;
    for seed in 1..=5 {
        let shots = sample::sample_per_type(&train, 5, seed).unwrap().sentences(&train);
        // A mention linked by its text whose concept no other shot mention gives its label.
        let wrong = |s: &hilgen_augment::Synthetic| {
            let p = &s.provenance;
            if p.linked_by != "linked" {
                return false;
            }
            let m = p.mention.as_ref().unwrap();
            let mut others = shots.clone();
            others[p.source_sentence.unwrap()].tags[m.start..m.end].fill("O".to_string());
            let types = hilgen_dictionary::TypeMap::learn(&kb, &others);
            !types.votes(kb.types(kb.lookup(&p.concept).unwrap())).contains_key(&m.label)
        };
        let base = KnowledgeLayer { uninvert: true, clean: true, ..KnowledgeLayer::new(Layer::Synonyms) };
        let loose = base.synthesize_with(&kb, &shots, Some(pool)).unwrap();
        wrong_senses_without += loose.iter().filter(|s| wrong(s)).count();
        let typed = KnowledgeLayer { learned_types: true, ..base.clone() };
        let typed = typed.synthesize_with(&kb, &shots, Some(pool)).unwrap();
        assert!(!typed.is_empty());
        assert!(!typed.iter().any(wrong), "seed {seed}: a wrongly typed link was expanded");
        let only = KnowledgeLayer { learned_types: true, attested_only: true, ..base.clone() };
        let only = only.synthesize_with(&kb, &shots, Some(pool)).unwrap();
        assert!(!only.is_empty() && only.len() < typed.len(), "seed {seed}: {} of {}", only.len(), typed.len());
        for s in &only {
            let m = s.provenance.mention.as_ref().unwrap();
            let source = &shots[s.provenance.source_sentence.unwrap()];
            let new_len = s.sentence.len() + m.len() - source.len();
            let name = s.sentence.tokens[m.start..m.start + new_len].join(" ");
            assert!(pool_names.contains(&hilgen_kb::normalize(&name)), "{name} is not in the pool");
        }
    }
    // The filter has something to do on these samples (seed 4's chemical "CPA" links to the
    // disease "congenital primary aphakia").
    assert!(wrong_senses_without > 0);
}
