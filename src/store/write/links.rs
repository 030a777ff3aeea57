//! Links between records (agreement parties, project and event participants, instrument
//! links): add, change the role of, and remove, each audited. A link is named by its owner,
//! its target and its role (unique together).

use chrono::Utc;
use entity::{EventRole, InstrumentRole, PartyRole, ProjectRole};
use entity::{
    agreement, agreement_instrument, agreement_party, audit_entry, event, event_instrument,
    event_participant, instrument, organization, project, project_instrument, project_participant,
};
use sea_orm::{
    ActiveEnum, ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DatabaseTransaction,
    IntoActiveModel, QueryFilter, Value,
    sea_query::{Expr, ExprTrait},
};
use serde::Serialize;

use super::{Bookkept, Problems, Table, Writable, audit, exists, gone_reference, to_json};
use crate::{
    auth::Actor,
    dates::PartialDate,
    error::{AppError, AppResult, is_foreign_key_violation, is_unique_violation},
};

/// A link table: owner → target with a role.
pub trait LinkTable: Bookkept<Model: Sync> {
    /// The GraphQL name of the link, as the audit log records it.
    const TYPE: &'static str;
    const ID: Self::Column;
    const OWNER: Self::Column;
    const TARGET: Self::Column;
    const ROLE: Self::Column;
    type Owner: Writable;
    type Target: Writable;
    /// The columns that say since when a link holds, set to `since` (a party's; none for
    /// the other links).
    fn since_columns(since: Option<PartialDate>) -> Vec<(Self::Column, Value)>;
}

/// Implements [`LinkTable`] for each link table of `store::link_tables`.
macro_rules! link_table {
    ($($table:ident {
        entity: $module:ident,
        group: $group:ident,
        role: $role:ident,
        words: $words:tt,
        owner: $owner:ident . $owner_col:ident $owner_side:tt,
        target: $target:ident . $target_col:ident $target_side:tt,
        relations: $relations:tt,
        $(since: ($on:ident, $precision:ident),)?
    })*) => {$(
        impl LinkTable for $module::Entity {
            const TYPE: &'static str = stringify!($table);
            const ID: $module::Column = $module::Column::Id;
            const OWNER: $module::Column = $module::Column::$owner_col;
            const TARGET: $module::Column = $module::Column::$target_col;
            const ROLE: $module::Column = $module::Column::Role;
            type Owner = $owner::Entity;
            type Target = $target::Entity;
            #[allow(unused_variables)]
            fn since_columns(since: Option<PartialDate>) -> Vec<($module::Column, Value)> {
                #[allow(unused_mut)]
                let mut columns = Vec::new();
                $(
                    let (on, precision) = PartialDate::into_parts(since);
                    columns.push(($module::Column::$on, on.into()));
                    columns.push(($module::Column::$precision, precision.into()));
                )?
                columns
            }
        }
    )*};
}

crate::store::link_tables::link_tables!(link_table);

/// The role of a link, and with it the kind of link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRole {
    /// An agreement's party (an organization).
    Party(PartyRole),
    /// A project's participant (an organization).
    Project(ProjectRole),
    /// An event's participant (an organization).
    Event(EventRole),
    /// A record's instrument.
    Instrument(InstrumentRole),
}

impl LinkRole {
    /// The table of the link's target.
    pub fn target(self) -> Table {
        match self {
            Self::Instrument(_) => Table::Instrument,
            _ => Table::Organization,
        }
    }

    /// The role as the link row holds it.
    pub(super) fn value(self) -> Value {
        match self {
            Self::Party(role) => role.into(),
            Self::Project(role) => role.into(),
            Self::Event(role) => role.into(),
            Self::Instrument(role) => role.into(),
        }
    }
}

impl std::fmt::Display for LinkRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let role = match self {
            Self::Party(role) => role.to_value(),
            Self::Project(role) => role.to_value(),
            Self::Event(role) => role.to_value(),
            Self::Instrument(role) => role.to_value(),
        };
        f.write_str(&role)
    }
}

/// One link as the client names it.
#[derive(Debug, Clone)]
pub struct LinkKey {
    pub owner: i64,
    pub target: i64,
    pub role: LinkRole,
}

async fn find<L: LinkTable>(
    txn: &DatabaseTransaction,
    key: &LinkKey,
) -> AppResult<Option<L::Model>> {
    Ok(L::find()
        .filter(L::OWNER.eq(key.owner))
        .filter(L::TARGET.eq(key.target))
        .filter(Expr::col(L::ROLE).eq(key.role.value()))
        .one(txn)
        .await?)
}

async fn owner_exists<L: LinkTable>(txn: &DatabaseTransaction, owner: i64) -> AppResult<()> {
    if exists::<L::Owner>(txn, owner).await? {
        Ok(())
    } else {
        Err(AppError::NotFound {
            entity: <L::Owner as Writable>::TYPE,
            key: owner.to_string(),
        })
    }
}

pub(super) fn duplicate(entity: &str, field: &str) -> AppError {
    AppError::Conflict {
        message: format!("This {entity} already exists with this role."),
        field: field.to_owned(),
    }
}

