//! The one strategy trait, the serde-tagged spec that names a strategy and its parameters, and
//! the registry that turns specs into strategies.
//!
//! A spec is a kind, optionally with parameters and a name (the name is the strategy's stage and
//! report row; it defaults to the kind). In TOML: `"related"` or
//! `{kind = "lwtr", p = 0.3, name = "lwtr-0.3"}`; on the command line: `related`,
//! `lwtr:p=0.3,n=5` or the inline table.
//!
//! ```
//! use hilgen_augment::{Registry, StrategySpec};
//! let spec: StrategySpec = "lwtr:p=0.5".parse().unwrap();
//! let strategy = Registry::builtin().build(&spec).unwrap();
//! assert_eq!(strategy.kind(), "lwtr");
//! assert_eq!(strategy.params()["p"], 0.5);
//! assert_eq!(strategy.params()["n"], 10, "defaults are filled in");
//! let err = Registry::builtin().build(&"lwtr:q=1".parse().unwrap()).err().unwrap();
//! assert!(err.to_string().contains("unknown field `q`"), "{err}");
//! ```

use crate::{AugmentError, Result, Synthetic};
use hilgen_corpus::{Sentence, SoftTargets};
use hilgen_kb::Kb;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// Whether a strategy uses an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    /// Never used.
    #[default]
    No,
    /// Used when there is one (the results depend on it then).
    Optional,
    /// Cannot run without it.
    Required,
}

impl Need {
    /// Whether the input is used when present.
    pub fn uses(self) -> bool {
        self != Need::No
    }
}

/// Which LLM task a strategy runs (decides the prompt templates its results depend on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LlmUse {
    /// HILGEN's generation and annotation turns.
    Hilgen,
    /// Grounded generation.
    Grounded,
    /// ZeroGen.
    ZeroGen,
    /// The LLM as a zero-shot tagger.
    Tag,
}

/// What a strategy needs besides the shots.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needs {
    /// The knowledge graph.
    pub kb: Need,
    /// An LLM, and for which task.
    pub llm: Option<LlmUse>,
    /// Unlabelled in-domain text (a pool of sentences).
    pub pool: Need,
    /// The dictionary system (the knowledge graph as a tagger, tuned on dev).
    #[serde(default)]
    pub dictionary: Need,
    /// A teacher: the best system on dev so far, its labels of the pool and of dev with
    /// probabilities, and the gold dev split (for choosing a threshold).
    #[serde(default)]
    pub teacher: bool,
    /// The share of dev sentences without entities.
    #[serde(default)]
    pub mention_free_rate: bool,
    /// The kind of another strategy whose output count this one matches, when that strategy
    /// runs in the same experiment (as the paper matches LLM counts to the knowledge layer's).
    pub count_of: Option<String>,
}

impl Needs {
    /// The one place a strategy's inputs meet its needs (the pipeline's augmentation stage
    /// and `hilgen augment` both call it): a required input that is missing is an error
    /// naming it; an input the strategy does not use is dropped, so it cannot sway the result.
    pub fn fit<'a>(&self, kind: &str, mut input: Input<'a>) -> Result<Input<'a>> {
        let missing = |what: &'static str| AugmentError::Missing { strategy: kind.to_string(), what };
        if self.kb == Need::Required && input.kb.is_none() {
            return Err(missing("a knowledge index (`--kb` for `hilgen augment`, a [kb] table in an experiment)"));
        }
        if self.pool == Need::Required && input.pool.is_none() {
            return Err(missing("unlabelled text (`--pool` for `hilgen augment`, [data] pool in an experiment)"));
        }
        if self.dictionary == Need::Required && input.dictionary.is_none() {
            return Err(missing("the dictionary system (a knowledge index to build it from)"));
        }
        if self.teacher && input.teacher.is_none() {
            return Err(missing("a teacher (the best model on dev so far): it runs within `hilgen run`"));
        }
        #[cfg(feature = "llm")]
        if self.llm.is_some() && input.llm.is_none() {
            return Err(missing("an LLM (`--llm-config` for `hilgen augment`, [llm] in an experiment)"));
        }
        if !self.kb.uses() {
            input.kb = None;
        }
        if !self.pool.uses() {
            input.pool = None;
        }
        if !self.dictionary.uses() {
            input.dictionary = None;
        }
        if !self.teacher {
            input.teacher = None;
        }
        if !self.mention_free_rate {
            input.mention_free_rate = None;
        }
        if self.count_of.is_none() {
            input.count_to_match = None;
        }
        #[cfg(feature = "llm")]
        if self.llm.is_none() {
            input.llm = None;
        }
        Ok(input)
    }
}

