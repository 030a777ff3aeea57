//! The tables the write path knows: the kinds of rows a delete takes away and a restore puts
//! back ([`Table`]), and the record tables the API writes ([`Writable`]), each declared once.

use std::str::FromStr;

use entity::{
    agreement, agreement_instrument, agreement_party, event, event_instrument, event_participant,
    instrument, organization, project, project_instrument, project_participant, project_region,
    project_theme, source,
};
use migration::m20261201_000001_link_order_keys as order_keys;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value as Json;

use crate::{
    error::{AppError, AppResult, is_foreign_key_violation},
    store::{RecordKind, records::Record},
};

/// Declares [`Table`], with a variant for each link table of `store::link_tables`, and what
/// lists every table: `with_entity!`, `Table::ALL`, and each table's words and references.
/// `$d` is `$`, for `with_entity!`'s own metavariables.
macro_rules! tables {
    ($d:tt $($link:ident {
        entity: $module:ident,
        group: $group:ident,
        role: $role:ident,
        words: ($one:literal, $many:literal),
        owner: $owner:ident . $owner_col:ident ($owner_rel:ident, $owner_filter:ident, $owner_keys:ident),
        target: $target:ident . $target_col:ident ($target_rel:ident, $target_filter:ident, $target_keys:ident),
        $($rest:tt)*
    })*) => {
        /// The kinds of rows a delete can take away and a restore put back. The records come
        /// first and keep their positions: `records::tree_lock_key` numbers a table by it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Table {
            Organization,
            Agreement,
            Project,
            Event,
            Instrument,
            $($link,)*
            ProjectRegion,
            ProjectTheme,
        }

        /// Runs `$body` with `$e` as the entity type of `$table`.
        macro_rules! with_entity {
            ($d table:expr, $d e:ident => $d body:expr) => {
                match $d table {
                    Table::Organization => {
                        type $d e = organization::Entity;
                        $d body
                    }
                    Table::Agreement => {
                        type $d e = agreement::Entity;
                        $d body
                    }
                    Table::Project => {
                        type $d e = project::Entity;
                        $d body
                    }
                    Table::Event => {
                        type $d e = event::Entity;
                        $d body
                    }
                    Table::Instrument => {
                        type $d e = instrument::Entity;
                        $d body
                    }
                    $(
                        Table::$link => {
                            type $d e = $module::Entity;
                            $d body
                        }
                    )*
                    Table::ProjectRegion => {
                        type $d e = project_region::Entity;
                        $d body
                    }
                    Table::ProjectTheme => {
                        type $d e = project_theme::Entity;
                        $d body
                    }
                }
            };
        }

        impl Table {
            const ALL: &'static [Table] = &[
                Self::Organization,
                Self::Agreement,
                Self::Project,
                Self::Event,
                Self::Instrument,
                $(Self::$link,)*
                Self::ProjectRegion,
                Self::ProjectTheme,
            ];

            /// What the API calls one row of this table and several, for messages to clients
            /// (never the table's name).
            fn words(self) -> (&'static str, &'static str) {
                match self {
                    Self::Organization => ("organization", "organizations"),
                    Self::Agreement => ("agreement", "agreements"),
                    Self::Project => ("project", "projects"),
                    Self::Event => ("event", "events"),
                    Self::Instrument => ("instrument", "instruments"),
                    $(Self::$link => ($one, $many),)*
                    Self::ProjectRegion => ("project region", "project regions"),
                    Self::ProjectTheme => ("project theme", "project themes"),
                }
            }

            /// The references of a row of this table to records: `(column, table referred to)`.
            /// A link's are its owner's, then its target's.
            pub(super) fn references(self) -> &'static [(&'static str, Table)] {
                use Table::*;
                match self {
                    Organization => &[("parent_id", Organization)],
                    Instrument => &[("issuer_id", Organization)],
                    Project => &[("agreement_id", Agreement)],
                    Event => &[
                        ("parent_id", Event),
                        ("project_id", Project),
                        ("agreement_id", Agreement),
                    ],
                    Agreement => &[],
                    $(
                        Table::$link => &[
                            (order_keys::$owner_keys.fk, <$owner::Entity as Writable>::TABLE),
                            (order_keys::$target_keys.fk, <$target::Entity as Writable>::TABLE),
                        ],
                    )*
                    ProjectRegion | ProjectTheme => &[("project_id", Project)],
                }
            }
        }
    };
}

crate::store::link_tables::link_tables!(tables $);

pub(super) use with_entity;

