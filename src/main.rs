use std::process::ExitCode;

use clap::Parser;
use partnerships::cli::Cli;

/// mimalloc rather than glibc's malloc: a response is thousands of small short-lived
/// allocations (values, strings, futures), often freed on another thread, and glibc's malloc
/// and free were a fifth of the server's samples on the nested list. The flat list is 15 %
/// faster with it, nested reads the same, at about 12 MiB more resident (docs/BENCHMARKS.md,
/// item 19).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    match Cli::parse().run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
