//! Writing a validated document: one transaction, upserts by slug, links replaced by the file's.

use std::{collections::HashMap, path::Path};

use anyhow::{Context, anyhow};
use chrono::Utc;
use entity::{
    agreement, agreement_instrument, agreement_party, event, event_instrument, event_participant,
    instrument, organization, project, project_instrument, project_participant, project_region,
    project_theme, source,
};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, TransactionTrait,
    Value, prelude::*,
};

use super::{
    Counts, Dataset, RecordChange, SeedReport,
    document::{Document, InstrumentLinkDoc, Problems, parents_first},
};
use crate::{dates::PartialDate, error::AppError};

/// Reads, checks and loads a dataset file.
pub async fn load_file(db: &DatabaseConnection, path: &Path) -> anyhow::Result<SeedReport> {
    load_dataset(db, &Dataset::File(path.to_owned()), "the command").await
}

/// Reads, checks and loads a dataset; `setting` names where a file came from, for the error
/// when it cannot be read.
pub async fn load_dataset(
    db: &DatabaseConnection,
    dataset: &Dataset,
    setting: &str,
) -> anyhow::Result<SeedReport> {
    let text = dataset.text(setting)?;
    let document = Document::parse(&text)
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("{dataset} is not a valid dataset file"))?;
    load(db, &document)
        .await
        .with_context(|| format!("Failed to load {dataset}"))
}

/// Checks and loads a parsed document in one transaction; on any problem nothing is written.
pub async fn load(db: &DatabaseConnection, document: &Document) -> anyhow::Result<SeedReport> {
    let problems = document.validate();
    if !problems.0.is_empty() {
        return Err(invalid(problems));
    }
    let txn = db
        .begin()
        .await
        .context("Failed to start the seed transaction")?;
    // Dropping the transaction on an error rolls it back.
    let report = load_in(&txn, document, false).await?.map_err(invalid)?;
    txn.commit()
        .await
        .context("Failed to commit the seed transaction")?;
    tracing::info!(changes = report.changes(), "Loaded the dataset");
    Ok(report)
}

/// Checks and writes a document inside the caller's transaction (the `importDocument`
/// mutation's, which may roll it back for a dry run). `Ok(Err(problems))` when the document is
/// invalid: the caller must then roll back, as some rows may have been written.
///
/// With `record_changes`, the report lists each record created or updated with its row
/// before and after (two more reads per changed record).
pub async fn load_in(
    txn: &DatabaseTransaction,
    document: &Document,
    record_changes: bool,
) -> anyhow::Result<Result<SeedReport, Problems>> {
    let problems = document.validate();
    if !problems.0.is_empty() {
        return Ok(Err(problems));
    }
    let mut loader = Loader::new(txn, document).await?;
    loader.changes = record_changes.then(Default::default);
    loader.sources().await?;
    loader.organizations().await?;
    loader.instruments().await?;
    loader.agreements().await?;
    loader.projects().await?;
    loader.events().await?;
    if !loader.problems.0.is_empty() {
        return Ok(Err(loader.problems));
    }
    let mut report = loader.report;
    if let Some(changes) = loader.changes {
        report.records = changes
            .into_inner()
            .map_err(|_| anyhow!("the change list was poisoned"))?;
    }
    Ok(Ok(report))
}

fn invalid(problems: Problems) -> anyhow::Error {
    anyhow!(
        "the dataset has {} problem(s); nothing was written:\n  {}",
        problems.0.len(),
        problems.0.join("\n  ")
    )
}

/// The bookkeeping columns every record table has.
trait Bookkept: EntityTrait {
    const ID: Self::Column;
    const CREATED_AT: Self::Column;
    const UPDATED_AT: Self::Column;
    const VERSION: Self::Column;
}

macro_rules! bookkept {
    ($($module:ident),* $(,)?) => {$(
        impl Bookkept for $module::Entity {
            const ID: $module::Column = $module::Column::Id;
            const CREATED_AT: $module::Column = $module::Column::CreatedAt;
            const UPDATED_AT: $module::Column = $module::Column::UpdatedAt;
            const VERSION: $module::Column = $module::Column::Version;
        }
    )*};
}

bookkept!(
    source,
    organization,
    instrument,
    agreement,
    agreement_party,
    agreement_instrument,
    project,
    project_participant,
    project_instrument,
    event,
    event_participant,
    event_instrument,
);

