//! Link changes made with an update of the record that owns them (`updateAgreement(input: {
//! id, version, parties: { connect, change, disconnect } })`): one transaction with the record's
//! own fields, its version checked once.
//!
//! Each group of changes (an agreement's parties, its instruments) is checked as a whole before
//! anything is written, beside the record's fields, so that every problem of the input comes
//! back at once with its path (`input.parties.connect[1].organization`). The check reads the
//! targets named (by id or slug) in one statement and the owner's links to them in another,
//! locking those links for the rest of the transaction; then it plays the changes in their
//! order (disconnect, change, connect) against what it read. The writes are one `DELETE` for
//! every disconnect, one `UPDATE … RETURNING` per changed link, one multi-row `INSERT …
//! RETURNING` for every connect, and one multi-row insert of the audit entries, the record's
//! own first: each link keeps its own entry (`unlink`, `relink`, `link`), as the link mutations write them.

use std::collections::HashMap;

use chrono::Utc;
use entity::{
    agreement_instrument, agreement_party, event_instrument, event_participant, project_instrument,
    project_participant,
};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, ModelTrait, QueryFilter, QuerySelect, Value,
    sea_query::{Expr, ExprTrait, ValueType},
};
use serde::Serialize;

use super::{
    AuditDraft, Problems, Writable, gone_reference,
    links::{LinkRole, LinkTable, duplicate, target_field},
    to_json,
};
use crate::{
    dates::PartialDate,
    error::{AppError, AppResult, is_foreign_key_violation, is_unique_violation},
    store::records::Record,
};

/// The most links one group may add, change or remove in one call. It bounds every statement
/// the group sends (a multi-row insert binds eight values a link; PostgreSQL takes at most
/// 65,535 a statement and SQLite 32,766).
pub const MAX_LINK_CHANGES: usize = 1_000;

/// The record a link points at, as the client names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// By database id (0 for an ID that was malformed or of another type: no record has it).
    Id(i64),
    /// By slug.
    Slug(String),
}

/// A link to add.
pub struct Connect {
    pub target: Target,
    pub role: LinkRole,
    /// Since when it holds (a party's).
    pub since: Option<PartialDate>,
}

/// A link whose role (or date) changes.
pub struct Change {
    pub target: Target,
    pub role: LinkRole,
    pub new_role: LinkRole,
    /// Since when it holds (a party's); none keeps the date.
    pub since: Option<Option<PartialDate>>,
}

/// A link to remove.
pub struct Disconnect {
    pub target: Target,
    pub role: LinkRole,
}

/// The changes to one link table of one owner, and (once checked) what they write.
pub struct LinkChanges<L: LinkTable> {
    /// The input path of the group (`input.parties`).
    path: String,
    /// Whether the group is the links of a new record, a plain list of connects
    /// (`input.parties[1]`), rather than changes (`input.parties.connect[1]`).
    list: bool,
    pub connect: Vec<Connect>,
    pub change: Vec<Change>,
    pub disconnect: Vec<Disconnect>,
    plan: Plan<L>,
}

/// Further columns of a link row and their values.
pub(super) type Columns<L> = Vec<(<L as EntityTrait>::Column, Value)>;

/// What a checked group writes.
struct Plan<L: LinkTable> {
    /// Links to delete, as they were read.
    remove: Vec<L::Model>,
    /// `(link id, new role, further columns)`, in input order.
    change: Vec<(i64, Value, Columns<L>)>,
    /// `(target id, role, further columns)`, in input order.
    add: Vec<(i64, Value, Columns<L>)>,
    /// The links read, by id: the before-image of each change.
    read: HashMap<i64, L::Model>,
}

impl<L: LinkTable> Default for Plan<L> {
    fn default() -> Self {
        Self {
            remove: Vec::new(),
            change: Vec::new(),
            add: Vec::new(),
            read: HashMap::new(),
        }
    }
}

