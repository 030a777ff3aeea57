//! The rows of the database a plan names, read once per table before anything is checked
//! or written, and the ids of every slug known so far.

use std::collections::{BTreeMap, HashMap, HashSet};

use entity::{agreement, event, instrument, organization, project, source};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, ModelTrait, QueryFilter, sea_query::ValueType,
};

use super::super::{
    Problems, Table, Writable,
    plan::{Plan, Planned},
    records::Fields,
};
use crate::{error::AppResult, store::records::Record};

/// The most slugs one read names (each is a bound value; SQLite takes at most 32,766).
const SLUGS_A_READ: usize = 5_000;

/// The rows of the database a plan names, and the ids of every slug known so far (the
/// database's, then the plan's as they are inserted).
pub(super) struct Known {
    pub(super) sources: HashMap<String, source::Model>,
    organizations: HashMap<String, organization::Model>,
    instruments: HashMap<String, instrument::Model>,
    agreements: HashMap<String, agreement::Model>,
    projects: HashMap<String, project::Model>,
    events: HashMap<String, event::Model>,
    pub(super) source_ids: HashMap<String, i64>,
    pub(super) ids: BTreeMap<Table, HashMap<String, i64>>,
    /// The slugs each table of the plan brings.
    planned: BTreeMap<Table, HashSet<String>>,
    planned_sources: HashSet<String>,
}

impl Known {
    /// One read per table that the plan names or refers to.
    pub(super) async fn read(txn: &DatabaseTransaction, plan: &Plan) -> AppResult<Self> {
        let mut wanted: BTreeMap<Table, HashSet<String>> = BTreeMap::new();
        let mut planned: BTreeMap<Table, HashSet<String>> = BTreeMap::new();
        let mut sources: HashSet<String> = plan.sources.iter().map(|s| s.slug.clone()).collect();
        let planned_sources = sources.clone();
        sources.extend(plan.default_source.clone());
        fn note<F: Fields>(
            records: &[Planned<F>],
            wanted: &mut BTreeMap<Table, HashSet<String>>,
            planned: &mut BTreeMap<Table, HashSet<String>>,
            sources: &mut HashSet<String>,
        ) {
            let table = <F::E as Writable>::TABLE;
            for r in records {
                let slug = r.fields.slug().to_owned();
                wanted.entry(table).or_default().insert(slug.clone());
                planned.entry(table).or_default().insert(slug);
                for (_, table, slug) in &r.references {
                    wanted.entry(*table).or_default().insert(slug.clone());
                }
                for link in &r.links {
                    let table = link.role.target();
                    wanted.entry(table).or_default().insert(link.target.clone());
                }
                sources.extend(r.source.clone());
            }
        }
        note(&plan.organizations, &mut wanted, &mut planned, &mut sources);
        note(&plan.instruments, &mut wanted, &mut planned, &mut sources);
        note(&plan.agreements, &mut wanted, &mut planned, &mut sources);
        note(&plan.projects, &mut wanted, &mut planned, &mut sources);
        note(&plan.events, &mut wanted, &mut planned, &mut sources);
        let mut slugs = |table| wanted.remove(&table).unwrap_or_default();
        let organizations =
            by_slug::<organization::Entity>(txn, slugs(Table::Organization)).await?;
        let instruments = by_slug::<instrument::Entity>(txn, slugs(Table::Instrument)).await?;
        let agreements = by_slug::<agreement::Entity>(txn, slugs(Table::Agreement)).await?;
        let projects = by_slug::<project::Entity>(txn, slugs(Table::Project)).await?;
        let events = by_slug::<event::Entity>(txn, slugs(Table::Event)).await?;
        let sources = sources_by_slug(txn, sources).await?;
        fn ids<E: Writable>(rows: &HashMap<String, E::Model>) -> HashMap<String, i64> {
            rows.iter()
                .map(|(slug, m)| (slug.clone(), E::id_of(m)))
                .collect()
        }
        let ids = BTreeMap::from([
            (
                Table::Organization,
                ids::<organization::Entity>(&organizations),
            ),
            (Table::Instrument, ids::<instrument::Entity>(&instruments)),
            (Table::Agreement, ids::<agreement::Entity>(&agreements)),
            (Table::Project, ids::<project::Entity>(&projects)),
            (Table::Event, ids::<event::Entity>(&events)),
        ]);
        Ok(Self {
            source_ids: sources.iter().map(|(s, m)| (s.clone(), m.id)).collect(),
            sources,
            organizations,
            instruments,
            agreements,
            projects,
            events,
            ids,
            planned,
            planned_sources,
        })
    }

