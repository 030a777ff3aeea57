use std::process::ExitCode;

use clap::Parser;
use partnerships::cli::Cli;

/// mimalloc rather than glibc's malloc: responses are many small short-lived allocations
/// (values, strings, futures) freed across threads, where glibc spent a fifth of the server's
/// time (docs/BENCHMARKS.md, "The allocator").
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
