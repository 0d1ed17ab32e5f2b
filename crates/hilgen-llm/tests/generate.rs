//! The generation tasks against an in-process server: HILGEN's two turns replayed from a
//! recorded real conversation (Qwen2.5-Coder-1.5B-Instruct on llama-server), both annotation
//! formats of the IOB turn, and the zero-shot tagger's entity-list answers.

mod support;

use hilgen_corpus::Sentence;
use hilgen_llm::config::Annotation;
use hilgen_llm::generate::{Generator, Source, Variant};
use hilgen_llm::parse::Labels;
use hilgen_llm::LlmClient;
use serde_json::{json, Value};
use support::{config, MockServer, Reply};

/// The recorded conversation: the model's answer to the generation turn and to the entities turn.
fn recorded() -> Value {
    serde_json::from_str(include_str!("fixtures/qwen15_hilgen_related.json")).unwrap()
}

/// The BC5CDR training sentence the conversation started from.
fn source() -> Source {
    let text = "In the in vivo study , the administration ( 50 mg / kg , i . p . ) of TET and FAN in mice showed the inhibition of thrombosis by 55 % and 35 % , respectively , while acetylsalicylic acid ( ASA , 50 mg / kg , i . p . ) , a positive control , showed only 30 % inhibition .";
    let tokens: Vec<String> = text.split(' ').map(String::from).collect();
    let tags: Vec<String> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| match t.as_str() {
            "TET" | "FAN" | "ASA" => "B-Chemical".into(),
            "acetylsalicylic" => "B-Chemical".into(),
            "acid" if tokens[i - 1] == "acetylsalicylic" => "I-Chemical".into(),
            "thrombosis" => "B-Disease".into(),
            _ => "O".into(),
        })
        .collect();
    Source::plain(0, Sentence::new(tokens, tags).unwrap()).unwrap()
}

