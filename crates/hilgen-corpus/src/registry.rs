//! The dataset registry: where each supported corpus's files live, in which format, and their
//! canonical public source with sha256.
//!
//! Paths are relative to a data folder (see [`crate::fetch::Fetcher`]); on this project's
//! machines that is the shared `data/` folder, which holds byte-identical copies.
//!
//! ```
//! let spec = hilgen_corpus::registry::get("bc5cdr").unwrap();
//! assert_eq!(spec.files.iter().filter(|f| f.split == "train").count(), 2);
//! assert!(hilgen_corpus::registry::get("nope").is_err());
//! ```

use crate::error::{CorpusError, Result};
use serde::Serialize;

/// The format of a dataset file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FileFormat {
    /// 2-column `token<TAB>tag` IOB2 file.
    IobTsv,
    /// PubTator documents.
    PubTator,
    /// PubTator documents, gzip-compressed.
    PubTatorGz,
    /// One PMID per line (defines a split of a PubTator corpus).
    PmidList,
}

/// One file of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataFile {
    /// The split it holds (`train`, `devel`, `test`, or `all`).
    pub split: &'static str,
    /// Its format.
    pub format: FileFormat,
    /// Path relative to the data folder.
    pub path: &'static str,
    /// Canonical public URL.
    pub url: &'static str,
    /// sha256 of the file, when pinned.
    pub sha256: Option<&'static str>,
}

/// A dataset of the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatasetSpec {
    /// Registry name (`bc5cdr`, `ncbi-disease`, ...).
    pub name: &'static str,
    /// One line about it.
    pub description: &'static str,
    /// Entity types of its IOB form.
    pub entity_types: &'static [&'static str],
    /// Its files (empty for user-supplied datasets).
    pub files: Vec<DataFile>,
    /// Licence or terms.
    pub terms: &'static str,
    /// How to obtain it when it cannot be downloaded.
    pub how_to_obtain: &'static str,
}

fn file(
    split: &'static str,
    format: FileFormat,
    path: &'static str,
    url: &'static str,
    sha: Option<&'static str>,
) -> DataFile {
    DataFile { split, format, path, url, sha256: sha }
}

/// Every dataset the registry knows.
pub fn all() -> Vec<DatasetSpec> {
    use FileFormat::*;

    vec![
        DatasetSpec {
            name: "bc5cdr",
            description: "BioCreative V CDR: chemicals and diseases in 1,500 PubMed abstracts (IOB2 + PubTator with MeSH IDs)",
            entity_types: &["Chemical", "Disease"],
            files: vec![
                file("train", IobTsv, "bc5cdr/iob/train.tsv", "https://raw.githubusercontent.com/cambridgeltl/MTL-Bioinformatics-2016/master/data/BC5CDR-IOB/train.tsv", Some("b731361c0ed73afd04cc5fdad39afcdfd8f325d6e46c282339185a91d1af4c14")),
                file("devel", IobTsv, "bc5cdr/iob/devel.tsv", "https://raw.githubusercontent.com/cambridgeltl/MTL-Bioinformatics-2016/master/data/BC5CDR-IOB/devel.tsv", Some("b909de65c4f7e3c23bb09ad52d654cdc92e96db941abe1a5dcf6f6010c03cff5")),
                file("test", IobTsv, "bc5cdr/iob/test.tsv", "https://raw.githubusercontent.com/cambridgeltl/MTL-Bioinformatics-2016/master/data/BC5CDR-IOB/test.tsv", Some("e41a2843a5fff0cd8d1a88cb147968d61ae29336ca70cddc3d7fb8ff21dfa1e8")),
                file("train", PubTator, "bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt", "https://raw.githubusercontent.com/cambridgeltl/bmip-2018/master/BC5-CDR/original-data/CDR_TrainingSet.PubTator.txt", Some("7afcec134e3d4871e74b0398d92850d3c9ac94c0bdc780003f2d60184c012bd8")),
                file("devel", PubTator, "bc5cdr/pubtator/CDR_DevelopmentSet.PubTator.txt", "https://raw.githubusercontent.com/cambridgeltl/bmip-2018/master/BC5-CDR/original-data/CDR_DevelopmentSet.PubTator.txt", Some("9e18d8e700168887a7919e62f67ac2ce2357e3f409a48ee992906abdd80fe3e5")),
                file("test", PubTator, "bc5cdr/pubtator/CDR_TestSet.PubTator.txt", "https://raw.githubusercontent.com/cambridgeltl/bmip-2018/master/BC5-CDR/original-data/CDR_TestSet.PubTator.txt", Some("a3c48d5f35bdfce20c2371778abedc9fd24d1da092207072e5181ad53c8d0e2f")),
            ],
            terms: "BioCreative V CDR corpus, public; MTL IOB files CC BY 4.0",
            how_to_obtain: "downloaded from the canonical URLs",
        },
        DatasetSpec {
            name: "ncbi-disease",
            description: "NCBI-Disease: diseases in 793 PubMed abstracts, one type (IOB2 + PubTator with MeSH/OMIM IDs)",
            entity_types: &["Disease"],
            files: ncbi_files(true),
            terms: "public domain notice; MTL IOB files CC BY 4.0",
            how_to_obtain: "downloaded from the canonical URLs",
        },
        DatasetSpec {
            name: "ncbi-disease-4type",
            description: "NCBI-Disease with its four original types, converted from PubTator by this crate",
            entity_types: &["CompositeMention", "DiseaseClass", "Modifier", "SpecificDisease"],
            files: ncbi_files(false),
            terms: "public domain notice",
            how_to_obtain: "downloaded from the canonical URLs",
        },
        DatasetSpec {
            name: "medmentions-st21pv",
            description: "MedMentions st21pv: 4,392 abstracts, UMLS CUIs, 21 semantic types as entity types",
            entity_types: &[],
            files: vec![
                file("all", PubTatorGz, "medmentions-st21pv/corpus_pubtator.txt.gz", "https://github.com/chanzuckerberg/MedMentions/raw/master/st21pv/data/corpus_pubtator.txt.gz", None),
                file("train", PmidList, "medmentions-st21pv/corpus_pubtator_pmids_trng.txt", "https://github.com/chanzuckerberg/MedMentions/raw/master/full/data/corpus_pubtator_pmids_trng.txt", None),
                file("devel", PmidList, "medmentions-st21pv/corpus_pubtator_pmids_dev.txt", "https://github.com/chanzuckerberg/MedMentions/raw/master/full/data/corpus_pubtator_pmids_dev.txt", None),
                file("test", PmidList, "medmentions-st21pv/corpus_pubtator_pmids_test.txt", "https://github.com/chanzuckerberg/MedMentions/raw/master/full/data/corpus_pubtator_pmids_test.txt", None),
            ],
            terms: "CC0",
            how_to_obtain: "downloaded from the canonical URLs; checksums are not pinned (logged on download)",
        },
        DatasetSpec {
            name: "medmentions-st21pv-sample",
            description: "3 MedMentions st21pv abstracts (the scispacy test fixture), one split `all`",
            entity_types: &[],
            files: vec![file("all", PubTator, "medmentions-st21pv-sample/med_mentions.txt", "https://raw.githubusercontent.com/allenai/scispacy/main/tests/fixtures/med_mentions.txt", Some("b3728453e239e750d34b4ee2ae47cde1e37c5662e2e5745ef9a77f8978bc6d1c"))],
            terms: "Apache-2.0 (MedMentions itself CC0)",
            how_to_obtain: "downloaded from the canonical URL",
        },
        DatasetSpec {
            name: "mimic3",
            description: "Clinical notes from MIMIC-III annotated for NER (credentialed access)",
            entity_types: &[],
            files: vec![],
            terms: "PhysioNet Credentialed Health Data License",
            how_to_obtain: "MIMIC-III requires PhysioNet credentialed access; it cannot be downloaded here. \
                            Put your annotated notes as IOB2 files mimic3/{train,devel,test}.tsv in the data folder \
                            (HILGEN_DATA) and load them as a custom dataset.",
        },
        DatasetSpec {
            name: "custom",
            description: "Your own IOB files: {train,devel,test}.tsv in a folder you name",
            entity_types: &[],
            files: vec![],
            terms: "yours",
            how_to_obtain: "point at a folder holding train.tsv, devel.tsv and test.tsv (2-column IOB2)",
        },
    ]
}

