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

mod words;

use std::{collections::BTreeSet, fmt};

use anyhow::{Context, bail};
use chrono::{Datelike, Days, NaiveDate};
use entity::{
    AgreementKind, DatePrecision, EventKind, EventRole, InstrumentRole, OrganizationKind,
    PartyRole, ProjectKind, ProjectRole, ProjectStatus, Recurrence, agreement,
    agreement_instrument, agreement_party, event, event_participant, instrument, organization,
    project, project_participant, project_region, project_theme,
};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ActiveEnum, DatabaseConnection, DatabaseTransaction, EntityTrait, Iterable, TransactionTrait,
    Value,
};

use crate::store::bulk::{self, Rows};

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

/// Draws indexes `0..n` with probability proportional to `1 / (rank + 1)^s`.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        let mut total = 0.0;
        let cdf = (0..n.max(1))
            .map(|k| {
                total += 1.0 / ((k + 1) as f64).powf(s);
                total
            })
            .collect();
        Self { cdf }
    }

    fn sample(&self, rng: &mut impl Rng) -> usize {
        let last = self.cdf.last().copied().unwrap_or(1.0);
        let u = rng.random::<f64>() * last;
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

/// Ids to draw from, the first ones the most often.
struct Pool {
    ids: Vec<i64>,
    zipf: Zipf,
}

impl Pool {
    fn new(ids: Vec<i64>) -> Self {
        let zipf = Zipf::new(ids.len(), 1.0);
        Self { ids, zipf }
    }

    fn draw(&self, rng: &mut impl Rng) -> Option<i64> {
        self.ids.get(self.zipf.sample(rng)).copied()
    }

    /// Up to `k` distinct ids (fewer when the pool is small or the draws keep colliding).
    fn draw_distinct(&self, rng: &mut impl Rng, k: usize) -> Vec<i64> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::with_capacity(k);
        for _ in 0..k * 4 {
            if out.len() == k {
                break;
            }
            if let Some(id) = self.draw(rng)
                && seen.insert(id)
            {
                out.push(id);
            }
        }
        out
    }
}

struct Generator<'a> {
    txn: &'a DatabaseTransaction,
    rng: ChaCha8Rng,
    bar: ProgressBar,
    report: Report,
    organizations: Vec<i64>,
    agreements: Vec<i64>,
    projects: Vec<i64>,
    instruments: Vec<i64>,
}

/// One more than `extra` with probability `1 - p` each time, `cap` at most: a geometric count.
fn geometric(rng: &mut impl Rng, p: f64, cap: usize) -> usize {
    let mut k = 0;
    while k < cap && !rng.random_bool(p) {
        k += 1;
    }
    k
}

fn pick<'t, T>(rng: &mut impl Rng, items: &'t [T]) -> &'t T {
    // The lists are constants or enum variants: never empty.
    items.choose(rng).unwrap_or(&items[0])
}

fn enum_value<E: ActiveEnum<Value = String>>(e: &E) -> Value {
    e.to_value().into()
}

/// `Andean Labour Council` → `andean-labour-council-1234` (the id keeps it unique).
fn slug(name: &str, id: i64) -> String {
    let mut s = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.truncate(80);
    let s = s.trim_end_matches('-');
    format!("{s}-{id}")
}

/// The first day of the period of `precision` containing `date`.
fn truncate(date: NaiveDate, precision: DatePrecision) -> NaiveDate {
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(date);
    match precision {
        DatePrecision::Year => ymd(date.year(), 1, 1),
        DatePrecision::Month => ymd(date.year(), date.month(), 1),
        DatePrecision::Day => date,
    }
}

