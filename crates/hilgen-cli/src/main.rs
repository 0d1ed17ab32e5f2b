//! `hilgen`: the command-line tool of the HILGEN workspace (see `hilgen --help`).

// Corpora are millions of small strings; mimalloc allocates and frees them faster than glibc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    hilgen_cli::main_with(std::env::args_os(), &hilgen_augment::Registry::builtin())
}
