//! Integration tests of the corpus crate on the real shared corpora (`HILGEN_DATA`, which
//! `.cargo/config.toml` points at `../shared/data`).

use hilgen::corpus::{
    align::align, conll, convert, dataset, fetch::Fetcher, pubtator, registry, sample, validate, CorpusStats, Scheme,
};
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    let dir = std::env::var_os("HILGEN_DATA").expect("HILGEN_DATA is set by .cargo/config.toml");
    PathBuf::from(dir).join(rel)
}

fn stats(rel: &str) -> CorpusStats {
    let s = conll::read_path(data(rel), &conll::ConllFormat::default()).unwrap();
    validate(&s, Scheme::Iob2).unwrap();
    CorpusStats::of(&s).unwrap()
}

#[test]
fn bc5cdr_iob_counts() {
    let train = stats("bc5cdr/iob/train.tsv");
    assert_eq!((train.sentences, train.tokens), (4_560, 118_170));
    assert_eq!((train.mentions["Chemical"], train.mentions["Disease"]), (5_203, 4_182));
    let test = stats("bc5cdr/iob/test.tsv");
    assert_eq!((test.sentences, test.tokens), (4_797, 124_750));
    assert_eq!((test.mentions["Chemical"], test.mentions["Disease"]), (5_385, 4_424));
    let devel = stats("bc5cdr/iob/devel.tsv");
    assert_eq!(
        (devel.sentences, devel.tokens, devel.mentions["Chemical"], devel.mentions["Disease"]),
        (4_581, 117_453, 5_347, 4_246)
    );
}

#[test]
fn ncbi_iob_counts() {
    let train = stats("ncbi-disease/iob/train.tsv");
    assert_eq!((train.sentences, train.tokens, train.mentions["Disease"]), (5_424, 135_701, 5_134));
    let test = stats("ncbi-disease/iob/test.tsv");
    assert_eq!((test.sentences, test.tokens, test.mentions["Disease"]), (940, 24_497, 960));
}

#[test]
fn writer_round_trips_real_files_byte_for_byte() {
    for rel in ["bc5cdr/iob/train.tsv", "ncbi-disease/iob/devel.tsv"] {
        let original = std::fs::read_to_string(data(rel)).unwrap();
        let fmt = conll::ConllFormat::default();
        let sentences = conll::read_str(&original, rel, &fmt).unwrap();
        assert!(conll::write_string(&sentences, &fmt) == original, "{rel} did not round-trip");
    }
}

#[test]
fn bc5cdr_pubtator_counts() {
    let (docs, report) = pubtator::read_path(data("bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt")).unwrap();
    assert_eq!((docs.len(), report.mentions), (500, 9_385));
    assert_eq!(report.without_ids, 76);
    assert_eq!(report.text_mismatches, 0);
    let multi = docs.iter().flat_map(|d| &d.mentions).filter(|m| m.ids.len() > 1).count();
    assert!((50..200).contains(&multi), "{multi} multi-ID mentions");
    assert!(docs.iter().flat_map(|d| &d.mentions).any(|m| !m.composite_parts.is_empty()));
    assert!(docs.iter().all(|d| d.relations.iter().all(|r| r.kind == "CID")));
    let (_, dev) = pubtator::read_path(data("bc5cdr/pubtator/CDR_DevelopmentSet.PubTator.txt")).unwrap();
    let (_, test) = pubtator::read_path(data("bc5cdr/pubtator/CDR_TestSet.PubTator.txt")).unwrap();
    assert_eq!((dev.mentions, dev.without_ids, test.mentions, test.without_ids), (9_591, 59, 9_809, 91));
}

#[test]
fn ncbi_pubtator_quirks_load() {
    let (docs, report) = pubtator::read_path(data("ncbi-disease/pubtator/NCBItrainset_corpus.txt")).unwrap();
    assert_eq!((docs.len(), report.mentions), (593, 5_145));
    // PMID 10923035, offsets 711-761: trailing spaces, text differs from the document.
    assert_eq!(report.text_mismatches, 1);
    let ids: Vec<&String> = docs.iter().flat_map(|d| &d.mentions).flat_map(|m| &m.ids).collect();
    assert!(ids.iter().any(|i| i.starts_with("OMIM:")));
    assert!(ids.iter().all(|i| i.trim() == i.as_str()));
    let (docs, report) = pubtator::read_path(data("ncbi-disease/pubtator/NCBIdevelopset_corpus.txt")).unwrap();
    assert_eq!((docs.len(), report.mentions), (100, 787));
}

