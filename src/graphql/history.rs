//! `history` on every record: its audit entries as a connection, newest first like `auditLog`
//! and paged by the same cursors, each entry with the fields it changed.
//!
//! Many records' histories cost one statement per distinct window (`first`, `after`) and
//! record type, however many records ask: the keys carry the window (a loader gets only keys)
//! and the loader groups them (`store::write::audit::history_pages`). `totalCount` is one more
//! statement, only when asked.
//!
//! A record's history holds the entries of its own row: create, update, delete, restore and
//! revert (an import's changes of the record included). Its links are logged as the link's
//! own entries (`auditLog` with the link's type), so they are not in it.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use async_graphql::{
    Context, ID, Json, Object, SimpleObject, connection::PageInfo, dataloader::Loader,
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{DatePrecision, audit_entry};
use serde_json::{Map, Value};

use super::{
    changes::ChangeAction,
    connection::loader,
    errors::ApiResult,
    ids::{self, RecordKind},
    loaders::{StoreLoader, logged},
    mutations::{actor, decode_audit_cursor, encode_audit_cursor},
};
use crate::{
    auth::Role,
    dates::PartialDate,
    error::AppError,
    store::{
        page::{DEFAULT_PAGE_SIZE, size},
        write::audit::{self, HistoryPage},
    },
};

/// A page of one record's history: the record, and the window every record under one field
/// asks with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HistoryKey {
    pub entity_type: &'static str,
    pub record: i64,
    /// Entries older than this audit entry id (`after`).
    pub before_id: Option<i64>,
    pub first: u64,
}

/// How many entries one record's history has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HistoryCountKey {
    pub entity_type: &'static str,
    pub record: i64,
}

impl Loader<HistoryKey> for StoreLoader {
    type Value = Arc<HistoryPage>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[HistoryKey],
    ) -> Result<HashMap<HistoryKey, Self::Value>, Self::Error> {
        // One statement per record type and window, for all the records asking it.
        let mut groups: HashMap<(&'static str, Option<i64>, u64), Vec<i64>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.entity_type, key.before_id, key.first))
                .or_default()
                .push(key.record);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for ((entity_type, before_id, first), records) in groups {
            let mut pages =
                audit::history_pages(self.db(), entity_type, &records, before_id, first)
                    .await
                    .map_err(logged)?;
            for record in records {
                let page = pages.remove(&record).unwrap_or_default();
                let key = HistoryKey {
                    entity_type,
                    record,
                    before_id,
                    first,
                };
                out.insert(key, Arc::new(page));
            }
        }
        Ok(out)
    }
}

impl Loader<HistoryCountKey> for StoreLoader {
    type Value = u64;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[HistoryCountKey],
    ) -> Result<HashMap<HistoryCountKey, Self::Value>, Self::Error> {
        let mut groups: HashMap<&'static str, Vec<i64>> = HashMap::new();
        for key in keys {
            groups.entry(key.entity_type).or_default().push(key.record);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (entity_type, records) in groups {
            let counts = audit::history_counts(self.db(), entity_type, &records)
                .await
                .map_err(logged)?;
            for record in records {
                let n = counts.get(&record).copied().unwrap_or(0);
                out.insert(
                    HistoryCountKey {
                        entity_type,
                        record,
                    },
                    n,
                );
            }
        }
        Ok(out)
    }
}

/// A page of a record's history, newest first (a Relay cursor connection).
#[derive(SimpleObject)]
pub struct HistoryConnection {
    /// The entries of this page, each with its cursor.
    pub edges: Vec<HistoryEdge>,
    /// The entries of this page, without cursors.
    pub nodes: Vec<HistoryEntry>,
    /// Where this page sits in the whole history.
    pub page_info: PageInfo,
    /// How many entries the record's history has, across all pages.
    pub total_count: u64,
}

/// One entry of a record's history, with the cursor to page from it.
#[derive(SimpleObject)]
pub struct HistoryEdge {
    /// Opaque position of this entry (an `auditLog` cursor): pass it as `after` to page from
    /// here.
    pub cursor: String,
    /// The entry.
    pub node: HistoryEntry,
}

