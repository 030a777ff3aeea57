//! Writing a plan's records, a table at a time: the changed ones updated one statement each at
//! the version read, the new ones inserted in one statement (one a level of parents).

use std::collections::{HashMap, HashSet};

use entity::source;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, Value,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use serde::Serialize;

use super::{
    super::{
        Bookkept, Table, Writable, insert_records,
        plan::{Counts, Planned, PlannedSource, RecordChange, SeedReport},
        records::Fields,
        rows::stale,
        to_json, update_record,
    },
    known::{Known, Stored, slug_of, sources_by_slug},
};
use crate::{
    dates::PartialDate,
    error::{AppError, AppResult},
};

/// The most records one insert writes (a statement binds a dozen values a row: PostgreSQL
/// takes at most 65,535).
const ROWS_A_STATEMENT: usize = 1_000;

/// What a failed update of the record at `path` means: an edit made meanwhile is CONFLICT on
/// the record (not on a `version` the document does not have); a database error names the
/// record in its chain, for the operator.
fn clash(path: &str, slug: &str, entity: &str) -> impl FnOnce(AppError) -> AppError {
    move |e| match e {
        AppError::Conflict { field, .. } if field == "version" => AppError::Conflict {
            message: format!(
                "{entity} `{slug}` was changed by someone else while the document was imported. Import it again."
            ),
            field: path.to_owned(),
        },
        AppError::Db(e) => AppError::Internal(
            anyhow::Error::new(e).context(format!("Failed to write {path} `{slug}`")),
        ),
        other => other,
    }
}

/// What a failed insert of `records` (`organizations[0] `fine`, …`) in `section` means: a slug
/// taken or a record deleted by another writer since the plan's rows were read is CONFLICT; a
/// database error names the records in its chain, for the operator.
fn insert_clash(section: &str, records: String) -> impl FnOnce(sea_orm::DbErr) -> AppError {
    move |e| {
        if crate::error::is_unique_violation(&e) || crate::error::is_foreign_key_violation(&e) {
            return AppError::Conflict {
                message: "The document clashes with a change made meanwhile (a slug taken or a record deleted). Import it again.".into(),
                field: section.to_owned(),
            };
        }
        match AppError::from(e) {
            AppError::Db(e) => AppError::Internal(
                anyhow::Error::new(e).context(format!("Failed to write {records}")),
            ),
            other => other,
        }
    }
}

/// The records a statement writes, for its error: `organizations[0] `fine`, …` (the first ten).
fn named<'a>(records: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut names: Vec<String> = records
        .map(|(path, slug)| format!("{path} `{slug}`"))
        .collect();
    if names.len() > 10 {
        let more = names.len() - 10;
        names.truncate(10);
        names.push(format!("and {more} more"));
    }
    names.join(", ")
}

fn date_parts(
    date: Option<PartialDate>,
) -> (Option<chrono::NaiveDate>, Option<entity::DatePrecision>) {
    PartialDate::into_parts(date)
}

