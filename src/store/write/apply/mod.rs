//! Applying a [`Plan`]: `partnerships seed` and the `importDocument` mutation write through
//! here, with the rule book, the inserts and updates and the link writes the mutations use.
//!
//! The steps, in the caller's transaction:
//! 1. one read per record table: the rows whose slugs the plan names or refers to;
//! 2. every problem found before anything is written: each record's fields
//!    ([`Fields::check`], the mutations' checks), and every reference, which must name a
//!    record of the plan or of the database;
//! 3. each table in dependency order: the records that changed are updated one statement
//!    each, at the version read ([`update_record`](super::update_record): an edit made meanwhile is CONFLICT, never
//!    overwritten); the new ones are inserted in one statement ([`insert_records`](super::insert_records)), or one a
//!    level of parents where records of the plan are parents of others;
//! 4. the links and a project's regions and themes are made exactly the plan's (`sync`);
//! 5. a parent given to an organization or event is checked for a cycle through records
//!    already in the database (the plan's own cycles are the document's problem).

mod known;
mod upsert;

use std::collections::HashMap;

use entity::{
    agreement_instrument, agreement_party, event, event_instrument, event_participant,
    organization, project_instrument, project_participant, project_region, project_theme,
};
use sea_orm::{DatabaseConnection, DatabaseTransaction, QuerySelect};

use super::{
    Problems, Writable, begin,
    links::LinkTable,
    plan::{Plan, Planned, SeedReport},
    records::{Fields, lock_tree},
    sync::{self, OwnerLinks, OwnerValues},
};
use crate::error::AppResult;
use known::Known;
use upsert::{Run, Written, upsert_sources};

/// Applies `plan` in a transaction of its own (the `seed` command, and the first start of the
/// embedded store); on any problem nothing is written.
pub async fn load(db: &DatabaseConnection, plan: Plan) -> AppResult<SeedReport> {
    let txn = begin(db).await?;
    let report = apply(&txn, plan).await?;
    txn.commit().await?;
    Ok(report)
}

/// Applies `plan` in the caller's transaction. On an error the caller must roll back: a
/// cycle through the database is found after the writes.
pub async fn apply(txn: &DatabaseTransaction, plan: Plan) -> AppResult<SeedReport> {
    let mut known = Known::read(txn, &plan).await?;
    let mut problems = Problems::default();
    plan.check(&mut problems);
    known.check_references(&plan, &mut problems);
    std::mem::take(&mut problems).into_result()?;

    let mut report = SeedReport::default();
    let Plan {
        default_source,
        sources,
        organizations,
        instruments,
        agreements,
        projects,
        events,
    } = plan;
    upsert_sources(txn, sources, &mut known, &mut report).await?;
    let default_source = default_source.and_then(|slug| known.source(&slug));
    let mut run = Run {
        txn,
        default_source,
        report: &mut report,
        parents_moved: false,
    };

    run.upsert(organizations, &mut known).await?;
    if std::mem::take(&mut run.parents_moved) {
        check_cycles::<organization::Entity>(txn, organization::Column::ParentId, &mut problems)
            .await?;
    }
    run.upsert(instruments, &mut known).await?;

    let written = run.upsert(agreements, &mut known).await?;
    let (parties, instruments) = link_lists(&written, &known);
    sync::links::<agreement_party::Entity>(txn, parties, &mut run.report.links).await?;
    sync::links::<agreement_instrument::Entity>(txn, instruments, &mut run.report.links).await?;

    let written = run.upsert(projects, &mut known).await?;
    let (participants, instruments) = link_lists(&written, &known);
    sync::links::<project_participant::Entity>(txn, participants, &mut run.report.links).await?;
    sync::links::<project_instrument::Entity>(txn, instruments, &mut run.report.links).await?;
    let values = |pick: fn(&Planned<_>) -> &Vec<String>| -> Vec<OwnerValues> {
        written
            .iter()
            .map(|(id, new, p)| (*id, *new, pick(p).clone()))
            .collect()
    };
    let (regions, themes) = (values(|p| &p.regions), values(|p| &p.themes));
    sync::values::<project_region::Entity>(
        txn,
        project_region::Column::ProjectId,
        project_region::Column::Region,
        regions,
        &mut run.report.links,
    )
    .await?;
    sync::values::<project_theme::Entity>(
        txn,
        project_theme::Column::ProjectId,
        project_theme::Column::Theme,
        themes,
        &mut run.report.links,
    )
    .await?;

    let written = run.upsert(events, &mut known).await?;
    if run.parents_moved {
        check_cycles::<event::Entity>(txn, event::Column::ParentId, &mut problems).await?;
    }
    let (participants, instruments) = link_lists(&written, &known);
    sync::links::<event_participant::Entity>(txn, participants, &mut run.report.links).await?;
    sync::links::<event_instrument::Entity>(txn, instruments, &mut run.report.links).await?;
    problems.into_result()?;
    Ok(report)
}

