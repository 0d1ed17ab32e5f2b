//! The bad-input table: hostile and broken files a user may hand the CLI, each with the exit
//! code it must give, what the first line of its error must say (the file, the line where
//! there is one, what was expected), and the rule that a failed command leaves nothing behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn hilgen(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hilgen")).current_dir(dir).args(args).args(["--log", "error"]).output().unwrap()
}

fn kb_file(rel: &str) -> PathBuf {
    PathBuf::from(std::env::var_os("HILGEN_KB").expect("HILGEN_KB is set by .cargo/config.toml")).join(rel)
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        walk(dir).into_iter().map(|p| p.strip_prefix(dir).unwrap().display().to_string()).collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap()), &mut out)
        .unwrap();
    out
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// The first `n` lines of `b`.
fn head(b: &[u8], n: usize) -> Vec<u8> {
    let mut seen = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' {
            seen += 1;
            if seen == n {
                return b[..=i].to_vec();
            }
        }
    }
    b.to_vec()
}

/// The files every case can use, in `dir`.
fn fixtures(dir: &Path) {
    let w = |name: &str, body: &[u8]| {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    };
    let conso = head(&std::fs::read(kb_file("umls-sample-nci/MRCONSO.RRF")).unwrap(), 50);
    let rows: Vec<&[u8]> = conso.split(|c| *c == b'\n').collect();
    let edit = |line: usize, f: &dyn Fn(&mut Vec<Vec<u8>>)| {
        let mut out: Vec<Vec<u8>> = rows.iter().map(|r| r.to_vec()).collect();
        let mut fields: Vec<Vec<u8>> = out[line].split(|c| *c == b'|').map(<[u8]>::to_vec).collect();
        f(&mut fields);
        out[line] = fields.join(&b'|');
        out.join(&b'\n')
    };
    w("meta/MRCONSO.RRF", &conso);
    // Row 7 lost its TS column but kept its trailing `|`.
    w(
        "meta-column/MRCONSO.RRF",
        &edit(6, &|f| {
            f.remove(2);
        }),
    );
    // Row 10's name is 2 MiB.
    w("meta-huge/MRCONSO.RRF", &edit(9, &|f| f[14] = vec![b'a'; 2 << 20]));
    // A release that names SNOMED CT `SNOMEDCT`.
    let renamed = String::from_utf8(conso.clone()).unwrap().replace("|SNOMEDCT_US|", "|SNOMEDCT|");
    w("meta-snomed/MRCONSO.RRF", renamed.as_bytes());
    let ctd = head(&gunzip(&kb_file("ctd-medic-2017/CTD_diseases.tsv.gz")), 3000);
    w("ctd.tsv.gz", &gzip(&ctd));
    let half = ctd.len() / 2;
    w("ctd-two-members.tsv.gz", &[gzip(&ctd[..half]), gzip(&ctd[half..])].concat());
    w("ctd-truncated.tsv.gz", &gzip(&ctd)[..20_000]);
    w("gold.tsv", b"a\tO\nb\tB-Disease\n\n");
    w("pred-e.tsv", b"a\tO\nb\tE-S1\n\n");
    w("utf16.tsv", &"a\tO\nb\tO\n\n".encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>());
    w("dash.tsv", b"a\tO\nb\t-\n\n");
    w("empty.tsv", b"");
    w("columns.tsv", b"a\tO\nb\tO\textra\n");
    w("latin1.tsv", b"caf\xe9\tO\n");
    w(
        "hp.obo",
        b"format-version: 1.2\nontology: hp\n\n[Term]\nid: HP:0000001\nname: All\n\n[Term]\nid: HP:0000118\nname: Phenotypic abnormality\nalt_id: HP:0004715\nis_a: HP:0000001 ! All\n",
    );
}

/// One row of the table.
struct Case {
    args: &'static [&'static str],
    /// Exit code.
    code: i32,
    /// Each must appear in the first line of stderr.
    first_line: &'static [&'static str],
}

