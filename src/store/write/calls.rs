//! Each mutation as one call of the store: it begins the transaction, does the work through
//! the write path (`records`, `links`, `delete`, `revert`), and commits, numbering the audit
//! entries for the change feed; on any error the transaction is dropped, which rolls it back.
//! A resolver never holds a transaction.

use entity::{agreement, audit_entry, event, instrument, organization, project};
use sea_orm::{DatabaseTransaction, EntityTrait, IntoActiveModel};
use serde::Serialize;

use super::{
    Bookkept, DeleteOptions, Table, Writable, begin, commit, existing,
    link_changes::LinkGroup,
    links::{self, LinkKey, LinkRole, LinkTable},
    records::{self, Fields, Nested, Update},
    revert,
};
use crate::{
    auth::Actor,
    dates::PartialDate,
    error::{AppError, AppResult},
    store::{Store, records::find_by_slug},
};

/// A new record as a create takes it: its fields, its links, and the records created with it
/// (an event's sessions).
pub struct Draft<F> {
    /// The input's path (`input`).
    pub path: String,
    pub fields: F,
    pub links: Vec<LinkGroup>,
    /// What the records created with it need checked before anything is inserted.
    pub nested: Nested,
    /// Records created after it, its children: their parent is set to the new record.
    pub children: Vec<Child<F>>,
}

/// A record created with another one, as its child (a session of a new event).
pub struct Child<F> {
    /// Its path in the input (`input.sessions[0]`).
    pub path: String,
    pub fields: F,
    pub links: Vec<LinkGroup>,
}

/// What a record mutation wrote: the record as it now is, the audit entry of the change to it
/// (none when nothing changed), and the entries of what was written with it, in order.
pub struct Written<M> {
    pub record: M,
    pub entry: Option<audit_entry::Model>,
    pub nested: Vec<audit_entry::Model>,
}

type Model<F> = <<F as Fields>::E as EntityTrait>::Model;

/// Creates a record with its links and children.
pub async fn create<F>(store: &Store, actor: &Actor, new: Draft<F>) -> AppResult<Written<Model<F>>>
where
    F: Fields,
    Model<F>: IntoActiveModel<<F::E as EntityTrait>::ActiveModel> + Serialize,
    <F::E as EntityTrait>::ActiveModel: Send,
{
    let txn = begin(&store.writer).await?;
    let written = create_in(&txn, actor, new).await?;
    commit(txn, &store.commits).await?;
    Ok(written)
}

async fn create_in<F>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    new: Draft<F>,
) -> AppResult<Written<Model<F>>>
where
    F: Fields,
    Model<F>: IntoActiveModel<<F::E as EntityTrait>::ActiveModel> + Serialize,
    <F::E as EntityTrait>::ActiveModel: Send,
{
    let Draft {
        path,
        fields,
        links,
        nested,
        children,
    } = new;
    let (record, entry, mut entries) =
        records::create_with_links(txn, actor, fields, &path, nested, links).await?;
    let id = <F::E as Bookkept>::id_of(&record);
    for Child {
        path,
        mut fields,
        links,
    } in children
    {
        if let Some(parent) = fields.reference_mut("parent") {
            *parent = Some(id);
        }
        let (_, entry, links) =
            records::create_with_links(txn, actor, fields, &path, Nested::default(), links).await?;
        entries.push(entry);
        entries.extend(links);
    }
    Ok(Written {
        record,
        entry: Some(entry),
        nested: entries,
    })
}

/// Changes a record's fields (`patch`, applied to what is stored) and its links at once.
pub async fn update<F>(
    store: &Store,
    actor: &Actor,
    update: Update<'_>,
    patch: impl FnOnce(&mut F),
    links: Vec<LinkGroup>,
) -> AppResult<Written<Model<F>>>
where
    F: Fields,
    Model<F>: IntoActiveModel<<F::E as EntityTrait>::ActiveModel> + Serialize,
    <F::E as EntityTrait>::ActiveModel: Send,
{
    let txn = begin(&store.writer).await?;
    let (record, entry, nested) =
        records::update_with_links(&txn, actor, update, patch, links).await?;
    commit(txn, &store.commits).await?;
    Ok(Written {
        record,
        entry,
        nested,
    })
}