/// One wanted link row: its target, its role and any further columns, as database values.
struct Link<C> {
    target: i64,
    role: Value,
    extra: Vec<(C, Value)>,
}

type SlugIds = HashMap<String, i64>;

struct Loader<'a> {
    txn: &'a DatabaseTransaction,
    doc: &'a Document,
    now: DateTimeUtc,
    report: SeedReport,
    problems: Problems,
    sources: SlugIds,
    organizations: SlugIds,
    instruments: SlugIds,
    agreements: SlugIds,
    projects: SlugIds,
    events: SlugIds,
    /// The records created or updated, when the caller wants them.
    changes: Option<std::sync::Mutex<Vec<RecordChange>>>,
}

/// `slug → id` of every row of a table (the references a file may make to existing records).
async fn slug_ids<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id: E::Column,
    slug: E::Column,
) -> anyhow::Result<SlugIds> {
    let rows: Vec<(i64, String)> = E::find()
        .select_only()
        .column(id)
        .column(slug)
        .into_tuple()
        .all(db)
        .await
        .context("Failed to read existing slugs")?;
    Ok(rows.into_iter().map(|(id, slug)| (slug, id)).collect())
}

fn date(text: &Option<String>) -> Option<PartialDate> {
    // Already validated: a bad date never reaches the loader.
    text.as_deref().and_then(|t| t.parse().ok())
}

impl<'a> Loader<'a> {
    async fn new(txn: &'a DatabaseTransaction, doc: &'a Document) -> anyhow::Result<Self> {
        Ok(Self {
            txn,
            doc,
            now: Utc::now(),
            report: SeedReport::default(),
            problems: Problems::default(),
            sources: slug_ids::<source::Entity>(txn, source::Column::Id, source::Column::Slug)
                .await?,
            organizations: slug_ids::<organization::Entity>(
                txn,
                organization::Column::Id,
                organization::Column::Slug,
            )
            .await?,
            instruments: slug_ids::<instrument::Entity>(
                txn,
                instrument::Column::Id,
                instrument::Column::Slug,
            )
            .await?,
            agreements: slug_ids::<agreement::Entity>(
                txn,
                agreement::Column::Id,
                agreement::Column::Slug,
            )
            .await?,
            projects: slug_ids::<project::Entity>(txn, project::Column::Id, project::Column::Slug)
                .await?,
            events: slug_ids::<event::Entity>(txn, event::Column::Id, event::Column::Slug).await?,
            changes: None,
        })
    }

    /// The id of a referenced record, or a problem noted at `path`.
    fn resolve(
        &mut self,
        kind: Kind,
        slug: Option<&String>,
        path: impl FnOnce() -> String,
    ) -> Option<i64> {
        let slug = slug?;
        let ids = match kind {
            Kind::Source => &self.sources,
            Kind::Organization => &self.organizations,
            Kind::Instrument => &self.instruments,
            Kind::Agreement => &self.agreements,
            Kind::Project => &self.projects,
            Kind::Event => &self.events,
        };
        match ids.get(slug) {
            Some(id) => Some(*id),
            None => {
                self.problems.0.push(format!(
                    "{}: no {} `{slug}` in the file or the database",
                    path(),
                    kind.name()
                ));
                None
            }
        }
    }

    /// A record's own source, or the document's default (a missing default is one problem, at
    /// `default_source`, not one per record).
    fn source_of(&mut self, source: &Option<String>, path: impl FnOnce() -> String) -> Option<i64> {
        match source {
            Some(slug) => self.resolve(Kind::Source, Some(slug), path),
            None => self
                .doc
                .default_source
                .as_ref()
                .and_then(|slug| self.sources.get(slug).copied()),
        }
    }

    /// Row `id` of `E` as JSON.
    async fn row_json<E: Bookkept>(&self, id: i64) -> anyhow::Result<Option<serde_json::Value>> {
        E::find()
            .filter(E::ID.eq(id))
            .into_json()
            .one(self.txn)
            .await
            .context("Failed to read a record back")
    }