/// A date between 1990 and 2027 at a precision drawn with the weights (year, month, day).
fn partial_date(rng: &mut impl Rng, weights: (f64, f64)) -> (NaiveDate, DatePrecision) {
    let epoch = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default();
    let date = epoch + Days::new(rng.random_range(0..37 * 365));
    let u = rng.random::<f64>();
    let precision = if u < weights.0 {
        DatePrecision::Year
    } else if u < weights.0 + weights.1 {
        DatePrecision::Month
    } else {
        DatePrecision::Day
    };
    (truncate(date, precision), precision)
}

/// An end at the start's precision, `0..max_days` later: never before the start.
fn end_after(
    rng: &mut impl Rng,
    start: (NaiveDate, DatePrecision),
    max_days: u64,
) -> (NaiveDate, DatePrecision) {
    let end = start.0 + Days::new(rng.random_range(0..max_days));
    (truncate(end, start.1), start.1)
}

fn date_values(date: Option<(NaiveDate, DatePrecision)>) -> [Value; 2] {
    match date {
        Some((d, p)) => [Some(d).into(), Some(p.to_value()).into()],
        None => [
            Option::<NaiveDate>::None.into(),
            Option::<String>::None.into(),
        ],
    }
}

impl<'a> Generator<'a> {
    async fn new(
        txn: &'a DatabaseTransaction,
        seed: u64,
        bar: ProgressBar,
    ) -> anyhow::Result<Self> {
        let read = "Failed to read the existing records";
        Ok(Self {
            txn,
            rng: ChaCha8Rng::seed_from_u64(seed),
            bar,
            report: Report::default(),
            organizations: bulk::ids::<organization::Entity>(txn).await.context(read)?,
            agreements: bulk::ids::<agreement::Entity>(txn).await.context(read)?,
            projects: bulk::ids::<project::Entity>(txn).await.context(read)?,
            instruments: bulk::ids::<instrument::Entity>(txn).await.context(read)?,
        })
    }

    async fn next_id<E: EntityTrait>(&self) -> anyhow::Result<i64> {
        Ok(bulk::max_id::<E>(self.txn)
            .await
            .context("Failed to read the largest id")?
            + 1)
    }

    async fn write<E: EntityTrait>(
        &mut self,
        table: &'static str,
        rows: Rows<E>,
    ) -> anyhow::Result<()> {
        let n = rows.len() as u64;
        self.bar.set_message(table);
        self.bar.inc_length(n);
        let bar = self.bar.clone();
        bulk::insert(self.txn, rows, |k| bar.inc(k))
            .await
            .with_context(|| format!("Failed to insert into {table}"))?;
        self.report.tables.push((table, n));
        Ok(())
    }

    async fn organizations(&mut self, n: usize) -> anyhow::Result<()> {
        use organization::Column as C;
        let first = self.next_id::<organization::Entity>().await?;
        let kinds: Vec<_> = OrganizationKind::iter().collect();
        let mut rows = Rows::<organization::Entity>::new(vec![
            C::Id,
            C::Slug,
            C::Name,
            C::Acronym,
            C::Kind,
            C::ParentId,
            C::Website,
            C::Description,
        ]);
        let existing = self.organizations.len();
        // Parents are drawn among the records before, the big ones most often: no cycles.
        let zipf = Zipf::new(existing + n, 1.0);
        for i in 0..n {
            let id = first + i as i64;
            let rng = &mut self.rng;
            let (place, field, body) = (
                *pick(rng, words::PLACES),
                *pick(rng, words::FIELDS),
                *pick(rng, words::BODIES),
            );
            let name = format!("{place} {field} {body}");
            let slug = slug(&name, id);
            let acronym = rng.random_bool(0.6).then(|| {
                name.split([' ', '-'])
                    .filter_map(|w| w.chars().next())
                    .filter(char::is_ascii_uppercase)
                    .collect::<String>()
            });
            let before = existing + i;
            let parent = (before > 0 && rng.random_bool(0.15))
                .then(|| self.organizations[zipf.sample(rng) % before]);
            let website = rng
                .random_bool(0.5)
                .then(|| format!("https://{slug}.example.org"));
            let description = rng.random_bool(0.3).then(|| {
                format!(
                    "A made-up {} body working on {} in the {place} region.",
                    body.to_lowercase(),
                    field.to_lowercase()
                )
            });
            rows.push(vec![
                id.into(),
                slug.into(),
                name.into(),
                acronym.into(),
                enum_value(pick(rng, &kinds)),
                parent.into(),
                website.into(),
                description.into(),
            ]);
            self.organizations.push(id);
        }
        self.write("organizations", rows).await?;
        bulk::sync_id_sequence::<organization::Entity>(self.txn).await?;
        Ok(())
    }

