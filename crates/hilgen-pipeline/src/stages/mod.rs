//! One module per stage kind. Each defines its input (a slice of the plan, hashed), its
//! output (recorded in the manifest, read by later stages), how it runs ([`Stage`](crate::stage::Stage)), and its
//! place in an experiment ([`Planned`](crate::flow::Planned)): which stages of it a plan has,
//! what each reads, and how it builds its input from the plan and those outputs.
//!
//! A new kind is one file here plus one line in the list below (which declares its module
//! and registers it, in the order kinds' stages come within a sample).

pub(crate) mod heldout;
pub(crate) mod io;
pub mod labels;

pub use crate::flow::{Predictions, System};

/// Declares each kind's module and lists the kinds ([`KINDS`]); `module::A + B` registers two
/// kinds of one module.
macro_rules! kinds {
    ($($module:ident::$kind:ident $(+ $more:ident)*,)*) => {
        $(pub mod $module;)*
        /// Every stage kind, in the order their stages come within a sample (of the stages
        /// whose inputs are ready, those of an earlier kind run first).
        pub(crate) const KINDS: &[&dyn crate::flow::Kind] = &[$(&$module::$kind, $(&$module::$more,)*)*];
    };
}

kinds! {
    kb::BuildKb,
    llm_tagger::LlmTagger,
    sample::Sample,
    dictionary::TuneDictionary,
    augment::Augment,
    teacher::ChooseTeacher,
    train::Train,
    predict::Predict,
    evaluate::Evaluate,
    ensemble::Ensemble,
    best::Best,
    keep::Keep + KeepRun,
    report::MakeReport,
}
