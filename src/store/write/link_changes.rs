//! Link changes made with an update of the record that owns them (`updateAgreement(input: {
//! id, version, parties: { connect, change, disconnect } })`): one transaction with the record's
//! own fields, its version checked once.
//!
//! Each group of changes (an agreement's parties, its instruments) is checked as a whole before
//! anything is written, beside the record's fields, so that every problem of the input comes
//! back at once with its path (`input.parties.connect[1].organization`). The check reads, in
//! one statement, the targets named (by id or slug) and the owner's links to them, locking
//! those links for the rest of the transaction; then it plays the changes in their order
//! (disconnect, change, connect) against what it read. The writes are the group's removals,
//! role changes and additions (one statement on PostgreSQL, see [`super::link_rows`]), and one
//! multi-row insert of the audit entries, the record's own first: each link keeps its own
//! entry (`unlink`, `relink`, `link`), as the link mutations write them.

use std::collections::HashMap;

use entity::{
    agreement_instrument, agreement_party, event_instrument, event_participant, project_instrument,
    project_participant,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, FromQueryResult, IdenStatic,
    IntoActiveModel, Iterable, ModelTrait, QueryFilter, QuerySelect, QueryTrait, Value,
    sea_query::{Alias, Expr, ExprTrait, JoinType, Query},
};
use serde::Serialize;

use super::{
    AuditDraft, Problems, Writable,
    link_rows::{Columns, LinkChange, target_of, write_group},
    links::{LinkRole, LinkTable, target_field},
    to_json,
};
use crate::{
    dates::PartialDate,
    error::{AppError, AppResult},
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

/// What a checked group writes.
struct Plan<L: LinkTable> {
    /// Links to delete, as they were read.
    remove: Vec<L::Model>,
    /// `(link id, new role, further columns)`, in input order.
    change: Vec<LinkChange<L>>,
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

    /// The targets named (by id or slug) that exist and, for an existing owner, its links to
    /// them, locked for the rest of the transaction: one statement, the links left-joined to
    /// the targets (from a locked sub-select, since PostgreSQL cannot lock the nullable side of
    /// an outer join).
    async fn read(
        &self,
        txn: &DatabaseTransaction,
        owner: Option<i64>,
    ) -> AppResult<(Resolved, Vec<L::Model>)> {
        let mut ids = Vec::new();
        let mut slugs = Vec::new();
        for target in self.targets() {
            match target {
                Target::Id(id) => ids.push(*id),
                Target::Slug(slug) => slugs.push(slug.clone()),
            }
        }
        let (id, slug) = (<L::Target as Record>::ID, <L::Target as Record>::SLUG);
        // Only the lists given: an empty `IN` would be a constant the plan cannot drop.
        let named = || {
            Condition::any()
                .add_option((!ids.is_empty()).then(|| id.is_in(ids.clone())))
                .add_option((!slugs.is_empty()).then(|| slug.is_in(slugs.clone())))
        };
        let target = L::Target::default();
        let mut select = Query::select();
        select
            .expr_as(Expr::col((target, id)), "target_id")
            .expr_as(Expr::col((target, slug)), "target_slug")
            .from(target)
            .cond_where(named());
        if let Some(owner) = owner {
            let named_ids = Query::select()
                .column(id)
                .from(target)
                .cond_where(named())
                .to_owned();
            let links = L::find()
                .filter(L::OWNER.eq(owner))
                .filter(L::TARGET.in_subquery(named_ids))
                .lock_exclusive()
                .into_query();
            let alias = Alias::new("link");
            select.join_subquery(
                JoinType::LeftJoin,
                links,
                alias.clone(),
                Expr::col((alias.clone(), L::TARGET)).equals((target, id)),
            );
            for column in L::Column::iter() {
                select.expr_as(
                    Expr::col((alias.clone(), column)),
                    format!("link_{}", column.as_str()),
                );
            }
        }
        let rows = txn.query_all(&select).await?;
        let mut resolved = Resolved::default();
        let mut links = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("", "target_id")?;
            let slug: String = row.try_get("", "target_slug")?;
            resolved.ids.insert(id);
            resolved.slugs.insert(slug, id);
            if owner.is_some()
                && let Some(link) = Option::<L::Model>::from_query_result(&row, "link_")?
            {
                links.push(link);
            }
        }
        Ok((resolved, links))
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
        let (resolved, read) = self.read(txn, owner).await?;
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
        let ids: Vec<i64> = remove.iter().map(L::id_of).collect();
        let add = add
            .into_iter()
            .map(|(target, role, extra)| (owner, target, role, extra))
            .collect();
        let written = write_group::<L>(txn, ids, change, add, &self.path).await?;
        // The rows are locked since the check: nothing else can have changed them.
        if written.removed != remove.len() as u64 {
            return Err(AppError::Internal(anyhow::anyhow!(
                "{} of {} locked links removed",
                written.removed,
                remove.len()
            )));
        }
        let mut entries = Vec::new();
        for model in &remove {
            let before = Some(to_json(model)?);
            entries.push(("unlink", L::id_of(model), before, None));
        }
        for after in written.changed {
            let id = L::id_of(&after);
            let after_image = Some(to_json(&after)?);
            let before = read.insert(id, after).map(|m| to_json(&m)).transpose()?;
            entries.push(("relink", id, before, after_image));
        }
        for model in &written.added {
            entries.push(("link", L::id_of(model), None, Some(to_json(model)?)));
        }
        Ok(entries
            .into_iter()
            .map(|(action, id, before, after)| (action, L::TYPE, Some(id), before, after))
            .collect())
    }
}

/// The targets that exist, by id and by slug.
#[derive(Default)]
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