#[test]
fn alignment_gives_concept_ids_to_99_percent_of_mentions() {
    let cases = [
        ("bc5cdr/iob/train.tsv", "bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt"),
        ("bc5cdr/iob/devel.tsv", "bc5cdr/pubtator/CDR_DevelopmentSet.PubTator.txt"),
        ("bc5cdr/iob/test.tsv", "bc5cdr/pubtator/CDR_TestSet.PubTator.txt"),
        ("ncbi-disease/iob/train.tsv", "ncbi-disease/pubtator/NCBItrainset_corpus.txt"),
        ("ncbi-disease/iob/devel.tsv", "ncbi-disease/pubtator/NCBIdevelopset_corpus.txt"),
        ("ncbi-disease/iob/test.tsv", "ncbi-disease/pubtator/NCBItestset_corpus.txt"),
    ];
    for (iob, pt) in cases {
        let mut sentences = conll::read_path(data(iob), &conll::ConllFormat::default()).unwrap();
        let (docs, _) = pubtator::read_path(data(pt)).unwrap();
        let report = align(&mut sentences, &docs).unwrap();
        println!("{iob}: {report:?}, linked {:.3}%", 100.0 * report.linked_share());
        assert_eq!(report.sentences, sentences.len());
        assert!(report.linked_share() >= 0.99, "{iob}: {:.4}", report.linked_share());
        assert!(sentences.iter().all(|s| s.doc_id.is_some()));
    }
}

#[test]
fn ncbi_train_skips_the_duplicated_pmid() {
    let mut sentences = conll::read_path(data("ncbi-disease/iob/train.tsv"), &conll::ConllFormat::default()).unwrap();
    let (docs, _) = pubtator::read_path(data("ncbi-disease/pubtator/NCBItrainset_corpus.txt")).unwrap();
    let report = align(&mut sentences, &docs).unwrap();
    assert_eq!(report.documents_skipped, ["8528200"]);
    assert_eq!(report.documents_used, 592);
}

#[test]
fn pubtator_to_iob_keeps_every_mention() {
    let (docs, read) = pubtator::read_path(data("ncbi-disease/pubtator/NCBItestset_corpus.txt")).unwrap();
    let (sentences, report) = convert::pubtator_to_iob(&docs, &convert::ConvertOptions::default());
    validate(&sentences, Scheme::Iob2).unwrap();
    assert_eq!(report.mentions + report.overlapping_dropped, read.mentions);
    let st = CorpusStats::of(&sentences).unwrap();
    assert_eq!(st.total_mentions(), report.mentions);
    assert_eq!(st.documents, 100);
    assert_eq!(st.mentions.len(), 4, "{:?}", st.mentions);
    let (docs, read) = pubtator::read_path(data("medmentions-st21pv-sample/med_mentions.txt")).unwrap();
    assert_eq!((docs.len(), read.mentions), (3, 115));
    let (sentences, report) = convert::pubtator_to_iob(&docs, &convert::ConvertOptions::default());
    assert_eq!(report.mentions + report.overlapping_dropped, 115);
    assert!(sentences.len() > 20);
}

#[test]
fn registry_loads_bc5cdr_from_the_shared_folder() {
    let fetcher = Fetcher::new(data(""));
    let loaded = dataset::load("bc5cdr", &fetcher).unwrap();
    assert_eq!(loaded.corpus.split("train").unwrap().len(), 4_560);
    assert!(loaded.align["test"].linked_share() >= 0.99);
    let four = dataset::load("ncbi-disease-4type", &fetcher).unwrap();
    assert_eq!(four.corpus.label_set().len(), 4);
    assert!(dataset::load("mimic3", &fetcher).unwrap_err().to_string().contains("credentialed"));
    assert!(registry::get("bc5cdr").unwrap().files.iter().all(|f| f.sha256.is_some()));
}

#[test]
fn five_shot_sample_on_bc5cdr() {
    let train = conll::read_path(data("bc5cdr/iob/train.tsv"), &conll::ConllFormat::default()).unwrap();
    let s = sample::sample_per_type(&train, 5, 1).unwrap();
    assert_eq!(s.indices.len(), 10);
    assert!(s.sentences_per_type["Chemical"] >= 5 && s.sentences_per_type["Disease"] >= 5);
    assert_eq!(s, sample::sample_per_type(&train, 5, 1).unwrap());
    let g = sample::sample_greedy_nway(&train, 5, 1).unwrap();
    assert!(g.mentions_per_type.values().all(|&n| (5..=10).contains(&n)), "{:?}", g.mentions_per_type);
}
