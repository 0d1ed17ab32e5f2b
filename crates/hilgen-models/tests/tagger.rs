//! The tagger and DANN with a tiny random-weight BERT (hidden 32, 2 layers) and the MiniLM
//! tokenizer (`HILGEN_ENCODER`, installed by `cargo xtask setup`): shapes, training to a perfect
//! fit, save/load, resume, DANN, decoding, and clear errors on bad input.

mod common;

use common::{sent, train_set};

use hilgen_corpus::Sentence;
use hilgen_metrics::{evaluate_sentences, Options};
use hilgen_models::{BertConfig, Dann, DannConfig, Distance, Features, Tagger, TaggerConfig, WordEncoder};
use std::path::PathBuf;
use tch::Device;

/// libtorch's random generator is process-wide: tests that train run one at a time so that
/// seeded runs stay reproducible.
static TORCH: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    TORCH.lock().unwrap_or_else(|e| e.into_inner())
}

fn encoder_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("HILGEN_ENCODER").expect("HILGEN_ENCODER is set by .cargo/config.toml"))
}

fn tiny(config: TaggerConfig) -> Tagger {
    let encoder = WordEncoder::from_folder(&encoder_dir()).unwrap();
    let mut bert = BertConfig::tiny(encoder.vocab_size() as i64);
    bert.hidden_dropout_prob = 0.0;
    bert.attention_probs_dropout_prob = 0.0;
    Tagger::with_random_weights(bert, encoder, Tagger::labels_of(&train_set()), config, Device::Cpu).unwrap()
}

fn fit_config() -> TaggerConfig {
    TaggerConfig {
        learning_rate: 3e-3,
        epochs: 40,
        batch_size: 2,
        dropout: 0.0,
        warmup_ratio: 0.05,
        seed: 7,
        ..Default::default()
    }
}

#[test]
fn overfits_a_handful_of_sentences_and_round_trips() {
    let _serial = serial();
    let train = train_set();
    let mut tagger = tiny(fit_config());
    let report = tagger.train(&train, None, None).unwrap();
    assert!(report.losses.last().unwrap() < &report.losses[0]);
    let pred = tagger.predict_sentences(&train).unwrap();
    let f1 = evaluate_sentences(&train, &pred, Options::default()).unwrap().micro.f1;
    assert_eq!(f1, 1.0, "losses {:?}", report.losses);
    // Shapes: per-word emissions and hidden states.
    let em = tagger.word_features(&train, Features::Emissions).unwrap();
    assert_eq!(em[0].size(), [6, 4], "O, B-Chemical, B-Disease, I-Disease");
    let hid = tagger.word_features(&train, Features::Hidden).unwrap();
    assert_eq!(hid[1].size(), [6, 32]);
    let probs = tagger.predict(&train).unwrap();
    assert!(probs.iter().flat_map(|p| &p.probs).all(|&p| p > 0.0 && p <= 1.0));
    // Save and load give identical predictions.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tagger");
    tagger.save(&path).unwrap();
    let loaded = Tagger::load(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.predict(&train).unwrap(), tagger.predict(&train).unwrap());
    // DANN over the trained tagger tags its own support set perfectly.
    for distance in [Distance::Minkowski(3.0), Distance::Euclidean, Distance::Cosine] {
        let dann = Dann::fit(&tagger, &train, DannConfig { distance, ..Default::default() }).unwrap();
        let p = dann.predict_sentences(&tagger, &train).unwrap();
        assert_eq!(evaluate_sentences(&train, &p, Options::default()).unwrap().micro.f1, 1.0, "{distance:?}");
        // Emissions have 4 dimensions: the k-d trees answer, and they give what the full
        // distance matrix gives, on sentences the support set does not hold.
        assert!(dann.uses_trees(), "{distance:?}");
        let other = vec![
            sent("Ketamine and cocaine were given", "B-Chemical O B-Chemical O O"),
            sent("Tremor after naloxone", "B-Disease O B-Chemical"),
        ];
        let with_trees = dann.predict(&tagger, &other).unwrap();
        let matrix = Dann::fit(&tagger, &train, DannConfig { distance, ..Default::default() })
            .unwrap()
            .without_trees()
            .predict(&tagger, &other)
            .unwrap();
        for (a, b) in with_trees.iter().zip(&matrix) {
            assert_eq!(a.tags, b.tags, "{distance:?}");
            assert!(a.probs.iter().zip(&b.probs).all(|(x, y)| (x - y).abs() < 1e-4), "{distance:?}");
        }
    }
    let structshot = Dann::fit(
        &tagger,
        &train,
        DannConfig { structshot_tau: Some(0.5), features: Features::Hidden, ..Default::default() },
    )
    .unwrap();
    let p = structshot.predict_sentences(&tagger, &train).unwrap();
    assert!(hilgen_corpus::validate(&p, hilgen_corpus::Scheme::Iob2).is_ok(), "StructShot output is valid IOB2");
}