const CASES: &[Case] = &[
    // 2: a row that lost a column is refused, not read shifted.
    Case {
        args: &["kb", "build", "--rrf", "meta-column", "--out", "out"],
        code: 1,
        first_line: &["meta-column/MRCONSO.RRF:7:", "expected 18 `|`-separated fields", "a column is missing"],
    },
    // 3: a field past the limit is refused before memory is spent on it.
    Case {
        args: &["kb", "build", "--rrf", "meta-huge", "--out", "out"],
        code: 1,
        first_line: &["meta-huge/MRCONSO.RRF:10:", "rows are at most 1048576 bytes"],
    },
    // 5: strict-mode tag errors name the file and the line.
    Case {
        args: &["eval", "--gold", "gold.tsv", "--pred", "pred-e.tsv", "--mode", "strict", "--scheme", "iob2"],
        code: 1,
        first_line: &["pred-e.tsv:2:", "invalid tag `E-S1`", "allowed prefixes"],
    },
    // 6: filters that match nothing in the release are refused, naming its sources.
    Case {
        args: &["kb", "build", "--rrf", "meta-snomed", "--sab-deny", "SNOMEDCT_US", "--out", "out"],
        code: 1,
        first_line: &["meta-snomed/MRCONSO.RRF", "no source `SNOMEDCT_US`", "SNOMEDCT"],
    },
    Case {
        args: &["kb", "build", "--rrf", "meta-snomed", "--sab-allow", "SNOMEDCT_US", "--out", "out"],
        code: 1,
        first_line: &["no source `SNOMEDCT_US`", "SNOMEDCT"],
    },
    Case {
        args: &["kb", "build", "--rrf", "meta", "--lang", "FRE", "--out", "out"],
        code: 1,
        first_line: &["meta/MRCONSO.RRF", "no atoms in language `FRE`", "ENG"],
    },
    // 8: clear messages.
    Case {
        args: &["corpus", "stats", "utf16.tsv"],
        code: 1,
        first_line: &["utf16.tsv:1:", "looks like UTF-16", "expected UTF-8"],
    },
    Case {
        args: &["corpus", "stats", "dash.tsv"],
        code: 1,
        first_line: &["dash.tsv:2:", "invalid tag `-`", "expected O"],
    },
    Case { args: &["corpus", "stats", "empty.tsv"], code: 1, first_line: &["empty.tsv", "holds no sentences"] },
    Case { args: &["eval", "--gold", "empty.tsv", "--pred", "empty.tsv"], code: 1, first_line: &["empty.tsv"] },
    Case {
        args: &["corpus", "stats", "missing.tsv"],
        code: 1,
        first_line: &["missing.tsv", "No such file or directory"],
    },
    Case {
        args: &["corpus", "stats", "columns.tsv"],
        code: 1,
        first_line: &["columns.tsv:2:", "expected 2 columns (as on line 1), found 3"],
    },
    Case { args: &["corpus", "stats", "latin1.tsv"], code: 1, first_line: &["latin1.tsv:1:", "invalid UTF-8"] },
    Case {
        args: &["kb", "build", "--ctd", "ctd-truncated.tsv.gz", "--out", "out"],
        code: 1,
        first_line: &["ctd-truncated.tsv.gz:", "incomplete"],
    },
    Case {
        args: &["kb", "expand", "--kb", "missing-kb", "D001249", "--relation", "bogus"],
        code: 1,
        first_line: &["unknown --relation `bogus`", "parents-children"],
    },
    Case { args: &["corpus", "convert", "gold.tsv", "x.tsv", "--to-scheme", "iob9"], code: 1, first_line: &["iob9"] },
    // Usage errors exit with 2.
    Case { args: &["bogus"], code: 2, first_line: &["unrecognized subcommand 'bogus'"] },
];

#[test]
fn every_bad_input_gets_its_exit_code_a_named_first_line_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let before = entries(dir.path());
    let mut failures = Vec::new();
    for case in CASES {
        let out = hilgen(dir.path(), case.args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let first = err.lines().next().unwrap_or("");
        if out.status.code() != Some(case.code) {
            failures.push(format!("{:?}: exit {:?}, expected {}: {err}", case.args, out.status.code(), case.code));
        }
        for want in case.first_line {
            if !first.contains(want) {
                failures.push(format!("{:?}: first line `{first}` lacks `{want}`", case.args));
            }
        }
        if err.contains("panicked") || err.matches("os error").count() > 1 {
            failures.push(format!("{:?}: {err}", case.args));
        }
        if entries(dir.path()) != before {
            failures.push(format!("{:?} left files behind: {:?}", case.args, entries(dir.path())));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// 1: every gzip member is read (a real download is often several concatenated).
#[test]
fn a_gzip_of_two_members_loads_whole() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let concepts = |file: &str, out: &str| {
        let o = hilgen(dir.path(), &["kb", "build", "--ctd", file, "--out", out]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["sources"][0]["report"]["concepts"].as_u64().unwrap()
    };
    let one = concepts("ctd.tsv.gz", "one");
    assert!(one > 2000, "{one}");
    assert_eq!(concepts("ctd-two-members.tsv.gz", "two"), one);
}

/// 7: outputs get the permissions of the umask, as a plain create would.
#[test]
fn outputs_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    for (umask, mode) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
        let kb = format!("kb-{umask}");
        let converted = format!("converted-{umask}.tsv");
        let script = format!(
            "umask {umask} && \"$0\" kb build --ctd ctd.tsv.gz --out {kb} --log error >/dev/null && \"$0\" corpus convert gold.tsv {converted} --log error"
        );
        let o = Command::new("sh")
            .current_dir(dir.path())
            .args(["-c", &script, env!("CARGO_BIN_EXE_hilgen")])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for f in [dir.path().join(&kb).join("kb.hkb"), dir.path().join(&converted)] {
            let got = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(got, mode, "{} under umask {umask}", f.display());
        }
    }
}

/// 9: an OBO file is known by its `ontology:` header (HP, not HP.OBO) and `alt_id`s resolve.
#[test]
fn hpo_is_named_from_its_header_and_alt_ids_resolve() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let o = hilgen(dir.path(), &["kb", "build", "--obo", "hp.obo", "--out", "hp"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o =
        hilgen(dir.path(), &["kb", "expand", "--kb", "hp", "HP:0004715", "--relation", "parents", "--source", "HP"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("HP:0000118") && out.contains("HP:0000001"), "{out}");
}

/// A reader that closes the pipe early (`hilgen ... | head`) ends the process quietly.
#[test]
fn a_closed_stdout_is_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let o = hilgen(dir.path(), &["kb", "build", "--ctd", "ctd.tsv.gz", "--out", "kb"]);
    assert!(o.status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_hilgen"))
        .current_dir(dir.path())
        .args(["kb", "stats", "--kb", "kb", "--log", "error"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}