    pub(super) fn id(&self, table: Table, slug: &str) -> Option<i64> {
        self.ids.get(&table).and_then(|ids| ids.get(slug)).copied()
    }

    pub(super) fn source(&self, slug: &str) -> Option<i64> {
        self.source_ids.get(slug).copied()
    }

    /// Whether `slug` names a record of `table` in the plan or the database.
    fn exists(&self, table: Table, slug: &str) -> bool {
        self.id(table, slug).is_some() || self.planned.get(&table).is_some_and(|s| s.contains(slug))
    }

    fn source_exists(&self, slug: &str) -> bool {
        self.source_ids.contains_key(slug) || self.planned_sources.contains(slug)
    }

    /// A problem for each slug that names no record of the plan or the database.
    pub(super) fn check_references(&self, plan: &Plan, problems: &mut Problems) {
        let missing =
            |kind: &str, slug: &str| format!("no {kind} `{slug}` in the file or the database");
        if let Some(slug) = &plan.default_source
            && !self.source_exists(slug)
        {
            problems.push("default_source", missing("source", slug));
        }
        fn each<F: Fields>(
            known: &Known,
            records: &[Planned<F>],
            problems: &mut Problems,
            missing: &dyn Fn(&str, &str) -> String,
        ) {
            for r in records {
                for (field, table, slug) in &r.references {
                    if !known.exists(*table, slug) {
                        problems.push(
                            format!("{}.{field}", r.path),
                            missing(table.singular(), slug),
                        );
                    }
                }
                if let Some(slug) = &r.source
                    && !known.source_exists(slug)
                {
                    problems.push(format!("{}.source", r.path), missing("source", slug));
                }
                for link in &r.links {
                    let table = link.role.target();
                    if !known.exists(table, &link.target) {
                        problems.push(link.path.clone(), missing(table.singular(), &link.target));
                    }
                }
            }
        }
        each(self, &plan.organizations, problems, &missing);
        each(self, &plan.instruments, problems, &missing);
        each(self, &plan.agreements, problems, &missing);
        each(self, &plan.projects, problems, &missing);
        each(self, &plan.events, problems, &missing);
    }
}

/// The models of kind `E` read for a plan, by slug.
pub(super) trait Stored: Writable {
    fn stored(known: &mut Known) -> &mut HashMap<String, Self::Model>;
}

macro_rules! stored {
    ($($module:ident: $field:ident),* $(,)?) => {$(
        impl Stored for $module::Entity {
            fn stored(known: &mut Known) -> &mut HashMap<String, $module::Model> {
                &mut known.$field
            }
        }
    )*};
}

stored!(
    organization: organizations,
    instrument: instruments,
    agreement: agreements,
    project: projects,
    event: events,
);

/// The rows of `E` with these slugs, by slug: one statement (a few for a huge plan).
async fn by_slug<E: Writable>(
    txn: &DatabaseTransaction,
    slugs: HashSet<String>,
) -> AppResult<HashMap<String, E::Model>> {
    rows_by_slug::<E>(txn, E::SLUG, slugs, slug_of::<E>).await
}

pub(super) fn slug_of<E: Record>(model: &E::Model) -> String {
    <String as ValueType>::try_from(model.get(E::SLUG)).unwrap_or_default()
}

/// The sources with these slugs, by slug.
pub(super) async fn sources_by_slug(
    txn: &DatabaseTransaction,
    slugs: HashSet<String>,
) -> AppResult<HashMap<String, source::Model>> {
    rows_by_slug::<source::Entity>(txn, source::Column::Slug, slugs, |m| m.slug.clone()).await
}

/// The rows of `E` whose `column` holds one of `slugs`, by slug (`slug` reads it back).
async fn rows_by_slug<E: EntityTrait>(
    txn: &DatabaseTransaction,
    column: E::Column,
    slugs: HashSet<String>,
    slug: impl Fn(&E::Model) -> String,
) -> AppResult<HashMap<String, E::Model>> {
    let slugs: Vec<String> = slugs.into_iter().collect();
    let mut rows = HashMap::new();
    for chunk in slugs.chunks(SLUGS_A_READ) {
        for model in E::find()
            .filter(column.is_in(chunk.iter().cloned()))
            .all(txn)
            .await?
        {
            rows.insert(slug(&model), model);
        }
    }
    Ok(rows)
}
