//! Making the links of many owners exactly a plan's, a few statements a link table whatever
//! the number of owners: one read of the links the owners already have (none when every owner
//! is new), one `DELETE` of those the plan drops, one `UPDATE` per link whose further columns
//! changed (a party's `since`), and one multi-row `INSERT` of the new ones. A project's regions
//! and themes likewise.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction,
    EntityTrait, IntoActiveModel, ModelTrait, QueryFilter, QuerySelect, Value,
};

use super::{
    Writable,
    link_rows::{Columns, insert_links, target_of, update_link},
    links::{LinkRole, LinkTable},
    plan::Counts,
};
use crate::{dates::PartialDate, error::AppResult};

/// The most owners one read or delete names (each is a bound value).
const OWNERS_A_STATEMENT: usize = 5_000;

/// The links one owner is to have in one link table: `(target, role, further columns)`.
pub struct OwnerLinks<L: EntityTrait> {
    owner: i64,
    /// An owner inserted by this plan has no links yet: nothing to read.
    new: bool,
    links: Vec<(i64, Value, Columns<L>)>,
}

impl<L: LinkTable> OwnerLinks<L> {
    /// The links of `links` (`(target, role, since)`) that are rows of `L`: those to its kind
    /// of target (an agreement's organizations are its parties).
    pub fn new(owner: i64, new: bool, links: &[(i64, LinkRole, Option<PartialDate>)]) -> Self {
        let table = <L::Target as Writable>::TABLE;
        let links = (links.iter())
            .filter(|(_, role, _)| role.target() == table)
            .map(|(target, role, since)| (*target, role.value(), L::since_columns(*since)))
            .collect();
        Self { owner, new, links }
    }
}

/// Makes each owner's links of `L` exactly `owners`' (a link is its target and role; its
/// further columns are updated in place).
pub async fn links<L>(
    txn: &DatabaseTransaction,
    owners: Vec<OwnerLinks<L>>,
    counts: &mut Counts,
) -> AppResult<()>
where
    L: LinkTable,
    L::Model: IntoActiveModel<L::ActiveModel>,
    L::ActiveModel: Send,
{
    let old: Vec<i64> = owners.iter().filter(|o| !o.new).map(|o| o.owner).collect();
    let mut stored: HashMap<i64, Vec<L::Model>> = HashMap::new();
    for chunk in old.chunks(OWNERS_A_STATEMENT) {
        for model in L::find()
            .filter(L::OWNER.is_in(chunk.iter().copied()))
            .all(txn)
            .await?
        {
            let owner = <i64 as sea_orm::sea_query::ValueType>::try_from(model.get(L::OWNER))
                .unwrap_or_default();
            stored.entry(owner).or_default().push(model);
        }
    }
    // A clash with a writer meanwhile is CONFLICT on the owners' section (`agreements`).
    let section = <L::Owner as Writable>::TABLE.name();
    let mut remove = Vec::new();
    let mut add = Vec::new();
    for OwnerLinks { owner, links, .. } in owners {
        let mut matched = vec![false; links.len()];
        for model in stored.remove(&owner).unwrap_or_default() {
            let (target, role) = (target_of::<L>(&model), model.get(L::ROLE));
            let found = (links.iter().enumerate())
                .position(|(i, (t, r, _))| !matched[i] && *t == target && *r == role);
            let Some(i) = found else {
                remove.push(L::id_of(&model));
                continue;
            };
            matched[i] = true;
            let extra = &links[i].2;
            if extra.iter().any(|(col, value)| model.get(*col) != *value) {
                update_link::<L>(txn, L::id_of(&model), None, extra.clone(), section).await?;
                counts.updated += 1;
            } else {
                counts.unchanged += 1;
            }
        }
        for ((target, role, extra), _) in links.into_iter().zip(matched).filter(|(_, m)| !m) {
            add.push((owner, target, role, extra));
        }
    }
    for chunk in remove.chunks(OWNERS_A_STATEMENT) {
        L::delete_many()
            .filter(L::ID.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    counts.removed += remove.len() as u64;
    counts.created += add.len() as u64;
    for chunk in chunk_owned(add, 1_000) {
        insert_links::<L>(txn, chunk, section).await?;
    }
    Ok(())
}

/// `items` in runs of at most `size`.
fn chunk_owned<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut chunks = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        chunks.push(items.by_ref().take(size).collect());
    }
    chunks
}

/// A project's values (regions or themes) as a plan wants them: `(project, new, values)`.
pub type OwnerValues = (i64, bool, Vec<String>);

/// Makes each project's values in `E` (its regions, or its themes) exactly `owners`'.
pub async fn values<E>(
    txn: &DatabaseTransaction,
    project_col: E::Column,
    value_col: E::Column,
    owners: Vec<OwnerValues>,
    counts: &mut Counts,
) -> AppResult<()>
where
    E: EntityTrait,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let old: Vec<i64> = owners.iter().filter(|o| !o.1).map(|o| o.0).collect();
    let mut stored: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in old.chunks(OWNERS_A_STATEMENT) {
        let rows: Vec<(i64, String)> = E::find()
            .select_only()
            .column(project_col)
            .column(value_col)
            .filter(project_col.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(txn)
            .await?;
        for (project, value) in rows {
            stored.entry(project).or_default().push(value);
        }
    }
    let mut stale = Vec::new();
    let mut add = Vec::new();
    for (project, _, wanted) in owners {
        let have = stored.remove(&project).unwrap_or_default();
        let gone: Vec<String> = (have.iter())
            .filter(|v| !wanted.contains(v))
            .cloned()
            .collect();
        if !gone.is_empty() {
            counts.removed += gone.len() as u64;
            stale.push((project, gone));
        }
        for value in wanted {
            if have.contains(&value) {
                counts.unchanged += 1;
            } else {
                add.push((project, value));
            }
        }
    }
    for chunk in stale.chunks(OWNERS_A_STATEMENT / 10) {
        let mut condition = Condition::any();
        for (project, gone) in chunk {
            condition = condition.add(
                Condition::all()
                    .add(project_col.eq(*project))
                    .add(value_col.is_in(gone.iter().cloned())),
            );
        }
        E::delete_many().filter(condition).exec(txn).await?;
    }
    counts.created += add.len() as u64;
    for chunk in chunk_owned(add, 1_000) {
        let rows = chunk.into_iter().map(|(project, value)| {
            let mut active = E::ActiveModel::default();
            active.set(project_col, project.into());
            active.set(value_col, value.into());
            active
        });
        E::insert_many(rows).exec_without_returning(txn).await?;
    }
    Ok(())
}