/// Sources: created or updated by slug like records; two imports bringing the same new source
/// at once both succeed (the insert skips a slug taken meanwhile, and the row found then is
/// updated like any existing one).
pub(super) async fn upsert_sources(
    txn: &DatabaseTransaction,
    planned: Vec<PlannedSource>,
    known: &mut Known,
    report: &mut SeedReport,
) -> AppResult<()> {
    let fill = |a: &mut source::ActiveModel, s: &PlannedSource| {
        let (on, precision) = date_parts(s.published_on);
        a.slug.set_if_not_equals(s.slug.clone());
        a.title.set_if_not_equals(s.title.clone());
        a.publisher.set_if_not_equals(s.publisher.clone());
        a.published_on.set_if_not_equals(on);
        a.published_precision.set_if_not_equals(precision);
        a.url.set_if_not_equals(s.url.clone());
        a.notes.set_if_not_equals(s.notes.clone());
    };
    let mut new = Vec::new();
    let mut existing = Vec::new();
    for s in planned {
        match known.sources.remove(&s.slug) {
            Some(model) => existing.push((s, model)),
            None => new.push(s),
        }
    }
    let mut taken = HashSet::new();
    for chunk in new.chunks(ROWS_A_STATEMENT) {
        let now = chrono::Utc::now();
        let rows = chunk.iter().map(|s| {
            let mut a = <source::ActiveModel as ActiveModelBehavior>::new();
            fill(&mut a, s);
            source::Entity::stamp_new(&mut a, now);
            a
        });
        // PostgreSQL waits here for another import's transaction that inserted the slug.
        let inserted = source::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(source::Column::Slug)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_with_returning(txn)
            .await
            .map_err(insert_clash(
                "sources",
                named(chunk.iter().map(|s| (s.path.as_str(), s.slug.as_str()))),
            ))?;
        taken.extend(chunk.iter().map(|s| s.slug.clone()));
        for model in inserted {
            taken.remove(&model.slug);
            report.sources.created += 1;
            known.source_ids.insert(model.slug.clone(), model.id);
            report.records.push(RecordChange {
                entity_type: "Source",
                id: model.id,
                before: None,
                after: Some(to_json(&model)?),
            });
        }
    }
    if !taken.is_empty() {
        let mut meanwhile = sources_by_slug(txn, taken).await?;
        for s in new {
            if let Some(model) = meanwhile.remove(&s.slug) {
                existing.push((s, model));
            }
        }
    }
    for (s, model) in existing {
        let (id, version) = (model.id, model.version);
        known.source_ids.insert(s.slug.clone(), id);
        let mut a = model.clone().into_active_model();
        fill(&mut a, &s);
        if !a.is_changed() {
            report.sources.unchanged += 1;
            continue;
        }
        let after = source::Entity::update_many()
            .set(a)
            .col_expr(
                source::Column::Version,
                Expr::col(source::Column::Version).add(1),
            )
            .col_expr(source::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
            .filter(source::Column::Id.eq(id))
            .filter(source::Column::Version.eq(version))
            .exec_with_returning(txn)
            .await
            .map_err(insert_clash(
                &s.path,
                named([(s.path.as_str(), s.slug.as_str())].into_iter()),
            ))?
            .pop()
            .ok_or_else(|| stale("Source", id, version, version + 1))
            .map_err(clash(&s.path, &s.slug, "Source"))?;
        report.sources.updated += 1;
        report.records.push(RecordChange {
            entity_type: "Source",
            id,
            before: Some(to_json(&model)?),
            after: Some(to_json(&after)?),
        });
    }
    Ok(())
}

/// A record written: its id, whether it is new, and what the plan said of it.
pub(super) type Written<F> = Vec<(i64, bool, Planned<F>)>;

pub(super) struct Run<'a> {
    pub(super) txn: &'a DatabaseTransaction,
    pub(super) default_source: Option<i64>,
    pub(super) report: &'a mut SeedReport,
    /// Whether a record written was given a parent it did not have (the tree must then be
    /// checked for a cycle).
    pub(super) parents_moved: bool,
}

