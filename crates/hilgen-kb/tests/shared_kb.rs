//! Integration tests on the real knowledge sources in the shared folder (`HILGEN_KB`, set to
//! `../shared/kb` by `.cargo/config.toml`): counts as loaded, expansions checked against the
//! source rows, and bad input.

use hilgen_kb::{build, load, Kb, KbError, MatchKind, Relation, RrfOptions, Sources};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn kb_dir(rel: &str) -> PathBuf {
    PathBuf::from(std::env::var_os("HILGEN_KB").expect("HILGEN_KB is set by .cargo/config.toml")).join(rel)
}

fn rrf_lines(file: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(kb_dir("umls-sample-nci").join(file))
        .unwrap()
        .lines()
        .map(|l| l.split('|').map(String::from).collect())
        .collect()
}

fn umls(opts: RrfOptions) -> (tempfile::TempDir, Kb) {
    let dir = tempfile::tempdir().unwrap();
    build(&Sources { rrf: Some((kb_dir("umls-sample-nci"), opts)), ..Default::default() }, dir.path()).unwrap();
    let kb = Kb::open(dir.path()).unwrap();
    (dir, kb)
}

#[test]
fn umls_sample_counts_as_loaded() {
    let all = RrfOptions { languages: vec![], include_suppressed: true, ..Default::default() };
    let (graph, reports, _) =
        load(&Sources { rrf: Some((kb_dir("umls-sample-nci"), all)), ..Default::default() }).unwrap();
    let r = &reports[0]["report"];
    assert_eq!(r["atom_rows"], 19_426);
    assert_eq!(graph.len(), 2_238);
    assert_eq!(r["atoms_kept"], 19_426);
    assert_eq!(graph.types.len(), 71);
    assert!(graph.concepts.iter().all(|c| !c.types.is_empty()), "MRSTY covers every CUI");
    assert_eq!(r["hierarchy_rows"]["SNOMEDCT_US"], 290, "145 PAR + 145 CHD rows");
    // PAR and CHD rows describe the same edges (145 rows each, fewer distinct CUI pairs since
    // several atoms of one concept pair can be related).
    let rows = rrf_lines("MRREL.RRF");
    let par: BTreeSet<(String, String)> =
        rows.iter().filter(|f| f[3] == "PAR" && f[10] == "SNOMEDCT_US").map(|f| (f[0].clone(), f[4].clone())).collect();
    let chd: BTreeSet<(String, String)> =
        rows.iter().filter(|f| f[3] == "CHD" && f[10] == "SNOMEDCT_US").map(|f| (f[4].clone(), f[0].clone())).collect();
    assert_eq!(par, chd);
    // Atom-level rows inside one concept (CUI1 = CUI2) are not concept edges.
    let par: BTreeSet<(String, String)> = par.into_iter().filter(|(a, b)| a != b).collect();
    let snomed = graph.sources.iter().position(|s| s == "SNOMEDCT_US").unwrap() as u16;
    let edges: BTreeSet<(String, String)> = graph
        .hierarchy
        .iter()
        .filter(|e| e.2 == snomed)
        .map(|e| (graph.concepts[e.0 as usize].id.clone(), graph.concepts[e.1 as usize].id.clone()))
        .collect();
    assert_eq!(edges, par);
    // Default filters: English, unsuppressed.
    let (_, kb) = umls(RrfOptions::default());
    let eng: usize = rrf_lines("MRCONSO.RRF")
        .iter()
        .filter(|f| f[1] == "ENG" && !matches!(f[16].as_str(), "O" | "E" | "Y"))
        .map(|f| f[0].clone())
        .collect::<BTreeSet<_>>()
        .len();
    assert_eq!(kb.len(), eng);
}

