//! The forms text uses for a name: "X, Y" un-inverted, plurals and singulars, adjectives,
//! salt forms without their salt ("Scopolamine Hydrobromide" as "scopolamine"), and British
//! spellings read as American ones ("tumour", "anaemia", "oesophageal", "sulphasalazine").

use crate::dictionary::DictionaryConfig;
use std::borrow::Cow;

/// The forms of a name the dictionary enters.
pub fn variants(name: &str, config: &DictionaryConfig) -> Vec<String> {
    let mut out = vec![name.to_string()];
    if config.uninvert && name.contains(", ") {
        let parts: Vec<&str> = name.split(", ").collect();
        if parts.len() <= 3 && parts.iter().all(|p| !p.is_empty()) {
            out.push(parts.iter().rev().copied().collect::<Vec<_>>().join(" "));
        }
    }
    if config.salts {
        let bases: Vec<String> = out.iter().filter_map(|v| without_salt(v)).collect();
        out.extend(bases);
    }
    if config.plurals {
        let mut more = Vec::new();
        for v in &out {
            let lower = v.to_lowercase();
            let ends = |e: &str| lower.ends_with(e);
            if ends("ies") && lower.len() > 5 {
                more.push(format!("{}y", &v[..v.len() - 3]));
            } else if ends("s") && !["ss", "us", "is", "as", "os"].iter().any(|e| ends(e)) {
                if lower.len() > 4 {
                    more.push(v[..v.len() - 1].to_string());
                }
            } else if ends("y") && !["ay", "ey", "oy"].iter().any(|e| ends(e)) {
                more.push(format!("{}ies", &v[..v.len() - 1]));
            } else if ["s", "x", "z", "ch", "sh"].iter().any(|e| ends(e)) {
                more.push(format!("{v}es"));
            } else if lower.ends_with(|c: char| c.is_ascii_alphabetic()) {
                more.push(format!("{v}s"));
            }
        }
        out.extend(more);
    }
    if config.adjectives && !name.contains([' ', ',', '-']) {
        if let Some(a) = adjective(name) {
            out.push(a);
        }
    }
    out
}

/// The adjective English forms from a one-word noun by its ending, if one applies.
pub fn adjective(word: &str) -> Option<String> {
    let lower = word.to_lowercase();
    const RULES: [(&str, &str); 8] = [
        ("sion", "sive"),
        ("psy", "ptic"),
        ("osis", "otic"),
        ("ism", "ian"),
        ("emia", "emic"),
        ("ia", "ic"),
        ("etes", "etic"),
        ("ma", "matic"),
    ];
    if lower.chars().count() < 6 {
        return None;
    }
    RULES
        .iter()
        .find(|(from, _)| lower.ends_with(from))
        .map(|(from, to)| format!("{}{to}", &lower[..lower.len() - from.len()]))
}

/// Salts, hydrates and counter-ions that follow a drug's name in vocabularies ("Vardenafil
/// Dihydrochloride", "Scopolamine Hydrobromide") where text names the drug alone.
const SALTS: &[&str] = &[
    "acetate",
    "anhydrous",
    "besylate",
    "bitartrate",
    "bromide",
    "citrate",
    "dihydrate",
    "dihydrochloride",
    "fumarate",
    "hydrobromide",
    "hydrochloride",
    "hyclate",
    "maleate",
    "mesylate",
    "monohydrate",
    "phosphate",
    "potassium",
    "sodium",
    "succinate",
    "sulfate",
    "tartrate",
    "tosylate",
    "trihydrate",
];

/// Chemical groups that a salt name can start with but are not a compound's name alone
/// ("Methyl Bromide", "Ethyl Acetate").
const GROUPS: &[&str] = &["methyl", "ethyl", "propyl", "butyl", "isopropyl", "benzyl", "phenyl", "acid"];

/// The name without its trailing salt word, if it has one and something worth a name is left:
/// "Scopolamine Hydrobromide" -> "Scopolamine"; "Methyl Bromide" and "Sodium" -> none.
pub fn without_salt(name: &str) -> Option<String> {
    let (base, last) = name.rsplit_once(' ')?;
    let last = last.to_lowercase();
    if !SALTS.contains(&last.as_str()) {
        return None;
    }
    if base.ends_with(',') {
        // "Deficiency, Sodium": an inverted name, not a salt form.
        return None;
    }
    let base_lower = base.to_lowercase();
    let base_last = base_lower.rsplit(' ').next().unwrap_or_default();
    let ok = base.chars().filter(|c| c.is_alphabetic()).count() >= 4
        && !GROUPS.contains(&base_last)
        && !SALTS.contains(&base_last);
    ok.then(|| base.to_string())
}