impl<L: LinkTable> LinkChanges<L> {
    /// Changes to an existing record's links, at `path` (`input.parties`).
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            list: false,
            connect: Vec::new(),
            change: Vec::new(),
            disconnect: Vec::new(),
            plan: Plan::default(),
        }
    }

    /// The links of a new record, given as a list at `path` (`input.parties`): connects only.
    pub fn new_links(path: impl Into<String>) -> Self {
        Self {
            list: true,
            ..Self::new(path)
        }
    }

    /// The path of item `i` of operation `op`.
    fn at(&self, op: &str, i: usize) -> String {
        match self.list {
            true => format!("{}[{i}]", self.path),
            false => format!("{}.{op}[{i}]", self.path),
        }
    }

    fn is_empty(&self) -> bool {
        self.connect.is_empty() && self.change.is_empty() && self.disconnect.is_empty()
    }

    fn targets(&self) -> impl Iterator<Item = &Target> {
        let disconnect = self.disconnect.iter().map(|d| &d.target);
        let change = self.change.iter().map(|c| &c.target);
        disconnect
            .chain(change)
            .chain(self.connect.iter().map(|c| &c.target))
    }

    /// The ids of the targets named, by id or slug, that exist: one statement.
    async fn resolve(&self, txn: &DatabaseTransaction) -> AppResult<Resolved> {
        let mut ids = Vec::new();
        let mut slugs = Vec::new();
        for target in self.targets() {
            match target {
                Target::Id(id) => ids.push(*id),
                Target::Slug(slug) => slugs.push(slug.clone()),
            }
        }
        let (id, slug) = (<L::Target as Record>::ID, <L::Target as Record>::SLUG);
        let rows: Vec<(i64, String)> = L::Target::find()
            .select_only()
            .column(id)
            .column(slug)
            .filter(id.is_in(ids).or(slug.is_in(slugs)))
            .into_tuple()
            .all(txn)
            .await?;
        Ok(Resolved {
            ids: rows.iter().map(|(id, _)| *id).collect(),
            slugs: rows.into_iter().map(|(id, slug)| (slug, id)).collect(),
        })
    }

    /// Checks the group against the owner's links (read and locked here; none for a record
    /// not yet inserted, `owner` None), noting every problem; remembers what to write.
    async fn check(
        &mut self,
        txn: &DatabaseTransaction,
        owner: Option<i64>,
        problems: &mut Problems,
    ) -> AppResult<()> {
        if self.is_empty() {
            return Ok(());
        }
        let count = self.connect.len() + self.change.len() + self.disconnect.len();
        if count > MAX_LINK_CHANGES {
            problems.push(
                self.path.clone(),
                format!(
                    "{count} link changes in one call; at most {MAX_LINK_CHANGES} are taken, split the change"
                ),
            );
            return Ok(());
        }
        let resolved = self.resolve(txn).await?;
        let noun = <L::Target as Writable>::TABLE.singular();
        let field = target_field::<L>();
        let mut resolve = |op: &str, i: usize, target: &Target| {
            let found = resolved.find(target);
            if found.is_none() {
                let message = match target {
                    Target::Id(_) => format!("there is no {noun} with this ID"),
                    Target::Slug(slug) => format!("there is no {noun} with the slug `{slug}`"),
                };
                problems.push(format!("{}.{field}", self.at(op, i)), message);
            }
            found
        };
        let disconnect: Vec<_> = (self.disconnect.iter().enumerate())
            .map(|(i, d)| resolve("disconnect", i, &d.target))
            .collect();
        let change: Vec<_> = (self.change.iter().enumerate())
            .map(|(i, c)| resolve("change", i, &c.target))
            .collect();
        let connect: Vec<_> = (self.connect.iter().enumerate())
            .map(|(i, c)| resolve("connect", i, &c.target))
            .collect();
        let wanted: Vec<i64> = disconnect
            .iter()
            .chain(&change)
            .chain(&connect)
            .flatten()
            .copied()
            .collect();
        let read = match owner {
            Some(owner) if !wanted.is_empty() => {
                L::find()
                    .filter(L::OWNER.eq(owner))
                    .filter(L::TARGET.is_in(wanted))
                    .lock_exclusive()
                    .all(txn)
                    .await?
            }
            _ => Vec::new(),
        };
        // The owner's links to the targets named, as the changes leave them:
        // (target, role, the link's id when it exists already).
        let mut links: Vec<(i64, Value, Option<i64>)> = read
            .iter()
            .map(|m| (target_of::<L>(m), m.get(L::ROLE), Some(L::id_of(m))))
            .collect();
        let position = |links: &[(i64, Value, Option<i64>)], target: i64, role: &Value| {
            links.iter().position(|(t, r, _)| *t == target && r == role)
        };
        let mut plan = Plan::<L> {
            read: read.into_iter().map(|m| (L::id_of(&m), m)).collect(),
            ..Plan::default()
        };
        for (i, (d, target)) in self.disconnect.iter().zip(&disconnect).enumerate() {
            let Some(target) = *target else { continue };
            match position(&links, target, &d.role.value()) {
                Some(at) => {
                    let (_, _, id) = links.remove(at);
                    if let Some(model) = id.and_then(|id| plan.read.get(&id)) {
                        plan.remove.push(model.clone());
                    }
                }
                None => problems.push(
                    format!("{}.role", self.at("disconnect", i)),
                    format!("this {noun} has no link in this role to remove"),
                ),
            }
        }
        for (i, (c, target)) in self.change.iter().zip(&change).enumerate() {
            let Some(target) = *target else { continue };
            let (role, new_role) = (c.role.value(), c.new_role.value());
            let Some(at) = position(&links, target, &role) else {
                problems.push(
                    format!("{}.role", self.at("change", i)),
                    format!("this {noun} has no link in this role to change"),
                );
                continue;
            };
            if new_role != role && position(&links, target, &new_role).is_some() {
                problems.push(
                    format!("{}.newRole", self.at("change", i)),
                    format!("this {noun} is already linked in the new role"),
                );
                continue;
            }
            let Some(model) = links[at].2.and_then(|id| plan.read.get(&id)) else {
                continue;
            };
            let id = L::id_of(model);
            let extra = c.since.map(L::since_columns).unwrap_or_default();
            let changes =
                new_role != role || extra.iter().any(|(col, value)| model.get(*col) != *value);
            if changes {
                links[at].1 = new_role.clone();
                plan.change.push((id, new_role, extra));
            }
        }
        for (i, (c, target)) in self.connect.iter().zip(&connect).enumerate() {
            let Some(target) = *target else { continue };
            let role = c.role.value();
            if position(&links, target, &role).is_some() {
                problems.push(
                    format!("{}.role", self.at("connect", i)),
                    format!("this {noun} is already linked in this role"),
                );
                continue;
            }
            links.push((target, role.clone(), None));
            plan.add.push((target, role, L::since_columns(c.since)));
        }
        self.plan = plan;
        Ok(())
    }

    /// Writes what [`Self::check`] planned; answers the audit entries to append, in the order
    /// the changes were made.
    async fn apply(self, txn: &DatabaseTransaction, owner: i64) -> AppResult<Vec<AuditDraft>>
    where
        L::Model: IntoActiveModel<L::ActiveModel> + Serialize,
        L::ActiveModel: Send,
    {
        let Plan {
            remove,
            change,
            add,
            mut read,
        } = self.plan;
        let path = self.path;
        let mut entries = Vec::new();
        if !remove.is_empty() {
            // The rows are locked since the check: nothing else can have changed them.
            let ids: Vec<i64> = remove.iter().map(L::id_of).collect();
            let removed = L::delete_many().filter(L::ID.is_in(ids)).exec(txn).await?;
            if removed.rows_affected != remove.len() as u64 {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "{} of {} locked links removed",
                    removed.rows_affected,
                    remove.len()
                )));
            }
            for model in &remove {
                let before = Some(to_json(model)?);
                entries.push(("unlink", L::id_of(model), before, None));
            }
        }
        for (id, role, extra) in change {
            let after =
                update_link::<L>(txn, id, Some(role), extra, &format!("{path}.change")).await?;
            let before = read.insert(id, after.clone());
            let before = before.map(|m| to_json(&m)).transpose()?;
            entries.push(("relink", id, before, Some(to_json(&after)?)));
        }
        if !add.is_empty() {
            let rows = add
                .into_iter()
                .map(|(target, role, extra)| (owner, target, role, extra))
                .collect();
            let added = insert_links::<L>(txn, rows, &format!("{path}.connect")).await?;
            for model in &added {
                entries.push(("link", L::id_of(model), None, Some(to_json(model)?)));
            }
        }
        Ok(entries
            .into_iter()
            .map(|(action, id, before, after)| (action, L::TYPE, Some(id), before, after))
            .collect())
    }
}