/// The LLM a strategy talks to: the client and the generation set-up.
#[cfg(feature = "llm")]
pub struct LlmContext<'a> {
    /// The client (a collecting client for Batch API exports).
    pub client: &'a hilgen_llm::LlmClient,
    /// How the model annotates.
    pub annotation: hilgen_llm::config::Annotation,
    /// Template texts replacing the shipped ones, by file name.
    pub prompts: BTreeMap<String, String>,
}

/// A predicted sentence with the probability of each predicted tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// Tokens and predicted tags (and document id).
    pub sentence: Sentence,
    /// Probability of each tag.
    pub probs: Vec<f32>,
    /// The probability of every label for every word, when the self-training strategy asks
    /// for them ([`Strategy::teacher_distributions`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributions: Option<SoftTargets>,
}

/// The teacher of a self-training round.
#[derive(Debug, Clone)]
pub struct Teacher<'a> {
    /// Which system it is (`tagger/related`, ...).
    pub system: &'a str,
    /// Its labels of the pool.
    pub pool: &'a [Scored],
    /// Its labels of the dev split.
    pub dev: &'a [Scored],
    /// The gold dev split.
    pub dev_gold: &'a [Sentence],
}

/// Everything a strategy may read.
pub struct Input<'a> {
    /// The few-shot sentences (with concept IDs where the corpus has them).
    pub shots: &'a [Sentence],
    /// Seed of the strategy's randomness.
    pub seed: u64,
    /// The knowledge graph, when the strategy needs one and there is one.
    pub kb: Option<&'a Kb>,
    /// Unlabelled in-domain sentences (their tags are not to be read).
    pub pool: Option<&'a [Sentence]>,
    /// The output count of the strategy named by [`Needs::count_of`], when it ran.
    pub count_to_match: Option<usize>,
    /// The dataset's entity types (default: those of the shots).
    pub types: Option<&'a [String]>,
    /// The dictionary system, when the strategy needs it.
    pub dictionary: Option<&'a hilgen_dictionary::Dictionary>,
    /// The teacher, for self-training.
    pub teacher: Option<&'a Teacher<'a>>,
    /// The share of dev sentences without entities (what real text has).
    pub mention_free_rate: Option<f64>,
    /// The LLM, for LLM strategies.
    #[cfg(feature = "llm")]
    pub llm: Option<&'a LlmContext<'a>>,
}

impl<'a> Input<'a> {
    /// An input with the shots and seed only.
    pub fn new(shots: &'a [Sentence], seed: u64) -> Input<'a> {
        Input {
            shots,
            seed,
            kb: None,
            pool: None,
            count_to_match: None,
            types: None,
            dictionary: None,
            teacher: None,
            mention_free_rate: None,
            #[cfg(feature = "llm")]
            llm: None,
        }
    }

    /// The knowledge graph, or an error naming the strategy.
    pub fn require_kb(&self, kind: &str) -> Result<&'a Kb> {
        self.kb.ok_or_else(|| AugmentError::Missing { strategy: kind.to_string(), what: "a knowledge graph (kb)" })
    }

    /// The dictionary, or an error naming the strategy.
    pub fn require_dictionary(&self, kind: &str) -> Result<&'a hilgen_dictionary::Dictionary> {
        self.dictionary
            .ok_or_else(|| AugmentError::Missing { strategy: kind.to_string(), what: "the dictionary system" })
    }

    /// The pool, or an error naming the strategy.
    pub fn require_pool(&self, kind: &str) -> Result<&'a [Sentence]> {
        self.pool.ok_or_else(|| AugmentError::Missing { strategy: kind.to_string(), what: "unlabelled text (a pool)" })
    }
}

/// What a strategy produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    /// The synthetic sentences with provenance.
    pub synthetic: Vec<Synthetic>,
    /// Sentences asked of an LLM (0 for other strategies).
    pub requested: usize,
    /// LLM rejections by reason.
    pub rejected: BTreeMap<String, u64>,
    /// LLM requests sent (cache hits not counted).
    pub llm_requests: u64,
}

impl Output {
    /// An output of sentences only.
    pub fn of(synthetic: Vec<Synthetic>) -> Output {
        Output { synthetic, ..Output::default() }
    }
}