    async fn agreements(&mut self, n: usize) -> anyhow::Result<()> {
        use agreement::Column as C;
        let first = self.next_id::<agreement::Entity>().await?;
        let kinds: Vec<_> = AgreementKind::iter().collect();
        let mut rows = Rows::<agreement::Entity>::new(vec![
            C::Id,
            C::Slug,
            C::Title,
            C::Kind,
            C::SignedOn,
            C::SignedPrecision,
            C::Summary,
        ]);
        let mut parties = Rows::<agreement_party::Entity>::new(vec![
            agreement_party::Column::AgreementId,
            agreement_party::Column::OrganizationId,
            agreement_party::Column::Role,
            agreement_party::Column::SinceOn,
            agreement_party::Column::SincePrecision,
        ]);
        let mut instruments = Rows::<agreement_instrument::Entity>::new(vec![
            agreement_instrument::Column::AgreementId,
            agreement_instrument::Column::InstrumentId,
            agreement_instrument::Column::Role,
        ]);
        let organizations = Pool::new(self.organizations.clone());
        let instrument_roles: Vec<_> = InstrumentRole::iter().collect();
        for i in 0..n {
            let id = first + i as i64;
            let rng = &mut self.rng;
            let title = format!(
                "{} {} in the {} Region",
                pick(rng, words::AGREEMENT_FORMS),
                pick(rng, words::FIELDS),
                pick(rng, words::PLACES)
            );
            let signed = rng.random_bool(0.85).then(|| partial_date(rng, (0.5, 0.3)));
            let [signed_on, signed_precision] = date_values(signed);
            let summary = rng
                .random_bool(0.4)
                .then(|| format!("Synthetic agreement number {id}, made for load tests."));
            rows.push(vec![
                id.into(),
                slug(&title, id).into(),
                title.into(),
                enum_value(pick(rng, &kinds)),
                signed_on,
                signed_precision,
                summary.into(),
            ]);
            let k = 2 + geometric(rng, 0.5, 10);
            for (j, org) in organizations.draw_distinct(rng, k).into_iter().enumerate() {
                let role = match j {
                    0 | 1 => PartyRole::Signatory,
                    _ if rng.random_bool(0.7) => PartyRole::Partner,
                    _ => PartyRole::Supporter,
                };
                let since = signed.filter(|_| rng.random_bool(0.15));
                let [since_on, since_precision] = date_values(since);
                parties.push(vec![
                    id.into(),
                    org.into(),
                    enum_value(&role),
                    since_on,
                    since_precision,
                ]);
            }
            if !self.instruments.is_empty() {
                let k = geometric(rng, 0.65, 3).min(self.instruments.len());
                let chosen: Vec<i64> = self.instruments.choose_multiple(rng, k).copied().collect();
                for instrument in chosen {
                    instruments.push(vec![
                        id.into(),
                        instrument.into(),
                        enum_value(pick(rng, &instrument_roles)),
                    ]);
                }
            }
            self.agreements.push(id);
        }
        self.write("agreements", rows).await?;
        bulk::sync_id_sequence::<agreement::Entity>(self.txn).await?;
        self.write("agreement_parties", parties).await?;
        bulk::sync_id_sequence::<agreement_party::Entity>(self.txn).await?;
        self.write("agreement_instruments", instruments).await?;
        bulk::sync_id_sequence::<agreement_instrument::Entity>(self.txn).await?;
        Ok(())
    }

