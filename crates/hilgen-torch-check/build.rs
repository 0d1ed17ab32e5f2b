//! Fails the build early, with one clear message, when libtorch is missing.
//!
//! `torch-sys` only reports a C++ compiler error when `LIBTORCH` points nowhere; this crate has
//! no dependencies, so Cargo runs this script before `torch-sys` gets that far.
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_USE_PYTORCH");
    if std::env::var_os("LIBTORCH_USE_PYTORCH").is_some() {
        return;
    }
    let Some(root) = std::env::var_os("LIBTORCH") else {
        fail("the LIBTORCH variable is not set (the workspace's .cargo/config.toml sets it to .hilgen/libtorch)");
    };
    let root = Path::new(&root);
    println!("cargo:rerun-if-changed={}", root.join("lib").display());
    let needed = ["include/torch/csrc/api/include/torch/torch.h", "lib/libc10.so"];
    let cpu = root.join("lib/libtorch_cpu.so").exists() || root.join("lib/libtorch.so").exists();
    for rel in needed {
        if !root.join(rel).exists() {
            fail(&format!("{} is missing", root.join(rel).display()));
        }
    }
    if !cpu {
        fail(&format!("no libtorch_cpu.so or libtorch.so in {}", root.join("lib").display()));
    }
    println!("cargo:rustc-env=HILGEN_LIBTORCH_AT_BUILD={}", root.display());
}

fn fail(why: &str) -> ! {
    eprintln!(
        "\nlibtorch 2.13.0 was not found: {why}.\n\
         Run `cargo xtask setup` (or `cargo xtask test`) once: it installs a CPU libtorch into \
         ~/.cache/hilgen and links it at .hilgen/libtorch.\n\
         To use your own libtorch 2.13.0 (e.g. with CUDA), set LIBTORCH to its folder and run \
         `cargo xtask setup` so that binaries find it at run time.\n"
    );
    std::process::exit(1);
}