/// A way of producing synthetic training sentences from few-shot ones. Implementations are
/// plain parameter structs (serde), registered once in [`Registry::builtin`].
pub trait Strategy: Send + Sync {
    /// The registered kind (`related`, `lwtr`, ...).
    fn kind(&self) -> &str;
    /// What it needs besides the shots.
    fn needs(&self) -> Needs;
    /// Its parameters with defaults filled in: the fingerprint a pipeline hashes.
    fn params(&self) -> Value;
    /// Synthetic sentences for `input.shots` (duplicates of each other or of the shots removed).
    fn augment(&self, input: &Input<'_>) -> Result<Output>;
    /// How much the `O` words of its sentences weigh in training (1; less for silver labels
    /// whose `O` may be a missed entity).
    fn o_weight(&self) -> f64 {
        1.0
    }
    /// Rounds (self-training: each round's student can teach the next); each round is a
    /// stage of its own, named `NAME-rK`.
    fn rounds(&self) -> usize {
        1
    }
    /// The system a self-training round learns from when the strategy fixes it
    /// (`tagger/distant`, ...); `None`: the best on dev among those trained before it.
    fn teacher(&self) -> Option<&str> {
        None
    }
    /// Whether the teacher writes every word's probability of every label
    /// ([`Scored::distributions`]) for this strategy (soft self-training).
    fn teacher_distributions(&self) -> bool {
        false
    }
}

/// A strategy kind, optional name and parameters: what an experiment or `--strategy` says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StrategySpec {
    /// The registered kind.
    pub kind: String,
    /// The stage and report name (default: the kind).
    pub name: Option<String>,
    /// Parameters (checked by the kind's parameter struct).
    pub params: Map<String, Value>,
}

impl StrategySpec {
    /// A spec of `kind` with default parameters.
    pub fn of(kind: &str) -> StrategySpec {
        StrategySpec { kind: kind.to_string(), ..StrategySpec::default() }
    }

    /// The name of its stage and report row.
    pub fn id(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.kind)
    }
}

impl fmt::Display for StrategySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if !self.params.is_empty() {
            let p: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            write!(f, ":{}", p.join(","))?;
        }
        Ok(())
    }
}

impl Serialize for StrategySpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.name.is_none() && self.params.is_empty() {
            return s.serialize_str(&self.kind);
        }
        let mut m = Map::new();
        m.insert("kind".into(), Value::String(self.kind.clone()));
        if let Some(n) = &self.name {
            m.insert("name".into(), Value::String(n.clone()));
        }
        m.extend(self.params.clone());
        m.serialize(s)
    }
}

impl<'de> Deserialize<'de> for StrategySpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<StrategySpec, D::Error> {
        use serde::de::Error;
        match Value::deserialize(d)? {
            Value::String(kind) => Ok(StrategySpec::of(&kind)),
            Value::Object(m) => StrategySpec::from_map(m).map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "a strategy is a kind (\"related\") or a table with `kind` ({{kind = \"lwtr\", p = 0.3}}), not {other}"
            ))),
        }
    }
}

impl StrategySpec {
    fn from_map(mut m: Map<String, Value>) -> std::result::Result<StrategySpec, String> {
        let kind = match m.remove("kind") {
            Some(Value::String(k)) => k,
            Some(other) => return Err(format!("strategy `kind` must be a string, found {other}")),
            None => return Err("a strategy table needs `kind` (e.g. {kind = \"lwtr\", p = 0.3})".into()),
        };
        let name = match m.remove("name") {
            Some(Value::String(n)) => Some(n),
            Some(other) => return Err(format!("strategy `name` must be a string, found {other}")),
            None => None,
        };
        Ok(StrategySpec { kind, name, params: m })
    }
}

impl std::str::FromStr for StrategySpec {
    type Err = AugmentError;

    /// `kind`, `kind:key=value,key=value` (values read as TOML: `0.3`, `true`, `"text"`), or an
    /// inline TOML table `{kind = "lwtr", p = 0.3}`.
    fn from_str(s: &str) -> Result<StrategySpec> {
        let bad = |m: String| AugmentError::Spec { spec: s.to_string(), message: m };
        let s = s.trim();
        if s.starts_with('{') {
            let t: toml::Table = toml::from_str(&format!("spec = {s}")).map_err(|e| bad(e.to_string()))?;
            let v = serde_json::to_value(&t["spec"]).map_err(|e| bad(e.to_string()))?;
            return serde_json::from_value(v).map_err(|e| bad(e.to_string()));
        }
        let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
        if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(bad("expected a strategy kind such as `related` or `lwtr:p=0.3`".into()));
        }
        let mut m = Map::new();
        m.insert("kind".into(), Value::String(kind.into()));
        for pair in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| bad(format!("`{pair}` is not key=value")))?;
            let t: toml::Table = toml::from_str(&format!("v = {}", v.trim()))
                .or_else(|_| toml::from_str(&format!("v = {:?}", v.trim())))
                .map_err(|e| bad(e.to_string()))?;
            m.insert(k.trim().to_string(), serde_json::to_value(&t["v"]).map_err(|e| bad(e.to_string()))?);
        }
        StrategySpec::from_map(m).map_err(bad)
    }
}

