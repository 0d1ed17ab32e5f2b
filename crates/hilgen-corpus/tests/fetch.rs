//! The fetcher against a `file://` mirror of the shared data folder and a local HTTP server on
//! 127.0.0.1 (this machine has no internet), including checksum failures.

use hilgen_corpus::{fetch::Fetcher, registry};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

fn shared_data() -> PathBuf {
    PathBuf::from(std::env::var_os("HILGEN_DATA").expect("HILGEN_DATA is set by .cargo/config.toml"))
        .canonicalize()
        .unwrap()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Serves files under `root` over HTTP/1.0 for `requests` requests, then stops.
fn serve(root: PathBuf, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/').to_string();
            match std::fs::read(root.join(&path)) {
                Ok(body) => {
                    write!(stream, "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
                    stream.write_all(&body).unwrap();
                }
                Err(_) => write!(stream, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n").unwrap(),
            }
        }
    });
    format!("http://{addr}")
}

#[test]
fn file_mirror_fills_an_empty_data_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let fetcher =
        Fetcher { data_dir: tmp.path().to_path_buf(), mirror: Some(format!("file://{}", shared_data().display())) };
    let spec = registry::get("ncbi-disease").unwrap();
    let paths = fetcher.fetch(&spec).unwrap();
    assert_eq!(paths.len(), 6);
    for (p, f) in paths.iter().zip(&spec.files) {
        assert_eq!(std::fs::read(p).unwrap(), std::fs::read(shared_data().join(f.path)).unwrap());
    }
    // A second fetch only verifies what is there.
    let fetcher = Fetcher::new(tmp.path());
    assert_eq!(fetcher.fetch(&spec).unwrap(), paths);
}

#[test]
fn http_mirror_on_loopback() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = registry::get("bc5cdr").unwrap();
    let mirror = serve(shared_data(), spec.files.len());
    let fetcher = Fetcher { data_dir: tmp.path().to_path_buf(), mirror: Some(mirror) };
    let paths = fetcher.fetch(&spec).unwrap();
    assert_eq!(
        std::fs::metadata(&paths[0]).unwrap().len(),
        std::fs::metadata(shared_data().join("bc5cdr/iob/train.tsv")).unwrap().len()
    );
}

#[test]
fn tampered_mirror_is_rejected_and_leaves_nothing() {
    let mirror = tempfile::tempdir().unwrap();
    let spec = registry::get("medmentions-st21pv-sample").unwrap();
    let rel = spec.files[0].path;
    std::fs::create_dir_all(mirror.path().join(rel).parent().unwrap()).unwrap();
    let mut bytes = std::fs::read(shared_data().join(rel)).unwrap();
    bytes[100] ^= 1;
    std::fs::write(mirror.path().join(rel), bytes).unwrap();
    let data = tempfile::tempdir().unwrap();
    let fetcher =
        Fetcher { data_dir: data.path().to_path_buf(), mirror: Some(format!("file://{}", mirror.path().display())) };
    let err = fetcher.fetch(&spec).unwrap_err().to_string();
    assert!(err.contains("sha256 is") && err.contains("HILGEN_DATA"), "{err}");
    assert!(files_under(data.path()).is_empty(), "{:?}", files_under(data.path()));
}

#[test]
fn wrong_local_file_is_reported_not_replaced() {
    let data = tempfile::tempdir().unwrap();
    let spec = registry::get("medmentions-st21pv-sample").unwrap();
    let local = data.path().join(spec.files[0].path);
    std::fs::create_dir_all(local.parent().unwrap()).unwrap();
    std::fs::write(&local, "not the corpus").unwrap();
    let err = Fetcher::new(data.path()).fetch(&spec).unwrap_err().to_string();
    assert!(err.contains("remove the file"), "{err}");
    assert_eq!(std::fs::read_to_string(&local).unwrap(), "not the corpus");
}