/// Sets a link's role (when given) and further columns, bumping its version; answers it as
/// written. An error is CONFLICT on `field`.
pub(super) async fn update_link<L>(
    txn: &DatabaseTransaction,
    id: i64,
    role: Option<Value>,
    extra: Columns<L>,
    field: &str,
) -> AppResult<L::Model>
where
    L: LinkTable,
    L::ActiveModel: Send,
{
    let mut active = L::ActiveModel::new();
    if let Some(role) = role {
        active.set(L::ROLE, role);
    }
    for (col, value) in extra {
        active.set(col, value);
    }
    L::update_many()
        .set(active)
        .col_expr(L::VERSION, Expr::col(L::VERSION).add(1))
        .col_expr(L::UPDATED_AT, Expr::value(Utc::now()))
        .filter(L::ID.eq(id))
        .exec_with_returning(txn)
        .await
        .map_err(|e| write_error::<L>(e, field))?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("link {id} vanished")))
}

/// Inserts links `(owner, target, role, further columns)` in one statement; answers them in
/// the order of their ids. An error is CONFLICT on `field`.
pub(super) async fn insert_links<L>(
    txn: &DatabaseTransaction,
    rows: Vec<(i64, i64, Value, Columns<L>)>,
    field: &str,
) -> AppResult<Vec<L::Model>>
where
    L: LinkTable,
    L::Model: IntoActiveModel<L::ActiveModel>,
    L::ActiveModel: Send,
{
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let rows = rows.into_iter().map(|(owner, target, role, extra)| {
        let mut active = L::ActiveModel::new();
        active.set(L::OWNER, owner.into());
        active.set(L::TARGET, target.into());
        active.set(L::ROLE, role);
        for (col, value) in extra {
            active.set(col, value);
        }
        L::stamp_new(&mut active, now);
        active
    });
    let mut added = L::insert_many(rows)
        .exec_with_returning(txn)
        .await
        .map_err(|e| write_error::<L>(e, field))?;
    added.sort_by_key(L::id_of);
    Ok(added)
}