/// The history of record `id` of type `node` (the `history` field of every record type).
pub async fn of(
    ctx: &Context<'_>,
    node: RecordKind,
    id: i64,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<HistoryConnection> {
    let first = match first {
        Some(n) => size("first", n)?,
        None => DEFAULT_PAGE_SIZE,
    };
    let before_id = after.as_deref().map(decode_audit_cursor).transpose()?;
    let look = ctx.look_ahead();
    let entity_type = node.name();
    let page = if ["edges", "nodes", "pageInfo"]
        .into_iter()
        .any(|f| look.field(f).exists())
    {
        let key = HistoryKey {
            entity_type,
            record: id,
            before_id,
            first,
        };
        loader(ctx).load_one(key).await?.unwrap_or_default()
    } else {
        Arc::default()
    };
    let total_count = if look.field("totalCount").exists() {
        let key = HistoryCountKey {
            entity_type,
            record: id,
        };
        loader(ctx).load_one(key).await?.unwrap_or(0)
    } else {
        0
    };
    let edges: Vec<HistoryEdge> = page
        .entries
        .iter()
        .map(|entry| HistoryEdge {
            cursor: encode_audit_cursor(entry.id),
            node: HistoryEntry {
                node,
                entry: entry.clone(),
            },
        })
        .collect();
    Ok(HistoryConnection {
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        page_info: PageInfo {
            has_previous_page: before_id.is_some(),
            has_next_page: page.has_next_page,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
        total_count,
    })
}

/// One change in a record's history.
#[derive(Clone)]
pub struct HistoryEntry {
    node: RecordKind,
    entry: audit_entry::Model,
}

impl HistoryEntry {
    /// The record's row after the change, or before it for a deletion (whose before-image
    /// holds the row under `record`, beside the links deleted with it).
    fn row(&self, after: bool) -> Option<&Map<String, Value>> {
        let image = if after {
            self.entry.after.as_ref()
        } else if self.entry.action == "delete" {
            self.entry.before.as_ref()?.get("record")
        } else {
            self.entry.before.as_ref()
        };
        image?.as_object()
    }
}

/// One change of a record, from the audit log.
#[Object]
impl HistoryEntry {
    /// The audit entry's id: pass an update's to `revert`, a deletion's to `restore`.
    async fn id(&self) -> ID {
        ID(self.entry.id.to_string())
    }

    /// The version the record had after this change (for a deletion, the version it was
    /// deleted at).
    async fn version(&self) -> Option<i64> {
        self.row(true)
            .or_else(|| self.row(false))?
            .get("version")?
            .as_i64()
    }

    /// What was done (CREATED, UPDATED, DELETED, RESTORED, REVERTED); null only for an action
    /// this server does not know.
    async fn action(&self) -> Option<ChangeAction> {
        ChangeAction::of(&self.entry.action)
    }

    /// When the change was committed.
    async fn at(&self) -> DateTime<Utc> {
        self.entry.at
    }

    /// Who made the change (the token's subject): role admin, like `auditLog`; FORBIDDEN for
    /// anyone else.
    async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        actor(ctx, Role::Admin)?;
        Ok(Some(self.entry.actor.as_str()))
    }

    /// The fields whose value the change made different, in alphabetical order, each with its
    /// value before and after as the API shows it (a creation or restore lists the fields it
    /// set, a deletion those it took away).
    async fn changes(&self) -> Vec<FieldChange> {
        let before = api_fields(self.node, self.row(false));
        let mut after = api_fields(self.node, self.row(true));
        let mut changes = Vec::new();
        for (field, old) in before {
            let new = after.remove(&field).unwrap_or(Value::Null);
            if old != new {
                changes.push((field, old, new));
            }
        }
        changes.extend(
            after
                .into_iter()
                .filter(|(_, new)| !new.is_null())
                .map(|(field, new)| (field, Value::Null, new)),
        );
        changes.sort_by(|a, b| a.0.cmp(&b.0));
        changes
            .into_iter()
            .map(|(field, before, after)| FieldChange {
                field,
                before: (!before.is_null()).then_some(Json(before)),
                after: (!after.is_null()).then_some(Json(after)),
            })
            .collect()
    }
}

/// One field a change made different.
#[derive(SimpleObject)]
pub struct FieldChange {
    /// The field, as the record type names it (`name`, `signedOn`, `parent`).
    pub field: String,
    /// Its value before the change, as the field shows it (a date with its precision, a record
    /// as its global ID, an enum as its value); null when it had none.
    pub before: Option<Json<Value>>,
    /// Its value after the change; null when it has none.
    pub after: Option<Json<Value>>,
}

/// Columns of the images that are no field of the API: identity and bookkeeping.
const NOT_FIELDS: [&str; 5] = ["id", "version", "created_at", "updated_at", "source_id"];

/// Columns holding an enum, shown as the GraphQL enum value.
const ENUMS: [&str; 3] = ["kind", "status", "recurrence"];

/// A row image as the API shows it: each field by its GraphQL name, with its GraphQL value.
fn api_fields(node: RecordKind, row: Option<&Map<String, Value>>) -> BTreeMap<String, Value> {
    let mut fields = BTreeMap::new();
    let Some(row) = row else {
        return fields;
    };
    for (column, value) in row {
        if NOT_FIELDS.contains(&column.as_str()) || column.ends_with("_precision") {
            continue;
        }
        let (field, value) = if let Some(reference) = column.strip_suffix("_id") {
            let value = match (referenced(node, reference), value.as_i64()) {
                (Some(target), Some(id)) => Value::String(ids::encode(target, id).0),
                _ => value.clone(),
            };
            (reference, value)
        } else if let Some(stem) = column.strip_suffix("_on") {
            (
                column.as_str(),
                partial_date(value, row.get(&format!("{stem}_precision"))),
            )
        } else if ENUMS.contains(&column.as_str()) {
            let value = match value.as_str() {
                Some(text) => Value::String(text.to_ascii_uppercase()),
                None => value.clone(),
            };
            (column.as_str(), value)
        } else {
            (column.as_str(), value.clone())
        };
        fields.insert(camel_case(field), value);
    }
    fields
}

/// The record type a reference column (without `_id`) of a `node` row points at.
fn referenced(node: RecordKind, reference: &str) -> Option<RecordKind> {
    match reference {
        "parent" => Some(node),
        "issuer" => Some(RecordKind::Organization),
        "agreement" => Some(RecordKind::Agreement),
        "project" => Some(RecordKind::Project),
        _ => None,
    }
}

/// A date column and its precision as the API writes a `PartialDate` (`2014-10`).
fn partial_date(date: &Value, precision: Option<&Value>) -> Value {
    let date = date
        .as_str()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let precision = precision
        .cloned()
        .and_then(|p| serde_json::from_value::<DatePrecision>(p).ok());
    match PartialDate::from_parts(date, precision) {
        Some(date) => Value::String(date.to_string()),
        None => Value::Null,
    }
}

fn camel_case(column: &str) -> String {
    let mut out = String::with_capacity(column.len());
    let mut upper = false;
    for c in column.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_image_shows_fields_as_the_api_names_and_writes_them() {
        let row = json!({
            "id": 7, "version": 3, "slug": "x", "kind": "un_system_entity",
            "parent_id": 2, "signed_on": "2014-10-01", "signed_precision": "month",
            "source_id": 1, "updated_at": "2024-01-01T00:00:00Z"
        });
        let fields = api_fields(RecordKind::Organization, row.as_object());
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            ["kind", "parent", "signedOn", "slug"],
            "bookkeeping, the source and precisions are no fields"
        );
        assert_eq!(fields["kind"], "UN_SYSTEM_ENTITY");
        assert_eq!(fields["signedOn"], "2014-10");
        assert_eq!(
            fields["parent"],
            ids::encode(RecordKind::Organization, 2).0.as_str()
        );
    }
}