/// Word-part rewrites from British to American spelling, tried in order inside each word
/// (one each): `(British, American, where)` with `where` 0 anywhere, 1 at the start, 2 at the
/// end.
const SPELLINGS: &[(&str, &str, u8)] = &[
    ("aetiol", "etiol", 1),
    ("oesoph", "esoph", 1),
    ("oestr", "estr", 1),
    ("oedem", "edem", 0),
    ("aem", "em", 0),
    ("phaeo", "pheo", 0),
    ("paed", "ped", 0),
    ("foet", "fet", 0),
    ("faec", "fec", 0),
    ("caec", "cec", 0),
    ("coeli", "celi", 1),
    ("sulph", "sulf", 0),
    ("ours", "ors", 2),
    ("our", "or", 2),
];

/// A normalized name or text (lower case, words separated by single spaces) with British
/// spellings read as American: "renal tumours" -> "renal tumors", "anaemia" -> "anemia". Words
/// of fewer than six letters are left as they are ("four", "hours", "your").
pub fn american(key: &str) -> Cow<'_, str> {
    let mut changed = false;
    let words: Vec<Cow<str>> = key
        .split(' ')
        .map(|w| {
            if w.len() < 6 {
                return Cow::Borrowed(w);
            }
            let mut word = Cow::Borrowed(w);
            for (british, american, place) in SPELLINGS {
                let at = match place {
                    1 => word.starts_with(british).then_some(0),
                    2 => word.ends_with(british).then(|| word.len() - british.len()),
                    _ => word.find(british),
                };
                if let Some(at) = at {
                    word = Cow::Owned(format!("{}{american}{}", &word[..at], &word[at + british.len()..]));
                    changed = true;
                }
            }
            word
        })
        .collect();
    if changed {
        Cow::Owned(words.join(" "))
    } else {
        Cow::Borrowed(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_variants() {
        let c = DictionaryConfig::default();
        assert_eq!(
            variants("Anemia, Hemolytic", &c),
            ["Anemia, Hemolytic", "Hemolytic Anemia", "Anemia, Hemolytics", "Hemolytic Anemias"]
        );
        assert_eq!(variants("injury", &c), ["injury", "injuries"]);
        assert_eq!(variants("abscess", &c), ["abscess", "abscesses"]);
        assert_eq!(variants("Gentamicins", &c), ["Gentamicins", "Gentamicin"]);
        assert_eq!(variants("Neuropathies", &c), ["Neuropathies", "Neuropathy"]);
        for (noun, adj) in [
            ("Hypertension", "hypertensive"),
            ("Epilepsy", "epileptic"),
            ("Ischemia", "ischemic"),
            ("Psychosis", "psychotic"),
            ("Parkinsonism", "parkinsonian"),
            ("Diabetes", "diabetic"),
            ("Asthma", "asthmatic"),
        ] {
            assert_eq!(adjective(noun).as_deref(), Some(adj));
        }
        assert_eq!(adjective("Pain"), None);
    }

    #[test]
    fn salt_forms_enter_the_drug_alone() {
        let c = DictionaryConfig { salts: true, plurals: false, ..DictionaryConfig::default() };
        assert_eq!(variants("Scopolamine Hydrobromide", &c), ["Scopolamine Hydrobromide", "Scopolamine"]);
        assert_eq!(variants("Vardenafil Dihydrochloride", &c)[1], "Vardenafil");
        assert_eq!(variants("Penicillin G Potassium", &c)[1], "Penicillin G");
        for kept in ["Methyl Bromide", "Sodium Bromide", "Sodium", "Ethyl Acetate", "Tin Citrate"] {
            assert_eq!(variants(kept, &c), [kept], "{kept}");
        }
        assert_eq!(variants("Deficiency, Sodium", &c), ["Deficiency, Sodium", "Sodium Deficiency"]);
        let off = DictionaryConfig { plurals: false, ..DictionaryConfig::default() };
        assert_eq!(variants("Scopolamine Hydrobromide", &off), ["Scopolamine Hydrobromide"]);
    }

    #[test]
    fn british_spellings_read_as_american() {
        for (british, us) in [
            ("tumour", "tumor"),
            ("renal tumours", "renal tumors"),
            ("anaemia", "anemia"),
            ("haemorrhage", "hemorrhage"),
            ("leukaemia", "leukemia"),
            ("ischaemic heart disease", "ischemic heart disease"),
            ("oesophageal cancer", "esophageal cancer"),
            ("oedema", "edema"),
            ("phaeochromocytoma", "pheochromocytoma"),
            ("haemangioblastoma", "hemangioblastoma"),
            ("sulphasalazine", "sulfasalazine"),
            ("coeliac disease", "celiac disease"),
            ("aetiology", "etiology"),
            ("behaviour", "behavior"),
        ] {
            assert_eq!(american(british), us, "{british}");
        }
        for same in ["four hours", "your tumor", "anemia", "colour"] {
            assert_eq!(american(same), if same == "colour" { "color" } else { same });
        }
        assert!(matches!(american("anemia"), Cow::Borrowed(_)));
    }
}