/// Builds a strategy of `kind` from checked parameters.
pub type Build = fn(kind: &str, params: &Map<String, Value>) -> Result<Box<dyn Strategy>>;

/// One registered kind.
#[derive(Clone, Copy)]
pub struct Registration {
    /// The kind, as written in experiments and on the command line.
    pub kind: &'static str,
    /// One line on what it does.
    pub about: &'static str,
    /// Its constructor.
    pub build: Build,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl Registration {
    /// A registration.
    pub const fn new(kind: &'static str, about: &'static str, build: Build) -> Registration {
        Registration { kind, about, build }
    }
}

/// Parameters of `kind` deserialized into `T` (unknown keys refused, defaults filled in).
pub fn parse_params<T: DeserializeOwned>(kind: &str, params: &Map<String, Value>) -> Result<T> {
    serde_json::from_value(Value::Object(params.clone()))
        .map_err(|e| AugmentError::Params { strategy: kind.to_string(), message: e.to_string() })
}

/// A parameter check's failure for `kind`.
pub fn bad_params(kind: &str, message: impl Into<String>) -> AugmentError {
    AugmentError::Params { strategy: kind.to_string(), message: message.into() }
}

/// The strategies a pipeline or the CLI can build, by kind.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    entries: Vec<Registration>,
}

impl Registry {
    /// A registry with nothing in it.
    pub fn empty() -> Registry {
        Registry::default()
    }

    /// Adds a kind (replacing a registration of the same kind).
    pub fn register(&mut self, r: Registration) -> &mut Registry {
        self.entries.retain(|e| e.kind != r.kind);
        self.entries.push(r);
        self
    }

    /// The registry with `r` added.
    pub fn with(mut self, r: Registration) -> Registry {
        self.register(r);
        self
    }

    /// The registration of `kind`.
    pub fn get(&self, kind: &str) -> Option<&Registration> {
        self.entries.iter().find(|e| e.kind == kind)
    }

    /// Every registration, in registration order.
    pub fn entries(&self) -> &[Registration] {
        &self.entries
    }

    /// The kinds, comma-separated (for error messages and help).
    pub fn kinds(&self) -> String {
        self.entries.iter().map(|e| e.kind).collect::<Vec<_>>().join(", ")
    }

    /// Builds the strategy a spec names; unknown kinds and parameters are errors that say what
    /// is expected.
    pub fn build(&self, spec: &StrategySpec) -> Result<Box<dyn Strategy>> {
        let r = self
            .get(&spec.kind)
            .ok_or_else(|| AugmentError::UnknownStrategy { kind: spec.kind.clone(), known: self.kinds() })?;
        (r.build)(r.kind, &spec.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_from_toml_and_the_command_line() {
        #[derive(Deserialize)]
        struct E {
            strategies: Vec<StrategySpec>,
        }
        let e: E = toml::from_str(r#"strategies = ["related", {kind = "lwtr", p = 0.3, name = "l3"}]"#).unwrap();
        assert_eq!(e.strategies[0], StrategySpec::of("related"));
        assert_eq!(e.strategies[1].kind, "lwtr");
        assert_eq!(e.strategies[1].id(), "l3");
        assert_eq!(e.strategies[1].params["p"], 0.3);
        // Round trip through serialization.
        let json = serde_json::to_value(&e.strategies).unwrap();
        assert_eq!(json, serde_json::json!(["related", {"kind": "lwtr", "name": "l3", "p": 0.3}]));
        let s: StrategySpec = "mr:p=0.5,n=3".parse().unwrap();
        assert_eq!((s.params["p"].as_f64(), s.params["n"].as_i64()), (Some(0.5), Some(3)));
        let s: StrategySpec = r#"{kind = "sr", p = 1.0}"#.parse().unwrap();
        assert_eq!(s.kind, "sr");
        assert_eq!(s.to_string(), "sr:p=1.0");
        let e = "lwtr:p".parse::<StrategySpec>().unwrap_err().to_string();
        assert!(e.contains("key=value"), "{e}");
        let e = toml::from_str::<E>("strategies = [{p = 1}]").err().unwrap().to_string();
        assert!(e.contains("needs `kind`"), "{e}");
        let e = Registry::builtin().build(&StrategySpec::of("relatd")).err().unwrap().to_string();
        assert!(e.contains("relatd") && e.contains("parents-children"), "{e}");
    }
}