#[test]
fn umls_expansions_match_the_rrf_rows() {
    let (_d, kb) = umls(RrfOptions::default());
    // Parents in SNOMEDCT_US from MRREL: REL=PAR means CUI2 is a parent of CUI1.
    let rel = rrf_lines("MRREL.RRF");
    let par: Vec<&Vec<String>> = rel.iter().filter(|f| f[3] == "PAR" && f[10] == "SNOMEDCT_US").collect();
    let child = &par[0][0];
    let want: BTreeSet<String> = par.iter().filter(|f| &f[0] == child).map(|f| f[4].clone()).collect();
    let c = kb.lookup(child).unwrap();
    let got: BTreeSet<String> =
        kb.expand(c, Relation::Parent, Some("SNOMEDCT_US"), 100).unwrap().into_iter().map(|e| e.concept).collect();
    assert_eq!(got, want);
    // Children of one of those parents include the child; siblings exclude it.
    let p = kb.lookup(want.iter().next().unwrap()).unwrap();
    let children: Vec<String> =
        kb.expand(p, Relation::Child, Some("SNOMEDCT_US"), 100).unwrap().into_iter().map(|e| e.concept).collect();
    assert!(children.contains(child));
    let siblings = kb.expand(c, Relation::Sibling, Some("SNOMEDCT_US"), 100).unwrap();
    assert!(siblings.iter().all(|e| &e.concept != child && e.source == "SNOMEDCT_US"));
    // Synonyms: the English strings of the CUI, preferred first, distinct after normalization.
    let conso = rrf_lines("MRCONSO.RRF");
    let strings: BTreeSet<String> = conso
        .iter()
        .filter(|f| &f[0] == child && f[1] == "ENG" && !matches!(f[16].as_str(), "O" | "E" | "Y"))
        .map(|f| f[14].clone())
        .collect();
    let syn = kb.synonyms(c, 1000);
    assert!(syn.iter().all(|e| strings.contains(&e.name) && e.relation == Relation::Synonym));
    let norms: BTreeSet<String> = strings.iter().map(|s| hilgen_kb::normalize(s)).collect();
    assert_eq!(syn.len(), norms.len());
    // Related concepts share a semantic type, carry their REL, and are stable.
    let related = kb.related_same_type(c, 10);
    assert!(related.len() <= 10);
    for e in &related {
        let o = kb.lookup(&e.concept).unwrap();
        assert!(kb.types(o).iter().any(|t| kb.types(c).contains(t)), "{e:?}");
        assert!(e.via.is_some());
    }
    assert_eq!(related, kb.related_same_type(c, 10));
    // Linking: a string of the sample links back to its CUI exactly.
    let name = kb.preferred_name(c).to_string();
    let hits = kb.link(&name, 2, 5);
    assert!(hits.iter().any(|h| &h.concept == child && h.kind == MatchKind::Exact), "{hits:?}");
}

fn ctd_mesh() -> (tempfile::TempDir, Kb) {
    let dir = tempfile::tempdir().unwrap();
    let sources = Sources {
        ctd: vec![kb_dir("ctd-medic-2017/CTD_diseases.tsv.gz")],
        mesh_tree: vec![kb_dir("mesh-tree-2017/2017MeshTree.txt")],
        ..Default::default()
    };
    build(&sources, dir.path()).unwrap();
    let kb = Kb::open(dir.path()).unwrap();
    (dir, kb)
}