impl Run<'_> {
    fn counts<E: Writable>(&mut self) -> &mut Counts {
        match E::TABLE {
            Table::Organization => &mut self.report.organizations,
            Table::Instrument => &mut self.report.instruments,
            Table::Agreement => &mut self.report.agreements,
            Table::Project => &mut self.report.projects,
            _ => &mut self.report.events,
        }
    }

    /// Creates or updates the records of one table; a record waits for the plan's records it
    /// refers to (an organization for its parent), so the new ones go in one statement a level.
    pub(super) async fn upsert<F>(
        &mut self,
        planned: Vec<Planned<F>>,
        known: &mut Known,
    ) -> AppResult<Written<F>>
    where
        F: Fields,
        F::E: Stored,
        <F::E as EntityTrait>::Model:
            IntoActiveModel<<F::E as EntityTrait>::ActiveModel> + Serialize,
        <F::E as EntityTrait>::ActiveModel: Send,
    {
        let table = <F::E as Writable>::TABLE;
        let mut written = Vec::with_capacity(planned.len());
        let mut pending = planned;
        while !pending.is_empty() {
            let (ready, waiting): (Vec<_>, Vec<_>) = pending.into_iter().partition(|p| {
                p.references
                    .iter()
                    .all(|(_, table, slug)| known.id(*table, slug).is_some())
            });
            if ready.is_empty() {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "{} of the plan refer to records that are never written",
                    table.noun(waiting.len())
                )));
            }
            let mut inserts = Vec::new();
            for mut p in ready {
                for (field, table, slug) in &p.references {
                    if let Some(slot) = p.fields.reference_mut(field) {
                        *slot = known.id(*table, slug);
                    }
                }
                let source = match &p.source {
                    Some(slug) => known.source(slug),
                    None => self.default_source,
                };
                let slug = p.fields.slug().to_owned();
                match <F::E as Stored>::stored(known).remove(&slug) {
                    Some(model) => {
                        let id = <F::E as Bookkept>::id_of(&model);
                        let version = <F::E as Bookkept>::version_of(&model);
                        if F::from_model(&model).parent() != p.fields.parent() {
                            self.parents_moved = true;
                        }
                        let mut active = model.clone().into_active_model();
                        p.fields.write(&mut active);
                        set_source::<F::E>(&mut active, source);
                        if active.is_changed() {
                            let slug_field = format!("{}.slug", p.path);
                            let after = update_record::<F::E>(
                                self.txn,
                                id,
                                version,
                                active,
                                &slug,
                                &slug_field,
                            )
                            .await
                            .map_err(clash(
                                &p.path,
                                &slug,
                                <F::E as Writable>::TYPE,
                            ))?;
                            self.counts::<F::E>().updated += 1;
                            self.report.records.push(RecordChange {
                                entity_type: <F::E as Writable>::TYPE,
                                id,
                                before: Some(to_json(&model)?),
                                after: Some(to_json(&after)?),
                            });
                        } else {
                            self.counts::<F::E>().unchanged += 1;
                        }
                        written.push((id, false, p));
                    }
                    None => {
                        self.parents_moved |= p.fields.parent().is_some();
                        let mut active =
                            <<F::E as EntityTrait>::ActiveModel as ActiveModelBehavior>::new();
                        p.fields.write(&mut active);
                        set_source::<F::E>(&mut active, source);
                        inserts.push((p, active));
                    }
                }
            }
            let mut inserts = inserts.into_iter().peekable();
            while inserts.peek().is_some() {
                let chunk = inserts.by_ref().take(ROWS_A_STATEMENT);
                let (records, rows): (Vec<_>, Vec<_>) = chunk.unzip();
                let section = table.name();
                let what = named(records.iter().map(|p| (p.path.as_str(), p.fields.slug())));
                let models =
                    insert_records::<F::E>(self.txn, rows, insert_clash(section, what)).await?;
                let mut by_slug: HashMap<String, <F::E as EntityTrait>::Model> = models
                    .into_iter()
                    .map(|m| (slug_of::<F::E>(&m), m))
                    .collect();
                for p in records {
                    let model = by_slug.remove(p.fields.slug()).ok_or_else(|| {
                        AppError::Internal(anyhow::anyhow!("an inserted record was not returned"))
                    })?;
                    let id = <F::E as Bookkept>::id_of(&model);
                    known
                        .ids
                        .entry(table)
                        .or_default()
                        .insert(p.fields.slug().to_owned(), id);
                    self.counts::<F::E>().created += 1;
                    self.report.records.push(RecordChange {
                        entity_type: <F::E as Writable>::TYPE,
                        id,
                        before: None,
                        after: Some(to_json(&model)?),
                    });
                    written.push((id, true, p));
                }
            }
            pending = waiting;
        }
        Ok(written)
    }
}

/// Sets the record's source, marking the column changed only when it differs.
fn set_source<E: Writable>(active: &mut E::ActiveModel, source: Option<i64>) {
    let value: Value = source.into();
    if active.get(E::SOURCE).into_value().as_ref() != Some(&value) {
        active.set(E::SOURCE, value);
    }
}
