//! The registration list: every strategy kind the pipeline and the CLI know, one line each.
//! A new strategy is one file (a parameter struct implementing [`Strategy`](crate::Strategy))
//! plus one line here.

use crate::dai_adel::SimpleAugmenter;
use crate::distant::Distant;
use crate::knowledge::KnowledgeLayer;
use crate::self_train::SelfTrain;
use crate::strategy::{Registration, Registry};

impl Registry {
    /// The shipped strategies: the paper's knowledge layers, Dai & Adel's four, distant
    /// supervision and self-training, and (with the `llm` feature) the LLM strategies.
    #[rustfmt::skip]
    pub fn builtin() -> Registry {
        let mut r = Registry::empty();
        r.register(Registration::new("synonyms", "layer 1: other names of the mention's concept", KnowledgeLayer::build));
        r.register(Registration::new("related", "layer 2: related concepts of the same semantic type", KnowledgeLayer::build));
        r.register(Registration::new("parents-children", "layer 3: parents, then children, in the hierarchy", KnowledgeLayer::build));
        r.register(Registration::new("siblings", "layer 3: concepts sharing a parent", KnowledgeLayer::build));
        r.register(Registration::new("lwtr", "Dai & Adel: label-wise token replacement", SimpleAugmenter::build));
        r.register(Registration::new("sr", "Dai & Adel: synonym replacement (the graph as thesaurus)", SimpleAugmenter::build));
        r.register(Registration::new("mr", "Dai & Adel: mention replacement from the shots", SimpleAugmenter::build));
        r.register(Registration::new("sis", "Dai & Adel: shuffle within same-label segments", SimpleAugmenter::build));
        r.register(Registration::new("distant", "distant supervision: the dictionary labels the unlabelled pool", Distant::build));
        r.register(Registration::new("self-train", "self-training: the best system on dev labels the pool, in rounds", SelfTrain::build));
        #[cfg(feature = "llm")]
        llm(&mut r);
        r
    }
}

#[cfg(feature = "llm")]
#[rustfmt::skip]
fn llm(r: &mut Registry) {
    use crate::llm::{LlmAugmenter, LlmSilver};
    r.register(Registration::new("llm-related", "HILGEN LLM: related concepts, then IOB in a second turn", LlmAugmenter::build));
    r.register(Registration::new("llm-parents-children", "HILGEN LLM: parents and children, then IOB", LlmAugmenter::build));
    r.register(Registration::new("llm-siblings", "HILGEN LLM: siblings, then IOB", LlmAugmenter::build));
    r.register(Registration::new("grounded-synonyms", "LLM sentences using the graph's synonyms verbatim", LlmAugmenter::build));
    r.register(Registration::new("grounded-related", "LLM sentences using related concepts verbatim", LlmAugmenter::build));
    r.register(Registration::new("grounded-parents-children", "LLM sentences using parents/children verbatim", LlmAugmenter::build));
    r.register(Registration::new("grounded-siblings", "LLM sentences using siblings verbatim", LlmAugmenter::build));
    r.register(Registration::new("zerogen", "ZeroGen: class-conditioned LLM sentences without examples", LlmAugmenter::build));
    r.register(Registration::new("llm-silver", "the LLM tags pool sentences; entities kept if they link to a concept of their type", LlmSilver::build));
}