#[test]
fn ctd_medic_counts_and_parents() {
    let (graph, reports, _) =
        load(&Sources { ctd: vec![kb_dir("ctd-medic-2017/CTD_diseases.tsv.gz")], ..Default::default() }).unwrap();
    assert_eq!(reports[0]["report"]["concepts"], 11_865);
    assert_eq!(reports[0]["report"]["parent_edges"], 20_018);
    // 66,129 synonym fields, 1,148 of them OMIM titles marked `, INCLUDED` or the marker alone,
    // no names (`ctd::is_name`).
    assert_eq!(reports[0]["report"]["synonyms"], 64_981);
    assert_eq!(graph.len(), 11_865);
    let (_d, kb) = ctd_mesh();
    // Diabetes Mellitus, Type 2: parents equal its ParentIDs column.
    let c = kb.lookup("MESH:D003924").unwrap();
    let got: BTreeSet<String> =
        kb.expand(c, Relation::Parent, Some("MEDIC"), 100).unwrap().into_iter().map(|e| e.concept).collect();
    let text = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(kb_dir("ctd-medic-2017/CTD_diseases.tsv.gz")).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    let row: Vec<&str> =
        text.lines().find(|l| l.split('\t').nth(1) == Some("MESH:D003924")).unwrap().split('\t').collect();
    let want: BTreeSet<String> = row[4].split('|').map(String::from).collect();
    assert_eq!(got, want);
    // MeSH tree parents of the same descriptor come from tree numbers.
    let msh: Vec<String> =
        kb.expand(c, Relation::Parent, Some("MSH"), 100).unwrap().into_iter().map(|e| e.concept).collect();
    assert_eq!(msh, ["MESH:D003920"]);
    let (_, reports, _) =
        load(&Sources { mesh_tree: vec![kb_dir("mesh-tree-2017/2017MeshTree.txt")], ..Default::default() }).unwrap();
    let r = &reports[0]["report"];
    assert_eq!(
        (r["tree_numbers"].as_u64(), r["descriptors"].as_u64(), r["parent_edges"].as_u64()),
        (Some(57_840), Some(28_470), Some(38_579))
    );
    assert_eq!(kb.expand(c, Relation::Parent, None, 100).unwrap()[0].source, "MSH", "MSH is preferred over MEDIC");
}

#[test]
fn linking_on_ctd_and_mesh() {
    let (_d, kb) = ctd_mesh();
    let hits = kb.link("Diabetes Mellitus, Type 2", 2, 5);
    assert_eq!((hits[0].concept.as_str(), hits[0].kind), ("MESH:D003924", MatchKind::Exact));
    let hits = kb.link("type 2 diabetes mellitus", 2, 5);
    assert!(hits.iter().any(|h| h.concept == "MESH:D003924" && h.kind == MatchKind::Normalized), "{hits:?}");
    let hits = kb.link("diabetes melitus type 2", 2, 5);
    assert_eq!(hits[0].concept, "MESH:D003924");
    assert_eq!(hits[0].kind, MatchKind::Fuzzy(1));
    assert!(kb.link("qqqqqqqqqqqqqq", 2, 5).is_empty());
    let hits = kb.link("type 2 diabetes", 2, 5);
    assert_eq!((hits[0].concept.as_str(), hits[0].kind), ("MESH:D003924", MatchKind::Prefix), "{hits:?}");
    // A chemical from the MeSH tree (D category) is there too.
    let hits = kb.link("Cisplatin", 0, 5);
    assert_eq!(hits[0].concept, "MESH:D002945");
    let types = kb.types(kb.lookup("MESH:D002945").unwrap());
    assert!(types.iter().any(|t| t.starts_with('D')), "{types:?}");
}

#[test]
fn disease_ontology_loads() {
    let (graph, reports, _) =
        load(&Sources { obo: vec![kb_dir("doid-2016/doid_2016.obo")], ..Default::default() }).unwrap();
    let r = &reports[0]["report"];
    assert_eq!(r["terms"], 6_874);
    assert_eq!(r["is_a"], 8_062);
    let umls = graph.concepts.iter().flat_map(|c| &c.xrefs).filter(|x| x.starts_with("UMLS:")).count();
    // 6,470 `UMLS_CUI:` xrefs on live terms, plus one written `UMLS:C0265219` (line 15277).
    assert_eq!(umls, 6_471);
    let mesh = graph.concepts.iter().flat_map(|c| &c.xrefs).filter(|x| x.starts_with("MESH:")).count();
    assert_eq!(mesh, 2_948);
}

#[test]
fn tampered_and_truncated_indexes_are_refused() {
    let (dir, kb) = ctd_mesh();
    let path = kb.path().to_path_buf();
    drop(kb);
    let bytes = std::fs::read(&path).unwrap();
    let mut tampered = bytes.clone();
    let at = bytes.len() - 100;
    tampered[at] ^= 0xff;
    std::fs::write(&path, &tampered).unwrap();
    let err = Kb::open(dir.path()).err().unwrap().to_string();
    assert!(err.contains("checksum mismatch in section"), "{err}");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = Kb::open(dir.path()).err().unwrap().to_string();
    assert!(err.contains("truncated"), "{err}");
    std::fs::write(&path, b"not an index at all").unwrap();
    assert!(matches!(Kb::open(dir.path()), Err(KbError::Corrupt { .. })));
}