/// A write's error: a duplicate link (a concurrent connect) or a target deleted meanwhile is
/// CONFLICT on the group's operation.
fn write_error<L: LinkTable>(e: sea_orm::DbErr, field: &str) -> AppError {
    if is_unique_violation(&e) {
        duplicate(L::TYPE, field)
    } else if is_foreign_key_violation(&e) {
        gone_reference(L::TYPE, field)
    } else {
        AppError::from(e)
    }
}

pub(super) fn target_of<L: LinkTable>(model: &L::Model) -> i64 {
    <i64 as ValueType>::try_from(model.get(L::TARGET)).unwrap_or_default()
}

/// The targets that exist, by id and by slug.
struct Resolved {
    ids: std::collections::HashSet<i64>,
    slugs: HashMap<String, i64>,
}

impl Resolved {
    fn find(&self, target: &Target) -> Option<i64> {
        match target {
            Target::Id(id) => self.ids.contains(id).then_some(*id),
            Target::Slug(slug) => self.slugs.get(slug).copied(),
        }
    }
}

/// Declares [`LinkGroup`] (one variant a link table of `store::link_tables`), its `From`
/// each table's [`LinkChanges`], and `with_changes!`; `$d` is `$`, for the latter's own
/// metavariables.
macro_rules! link_groups {
    ($d:tt $($table:ident { entity: $link:ident, group: $group:ident, $($rest:tt)* })*) => {
        /// The changes to one link table that an update carries.
        pub enum LinkGroup {
            $($group(LinkChanges<$link::Entity>),)*
        }

        /// Runs `$body` with `$changes` bound to the group's [`LinkChanges`].
        macro_rules! with_changes {
            ($d group:expr, $d changes:ident => $d body:expr) => {
                match $d group {
                    $(LinkGroup::$group($d changes) => $d body,)*
                }
            };
        }

        $(
            impl From<LinkChanges<$link::Entity>> for LinkGroup {
                fn from(changes: LinkChanges<$link::Entity>) -> Self {
                    Self::$group(changes)
                }
            }
        )*
    };
}

crate::store::link_tables::link_tables!(link_groups $);

/// Checks every group against the owner's links, noting problems (nothing is written).
pub async fn check_groups(
    groups: &mut [LinkGroup],
    txn: &DatabaseTransaction,
    owner: Option<i64>,
    problems: &mut Problems,
) -> AppResult<()> {
    for group in groups {
        with_changes!(group, changes => changes.check(txn, owner, problems).await?);
    }
    Ok(())
}

/// Writes what [`check_groups`] planned; answers every link's audit entry to append (the
/// caller appends them with its own in one statement), in the order the changes were made.
pub async fn apply_groups(
    groups: Vec<LinkGroup>,
    txn: &DatabaseTransaction,
    owner: i64,
) -> AppResult<Vec<AuditDraft>> {
    let mut entries = Vec::new();
    for group in groups {
        entries.extend(with_changes!(group, changes => changes.apply(txn, owner).await?));
    }
    Ok(entries)
}