    async fn projects(&mut self, n: usize) -> anyhow::Result<()> {
        use project::Column as C;
        let first = self.next_id::<project::Entity>().await?;
        let kinds: Vec<_> = ProjectKind::iter().collect();
        let roles: Vec<_> = ProjectRole::iter().collect();
        let mut rows = Rows::<project::Entity>::new(vec![
            C::Id,
            C::Slug,
            C::Name,
            C::Kind,
            C::Status,
            C::Summary,
            C::StartsOn,
            C::StartsPrecision,
            C::EndsOn,
            C::EndsPrecision,
            C::AgreementId,
        ]);
        let mut participants = Rows::<project_participant::Entity>::new(vec![
            project_participant::Column::ProjectId,
            project_participant::Column::OrganizationId,
            project_participant::Column::Role,
        ]);
        let mut regions = Rows::<project_region::Entity>::new(vec![
            project_region::Column::ProjectId,
            project_region::Column::Region,
        ]);
        let mut themes = Rows::<project_theme::Entity>::new(vec![
            project_theme::Column::ProjectId,
            project_theme::Column::Theme,
        ]);
        let organizations = Pool::new(self.organizations.clone());
        let agreements = Pool::new(self.agreements.clone());
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
        for i in 0..n {
            let id = first + i as i64;
            let rng = &mut self.rng;
            let name = format!(
                "{} {} {}",
                pick(rng, words::PLACES),
                pick(rng, words::FIELDS),
                pick(rng, words::PROJECT_FORMS)
            );
            let starts = rng.random_bool(0.8).then(|| partial_date(rng, (0.4, 0.3)));
            let ends = starts
                .filter(|_| rng.random_bool(0.7))
                .map(|s| end_after(rng, s, 8 * 365));
            let status = if rng.random_bool(0.05) || starts.is_none() {
                ProjectStatus::Unknown
            } else if starts.is_some_and(|s| s.0 > today) {
                ProjectStatus::Planned
            } else if ends.is_some_and(|e| e.0 < today) {
                ProjectStatus::Completed
            } else {
                ProjectStatus::Active
            };
            let [starts_on, starts_precision] = date_values(starts);
            let [ends_on, ends_precision] = date_values(ends);
            let agreement = rng.random_bool(0.5).then(|| agreements.draw(rng)).flatten();
            let summary = rng
                .random_bool(0.4)
                .then(|| format!("Synthetic project number {id}, made for load tests."));
            rows.push(vec![
                id.into(),
                slug(&name, id).into(),
                name.into(),
                enum_value(pick(rng, &kinds)),
                enum_value(&status),
                summary.into(),
                starts_on,
                starts_precision,
                ends_on,
                ends_precision,
                agreement.into(),
            ]);
            let k = 1 + geometric(rng, 0.25, 39);
            for (j, org) in organizations.draw_distinct(rng, k).into_iter().enumerate() {
                let role = if j == 0 {
                    ProjectRole::Lead
                } else {
                    *pick(rng, &roles)
                };
                participants.push(vec![id.into(), org.into(), enum_value(&role)]);
            }
            let k = 1 + geometric(rng, 0.6, 2);
            for region in words::REGIONS.choose_multiple(rng, k) {
                regions.push(vec![id.into(), (*region).into()]);
            }
            let k = 1 + geometric(rng, 0.6, 2);
            for theme in words::THEMES.choose_multiple(rng, k) {
                themes.push(vec![id.into(), (*theme).into()]);
            }
            self.projects.push(id);
        }
        self.write("projects", rows).await?;
        bulk::sync_id_sequence::<project::Entity>(self.txn).await?;
        self.write("project_participants", participants).await?;
        bulk::sync_id_sequence::<project_participant::Entity>(self.txn).await?;
        self.write("project_regions", regions).await?;
        self.write("project_themes", themes).await?;
        Ok(())
    }