    fn record_change<E: Bookkept>(
        &self,
        id: i64,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> anyhow::Result<()> {
        let Some(changes) = &self.changes else {
            return Ok(());
        };
        let entity_type = match E::default().table_name() {
            "organizations" => "Organization",
            "instruments" => "Instrument",
            "agreements" => "Agreement",
            "projects" => "Project",
            "events" => "Event",
            _ => "Source",
        };
        changes
            .lock()
            .map_err(|_| anyhow!("the change list was poisoned"))?
            .push(RecordChange {
                entity_type,
                id,
                before,
                after,
            });
        Ok(())
    }

    /// Inserts `active` (when `existing` is false) or updates it when a field changed, keeping
    /// the bookkeeping columns right. Returns the row's id.
    async fn save<A>(
        &self,
        mut active: A,
        existing: Option<i64>,
        counts: &mut Counts,
    ) -> anyhow::Result<i64>
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send,
        A::Entity: Bookkept,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        let now: Value = self.now.into();
        match existing {
            None => {
                active.set(<A::Entity as Bookkept>::CREATED_AT, now.clone());
                active.set(<A::Entity as Bookkept>::UPDATED_AT, now);
                active.set(<A::Entity as Bookkept>::VERSION, 1i32.into());
                let model = active
                    .insert(self.txn)
                    .await
                    .context("Failed to insert a record")?;
                counts.created += 1;
                let id = match model.get(<A::Entity as Bookkept>::ID) {
                    Value::BigInt(Some(id)) => id,
                    other => return Err(anyhow!("unexpected id {other:?}")),
                };
                if self.changes.is_some() {
                    let after = self.row_json::<A::Entity>(id).await?;
                    self.record_change::<A::Entity>(id, None, after)?;
                }
                Ok(id)
            }
            Some(id) if active.is_changed() => {
                let version = match active.get(<A::Entity as Bookkept>::VERSION).into_value() {
                    Some(Value::Int(Some(v))) => v,
                    other => return Err(anyhow!("unexpected version {other:?}")),
                };
                let before = match self.changes {
                    Some(_) => self.row_json::<A::Entity>(id).await?,
                    None => None,
                };
                active.set(<A::Entity as Bookkept>::VERSION, (version + 1).into());
                active.set(<A::Entity as Bookkept>::UPDATED_AT, now);
                // Only the row as it was read: an editor's concurrent change is not lost.
                let result = <A::Entity as EntityTrait>::update_many()
                    .set(active)
                    .filter(<A::Entity as Bookkept>::ID.eq(id))
                    .filter(<A::Entity as Bookkept>::VERSION.eq(version))
                    .exec(self.txn)
                    .await
                    .context("Failed to update a record")?;
                if result.rows_affected == 0 {
                    return Err(AppError::Conflict {
                        message: format!(
                            "{} {id} was changed by someone else while the document was imported. Import it again.",
                            in_words(<A::Entity as Default>::default().table_name())
                        ),
                        field: "document".into(),
                    }
                    .into());
                }
                counts.updated += 1;
                if self.changes.is_some() {
                    let after = self.row_json::<A::Entity>(id).await?;
                    self.record_change::<A::Entity>(id, before, after)?;
                }
                Ok(id)
            }
            Some(id) => {
                counts.unchanged += 1;
                Ok(id)
            }
        }
    }

