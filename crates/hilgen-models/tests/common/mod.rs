//! Helpers shared by the model crate's integration tests.
#![allow(dead_code)] // each test file uses its own subset

use hilgen_corpus::Sentence;

/// A sentence from space-separated tokens and tags.
pub fn sent(text: &str, tags: &str) -> Sentence {
    Sentence::new(text.split(' ').map(String::from).collect(), tags.split(' ').map(String::from).collect()).unwrap()
}

/// Four labelled sentences (Chemical, Disease; one without a disease).
pub fn train_set() -> Vec<Sentence> {
    vec![
        sent("Cisplatin induced acute renal failure .", "B-Chemical O B-Disease I-Disease I-Disease O"),
        sent("Patients on lithium developed tremor .", "O O B-Chemical O B-Disease O"),
        sent("Naloxone reverses the hypotension .", "B-Chemical O O B-Disease O"),
        sent("No adverse events were seen with aspirin .", "O O O O O O B-Chemical O"),
    ]
}