fn messages(body: &Value) -> usize {
    body["messages"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn hilgen_two_turns_replayed_with_entity_annotation() {
    let rec = recorded();
    let turns = [rec["turns"][0].as_str().unwrap().to_string(), rec["turns"][1].as_str().unwrap().to_string()];
    let server =
        MockServer::start(move |_, body| Reply::content(if messages(body) == 2 { &turns[0] } else { &turns[1] }));
    let dir = tempfile::tempdir().unwrap();
    let client = LlmClient::new(config(&server, dir.path())).unwrap();
    let generator = Generator::new(&client, Labels::new(["Chemical", "Disease"])).unwrap();
    assert_eq!(generator.annotation, Annotation::Entities, "entity lists are the default");
    let out = generator.hilgen(Variant::Related, &[source()], 5).await.unwrap();

    // Two requests: generation, then annotation with the conversation so far.
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 2);
    let second = &bodies[1];
    assert_eq!(messages(second), 4);
    assert_eq!(second["messages"][2]["role"], "assistant");
    let ask = second["messages"][3]["content"].as_str().unwrap();
    assert!(ask.contains("1. In the in vivo study, the administration of a chemical compound (TET)"), "{ask}");
    assert_eq!(second["response_format"]["json_schema"]["schema"]["properties"]["sentences"]["minItems"], 5);

    // The model listed TET, FAN and thrombosis for each sentence, and each sentence has them.
    assert_eq!(out.requested, 5);
    assert_eq!(out.generated.len(), 5, "{:?}", out.rejected);
    for g in &out.generated {
        let tagged: Vec<(&str, &str)> = g
            .sentence
            .tokens
            .iter()
            .zip(&g.sentence.tags)
            .filter(|(_, t)| *t != "O")
            .map(|(w, t)| (w.as_str(), t.as_str()))
            .collect();
        assert!(tagged.contains(&("TET", "B-Chemical")) && tagged.contains(&("thrombosis", "B-Disease")), "{tagged:?}");
        assert_eq!(g.strategy, "llm-related");
        assert_eq!(g.source, Some(0));
        assert_eq!(g.request.len(), 64);
    }
    // ASA was not listed by the model, so it stays O: labels come only from what the model said.
    let first = &out.generated[0].sentence;
    let asa = first.tokens.iter().position(|t| t == "ASA").unwrap();
    assert_eq!(first.tags[asa], "O");
}

#[tokio::test]
async fn hilgen_entity_lists_that_do_not_fit_are_rejected_by_reason() {
    let turn1 = json!({"sentences": ["Cocaine caused chest pain in two patients.", "Heroin caused chest pain in one patient.", "Morphine eased the pain of all patients."]}).to_string();
    // Sentence 1: fine. Sentence 2: lists a drug that is not in it. Sentence 3: no entity.
    let turn2 = json!({"sentences": [
        {"entities": [{"text": "cocaine", "type": "Chemical"}, {"text": "chest pain", "type": "Disease"}]},
        {"entities": [{"text": "cocaine", "type": "Chemical"}]},
        {"entities": []}]})
    .to_string();
    let server = MockServer::start(move |_, body| Reply::content(if messages(body) == 2 { &turn1 } else { &turn2 }));
    let dir = tempfile::tempdir().unwrap();
    let client = LlmClient::new(config(&server, dir.path())).unwrap();
    let generator = Generator::new(&client, Labels::new(["Chemical", "Disease"])).unwrap();
    let out = generator.hilgen(Variant::Siblings, &[source()], 3).await.unwrap();
    assert_eq!(out.generated.len(), 1);
    assert_eq!(out.generated[0].sentence.tags, ["B-Chemical", "O", "B-Disease", "I-Disease", "O", "O", "O", "O"]);
    assert_eq!(
        out.rejected,
        [("entity-not-in-sentence".to_string(), 1), ("no-entity".to_string(), 1)].into_iter().collect()
    );
    assert_eq!(client.summary().rejected(), 2);
}

#[tokio::test]
async fn hilgen_token_annotation_aligns_tokens_and_names_mismatches() {
    let turn1 = json!({"sentences": ["Cocaine caused chest pain in two patients.", "Heroin caused chest pain in one patient.", "Morphine eased the pain of all patients."]}).to_string();
    // Sentence 1: the model's own tokens (one word split differently) with tags; sentence 2:
    // tokens that do not spell it; sentence 3: missing.
    let turn2 = json!({"sentences": [
        {"tokens": ["Cocaine", "caused", "chest", "pain", "in", "two", "patients."], "tags": ["B-Chemical", "O", "B-Disease", "I-Disease", "O", "O", "O"]},
        {"tokens": ["Heroin", "caused", "pain"], "tags": ["B-Chemical", "O", "B-Disease"]}]})
    .to_string();
    let server = MockServer::start(move |_, body| Reply::content(if messages(body) == 2 { &turn1 } else { &turn2 }));
    let dir = tempfile::tempdir().unwrap();
    let client = LlmClient::new(config(&server, dir.path())).unwrap();
    let options = hilgen_llm::config::GenerationOptions { annotation: Annotation::Tokens, prompts_dir: None };
    let generator = Generator::with_options(&client, Labels::new(["Chemical", "Disease"]), &options).unwrap();
    let out = generator.hilgen(Variant::ParentsChildren, &[source()], 3).await.unwrap();
    let ask = server.bodies()[1]["messages"][3]["content"].as_str().unwrap().to_string();
    assert!(ask.contains("one IOB2 tag"), "{ask}");
    assert_eq!(out.generated.len(), 1);
    let s = &out.generated[0].sentence;
    assert_eq!(s.tokens.last().unwrap(), ".", "re-tokenized with the corpus tokenizer");
    assert_eq!(s.tags, ["B-Chemical", "O", "B-Disease", "I-Disease", "O", "O", "O", "O"]);
    assert_eq!(out.rejected, [("token-mismatch".to_string(), 1), ("unparseable".to_string(), 1)].into_iter().collect());
}

#[tokio::test]
async fn zero_shot_tagger_from_entity_lists() {
    let server = MockServer::start(|n, _| {
        Reply::content(&match n {
            0 => "```json\n{\"entities\": [{\"text\": \"cisplatin\", \"type\": \"Chemical\"}, {\"text\": \"acute renal failure\", \"type\": \"disease\"}, {\"text\": \"kidney damage\", \"type\": \"Disease\"}]}\n```".to_string(),
            _ => "I cannot help with that.".to_string(),
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = hilgen_llm::LlmConfig { max_concurrent: 1, ..config(&server, dir.path()) };
    let client = LlmClient::new(cfg).unwrap();
    let generator = Generator::new(&client, Labels::new(["Chemical", "Disease"])).unwrap();
    let s = |t: &str| {
        Sentence::new(t.split(' ').map(String::from).collect(), vec!["O".into(); t.split(' ').count()]).unwrap()
    };
    let sentences = [s("Cisplatin - induced acute renal failure in a child ."), s("No entity here at all .")];
    let (pred, out) = generator.tag(&sentences).await.unwrap();
    let ask = server.bodies()[0]["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(ask.contains("Cisplatin - induced acute renal failure in a child ."), "{ask}");
    assert_eq!(pred[0].tags, ["B-Chemical", "O", "O", "B-Disease", "I-Disease", "I-Disease", "O", "O", "O", "O"]);
    assert_eq!(pred[0].tokens, sentences[0].tokens);
    assert!(pred[1].tags.iter().all(|t| t == "O"));
    // "kidney damage" is not in the sentence; the second answer has no JSON.
    assert_eq!(
        out.rejected,
        [("entity-not-in-sentence".to_string(), 1), ("unparseable".to_string(), 1)].into_iter().collect()
    );
}