#[test]
fn training_is_deterministic_and_resumes_from_checkpoints() {
    let _serial = serial();
    let train = train_set();
    let cfg = TaggerConfig { epochs: 4, ..fit_config() };
    let mut a = tiny(cfg.clone());
    let ra = a.train(&train, None, None).unwrap();
    let mut b = tiny(cfg.clone());
    let rb = b.train(&train, None, None).unwrap();
    assert_eq!(ra.losses, rb.losses, "same seed, same losses");
    // Interrupted after 2 epochs, resumed to 4.
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck");
    let mut first = tiny(TaggerConfig { epochs: 2, ..cfg.clone() });
    first.train(&train, None, Some(&ck)).unwrap();
    let mut second = tiny(cfg.clone());
    let r = second.train(&train, Some(&train), Some(&ck)).unwrap();
    assert_eq!(r.resumed_after, 2);
    assert_eq!(r.losses.len(), 4);
    assert_eq!(r.dev_f1.len(), 2);
    // A finished checkpoint trains nothing more.
    let mut third = tiny(cfg);
    let r3 = third.train(&train, None, Some(&ck)).unwrap();
    assert_eq!(r3.losses.len(), 4);
}

#[test]
fn early_stopping_keeps_the_best_dev_epoch() {
    let _serial = serial();
    let train = train_set();
    // Early epochs score 0 on dev; a patience of 8 lets training get going.
    let mut tagger = tiny(TaggerConfig { early_stopping_patience: Some(8), epochs: 80, ..fit_config() });
    let report = tagger.train(&train, Some(&train), None).unwrap();
    let best = report.dev_f1.iter().cloned().fold(f64::MIN, f64::max);
    assert_eq!(best, 1.0, "{:?}", report.dev_f1);
    let first_best = report.dev_f1.iter().position(|&f| f == best).unwrap() + 1;
    assert_eq!(report.best_epoch, first_best);
    assert_eq!(report.dev_f1.len(), first_best + 8, "stops 8 epochs without improvement: {:?}", report.dev_f1);
    assert!(report.dev_f1.len() < 80);
    assert_eq!(tagger.score(&train).unwrap(), 1.0, "the best weights are kept");
}

#[test]
fn long_sentences_keep_every_word() {
    let _serial = serial();
    let train = train_set();
    let mut tagger = tiny(TaggerConfig { max_length: 8, epochs: 1, ..fit_config() });
    tagger.train(&train, None, None).unwrap();
    let words: Vec<String> = (0..57).map(|i| format!("word{i}")).collect();
    let long = Sentence::new(words.clone(), vec!["O".into(); words.len()]).unwrap();
    let p = tagger.predict(&[long]).unwrap();
    assert_eq!(p[0].tags.len(), 57);
    let constrained = TaggerConfig { constrained_decoding: true, ..tagger.config().clone() };
    tagger.set_config(constrained).unwrap();
    let p = tagger.predict_sentences(&train).unwrap();
    hilgen_corpus::validate(&p, hilgen_corpus::Scheme::Iob2).unwrap();
}

#[test]
fn bad_inputs_are_clear_errors() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let labels = Tagger::labels_of(&train_set());
    let err = Tagger::from_pretrained(dir.path(), labels.clone(), TaggerConfig::default(), Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("no config.json"), "{err}");
    // A config whose shapes do not match the weights.
    let folder = dir.path().join("model");
    std::fs::create_dir_all(&folder).unwrap();
    for f in ["tokenizer.json", "model.safetensors"] {
        std::fs::copy(encoder_dir().join(f), folder.join(f)).unwrap();
    }
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(encoder_dir().join("config.json")).unwrap()).unwrap();
    cfg["intermediate_size"] = 1000.into();
    std::fs::write(folder.join("config.json"), cfg.to_string()).unwrap();
    let err = Tagger::from_pretrained(&folder, labels.clone(), TaggerConfig::default(), Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("model.safetensors") && err.contains("intermediate.dense") && err.contains("shape"), "{err}");
    std::fs::remove_file(folder.join("model.safetensors")).unwrap();
    let err = Tagger::from_pretrained(&folder, labels.clone(), TaggerConfig::default(), Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("no model.safetensors"), "{err}");
    // A tag the tagger does not know.
    let tagger = tiny(fit_config());
    let mut odd = train_set();
    odd[0].tags[0] = "B-Gene".into();
    let mut t = tagger;
    let err = t.train(&odd, None, None).unwrap_err().to_string();
    assert!(err.contains("`B-Gene` is not among the tagger's labels"), "{err}");
    // Invalid hyper-parameters fail before any work.
    let err = TaggerConfig { learning_rate: 0.0, ..Default::default() }.check().unwrap_err().to_string();
    assert!(err.contains("learning_rate"), "{err}");
    assert!(TaggerConfig { batch_size: 0, ..Default::default() }.check().is_err());
    assert!(TaggerConfig { max_length: 4, ..Default::default() }.check().is_err());
}

