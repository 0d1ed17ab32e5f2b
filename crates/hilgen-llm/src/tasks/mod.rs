//! HILGEN's prompt tasks on top of the client: generation in its variants and the zero-shot
//! tagger ([`generate`]), their prompt templates ([`prompts`]) and the parsing of what the
//! model answers ([`parse`]).

pub mod generate;
pub mod parse;
pub mod prompts;
