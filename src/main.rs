use std::process::ExitCode;

use clap::Parser;
use partnerships::cli::Cli;

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