/// BERT-Large at its real size (24 layers, hidden 1024, 335M parameters, random weights)
/// builds, trains a step and predicts (about 15 s and 6 GB on 2 CPU cores).
#[test]
fn bert_large_builds_trains_a_step_and_predicts() {
    let _serial = serial();
    let encoder = WordEncoder::from_folder(&encoder_dir()).unwrap();
    let bert = BertConfig::large(encoder.vocab_size() as i64);
    let train = train_set();
    let cfg = TaggerConfig { epochs: 1, batch_size: 4, ..Default::default() };
    let mut tagger = Tagger::with_random_weights(bert, encoder, Tagger::labels_of(&train), cfg, Device::Cpu).unwrap();
    let report = tagger.train(&train, None, None).unwrap();
    assert_eq!(report.losses.len(), 1);
    assert!(report.losses[0].is_finite());
    let p = tagger.predict(&train).unwrap();
    assert_eq!(p[0].tags.len(), 6);
    assert_eq!(tagger.word_features(&train[..1], Features::Hidden).unwrap()[0].size(), [6, 1024]);
}

#[test]
fn unknown_words_are_left_out_of_the_loss() {
    // Silver copies say "aspirin" is O; marked unknown, they teach nothing about it, and the
    // gold sentence that names it a chemical wins.
    let _serial = serial();
    let probe = sent("Patients took aspirin .", "O O O O");
    let run = |unknown: bool| {
        let mut train = train_set();
        for _ in 0..3 {
            let mut s = probe.clone();
            if unknown {
                s.unknown = vec![2];
            }
            train.push(s);
        }
        let mut tagger = tiny(fit_config());
        tagger.train(&train, None, None).unwrap();
        tagger.predict(std::slice::from_ref(&probe)).unwrap().remove(0).tags
    };
    assert_eq!(run(false), ["O", "O", "O", "O"]);
    assert_eq!(run(true), ["O", "O", "B-Chemical", "O"]);
}

#[test]
fn soft_targets_are_trained_on_in_place_of_the_tags() {
    // Silver copies tag "aspirin" O; with a soft target that puts most of its mass on
    // `B-Chemical` (a teacher's distribution), the words learn the distribution, not the tag.
    let _serial = serial();
    let probe = sent("Patients took aspirin .", "O O O O");
    let labels = Tagger::labels_of(&train_set());
    let run = |soft: bool| {
        let mut train = train_set();
        for _ in 0..3 {
            let mut s = probe.clone();
            if soft {
                let p: Vec<f32> = labels
                    .iter()
                    .map(|l| {
                        if l == "B-Chemical" {
                            0.9
                        } else if l == "O" {
                            0.1
                        } else {
                            0.0
                        }
                    })
                    .collect();
                s.soft = Some(hilgen_corpus::SoftTargets { labels: labels.clone(), words: vec![(2, p)] });
            }
            train.push(s);
        }
        let mut tagger = tiny(fit_config());
        tagger.train(&train, None, None).unwrap();
        tagger.predict(std::slice::from_ref(&probe)).unwrap().remove(0)
    };
    assert_eq!(run(false).tags, ["O", "O", "O", "O"]);
    let soft = run(true);
    assert_eq!(soft.tags, ["O", "O", "B-Chemical", "O"]);
    assert!(soft.probs[2] < 0.99, "a 0.9 target is not learned as one-hot: {}", soft.probs[2]);
}

#[test]
fn soft_targets_on_labels_the_tagger_lacks_are_refused() {
    let _serial = serial();
    let mut s = sent("Patients took aspirin .", "O O O O");
    s.soft = Some(hilgen_corpus::SoftTargets {
        labels: vec!["O".into(), "B-Gene".into()],
        words: vec![(2, vec![0.4, 0.6])],
    });
    let mut train = train_set();
    train.push(s);
    let err = tiny(fit_config()).train(&train, None, None).unwrap_err().to_string();
    assert!(err.contains("word 2") && err.contains("`B-Gene`"), "{err}");
}