#[test]
fn bad_source_rows_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("META");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(meta.join("MRCONSO.RRF"), "C0000005|ENG|P|L0187013|PF|S2192303|Y|A4332670||M0019694|D012711|MSH|EN|D012711|(131)I-MAA|0|N||\nC1|ENG|P|too few|\n").unwrap();
    let err = load(&Sources { rrf: Some((meta.clone(), RrfOptions::default())), ..Default::default() })
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("MRCONSO.RRF:2: expected 18 `|`-separated fields"), "{err}");
    std::fs::write(meta.join("MRCONSO.RRF"), b"C1|ENG|P|L|PF|S|Y|A||||MSH|EN|D1|caf\xe9|0|N||\n").unwrap();
    let err = load(&Sources { rrf: Some((meta.clone(), RrfOptions::default())), ..Default::default() })
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("MRCONSO.RRF:1: invalid UTF-8"), "{err}");
    std::fs::write(meta.join("MRFILES.RRF"), "MRCONSO.RRF|Concept names|CUI,LAT,NAME|3|1|10|\n").unwrap();
    std::fs::write(meta.join("MRCONSO.RRF"), "C1|ENG|x|\n").unwrap();
    let err =
        load(&Sources { rrf: Some((meta, RrfOptions::default())), ..Default::default() }).err().unwrap().to_string();
    assert!(err.contains("unknown column layout"), "{err}");
    let ctd = dir.path().join("ctd.tsv");
    std::fs::write(&ctd, "# no fields line\nA\tMESH:D1\n").unwrap();
    let err = load(&Sources { ctd: vec![ctd], ..Default::default() }).err().unwrap().to_string();
    assert!(err.contains("unknown column layout"), "{err}");
}

#[test]
fn mesh_xml_entry_terms_are_synonyms() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("desc2017.xml");
    std::fs::write(
        &xml,
        r#"<?xml version="1.0"?>
<DescriptorRecordSet LanguageCode = "eng">
<DescriptorRecord DescriptorClass = "1">
  <DescriptorUI>D003920</DescriptorUI>
  <DescriptorName><String>Diabetes Mellitus</String></DescriptorName>
  <TreeNumberList><TreeNumber>C18.452.394.750</TreeNumber></TreeNumberList>
  <ConceptList><Concept PreferredConceptYN="Y"><TermList>
    <Term><String>Diabetes Mellitus</String></Term>
  </TermList></Concept></ConceptList>
</DescriptorRecord>
<DescriptorRecord DescriptorClass = "1">
  <DescriptorUI>D003924</DescriptorUI>
  <DescriptorName><String>Diabetes Mellitus, Type 2</String></DescriptorName>
  <TreeNumberList><TreeNumber>C18.452.394.750.149</TreeNumber></TreeNumberList>
  <ConceptList><Concept PreferredConceptYN="Y"><TermList>
    <Term><String>Diabetes Mellitus, Type 2</String></Term>
    <Term><String>Type 2 Diabetes &amp; NIDDM</String></Term>
    <Term><String>NIDDM</String></Term>
  </TermList></Concept></ConceptList>
</DescriptorRecord>
</DescriptorRecordSet>"#,
    )
    .unwrap();
    let out = dir.path().join("kb");
    build(&Sources { mesh_xml: vec![xml], ..Default::default() }, &out).unwrap();
    let kb = Kb::open(&out).unwrap();
    let c = kb.lookup("MESH:D003924").unwrap();
    let names: Vec<String> = kb.synonyms(c, 10).into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["Diabetes Mellitus, Type 2", "Type 2 Diabetes & NIDDM", "NIDDM"]);
    assert_eq!(kb.expand(c, Relation::Parent, None, 5).unwrap()[0].concept, "MESH:D003920");
}
