//! `--device cuda` loads libtorch's CUDA library by itself: a binary built against a CUDA
//! libtorch does not link `libtorch_cuda.so` (the linker drops a library none of whose functions
//! is called), and without it loaded libtorch sees no GPU. This machine has no GPU, so the test
//! stands a stub `libtorch_cuda.so` (it records that it was loaded) beside links to the real
//! libtorch, runs `hilgen train --device cuda` against that folder, and checks that the stub was
//! loaded and that the error says so, naming the library.

use std::path::{Path, PathBuf};
use std::process::Command;

const STUB: &str = r#"
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void hilgen_stub_loaded(void) {
    const char *marker = getenv("HILGEN_TEST_CUDA_MARKER");
    if (marker) {
        FILE *f = fopen(marker, "w");
        if (f) { fputs("loaded\n", f); fclose(f); }
    }
}
"#;

fn libtorch_lib() -> PathBuf {
    let root = std::env::var_os("LIBTORCH").expect("LIBTORCH is set by .cargo/config.toml");
    let lib = PathBuf::from(root).join("lib");
    assert!(lib.join("libtorch_cpu.so").exists(), "no libtorch_cpu.so in {}", lib.display());
    lib
}

/// A folder of links to the real libtorch's libraries plus a stub CUDA library.
fn fake_cuda_libtorch(dir: &Path) -> PathBuf {
    let real = libtorch_lib();
    let fake = dir.join("lib");
    std::fs::create_dir_all(&fake).unwrap();
    for entry in std::fs::read_dir(&real).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "libtorch_cuda.so" {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), fake.join(entry.file_name())).unwrap();
    }
    let src = dir.join("stub.c");
    std::fs::write(&src, STUB).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-shared", "-fPIC", "-o"])
        .arg(fake.join("libtorch_cuda.so"))
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("running {cc} (the C compiler torch-sys also needs): {e}"));
    assert!(status.success(), "compiling the stub failed");
    fake
}

/// `hilgen train --device cuda` on a two-sentence file in `dir`, with `env` set.
fn train_on_cuda(dir: &Path, env: &[(&str, &Path)]) -> (bool, String) {
    let shots = dir.join("shots.tsv");
    std::fs::write(&shots, "Aspirin\tB-Chemical\ncauses\tO\nulcers\tB-Disease\n.\tO\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hilgen"));
    cmd.args(["train", "--train"]).arg(&shots).arg("--out").arg(dir.join("model"));
    cmd.args(["--device", "cuda", "--epochs", "1", "--no-dann"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn device_cuda_loads_the_cuda_library_beside_libtorch() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_cuda_libtorch(dir.path());
    let marker = dir.path().join("marker");
    // Found before the binary's own run path, as a user's LD_LIBRARY_PATH would be.
    let (ok, stderr) = train_on_cuda(dir.path(), &[("LD_LIBRARY_PATH", &fake), ("HILGEN_TEST_CUDA_MARKER", &marker)]);
    assert!(!ok, "a stub has no GPU: {stderr}");
    assert!(marker.exists(), "hilgen did not load {}/libtorch_cuda.so; stderr: {stderr}", fake.display());
    assert!(stderr.contains("sees no CUDA GPU"), "{stderr}");
    assert!(stderr.contains(&format!("{}/libtorch_cuda.so is loaded", fake.display())), "{stderr}");
}

#[test]
fn device_cuda_on_a_cpu_libtorch_says_it_is_a_cpu_build() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stderr) = train_on_cuda(dir.path(), &[]);
    assert!(!ok);
    assert!(stderr.contains("has no libtorch_cuda.so (a CPU build of libtorch"), "{stderr}");
    assert!(stderr.contains("cargo xtask setup --cuda"), "{stderr}");
    assert!(!dir.path().join("model").exists());
}
