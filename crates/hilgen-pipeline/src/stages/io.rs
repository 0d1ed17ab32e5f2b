//! Reading and writing the sentence files of stages.

/// Reads sentences a stage wrote or was given (JSON Lines by extension, else CoNLL).
pub(crate) fn read(path: &std::path::Path) -> crate::Result<Vec<hilgen_corpus::Sentence>> {
    Ok(hilgen_corpus::formats::read_sentences(path, hilgen_corpus::formats::Format::Auto, &Default::default())?)
}

/// Writes sentences as IOB2 TSV.
pub(crate) fn write_tsv(path: &std::path::Path, sentences: &[hilgen_corpus::Sentence]) -> crate::Result<()> {
    Ok(hilgen_corpus::conll::write_path(path, sentences, &hilgen_corpus::conll::ConllFormat::default())?)
}
