//! Synthetic data at scale, on top of the seed: `partnerships generate --scale N [--seed 42]`.
//!
//! At scale 1 it adds about 10,000 organizations, 20,000 agreements, 20,000 projects, 100,000
//! events and half a million link rows (parties, participants, regions, themes, instrument links).
//! Fan-out is skewed the way real networks are: organizations are drawn from a Zipf distribution
//! (the seed's organizations rank first, so the ILO and its peers become hubs with thousands of
//! links while most organizations have a handful), and so are the agreements projects carry out
//! and the projects events belong to.
//!
//! The rows depend only on the random seed and on the database they are added to: the same
//! seed over the same database gives the same rows (ids included). Everything is written in one
//! transaction with multi-row `INSERT`s (see `store::bulk`), on PostgreSQL and SQLite alike.

mod draw;
mod generator;
mod words;

use std::fmt;

use anyhow::{Context, bail};
use entity::organization;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::store::bulk;
use generator::Generator;

/// The largest scale accepted: 100 is ten million events, already more than a test machine holds.
pub const MAX_SCALE: f64 = 100.0;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// 1 ≈ 10,000 organizations; fractions (0.01) make small sets for tests.
    pub scale: f64,
    /// The random seed: the same number gives the same rows.
    pub seed: u64,
    /// Draw a progress bar on standard error (when it is a terminal).
    pub progress: bool,
}

/// How many records of each kind a scale asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub organizations: usize,
    pub agreements: usize,
    pub projects: usize,
    pub events: usize,
}

impl Plan {
    pub fn at(scale: f64) -> anyhow::Result<Self> {
        if !scale.is_finite() || scale <= 0.0 || scale > MAX_SCALE {
            bail!("--scale must be a number above 0 and at most {MAX_SCALE}, not {scale}");
        }
        // At least one of each, so even a tiny scale exercises every table.
        let n = |base: f64| ((base * scale).round() as usize).max(1);
        Ok(Self {
            organizations: n(10_000.0),
            agreements: n(20_000.0),
            projects: n(20_000.0),
            events: n(100_000.0),
        })
    }
}

/// The rows written, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub tables: Vec<(&'static str, u64)>,
}

impl Report {
    /// Rows written to `table` (0 when none).
    pub fn rows(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
    }

    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Generated {} rows:", self.total())?;
        for (table, n) in &self.tables {
            writeln!(f, "  {table:<22} {n:>9}")?;
        }
        Ok(())
    }
}

/// Whether the database holds no organization yet (then the dataset is loaded first).
pub async fn is_empty(db: &DatabaseConnection) -> anyhow::Result<bool> {
    let max = bulk::max_id::<organization::Entity>(db)
        .await
        .context("Failed to read the organizations")?;
    Ok(max == 0)
}

/// Adds the synthetic records to `db` in one transaction.
pub async fn run(db: &DatabaseConnection, options: Options) -> anyhow::Result<Report> {
    let plan = Plan::at(options.scale)?;
    let txn = db.begin().await.context("Failed to open a transaction")?;
    let bar = if options.progress {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:<20} [{bar:40}] {human_pos}/{human_len} rows ({per_sec}, {elapsed})",
            )
            .context("progress bar template")?
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut generator = Generator::new(&txn, options.seed, bar.clone()).await?;
    generator.organizations(plan.organizations).await?;
    generator.agreements(plan.agreements).await?;
    generator.projects(plan.projects).await?;
    generator.events(plan.events).await?;
    let report = generator.report;
    // One link-count row per record instead of one per record and bulk insert.
    crate::store::link_counts::fold(&txn)
        .await
        .context("Failed to fold the link counts")?;
    bar.set_message("committing");
    txn.commit().await.context("Failed to commit")?;
    bar.finish_with_message("done");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::{
        draw::{Zipf, end_after, partial_date, slug, truncate},
        *,
    };

    #[test]
    fn slugs_are_valid_and_carry_the_id() {
        for name in [
            "Andean Labour Council",
            "Women's  Fund -- x",
            "2020 Gulf Forum",
        ] {
            let s = slug(name, 42);
            assert!(crate::store::write::is_valid_slug(&s), "{s}");
            assert!(s.ends_with("-42"), "{s}");
        }
    }

    #[test]
    fn scales_outside_the_range_are_refused() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 101.0] {
            assert!(Plan::at(bad).is_err(), "{bad}");
        }
        let plan = Plan::at(1.0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.organizations, 10_000);
        assert_eq!(plan.events, 100_000);
        let tiny = Plan::at(0.00001).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tiny.organizations, 1);
    }

    #[test]
    fn zipf_favours_the_first_ranks() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let zipf = Zipf::new(1000, 1.0);
        let mut counts = vec![0u32; 1000];
        for _ in 0..20_000 {
            counts[zipf.sample(&mut rng)] += 1;
        }
        assert!(counts[0] > 10 * counts[99].max(1), "{:?}", &counts[..10]);
    }

    #[test]
    fn ends_never_precede_starts() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..1000 {
            let start = partial_date(&mut rng, (0.3, 0.3));
            assert_eq!(start.0, truncate(start.0, start.1));
            let end = end_after(&mut rng, start, 400);
            assert!(end.0 >= start.0);
        }
    }
}