impl Table {
    /// `count` rows in the API's words: `1 agreement party`, `2 agreement parties`.
    pub fn noun(self, count: usize) -> String {
        let (one, many) = self.words();
        format!("{count} {}", if count == 1 { one } else { many })
    }

    /// One row in the API's words: `agreement party`.
    pub fn singular(self) -> &'static str {
        self.words().0
    }

    /// The record table whose GraphQL type is `name` (`Organization`), as the audit log
    /// records it; none for a link type or another name.
    pub fn of_record_type(name: &str) -> Option<Self> {
        RecordKind::named(name).map(Self::of_kind)
    }

    /// The table of a kind of record.
    pub const fn of_kind(kind: RecordKind) -> Self {
        match kind {
            RecordKind::Organization => Self::Organization,
            RecordKind::Agreement => Self::Agreement,
            RecordKind::Project => Self::Project,
            RecordKind::Event => Self::Event,
            RecordKind::Instrument => Self::Instrument,
        }
    }

    /// The table name (the key of the before-image).
    pub fn name(self) -> &'static str {
        use sea_orm::EntityName;
        with_entity!(self, E => E::default().table_name())
    }

    pub(super) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The rows whose `column` is `id`, as JSON.
    pub(super) async fn rows(
        self,
        txn: &DatabaseTransaction,
        column: &str,
        id: i64,
    ) -> AppResult<Vec<Json>> {
        with_entity!(self, E => rows_json::<E>(txn, column, id).await)
    }

    /// Inserts rows from their JSON before-images, ids included.
    pub(super) async fn insert(self, txn: &DatabaseTransaction, rows: Vec<Json>) -> AppResult<()> {
        with_entity!(self, E => insert_json::<E>(txn, rows).await)
    }
}

pub(super) fn column<E: EntityTrait>(name: &str) -> AppResult<E::Column> {
    E::Column::from_str(name).map_err(|_| AppError::Internal(anyhow::anyhow!("no column {name}")))
}

async fn rows_json<E>(txn: &DatabaseTransaction, col: &str, id: i64) -> AppResult<Vec<Json>>
where
    E: EntityTrait,
    E::Model: Serialize,
{
    let rows = E::find().filter(column::<E>(col)?.eq(id)).all(txn).await?;
    rows.iter()
        .map(|r| serde_json::to_value(r).map_err(|e| AppError::Internal(e.into())))
        .collect()
}

async fn insert_json<E>(txn: &DatabaseTransaction, rows: Vec<Json>) -> AppResult<()>
where
    E: EntityTrait + sea_orm::EntityName,
    E::Model: DeserializeOwned + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: Send,
{
    for row in rows {
        let model: E::Model =
            serde_json::from_value(row).map_err(|e| AppError::Internal(e.into()))?;
        let active = model.into_active_model().reset_all();
        E::insert(active)
            .exec_without_returning(txn)
            .await
            .map_err(|e| {
                if is_foreign_key_violation(&e) {
                    let what = Table::from_name(E::default().table_name())
                        .map_or("row", Table::singular);
                    AppError::Conflict {
                        message: format!(
                            "The deleted record cannot come back: a row it puts back ({what}) refers to a record that no longer exists."
                        ),
                        field: "auditEntryId".into(),
                    }
                } else {
                    AppError::from(e)
                }
            })?;
    }
    Ok(())
}

/// The bookkeeping columns of every table the write path writes (records and links): each row
/// has an id, a version bumped by each change, and when it was created and last changed.
pub trait Bookkept: EntityTrait {
    const VERSION: Self::Column;
    const CREATED_AT: Self::Column;
    const UPDATED_AT: Self::Column;
    fn id_of(model: &Self::Model) -> i64;
    fn version_of(model: &Self::Model) -> i32;

    /// Sets a new row's bookkeeping columns: created and changed `now`, at version 1.
    fn stamp_new(active: &mut Self::ActiveModel, now: chrono::DateTime<chrono::Utc>) {
        active.set(Self::CREATED_AT, now.into());
        active.set(Self::UPDATED_AT, now.into());
        active.set(Self::VERSION, 1i32.into());
    }
}

macro_rules! bookkept {
    ($($module:ident),* $(,)?) => {$(
        impl Bookkept for $module::Entity {
            const VERSION: $module::Column = $module::Column::Version;
            const CREATED_AT: $module::Column = $module::Column::CreatedAt;
            const UPDATED_AT: $module::Column = $module::Column::UpdatedAt;
            fn id_of(model: &$module::Model) -> i64 {
                model.id
            }
            fn version_of(model: &$module::Model) -> i32 {
                model.version
            }
        }
    )*};
}

