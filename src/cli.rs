//! The command line: `serve` (the default), `migrate`, `seed`, `generate`, `export-schema`,
//! `token`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};

use crate::{
    auth::{self, Authenticator, Role},
    config::{AuthSettings, DatabaseSettings, LogSettings, ServeSettings},
    generate, graphql, seed,
    startup::Application,
    store,
    telemetry::{self, TraceSettings},
};

#[derive(Debug, Parser)]
#[command(
    name = "partnerships",
    version,
    about = "GraphQL API over the partnerships between international organizations",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a subcommand, `partnerships` serves.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the GraphQL API (the default).
    Serve(Box<ServeArgs>),
    /// Apply, roll back or list schema migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
        #[command(flatten)]
        database: DatabaseSettings,
        #[command(flatten)]
        log: LogSettings,
    },
    /// Load a dataset file (upsert by slug; loading twice changes nothing).
    Seed {
        /// The dataset file, in the format of docs/DATA.md (default: the ILO dataset the
        /// binary carries).
        file: Option<PathBuf>,
        /// Also apply pending migrations first.
        #[arg(long)]
        migrate: bool,
        #[command(flatten)]
        database: DatabaseSettings,
        #[command(flatten)]
        log: LogSettings,
    },
    /// Add synthetic records at scale on top of the dataset (loading it first into an empty
    /// database), for load tests and benchmarks.
    Generate {
        /// 1 ≈ 10,000 organizations, 20,000 agreements, 20,000 projects, 100,000 events and
        /// half a million links; fractions (0.01) make small sets.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// The random seed: the same seed over the same database gives the same rows.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The dataset file loaded first when the database holds no organization yet
        /// (default: the ILO dataset the binary carries).
        #[arg(long)]
        dataset: Option<PathBuf>,
        /// Also apply pending migrations first.
        #[arg(long)]
        migrate: bool,
        #[command(flatten)]
        database: DatabaseSettings,
        #[command(flatten)]
        log: LogSettings,
    },
    /// Write the GraphQL schema (SDL) to a file, or to standard output with `-`.
    ExportSchema {
        #[arg(short, long, default_value = "schema.graphql")]
        output: PathBuf,
    },
    /// Mint an HS256 token (signed with JWT_SECRET) for local use, and print it.
    Token {
        /// What the token may do.
        #[arg(long, value_enum)]
        role: TokenRole,
        /// Who the token stands for (its `sub` claim, shown in the audit log).
        #[arg(long)]
        subject: String,
        /// How long it is valid: 90s, 30m, 1h, 7d.
        #[arg(long, default_value = "1h", value_parser = auth::parse_ttl)]
        ttl: std::time::Duration,
        #[command(flatten)]
        auth: AuthSettings,
    },
}

/// The roles a minted token can have.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum TokenRole {
    /// Creates, updates and links records.
    Editor,
    /// Also deletes, restores and reads the audit log.
    Admin,
}

#[derive(Debug, Clone, clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    settings: ServeSettings,
    #[command(flatten)]
    log: LogSettings,
    #[command(flatten)]
    traces: TraceSettings,
}

#[derive(Debug, Clone, Copy, Subcommand)]
enum MigrateAction {
    /// Apply pending migrations (all, or the next N).
    Up {
        #[arg(short = 'n', long)]
        steps: Option<u32>,
    },
    /// Roll back the last N applied migrations.
    Down {
        #[arg(short = 'n', long, default_value_t = 1)]
        steps: u32,
    },
    /// List every migration and whether it is applied.
    Status,
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command.unwrap_or(Command::Serve(Box::new(self.serve))) {
            Command::Serve(args) => {
                let telemetry = telemetry::init_with_traces(
                    &args.log.log_level,
                    args.log.log_format,
                    &args.traces,
                )?;
                let served = match Application::build(args.settings).await {
                    Ok(app) => app.run_until_signalled().await,
                    Err(err) => Err(err),
                };
                // The batch exporter sends from a thread of its own: a blocking call.
                tokio::task::spawn_blocking(move || telemetry.shutdown()).await?;
                served
            }
            Command::Migrate {
                action,
                database,
                log,
            } => {
                telemetry::init(&log.log_level, log.log_format);
                migrate(action, &database).await
            }
            Command::Seed {
                file,
                migrate,
                database,
                log,
            } => {
                telemetry::init(&log.log_level, log.log_format);
                let db = store::connect(&database).await?.writer;
                if migrate {
                    Migrator::up(&db, None)
                        .await
                        .context("Failed to apply migrations")?;
                }
                let dataset = seed::Dataset::or_builtin(file);
                let report = seed::load_dataset(&db, &dataset, "the FILE argument").await?;
                println!("{report}");
                Ok(())
            }
            Command::Generate {
                scale,
                seed,
                dataset,
                migrate,
                database,
                log,
            } => {
                telemetry::init(&log.log_level, log.log_format);
                let db = store::connect(&database).await?.writer;
                if migrate {
                    Migrator::up(&db, None)
                        .await
                        .context("Failed to apply migrations")?;
                }
                if generate::is_empty(&db).await? {
                    let dataset = seed::Dataset::or_builtin(dataset);
                    println!("{}", seed::load_dataset(&db, &dataset, "--dataset").await?);
                }
                let options = generate::Options {
                    scale,
                    seed,
                    progress: true,
                };
                let started = std::time::Instant::now();
                let report = generate::run(&db, options).await?;
                print!("{report}");
                println!("in {:.1} s", started.elapsed().as_secs_f64());
                Ok(())
            }
            Command::ExportSchema { output } => {
                let sdl = graphql::sdl();
                if output.as_os_str() == "-" {
                    print!("{sdl}");
                } else {
                    std::fs::write(&output, sdl)
                        .with_context(|| format!("Failed to write {}", output.display()))?;
                }
                Ok(())
            }
            Command::Token {
                role,
                subject,
                ttl,
                auth,
            } => {
                let role = match role {
                    TokenRole::Editor => Role::Editor,
                    TokenRole::Admin => Role::Admin,
                };
                let token = Authenticator::new(&auth)?.mint(&subject, role, ttl)?;
                println!("{token}");
                Ok(())
            }
        }
    }
}

async fn migrate(action: MigrateAction, database: &DatabaseSettings) -> anyhow::Result<()> {
    let db = store::connect(database).await?.writer;
    match action {
        MigrateAction::Up { steps } => Migrator::up(&db, steps).await,
        MigrateAction::Down { steps } => Migrator::down(&db, Some(steps)).await,
        MigrateAction::Status => {
            for migration in Migrator::get_migration_with_status(&db).await? {
                println!("{}\t{}", migration.status(), migration.name());
            }
            Ok(())
        }
    }
    .context("Migration failed")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
