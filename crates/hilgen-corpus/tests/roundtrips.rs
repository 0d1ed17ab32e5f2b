//! Property tests: scheme round trips, conversion, repair, and writer/reader round trips.

use hilgen_corpus::scheme::{self, convert, decode_strict, encode, repair, Scheme, Span};
use hilgen_corpus::{conll, jsonl, Sentence};
use proptest::prelude::*;

/// Sorted, non-overlapping spans over `len` tokens with types A, B, C.
fn spans_strategy() -> impl Strategy<Value = (usize, Vec<Span>)> {
    (1usize..25).prop_flat_map(|len| {
        proptest::collection::vec((0..len, 1usize..4, 0usize..3), 0..8).prop_map(move |raw| {
            let mut spans: Vec<Span> = Vec::new();
            let mut sorted = raw;
            sorted.sort();
            for (start, l, ty) in sorted {
                let end = (start + l).min(len);
                if spans.last().is_some_and(|p| p.end > start) {
                    continue;
                }
                spans.push(Span::new(start, end, ["A", "B", "C"][ty]));
            }
            (len, spans)
        })
    })
}

fn io_representable(spans: &[Span]) -> bool {
    spans.windows(2).all(|w| !(w[0].end == w[1].start && w[0].label == w[1].label))
}

fn tag_strategy() -> impl Strategy<Value = String> {
    prop_oneof![Just("O".to_string()), ("[BIESLU]", "[AB]").prop_map(|(p, t)| format!("{p}-{t}")),]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_scheme_round_trips((len, spans) in spans_strategy()) {
        for s in Scheme::ALL {
            if s == Scheme::Io && !io_representable(&spans) {
                continue;
            }
            let tags = encode(&spans, len, s).unwrap();
            prop_assert_eq!(decode_strict(&tags, s).unwrap().unwrap(), spans.clone(), "{}", s);
        }
    }

    #[test]
    fn conversion_is_encoding_of_the_same_spans((len, spans) in spans_strategy()) {
        for from in Scheme::ALL.into_iter().filter(|s| *s != Scheme::Io) {
            for to in Scheme::ALL {
                let tags = encode(&spans, len, from).unwrap();
                let got = convert(&tags, from, to).unwrap().unwrap();
                prop_assert_eq!(got, encode(&spans, len, to).unwrap());
            }
        }
    }

    #[test]
    fn repair_gives_valid_idempotent_sequences(tags in proptest::collection::vec(tag_strategy(), 0..20)) {
        for s in Scheme::ALL {
            let (fixed, report) = repair(&tags, s).unwrap();
            prop_assert!(decode_strict(&fixed, s).unwrap().is_ok());
            let (again, second) = repair(&fixed, s).unwrap();
            prop_assert_eq!(&again, &fixed);
            prop_assert_eq!(second.tokens, 0);
            let changed = tags.iter().zip(&fixed).filter(|(a, b)| a != b).count();
            prop_assert_eq!(report.tokens, changed);
        }
    }

    #[test]
    fn lenient_decoding_of_valid_iob2_equals_strict((len, spans) in spans_strategy()) {
        let tags = encode(&spans, len, Scheme::Iob2).unwrap();
        let parsed = scheme::parse_tags(&tags).unwrap();
        prop_assert_eq!(scheme::decode_lenient(&parsed), spans);
    }

    #[test]
    fn conll_and_jsonl_round_trip(
        sents in proptest::collection::vec(
            proptest::collection::vec(("[a-zA-Z0-9.,()\\-\u{e9}\u{3b1}]{1,8}", tag_strategy()), 1..12),
            0..6,
        )
    ) {
        let mut sentences = Vec::new();
        for (i, pairs) in sents.into_iter().enumerate() {
            let (tokens, raw): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
            let tags = repair(&raw, Scheme::Iob2).unwrap().0;
            let mut s = Sentence::new(tokens, tags).unwrap();
            if let Some(m) = s.mentions().unwrap().first() {
                s.set_concept_ids(m.span.start, m.span.end, vec![format!("MESH:D{i:06}")]);
            }
            sentences.push(s);
        }
        let j = {
            let mut buf = Vec::new();
            jsonl::write(&mut buf, &sentences).unwrap();
            String::from_utf8(buf).unwrap()
        };
        prop_assert_eq!(jsonl::read_str(&j, "p").unwrap(), sentences.clone());
        for s in &mut sentences {
            s.concepts.clear();
        }
        let fmt = conll::ConllFormat::default();
        let text = conll::write_string(&sentences, &fmt);
        let back = conll::read_str(&text, "p", &fmt).unwrap();
        prop_assert_eq!(conll::write_string(&back, &fmt), text);
        prop_assert_eq!(back, sentences);
    }
}