bookkept!(
    source,
    organization,
    agreement,
    project,
    event,
    instrument,
    agreement_party,
    agreement_instrument,
    project_participant,
    project_instrument,
    event_participant,
    event_instrument,
);

/// A record table the API writes.
pub trait Writable: Record + Bookkept {
    /// Its kind of record.
    const KIND: RecordKind;
    /// The GraphQL type name, as the audit log records it.
    const TYPE: &'static str = Self::KIND.name();
    const TABLE: Table = Table::of_kind(Self::KIND);
    /// The record's source (where its facts come from), which a dataset file sets.
    const SOURCE: Self::Column;
    /// Link tables whose rows belong to the record and go with it (ON DELETE CASCADE):
    /// `(table, owner column)`.
    const OWNED: &'static [(Table, &'static str)];
    /// Link tables whose rows point at the record (ON DELETE RESTRICT): deleted only with
    /// `detachLinks`.
    const LINKED_BY: &'static [(Table, &'static str)];
    /// Nullable references of other records to this one: cleared only with `detachLinks`.
    const REFERENCED_BY: &'static [(Table, &'static str)];
}

macro_rules! writable {
    ($module:ident, $kind:ident,
     owned: [$(($ot:ident, $oc:literal)),*],
     linked_by: [$(($lt:ident, $lc:literal)),*],
     referenced_by: [$(($rt:ident, $rc:literal)),*]) => {
        impl Writable for $module::Entity {
            const KIND: RecordKind = RecordKind::$kind;
            const SOURCE: $module::Column = $module::Column::SourceId;
            const OWNED: &'static [(Table, &'static str)] = &[$((Table::$ot, $oc)),*];
            const LINKED_BY: &'static [(Table, &'static str)] = &[$((Table::$lt, $lc)),*];
            const REFERENCED_BY: &'static [(Table, &'static str)] = &[$((Table::$rt, $rc)),*];
        }
    };
}

writable!(organization, Organization,
    owned: [],
    linked_by: [(AgreementParty, "organization_id"), (ProjectParticipant, "organization_id"),
        (EventParticipant, "organization_id")],
    referenced_by: [(Organization, "parent_id"), (Instrument, "issuer_id")]);
writable!(agreement, Agreement,
    owned: [(AgreementParty, "agreement_id"), (AgreementInstrument, "agreement_id")],
    linked_by: [],
    referenced_by: [(Project, "agreement_id"), (Event, "agreement_id")]);
writable!(project, Project,
    owned: [(ProjectParticipant, "project_id"), (ProjectInstrument, "project_id"),
        (ProjectRegion, "project_id"), (ProjectTheme, "project_id")],
    linked_by: [],
    referenced_by: [(Event, "project_id")]);
writable!(event, Event,
    owned: [(EventParticipant, "event_id"), (EventInstrument, "event_id")],
    linked_by: [],
    referenced_by: [(Event, "parent_id")]);
writable!(instrument, Instrument,
    owned: [],
    linked_by: [(AgreementInstrument, "instrument_id"), (ProjectInstrument, "instrument_id"),
        (EventInstrument, "instrument_id")],
    referenced_by: []);

#[cfg(test)]
mod tests {
    use sea_orm::IdenStatic;

    use super::*;

    /// Checks each link table's row against what is still written by hand for it: its
    /// references (the migration's `fk`) name the columns of its row, and the `Writable` lists
    /// of the records it links (`OWNED`, `LINKED_BY`) name it with those columns.
    macro_rules! agree {
        ($($link:ident {
            entity: $module:ident,
            group: $group:ident,
            role: $role:ident,
            words: $words:tt,
            owner: $owner:ident . $owner_col:ident $owner_side:tt,
            target: $target:ident . $target_col:ident $target_side:tt,
            $($rest:tt)*
        })*) => {$(
            let table = Table::$link;
            let owner = ($module::Column::$owner_col.as_str(), <$owner::Entity as Writable>::TABLE);
            let target = ($module::Column::$target_col.as_str(), <$target::Entity as Writable>::TABLE);
            assert_eq!(table.references(), [owner, target], "{table:?}");
            assert!(
                <$owner::Entity as Writable>::OWNED.contains(&(table, owner.0)),
                "{table:?} goes with its owner"
            );
            assert!(
                <$target::Entity as Writable>::LINKED_BY.contains(&(table, target.0)),
                "{table:?} holds back the delete of its target"
            );
        )*};
    }

    #[test]
    fn a_link_table_is_owned_by_and_linked_to_the_records_its_row_names() {
        crate::store::link_tables::link_tables!(agree);
    }
}
