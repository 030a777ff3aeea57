//! The generator itself: it draws each kind of record and its links, a table at a time, and
//! writes them with multi-row inserts in the caller's transaction.

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use entity::{
    AgreementKind, EventKind, EventRole, InstrumentRole, OrganizationKind, PartyRole, ProjectKind,
    ProjectRole, ProjectStatus, Recurrence, agreement, agreement_instrument, agreement_party,
    event, event_participant, instrument, organization, project, project_participant,
    project_region, project_theme,
};
use indicatif::ProgressBar;
use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ActiveEnum, DatabaseTransaction, EntityTrait, Iterable};

use super::{
    Report,
    draw::{Pool, Zipf, date_values, end_after, enum_value, geometric, partial_date, pick, slug},
    words,
};
use crate::store::bulk::{self, Rows};

pub(super) struct Generator<'a> {
    txn: &'a DatabaseTransaction,
    rng: ChaCha8Rng,
    bar: ProgressBar,
    pub(super) report: Report,
    organizations: Vec<i64>,
    agreements: Vec<i64>,
    projects: Vec<i64>,
    instruments: Vec<i64>,
}

impl<'a> Generator<'a> {
    pub(super) async fn new(
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

    pub(super) async fn organizations(&mut self, n: usize) -> anyhow::Result<()> {
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

    pub(super) async fn agreements(&mut self, n: usize) -> anyhow::Result<()> {
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

    pub(super) async fn projects(&mut self, n: usize) -> anyhow::Result<()> {
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

    pub(super) async fn events(&mut self, n: usize) -> anyhow::Result<()> {
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