impl Plan {
    /// The rule book's checks of every record (no database): the checks a mutation makes of
    /// its input, at the record's path in the document. The document names fields in
    /// snake_case (`ends_on`) where the API says `endsOn`.
    pub fn check(&self, problems: &mut Problems) {
        for source in &self.sources {
            source.check(problems);
        }
        fn each<F: Fields>(records: &[Planned<F>], problems: &mut Problems) {
            for record in records {
                let from = problems.0.len();
                record.fields.check(problems, &record.path);
                for problem in &mut problems.0[from..] {
                    problem.path = snake_case(&problem.path);
                }
            }
        }
        each(&self.organizations, problems);
        each(&self.instruments, problems);
        each(&self.agreements, problems);
        each(&self.projects, problems);
        each(&self.events, problems);
    }
}

/// `projects[0].endsOn` → `projects[0].ends_on`.
fn snake_case(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 2);
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The links of the records written, as their two link tables want them: the organizations
/// (parties or participants), and the instruments.
fn link_lists<F, O, I>(
    written: &Written<F>,
    known: &Known,
) -> (Vec<OwnerLinks<O>>, Vec<OwnerLinks<I>>)
where
    O: LinkTable,
    I: LinkTable,
{
    let mut organizations = Vec::with_capacity(written.len());
    let mut instruments = Vec::with_capacity(written.len());
    for (owner, new, p) in written {
        let links: Vec<_> = (p.links.iter())
            .filter_map(|l| Some((known.id(l.role.target(), &l.target)?, l.role, l.since)))
            .collect();
        organizations.push(OwnerLinks::new(*owner, *new, &links));
        instruments.push(OwnerLinks::new(*owner, *new, &links));
    }
    (organizations, instruments)
}

/// Checks that the parents of a table's rows, the plan's writes included, form
/// no cycle: the document's own check cannot see a cycle that it closes with records already in
/// the database (`b.parent = a` stored, `a.parent = b` in the file). Parent changes are
/// serialized as a mutation's are (`lock_tree`).
async fn check_cycles<E: Writable>(
    txn: &DatabaseTransaction,
    parent: E::Column,
    problems: &mut Problems,
) -> AppResult<()> {
    lock_tree(txn, E::TABLE).await?;
    let rows: Vec<(i64, String, Option<i64>)> = E::find()
        .select_only()
        .column(E::ID)
        .column(E::SLUG)
        .column(parent)
        .into_tuple()
        .all(txn)
        .await?;
    let slugs: HashMap<i64, &str> = rows
        .iter()
        .map(|(id, slug, _)| (*id, slug.as_str()))
        .collect();
    let pairs: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|(_, slug, parent)| (slug.as_str(), parent.and_then(|p| slugs.get(&p).copied())))
        .collect();
    if let Err(slug) = super::plan::parents_first(&pairs, |x| x.0, |x| x.1) {
        problems.push(
            E::TABLE.name(),
            format!("the parents of `{slug}` form a cycle with records already in the database"),
        );
    }
    Ok(())
}