    async fn events(&mut self, n: usize) -> anyhow::Result<()> {
        use event::Column as C;
        let first = self.next_id::<event::Entity>().await?;
        let kinds: Vec<_> = EventKind::iter()
            .filter(|k| !matches!(k, EventKind::Session | EventKind::Forum))
            .collect();
        let recurrences: Vec<_> = Recurrence::iter().collect();
        let roles: Vec<_> = EventRole::iter().collect();
        let mut rows = Rows::<event::Entity>::new(vec![
            C::Id,
            C::Slug,
            C::Name,
            C::Kind,
            C::Summary,
            C::StartsOn,
            C::StartsPrecision,
            C::EndsOn,
            C::EndsPrecision,
            C::Location,
            C::Recurrence,
            C::ParentId,
            C::ProjectId,
            C::AgreementId,
        ]);
        let mut participants = Rows::<event_participant::Entity>::new(vec![
            event_participant::Column::EventId,
            event_participant::Column::OrganizationId,
            event_participant::Column::Role,
        ]);
        let organizations = Pool::new(self.organizations.clone());
        let agreements = Pool::new(self.agreements.clone());
        let projects = Pool::new(self.projects.clone());
        let mut forums: Vec<i64> = Vec::new();
        for i in 0..n {
            let id = first + i as i64;
            let rng = &mut self.rng;
            let u = rng.random::<f64>();
            let (kind, parent) = if u < 0.1 {
                forums.push(id);
                (EventKind::Forum, None)
            } else if u < 0.35 && !forums.is_empty() {
                (EventKind::Session, Some(*pick(rng, &forums)))
            } else {
                (*pick(rng, &kinds), None)
            };
            let starts = rng.random_bool(0.95).then(|| partial_date(rng, (0.1, 0.2)));
            let name = format!(
                "{} {} {} {}",
                starts.map_or(2020, |s| s.0.year()),
                pick(rng, words::PLACES),
                pick(rng, words::FIELDS),
                pick(rng, words::EVENT_FORMS)
            );
            let ends = starts
                .filter(|_| rng.random_bool(0.6))
                .map(|s| end_after(rng, s, 5));
            let [starts_on, starts_precision] = date_values(starts);
            let [ends_on, ends_precision] = date_values(ends);
            let location = rng
                .random_bool(0.7)
                .then(|| (*pick(rng, words::CITIES)).to_owned());
            let recurrence = rng
                .random_bool(0.6)
                .then(|| pick(rng, &recurrences).to_value());
            let project = rng.random_bool(0.3).then(|| projects.draw(rng)).flatten();
            let agreement = rng
                .random_bool(0.15)
                .then(|| agreements.draw(rng))
                .flatten();
            let summary = rng
                .random_bool(0.3)
                .then(|| format!("Synthetic event number {id}, made for load tests."));
            rows.push(vec![
                id.into(),
                slug(&name, id).into(),
                name.into(),
                enum_value(&kind),
                summary.into(),
                starts_on,
                starts_precision,
                ends_on,
                ends_precision,
                location.into(),
                recurrence.into(),
                parent.into(),
                project.into(),
                agreement.into(),
            ]);
            let k = 1 + geometric(rng, 0.35, 29);
            for (j, org) in organizations.draw_distinct(rng, k).into_iter().enumerate() {
                let role = if j == 0 {
                    EventRole::Organizer
                } else {
                    *pick(rng, &roles)
                };
                participants.push(vec![id.into(), org.into(), enum_value(&role)]);
            }
        }
        self.write("events", rows).await?;
        bulk::sync_id_sequence::<event::Entity>(self.txn).await?;
        self.write("event_participants", participants).await?;
        bulk::sync_id_sequence::<event_participant::Entity>(self.txn).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