/// Adds a link, holding `since` (a party's). `path` names the input (`input`).
pub async fn add<L>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    key: LinkKey,
    since: Option<PartialDate>,
    path: &str,
) -> AppResult<(L::Model, audit_entry::Model)>
where
    L: LinkTable,
    L::Model: IntoActiveModel<L::ActiveModel> + Serialize,
    L::ActiveModel: Send,
{
    owner_exists::<L>(txn, key.owner).await?;
    let mut problems = Problems::default();
    if !exists::<L::Target>(txn, key.target).await? {
        problems.push(
            format!("{path}.{}", target_field::<L>()),
            format!(
                "there is no {} with this ID",
                <L::Target as Writable>::TYPE.to_lowercase()
            ),
        );
    }
    problems.into_result()?;
    if find::<L>(txn, &key).await?.is_some() {
        return Err(duplicate(L::TYPE, &format!("{path}.role")));
    }
    let now = Utc::now();
    let mut active = L::ActiveModel::new();
    active.set(L::OWNER, key.owner.into());
    active.set(L::TARGET, key.target.into());
    active.set(L::ROLE, key.role.value());
    for (col, value) in L::since_columns(since) {
        active.set(col, value);
    }
    L::stamp_new(&mut active, now);
    let model = L::insert(active)
        .exec_with_returning(txn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                duplicate(L::TYPE, &format!("{path}.role"))
            } else if is_foreign_key_violation(&e) {
                gone_reference(L::TYPE, path)
            } else {
                e.into()
            }
        })?;
    let entry = audit(
        txn,
        actor,
        "link",
        L::TYPE,
        Some(L::id_of(&model)),
        None,
        Some(to_json(&model)?),
    )
    .await?;
    Ok((model, entry))
}

/// CONFLICT when a link changed or went away between reading it and writing it.
fn link_changed(entity: &str) -> AppError {
    AppError::Conflict {
        message: format!(
            "This {entity} was changed or removed by someone else meanwhile. Read it again and retry."
        ),
        field: "input.role".into(),
    }
}

pub(super) fn target_field<L: LinkTable>() -> &'static str {
    match <L::Target as Writable>::TABLE {
        super::Table::Instrument => "instrument",
        _ => "organization",
    }
}

async fn existing_link<L: LinkTable>(
    txn: &DatabaseTransaction,
    key: &LinkKey,
) -> AppResult<L::Model> {
    owner_exists::<L>(txn, key.owner).await?;
    find::<L>(txn, key)
        .await?
        .ok_or_else(|| AppError::NotFound {
            entity: L::TYPE,
            key: format!("{} → {} ({})", key.owner, key.target, key.role),
        })
}

/// Changes the role of an existing link, and since when it holds (`since`: none keeps it).
pub async fn change<L>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    key: LinkKey,
    new_role: LinkRole,
    since: Option<Option<PartialDate>>,
    path: &str,
) -> AppResult<(L::Model, Option<audit_entry::Model>)>
where
    L: LinkTable,
    L::Model: IntoActiveModel<L::ActiveModel> + Serialize,
    L::ActiveModel: Send,
{
    let before = existing_link::<L>(txn, &key).await?;
    if new_role != key.role
        && find::<L>(
            txn,
            &LinkKey {
                role: new_role,
                ..key.clone()
            },
        )
        .await?
        .is_some()
    {
        return Err(duplicate(L::TYPE, &format!("{path}.newRole")));
    }
    let mut active = before.clone().into_active_model();
    active.set_if_not_equals(L::ROLE, new_role.value());
    for (col, value) in since.map(L::since_columns).unwrap_or_default() {
        active.set_if_not_equals(col, value);
    }
    if !active.is_changed() {
        return Ok((before, None));
    }
    let id = L::id_of(&before);
    // Only the link as it was read: a concurrent change or removal leaves no row to update.
    let result = L::update_many()
        .set(active)
        .col_expr(L::VERSION, Expr::col(L::VERSION).add(1))
        .col_expr(L::UPDATED_AT, Expr::value(Utc::now()))
        .filter(L::ID.eq(id))
        .filter(L::VERSION.eq(L::version_of(&before)))
        .exec(txn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                duplicate(L::TYPE, &format!("{path}.newRole"))
            } else {
                AppError::from(e)
            }
        })?;
    if result.rows_affected == 0 {
        return Err(link_changed(L::TYPE));
    }
    let after = L::find()
        .filter(L::ID.eq(id))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("link {id} vanished")))?;
    let entry = audit(
        txn,
        actor,
        "relink",
        L::TYPE,
        Some(id),
        Some(to_json(&before)?),
        Some(to_json(&after)?),
    )
    .await?;
    Ok((after, Some(entry)))
}

/// Removes a link.
pub async fn remove<L>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    key: LinkKey,
) -> AppResult<audit_entry::Model>
where
    L: LinkTable,
    L::Model: Serialize,
{
    let before = existing_link::<L>(txn, &key).await?;
    let id = L::id_of(&before);
    let result = L::delete_many()
        .filter(L::ID.eq(id))
        .filter(L::VERSION.eq(L::version_of(&before)))
        .exec(txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(link_changed(L::TYPE));
    }
    audit(
        txn,
        actor,
        "unlink",
        L::TYPE,
        Some(id),
        Some(to_json(&before)?),
        None,
    )
    .await
}