/// Creates the record, or when one has its slug sets all its fields (its links and children
/// then stay as they are). Answers whether it created the record.
pub async fn upsert<F>(
    store: &Store,
    actor: &Actor,
    new: Draft<F>,
) -> AppResult<(Written<Model<F>>, bool)>
where
    F: Fields,
    Model<F>: IntoActiveModel<<F::E as EntityTrait>::ActiveModel> + Serialize,
    <F::E as EntityTrait>::ActiveModel: Send,
{
    let txn = begin(&store.writer).await?;
    let found = find_by_slug::<F::E>(&txn, new.fields.slug()).await?;
    let written = match found {
        Some(found) => {
            let (id, version) = (
                <F::E as Bookkept>::id_of(&found),
                <F::E as Bookkept>::version_of(&found),
            );
            let fields = new.fields;
            let (record, entry) =
                records::update::<F>(&txn, actor, id, version, &new.path, |f| *f = fields).await?;
            (
                Written {
                    record,
                    entry,
                    nested: Vec::new(),
                },
                false,
            )
        }
        None => (create_in(&txn, actor, new).await?, true),
    };
    commit(txn, &store.commits).await?;
    Ok(written)
}

/// Deletes record `id` at `version`; answers the delete's audit entry.
pub async fn delete<E>(
    store: &Store,
    actor: &Actor,
    id: i64,
    version: i32,
    options: DeleteOptions,
) -> AppResult<audit_entry::Model>
where
    E: Writable,
    E::Model: Serialize,
{
    let txn = begin(&store.writer).await?;
    let entry = records::delete::<E>(&txn, actor, id, version, options).await?;
    commit(txn, &store.commits).await?;
    Ok(entry)
}

/// One change to one link, by a link mutation.
pub enum LinkChange {
    /// Adds the link, holding since a date (a party's).
    Add {
        since: Option<PartialDate>,
    },
    /// Gives the link a new role, and (a party) a new date; `since` none keeps the date.
    Change {
        new_role: LinkRole,
        since: Option<Option<PartialDate>>,
    },
    Remove,
}

/// Adds, changes or removes one link; answers the record owning it, as it now is, and the
/// link's audit entry (none when a change changed nothing). `path` is the input's (`input`).
pub async fn link<L>(
    store: &Store,
    actor: &Actor,
    key: LinkKey,
    change: LinkChange,
    path: &str,
) -> AppResult<(<L::Owner as EntityTrait>::Model, Option<audit_entry::Model>)>
where
    L: LinkTable,
    L::Model: IntoActiveModel<L::ActiveModel> + Serialize,
    L::ActiveModel: Send,
{
    let owner = key.owner;
    let txn = begin(&store.writer).await?;
    let entry = match change {
        LinkChange::Add { since } => Some(links::add::<L>(&txn, actor, key, since, path).await?.1),
        LinkChange::Change { new_role, since } => {
            links::change::<L>(&txn, actor, key, new_role, since, path)
                .await?
                .1
        }
        LinkChange::Remove => Some(links::remove::<L>(&txn, actor, key).await?),
    };
    let record = existing::<L::Owner>(&txn, owner).await?;
    commit(txn, &store.commits).await?;
    Ok((record, entry))
}

/// A record of any of the five kinds, as a restore or a revert leaves it.
pub enum StoredRecord {
    Organization(organization::Model),
    Agreement(agreement::Model),
    Project(project::Model),
    Event(event::Model),
    Instrument(instrument::Model),
}

impl StoredRecord {
    /// Record `id` of `table`, read in the transaction that changed it.
    async fn read(txn: &DatabaseTransaction, table: Table, id: i64) -> AppResult<Self> {
        Ok(match table {
            Table::Organization => {
                Self::Organization(existing::<organization::Entity>(txn, id).await?)
            }
            Table::Agreement => Self::Agreement(existing::<agreement::Entity>(txn, id).await?),
            Table::Project => Self::Project(existing::<project::Entity>(txn, id).await?),
            Table::Event => Self::Event(existing::<event::Entity>(txn, id).await?),
            Table::Instrument => Self::Instrument(existing::<instrument::Entity>(txn, id).await?),
            other => {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "put back a {} row as a record",
                    other.name()
                )));
            }
        })
    }
}

/// Re-creates what the delete recorded in audit entry `entry_id`; answers the record and the
/// restore's entry.
pub async fn restore(
    store: &Store,
    actor: &Actor,
    entry_id: i64,
) -> AppResult<(StoredRecord, audit_entry::Model)> {
    let txn = begin(&store.writer).await?;
    let (table, id, entry) = records::restore(&txn, actor, entry_id).await?;
    let record = StoredRecord::read(&txn, table, id).await?;
    commit(txn, &store.commits).await?;
    Ok((record, entry))
}

/// Puts back the fields the update of audit entry `entry_id` changed; answers the record and
/// the revert's entry (none when the record already holds those values).
pub async fn revert(
    store: &Store,
    actor: &Actor,
    entry_id: i64,
    force: bool,
) -> AppResult<(StoredRecord, Option<audit_entry::Model>)> {
    let txn = begin(&store.writer).await?;
    let (table, id, entry) = revert::revert(&txn, actor, entry_id, force).await?;
    let record = StoredRecord::read(&txn, table, id).await?;
    commit(txn, &store.commits).await?;
    Ok((record, entry))
}
