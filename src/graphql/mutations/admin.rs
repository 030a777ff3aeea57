//! What only admins do: restore a deleted record, revert an update, read the audit log; and the bulk import
//! (editors), which loads a document in the seed format.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, connection::PageInfo};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};

use super::{
    super::{
        agreement::Agreement, errors::ApiResult, event::Event, ids, instrument::Instrument,
        node::Node, organization::Organization, project::Project,
    },
    AuditEntry, actor, store,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult},
    seed::{Counts, Document, SeedReport},
    store::{
        page::{DEFAULT_PAGE_SIZE, size},
        write::{
            audit::{self, AuditFilter},
            calls::{self, StoredRecord},
            import,
        },
    },
};

/// The audit log query (admins only).
#[derive(Default)]
pub struct AuditQuery;

/// Which audit entries to list.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Only the entries of this record (a global ID).
    pub record_id: Option<ID>,
    /// Only the entries of this actor (a token subject).
    pub actor: Option<String>,
    /// Only entries from this instant on.
    pub from: Option<DateTime<Utc>>,
    /// Only entries before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// A page of audit entries, newest first (a Relay cursor connection).
#[derive(SimpleObject)]
pub struct AuditEntryConnection {
    /// The entries of this page, each with its cursor.
    pub edges: Vec<AuditEntryEdge>,
    /// The entries of this page, without cursors.
    pub nodes: Vec<AuditEntry>,
    /// Where this page sits in the whole list.
    pub page_info: PageInfo,
    /// How many entries match the filter, across all pages.
    pub total_count: u64,
}

/// One audit entry in a page, with the cursor to page from it.
#[derive(SimpleObject)]
pub struct AuditEntryEdge {
    /// Opaque position of this entry: pass it as `after` to page from here.
    pub cursor: String,
    /// The entry.
    pub node: AuditEntry,
}

pub(in crate::graphql) fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("audit:{id}"))
}

pub(in crate::graphql) fn decode_cursor(cursor: &str) -> AppResult<i64> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.strip_prefix("audit:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| AppError::bad_field("after", format!("`{cursor}` is not a valid cursor")))
}

#[Object]
impl AuditQuery {
    /// The audit log, newest first (role admin): who changed which record, how and when, with
    /// the record before and after.
    #[graphql(complexity = "super::super::limits::list_cost(first, None, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which entries to list.")] filter: Option<AuditLogFilter>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Return the entries after this cursor.")] after: Option<String>,
    ) -> ApiResult<AuditEntryConnection> {
        actor(ctx, Role::Admin)?;
        let filter = filter.unwrap_or_default();
        let record = match &filter.record_id {
            Some(id) => {
                let (node, id) = ids::decode(id)?;
                Some((node.name().to_owned(), id))
            }
            None => None,
        };
        let filter = AuditFilter {
            record,
            actor: filter.actor,
            from: filter.from,
            to: filter.to,
        };
        let first = match first {
            Some(n) => size("first", n)?,
            None => DEFAULT_PAGE_SIZE,
        };
        let before_id = after.as_deref().map(decode_cursor).transpose()?;
        let db = &store(ctx).connection;
        let (rows, more) = audit::list(db, &filter, before_id, first).await?;
        let total_count = if ctx.look_ahead().field("totalCount").exists() {
            audit::count(db, &filter).await?
        } else {
            0
        };
        let edges: Vec<AuditEntryEdge> = rows
            .into_iter()
            .map(|m| AuditEntryEdge {
                cursor: encode_cursor(m.id),
                node: m.into(),
            })
            .collect();
        Ok(AuditEntryConnection {
            nodes: edges.iter().map(|e| e.node.clone()).collect(),
            page_info: PageInfo {
                has_previous_page: before_id.is_some(),
                has_next_page: more,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count,
        })
    }
}

/// What `restore` answers.
#[derive(SimpleObject)]
pub struct RestorePayload {
    /// The record, back with its id, links and references.
    pub record: Node,
    /// The audit entry of the restore.
    pub audit_entry: AuditEntry,
}

/// What `revert` answers.
#[derive(SimpleObject)]
pub struct RevertPayload {
    /// The record as it now is.
    pub record: Node,
    /// The audit entry of the revert; null when the record already held those values.
    pub audit_entry: Option<AuditEntry>,
}

/// The database id an `auditEntryId` argument names.
fn audit_entry_number(id: &ID) -> AppResult<i64> {
    id.parse()
        .map_err(|_| AppError::bad_field("auditEntryId", "not an audit entry id"))
}

/// A record a restore or revert left, as a node.
fn record_node(record: StoredRecord) -> Node {
    match record {
        StoredRecord::Organization(m) => Node::Organization(Organization(m)),
        StoredRecord::Agreement(m) => Node::Agreement(Agreement(m)),
        StoredRecord::Project(m) => Node::Project(Project(m)),
        StoredRecord::Event(m) => Node::Event(Event(m)),
        StoredRecord::Instrument(m) => Node::Instrument(Instrument(m)),
    }
}