fn ncbi_files(with_iob: bool) -> Vec<DataFile> {
    use FileFormat::*;
    let mut files = Vec::new();
    if with_iob {
        files.extend([
            file("train", IobTsv, "ncbi-disease/iob/train.tsv", "https://raw.githubusercontent.com/cambridgeltl/MTL-Bioinformatics-2016/master/data/NCBI-disease-IOB/train.tsv", Some("58379baf4614b8d757d93dd7a21b202849ca99f9b9d71b49185523ff5443300c")),
            file("devel", IobTsv, "ncbi-disease/iob/devel.tsv", "https://raw.githubusercontent.com/cambridgeltl/MTL-Bioinformatics-2016/master/data/NCBI-disease-IOB/devel.tsv", Some("b4e1e7efcc2a35047bf2f3d281648357470e674f555d4a26a0049ac37d59cc61")),
            file("test", IobTsv, "ncbi-disease/iob/test.tsv", "https://raw.githubusercontent.com/cambridgeltl/MTL-Bioinformatics-2016/master/data/NCBI-disease-IOB/test.tsv", Some("8f088ce45dc4746592188f9e69de3d89d87f3bb8f0ed8c4a287d018123fa148d")),
        ]);
    }
    files.extend([
        file("train", PubTator, "ncbi-disease/pubtator/NCBItrainset_corpus.txt", "https://raw.githubusercontent.com/spyysalo/ncbi-disease/master/original-data/train/NCBItrainset_corpus.txt", Some("f311381b28a6d0f641f57f4a963bb83619c2bdec5cd9caabb1381f894d5db817")),
        file("devel", PubTator, "ncbi-disease/pubtator/NCBIdevelopset_corpus.txt", "https://raw.githubusercontent.com/spyysalo/ncbi-disease/master/original-data/devel/NCBIdevelopset_corpus.txt", Some("02db559974624ae9cbe6cd95d64d953e6926bb63afb6b25b63e53bd8b41a4b55")),
        file("test", PubTator, "ncbi-disease/pubtator/NCBItestset_corpus.txt", "https://raw.githubusercontent.com/spyysalo/ncbi-disease/master/original-data/test/NCBItestset_corpus.txt", Some("61c8050bf6979ef7b943ec1158dfc03b651ea3367d4c37356f9de4841e85c9a3")),
    ]);
    files
}

/// A dataset by name, or an error listing the known names.
pub fn get(name: &str) -> Result<DatasetSpec> {
    let all = all();
    let names: Vec<&str> = all.iter().map(|d| d.name).collect();
    all.iter()
        .find(|d| d.name == name)
        .cloned()
        .ok_or_else(|| CorpusError::Invalid(format!("unknown dataset `{name}`; known: {}", names.join(", "))))
}

impl DatasetSpec {
    /// The files of one format and split.
    pub fn file(&self, split: &str, format: FileFormat) -> Option<&DataFile> {
        self.files.iter().find(|f| f.split == split && f.format == format)
    }
}