    /// Makes the links of one owner exactly `wanted`: keeps matching rows (updating their extra
    /// columns if they differ), deletes the others, inserts what is missing.
    async fn sync_links<A>(
        &mut self,
        owner_col: <A::Entity as EntityTrait>::Column,
        owner: i64,
        target_col: <A::Entity as EntityTrait>::Column,
        role_col: <A::Entity as EntityTrait>::Column,
        wanted: Vec<Link<<A::Entity as EntityTrait>::Column>>,
    ) -> anyhow::Result<()>
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send,
        A::Entity: Bookkept,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        let existing = <A::Entity as EntityTrait>::find()
            .filter(owner_col.eq(owner))
            .all(self.txn)
            .await
            .context("Failed to read links")?;
        let mut counts = self.report.links;
        let mut matched = vec![false; wanted.len()];
        let mut stale = Vec::new();
        for row in existing {
            let (target, role) = (row.get(target_col), row.get(role_col));
            let id = match row.get(<A::Entity as Bookkept>::ID) {
                Value::BigInt(Some(id)) => id,
                other => return Err(anyhow!("unexpected id {other:?}")),
            };
            let found = wanted.iter().enumerate().position(|(i, w)| {
                !matched[i] && Value::BigInt(Some(w.target)) == target && w.role == role
            });
            match found {
                Some(i) => {
                    matched[i] = true;
                    let mut active = row.into_active_model();
                    for (col, value) in &wanted[i].extra {
                        if active.get(*col).into_value().as_ref() != Some(value) {
                            active.set(*col, value.clone());
                        }
                    }
                    self.save(active, Some(id), &mut counts).await?;
                }
                None => stale.push(id),
            }
        }
        if !stale.is_empty() {
            counts.removed += stale.len() as u64;
            <A::Entity as EntityTrait>::delete_many()
                .filter(<A::Entity as Bookkept>::ID.is_in(stale))
                .exec(self.txn)
                .await
                .context("Failed to remove links")?;
        }
        for (link, _) in wanted.into_iter().zip(matched).filter(|(_, m)| !m) {
            let mut active = A::default();
            active.set(owner_col, owner.into());
            active.set(target_col, link.target.into());
            active.set(role_col, link.role);
            for (col, value) in link.extra {
                active.set(col, value);
            }
            self.save(active, None, &mut counts).await?;
        }
        self.report.links = counts;
        Ok(())
    }

    /// Makes a project's values (regions or themes) exactly `wanted`.
    async fn sync_values<E>(
        &mut self,
        project_col: E::Column,
        value_col: E::Column,
        project: i64,
        wanted: &[String],
    ) -> anyhow::Result<()>
    where
        E: EntityTrait,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    {
        let existing: Vec<String> = E::find()
            .select_only()
            .column(value_col)
            .filter(project_col.eq(project))
            .into_tuple()
            .all(self.txn)
            .await
            .context("Failed to read project values")?;
        let stale: Vec<&String> = existing.iter().filter(|v| !wanted.contains(v)).collect();
        if !stale.is_empty() {
            self.report.links.removed += stale.len() as u64;
            E::delete_many()
                .filter(project_col.eq(project))
                .filter(value_col.is_in(stale.into_iter().cloned()))
                .exec(self.txn)
                .await
                .context("Failed to remove project values")?;
        }
        for value in wanted {
            if existing.contains(value) {
                self.report.links.unchanged += 1;
                continue;
            }
            let mut active = E::ActiveModel::default();
            active.set(project_col, project.into());
            active.set(value_col, value.clone().into());
            E::insert(active)
                .exec_without_returning(self.txn)
                .await
                .context("Failed to insert a project value")?;
            self.report.links.created += 1;
        }
        Ok(())
    }

    /// Notes a problem when the parents of a table's rows, this load's writes included, form a
    /// cycle. The file's own check (`Document::validate`) cannot see a cycle that a file closes
    /// with records already in the database (`b.parent = a` stored, `a.parent = b` in the file),
    /// and the database only refuses a record being its own parent.
    async fn check_parent_cycles<E: EntityTrait>(
        &mut self,
        section: &str,
        id: E::Column,
        slug: E::Column,
        parent: E::Column,
    ) -> anyhow::Result<()> {
        let rows: Vec<(i64, String, Option<i64>)> = E::find()
            .select_only()
            .column(id)
            .column(slug)
            .column(parent)
            .into_tuple()
            .all(self.txn)
            .await
            .with_context(|| format!("Failed to read the parents of {section}"))?;
        let slugs: HashMap<i64, &str> = rows
            .iter()
            .map(|(id, slug, _)| (*id, slug.as_str()))
            .collect();
        let pairs: Vec<(&str, Option<&str>)> = rows
            .iter()
            .map(|(_, slug, parent)| (slug.as_str(), parent.and_then(|p| slugs.get(&p).copied())))
            .collect();
        if let Err(slug) = parents_first(&pairs, |x| x.0, |x| x.1) {
            self.problems.0.push(format!(
                "{section}: the parents of `{slug}` form a cycle with records already in the database"
            ));
        }
        Ok(())
    }

    fn instrument_links<C: Copy>(
        &mut self,
        links: &[InstrumentLinkDoc],
        path: &str,
    ) -> Vec<Link<C>> {
        links
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let target = self.resolve(Kind::Instrument, Some(&l.instrument), || {
                    format!("{path}.instruments[{i}].instrument")
                })?;
                Some(Link {
                    target,
                    role: l.role.into(),
                    extra: vec![],
                })
            })
            .collect()
    }

    async fn sources(&mut self) -> anyhow::Result<()> {
        let mut counts = self.report.sources;
        for (i, s) in self.doc.sources.iter().enumerate() {
            let at = format!("sources[{i}] `{}`", s.slug);
            let fill = |a: &mut source::ActiveModel| {
                let (on, precision) = PartialDate::into_parts(date(&s.published_on));
                a.slug.set_if_not_equals(s.slug.clone());
                a.title.set_if_not_equals(s.title.clone());
                a.publisher.set_if_not_equals(s.publisher.clone());
                a.published_on.set_if_not_equals(on);
                a.published_precision.set_if_not_equals(precision);
                a.url.set_if_not_equals(s.url.clone());
                a.notes.set_if_not_equals(s.notes.clone());
            };
            let existing = match self.source_row(&s.slug, &at).await? {
                Some(row) => row,
                None => {
                    // Documents share sources, and two imports may bring the same new one at
                    // once: the insert skips a slug taken meanwhile (PostgreSQL waits here for
                    // the other import's transaction), and the row found then is updated like
                    // any existing one, where a plain insert would fail the whole import.
                    let mut a = <source::ActiveModel as ActiveModelBehavior>::new();
                    fill(&mut a);
                    let now: Value = self.now.into();
                    a.set(source::Column::CreatedAt, now.clone());
                    a.set(source::Column::UpdatedAt, now);
                    a.set(source::Column::Version, 1i32.into());
                    let inserted = source::Entity::insert(a)
                        .on_conflict(
                            sea_orm::sea_query::OnConflict::column(source::Column::Slug)
                                .do_nothing()
                                .to_owned(),
                        )
                        .exec_without_returning(self.txn)
                        .await
                        .with_context(|| format!("Failed to write {at}"))?;
                    let row = self
                        .source_row(&s.slug, &at)
                        .await?
                        .with_context(|| format!("{at} is missing right after its insert"))?;
                    if inserted == 1 {
                        counts.created += 1;
                        if self.changes.is_some() {
                            let after = self.row_json::<source::Entity>(row.id).await?;
                            self.record_change::<source::Entity>(row.id, None, after)?;
                        }
                        self.sources.insert(s.slug.clone(), row.id);
                        continue;
                    }
                    row
                }
            };
            let id = existing.id;
            let mut a = existing.into_active_model();
            fill(&mut a);
            let id = self
                .save(a, Some(id), &mut counts)
                .await
                .with_context(|| format!("Failed to write {at}"))?;
            self.sources.insert(s.slug.clone(), id);
        }
        self.report.sources = counts;
        if let Some(slug) = &self.doc.default_source
            && !self.sources.contains_key(slug)
        {
            self.problems.0.push(format!(
                "default_source: no source `{slug}` in the file or the database"
            ));
        }
        Ok(())
    }

    /// The source with `slug`, if there is one.
    async fn source_row(&self, slug: &str, at: &str) -> anyhow::Result<Option<source::Model>> {
        source::Entity::find()
            .filter(source::Column::Slug.eq(slug))
            .one(self.txn)
            .await
            .with_context(|| format!("Failed to look up {at}"))
    }

    async fn organizations(&mut self) -> anyhow::Result<()> {
        let docs = &self.doc.organizations;
        let order = parents_first(docs, |o| &o.slug, |o| o.parent.as_deref())
            .map_err(|s| anyhow!("cycle at {s}"))?;
        let mut counts = self.report.organizations;
        for i in order {
            let o = &docs[i];
            let at = format!("organizations[{i}] `{}`", o.slug);
            let parent = self.resolve(Kind::Organization, o.parent.as_ref(), || {
                format!("organizations[{i}].parent")
            });
            let source = self.source_of(&o.source, || format!("organizations[{i}].source"));
            let existing = organization::Entity::find()
                .filter(organization::Column::Slug.eq(&o.slug))
                .one(self.txn)
                .await
                .with_context(|| format!("Failed to look up {at}"))?;
            let id = existing.as_ref().map(|m| m.id);
            let mut a = existing
                .map(IntoActiveModel::into_active_model)
                .unwrap_or_default();
            a.slug.set_if_not_equals(o.slug.clone());
            a.name.set_if_not_equals(o.name.clone());
            a.acronym.set_if_not_equals(o.acronym.clone());
            a.kind.set_if_not_equals(o.kind);
            a.parent_id.set_if_not_equals(parent);
            a.website.set_if_not_equals(o.website.clone());
            a.description.set_if_not_equals(o.description.clone());
            a.source_id.set_if_not_equals(source);
            let id = self
                .save(a, id, &mut counts)
                .await
                .with_context(|| format!("Failed to write {at}"))?;
            self.organizations.insert(o.slug.clone(), id);
        }
        self.report.organizations = counts;
        if !docs.is_empty() {
            self.check_parent_cycles::<organization::Entity>(
                "organizations",
                organization::Column::Id,
                organization::Column::Slug,
                organization::Column::ParentId,
            )
            .await?;
        }
        Ok(())
    }

    async fn instruments(&mut self) -> anyhow::Result<()> {
        let mut counts = self.report.instruments;
        for (i, x) in self.doc.instruments.iter().enumerate() {
            let at = format!("instruments[{i}] `{}`", x.slug);
            let issuer = self.resolve(Kind::Organization, x.issuer.as_ref(), || {
                format!("instruments[{i}].issuer")
            });
            let source = self.source_of(&x.source, || format!("instruments[{i}].source"));
            let existing = instrument::Entity::find()
                .filter(instrument::Column::Slug.eq(&x.slug))
                .one(self.txn)
                .await
                .with_context(|| format!("Failed to look up {at}"))?;
            let id = existing.as_ref().map(|m| m.id);
            let mut a = existing
                .map(IntoActiveModel::into_active_model)
                .unwrap_or_default();
            let (on, precision) = PartialDate::into_parts(date(&x.adopted_on));
            a.slug.set_if_not_equals(x.slug.clone());
            a.name.set_if_not_equals(x.name.clone());
            a.acronym.set_if_not_equals(x.acronym.clone());
            a.kind.set_if_not_equals(x.kind);
            a.issuer_id.set_if_not_equals(issuer);
            a.adopted_on.set_if_not_equals(on);
            a.adopted_precision.set_if_not_equals(precision);
            a.url.set_if_not_equals(x.url.clone());
            a.description.set_if_not_equals(x.description.clone());
            a.source_id.set_if_not_equals(source);
            let id = self
                .save(a, id, &mut counts)
                .await
                .with_context(|| format!("Failed to write {at}"))?;
            self.instruments.insert(x.slug.clone(), id);
        }
        self.report.instruments = counts;
        Ok(())
    }

    async fn agreements(&mut self) -> anyhow::Result<()> {
        let mut counts = self.report.agreements;
        for (i, x) in self.doc.agreements.iter().enumerate() {
            let path = format!("agreements[{i}]");
            let at = format!("{path} `{}`", x.slug);
            let source = self.source_of(&x.source, || format!("{path}.source"));
            let existing = agreement::Entity::find()
                .filter(agreement::Column::Slug.eq(&x.slug))
                .one(self.txn)
                .await
                .with_context(|| format!("Failed to look up {at}"))?;
            let id = existing.as_ref().map(|m| m.id);
            let mut a = existing
                .map(IntoActiveModel::into_active_model)
                .unwrap_or_default();
            let (on, precision) = PartialDate::into_parts(date(&x.signed_on));
            a.slug.set_if_not_equals(x.slug.clone());
            a.title.set_if_not_equals(x.title.clone());
            a.kind.set_if_not_equals(x.kind);
            a.signed_on.set_if_not_equals(on);
            a.signed_precision.set_if_not_equals(precision);
            a.summary.set_if_not_equals(x.summary.clone());
            a.source_id.set_if_not_equals(source);
            let id = self
                .save(a, id, &mut counts)
                .await
                .with_context(|| format!("Failed to write {at}"))?;
            self.agreements.insert(x.slug.clone(), id);

            let parties = x
                .parties
                .iter()
                .enumerate()
                .filter_map(|(j, p)| {
                    let target = self.resolve(Kind::Organization, Some(&p.organization), || {
                        format!("{path}.parties[{j}].organization")
                    })?;
                    let (on, precision) = PartialDate::into_parts(date(&p.since));
                    Some(Link {
                        target,
                        role: p.role.into(),
                        extra: vec![
                            (agreement_party::Column::SinceOn, on.into()),
                            (agreement_party::Column::SincePrecision, precision.into()),
                        ],
                    })
                })
                .collect();
            self.sync_links::<agreement_party::ActiveModel>(
                agreement_party::Column::AgreementId,
                id,
                agreement_party::Column::OrganizationId,
                agreement_party::Column::Role,
                parties,
            )
            .await
            .with_context(|| format!("Failed to write the parties of {at}"))?;
            let instruments = self.instrument_links(&x.instruments, &path);
            self.sync_links::<agreement_instrument::ActiveModel>(
                agreement_instrument::Column::AgreementId,
                id,
                agreement_instrument::Column::InstrumentId,
                agreement_instrument::Column::Role,
                instruments,
            )
            .await
            .with_context(|| format!("Failed to write the instruments of {at}"))?;
        }
        self.report.agreements = counts;
        Ok(())
    }

    async fn projects(&mut self) -> anyhow::Result<()> {
        let mut counts = self.report.projects;
        for (i, x) in self.doc.projects.iter().enumerate() {
            let path = format!("projects[{i}]");
            let at = format!("{path} `{}`", x.slug);
            let agreement = self.resolve(Kind::Agreement, x.agreement.as_ref(), || {
                format!("{path}.agreement")
            });
            let source = self.source_of(&x.source, || format!("{path}.source"));
            let existing = project::Entity::find()
                .filter(project::Column::Slug.eq(&x.slug))
                .one(self.txn)
                .await
                .with_context(|| format!("Failed to look up {at}"))?;
            let id = existing.as_ref().map(|m| m.id);
            let mut a = existing
                .map(IntoActiveModel::into_active_model)
                .unwrap_or_default();
            let (starts_on, starts_precision) = PartialDate::into_parts(date(&x.starts_on));
            let (ends_on, ends_precision) = PartialDate::into_parts(date(&x.ends_on));
            a.slug.set_if_not_equals(x.slug.clone());
            a.name.set_if_not_equals(x.name.clone());
            a.kind.set_if_not_equals(x.kind);
            a.status.set_if_not_equals(x.status);
            a.summary.set_if_not_equals(x.summary.clone());
            a.starts_on.set_if_not_equals(starts_on);
            a.starts_precision.set_if_not_equals(starts_precision);
            a.ends_on.set_if_not_equals(ends_on);
            a.ends_precision.set_if_not_equals(ends_precision);
            a.agreement_id.set_if_not_equals(agreement);
            a.source_id.set_if_not_equals(source);
            let id = self
                .save(a, id, &mut counts)
                .await
                .with_context(|| format!("Failed to write {at}"))?;
            self.projects.insert(x.slug.clone(), id);

            let participants = x
                .participants
                .iter()
                .enumerate()
                .filter_map(|(j, p)| {
                    let target = self.resolve(Kind::Organization, Some(&p.organization), || {
                        format!("{path}.participants[{j}].organization")
                    })?;
                    Some(Link {
                        target,
                        role: p.role.into(),
                        extra: vec![],
                    })
                })
                .collect();
            self.sync_links::<project_participant::ActiveModel>(
                project_participant::Column::ProjectId,
                id,
                project_participant::Column::OrganizationId,
                project_participant::Column::Role,
                participants,
            )
            .await
            .with_context(|| format!("Failed to write the participants of {at}"))?;
            let instruments = self.instrument_links(&x.instruments, &path);
            self.sync_links::<project_instrument::ActiveModel>(
                project_instrument::Column::ProjectId,
                id,
                project_instrument::Column::InstrumentId,
                project_instrument::Column::Role,
                instruments,
            )
            .await
            .with_context(|| format!("Failed to write the instruments of {at}"))?;
            self.sync_values::<project_region::Entity>(
                project_region::Column::ProjectId,
                project_region::Column::Region,
                id,
                &x.regions,
            )
            .await
            .with_context(|| format!("Failed to write the regions of {at}"))?;
            self.sync_values::<project_theme::Entity>(
                project_theme::Column::ProjectId,
                project_theme::Column::Theme,
                id,
                &x.themes,
            )
            .await
            .with_context(|| format!("Failed to write the themes of {at}"))?;
        }
        self.report.projects = counts;
        Ok(())
    }

    async fn events(&mut self) -> anyhow::Result<()> {
        let docs = &self.doc.events;
        let order = parents_first(docs, |e| &e.slug, |e| e.parent.as_deref())
            .map_err(|s| anyhow!("cycle at {s}"))?;
        let mut counts = self.report.events;
        for i in order {
            let x = &docs[i];
            let path = format!("events[{i}]");
            let at = format!("{path} `{}`", x.slug);
            let parent = self.resolve(Kind::Event, x.parent.as_ref(), || format!("{path}.parent"));
            let project = self.resolve(Kind::Project, x.project.as_ref(), || {
                format!("{path}.project")
            });
            let agreement = self.resolve(Kind::Agreement, x.agreement.as_ref(), || {
                format!("{path}.agreement")
            });
            let source = self.source_of(&x.source, || format!("{path}.source"));
            let existing = event::Entity::find()
                .filter(event::Column::Slug.eq(&x.slug))
                .one(self.txn)
                .await
                .with_context(|| format!("Failed to look up {at}"))?;
            let id = existing.as_ref().map(|m| m.id);
            let mut a = existing
                .map(IntoActiveModel::into_active_model)
                .unwrap_or_default();
            let (starts_on, starts_precision) = PartialDate::into_parts(date(&x.starts_on));
            let (ends_on, ends_precision) = PartialDate::into_parts(date(&x.ends_on));
            a.slug.set_if_not_equals(x.slug.clone());
            a.name.set_if_not_equals(x.name.clone());
            a.kind.set_if_not_equals(x.kind);
            a.summary.set_if_not_equals(x.summary.clone());
            a.starts_on.set_if_not_equals(starts_on);
            a.starts_precision.set_if_not_equals(starts_precision);
            a.ends_on.set_if_not_equals(ends_on);
            a.ends_precision.set_if_not_equals(ends_precision);
            a.location.set_if_not_equals(x.location.clone());
            a.recurrence.set_if_not_equals(x.recurrence);
            a.parent_id.set_if_not_equals(parent);
            a.project_id.set_if_not_equals(project);
            a.agreement_id.set_if_not_equals(agreement);
            a.source_id.set_if_not_equals(source);
            let id = self
                .save(a, id, &mut counts)
                .await
                .with_context(|| format!("Failed to write {at}"))?;
            self.events.insert(x.slug.clone(), id);

            let participants = x
                .participants
                .iter()
                .enumerate()
                .filter_map(|(j, p)| {
                    let target = self.resolve(Kind::Organization, Some(&p.organization), || {
                        format!("{path}.participants[{j}].organization")
                    })?;
                    Some(Link {
                        target,
                        role: p.role.into(),
                        extra: vec![],
                    })
                })
                .collect();
            self.sync_links::<event_participant::ActiveModel>(
                event_participant::Column::EventId,
                id,
                event_participant::Column::OrganizationId,
                event_participant::Column::Role,
                participants,
            )
            .await
            .with_context(|| format!("Failed to write the participants of {at}"))?;
            let instruments = self.instrument_links(&x.instruments, &path);
            self.sync_links::<event_instrument::ActiveModel>(
                event_instrument::Column::EventId,
                id,
                event_instrument::Column::InstrumentId,
                event_instrument::Column::Role,
                instruments,
            )
            .await
            .with_context(|| format!("Failed to write the instruments of {at}"))?;
        }
        self.report.events = counts;
        if !docs.is_empty() {
            self.check_parent_cycles::<event::Entity>(
                "events",
                event::Column::Id,
                event::Column::Slug,
                event::Column::ParentId,
            )
            .await?;
        }
        Ok(())
    }
}

/// A table's rows as the API and the document call them, for messages (never a table's name).
fn in_words(table: &str) -> &'static str {
    match table {
        "sources" => "Source",
        "organizations" => "Organization",
        "instruments" => "Instrument",
        "agreements" => "Agreement",
        "projects" => "Project",
        "events" => "Event",
        "agreement_parties" => "Agreement party",
        "agreement_instruments" => "Agreement instrument",
        "project_participants" => "Project participant",
        "project_instruments" => "Project instrument",
        "event_participants" => "Event participant",
        "event_instruments" => "Event instrument",
        _ => "Record",
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Source,
    Organization,
    Instrument,
    Agreement,
    Project,
    Event,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Organization => "organization",
            Self::Instrument => "instrument",
            Self::Agreement => "agreement",
            Self::Project => "project",
            Self::Event => "event",
        }
    }
}