/// Records created, updated and left as they were by an import.
#[derive(SimpleObject)]
pub struct ImportCounts {
    /// Records that did not exist and were (or would be) created.
    pub created: u64,
    /// Records that existed and were (or would be) changed.
    pub updated: u64,
    /// Records that already matched the document.
    pub unchanged: u64,
    /// Links that were (or would be) removed because the document no longer lists them.
    pub removed: u64,
}

impl From<Counts> for ImportCounts {
    fn from(c: Counts) -> Self {
        Self {
            created: c.created,
            updated: c.updated,
            unchanged: c.unchanged,
            removed: c.removed,
        }
    }
}

/// What an import did (or, for a dry run, would do), per kind of record.
#[derive(SimpleObject)]
pub struct ImportPayload {
    /// True when nothing was written.
    pub dry_run: bool,
    /// Sources.
    pub sources: ImportCounts,
    /// Organizations.
    pub organizations: ImportCounts,
    /// Instruments.
    pub instruments: ImportCounts,
    /// Agreements.
    pub agreements: ImportCounts,
    /// Projects.
    pub projects: ImportCounts,
    /// Events.
    pub events: ImportCounts,
    /// Parties, participants, instrument links, regions and themes.
    pub links: ImportCounts,
    /// The audit entry of the import; null for a dry run.
    pub audit_entry: Option<AuditEntry>,
}

impl ImportPayload {
    fn new(dry_run: bool, r: SeedReport, audit_entry: Option<AuditEntry>) -> Self {
        Self {
            dry_run,
            sources: r.sources.into(),
            organizations: r.organizations.into(),
            instruments: r.instruments.into(),
            agreements: r.agreements.into(),
            projects: r.projects.into(),
            events: r.events.into(),
            links: r.links.into(),
            audit_entry,
        }
    }
}

/// Restore and import.
#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Re-creates a deleted record from the audit entry of its delete (role admin): the record
    /// with its id, its own links, the links deleted with it and the references cleared, in one
    /// transaction. CONFLICT when its id or slug is in use again.
    async fn restore(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the delete's audit entry.")] audit_entry_id: ID,
    ) -> ApiResult<RestorePayload> {
        let actor = actor(ctx, Role::Admin)?;
        let entry_id = audit_entry_number(&audit_entry_id)?;
        let (record, entry) = calls::restore(store(ctx), &actor, entry_id).await?;
        Ok(RestorePayload {
            record: record_node(record),
            audit_entry: entry.into(),
        })
    }

    /// Puts a record's fields back as they were before an update (role admin), from the
    /// update's audit entry: the fields that update changed get their earlier values, through
    /// the same checks as `update…`, in one transaction; the version goes up by one and the
    /// change is audited as `revert` (the change feed reports it as REVERTED). CONFLICT (on
    /// `version`) when the record changed since that update, unless `force`: then the fields
    /// the update changed go back and later changes of other fields stay. BAD_USER_INPUT for an
    /// entry that records no update (use `restore` for a delete), NOT_FOUND for an unknown entry
    /// or a record deleted since. `auditEntry` is null when the record already holds those
    /// values (nothing is written).
    async fn revert(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the update's audit entry (or of a revert's, to undo it).")]
        audit_entry_id: ID,
        #[graphql(
            desc = "Revert even if the record changed since that update (null is false).",
            default_with = "Some(false)"
        )]
        force: Option<bool>,
    ) -> ApiResult<RevertPayload> {
        let actor = actor(ctx, Role::Admin)?;
        let entry_id = audit_entry_number(&audit_entry_id)?;
        let force = force.unwrap_or(false);
        let (record, entry) = calls::revert(store(ctx), &actor, entry_id, force).await?;
        Ok(RevertPayload {
            record: record_node(record),
            audit_entry: entry.map(Into::into),
        })
    }

    /// Loads a document in the format of the seed data file (docs/DATA.md, YAML or JSON) in one
    /// transaction (role editor): records are upserted by slug and their links made exactly the
    /// document's. With `dryRun` nothing is written and the counts say what would change.
    async fn import_document(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The document's text.")] document: String,
        #[graphql(desc = "Only report what would change.", default = false)] dry_run: bool,
    ) -> ApiResult<ImportPayload> {
        let actor = actor(ctx, Role::Editor)?;
        let plan = Document::parse(&document)
            .map_err(|e| AppError::bad_field("document", format!("not a dataset document: {e}")))?
            .plan()
            .map_err(|problems| import::in_document(AppError::Invalid(problems.0)))?;
        let (report, entry) = import::import(
            &store(ctx).writer,
            &store(ctx).commits,
            &actor,
            plan,
            dry_run,
        )
        .await?;
        Ok(ImportPayload::new(dry_run, report, entry.map(Into::into)))
    }
}
