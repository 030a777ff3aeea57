//! The change feed as a subscription: `changes(types:, ids:, after:)`, one event per audit
//! entry, in commit order (see `store::feed` for how positions and notifications work).
//!
//! **The hand-off from replay to live, without a gap or a duplicate.** With `after`, the
//! subscription (1) subscribes to the process's live broadcast first, which buffers from then
//! on; (2) replays the audit log from the database, page by page, after `after` until a page
//! comes back short (it has then read up to the newest committed position); (3) goes live,
//! dropping every buffered or later event whose position is at or below the last one it
//! replayed. Anything committed before (1) is in the database when (2) reads it; anything
//! committed after (1) is broadcast after (1), so it is in the buffer; what is in both is
//! delivered once, by position. Positions grow in commit order, so "after p" never skips a
//! change committed earlier.
//!
//! This needs the feed to broadcast every change committed after (1), so the server has the
//! feed read where the log ends before it serves (`Feed::start`); when it could not (the
//! database was down), a replay that comes back short before the feed's first read waits for
//! that read and reads once more. Positions are dense, so a live event more than one past the
//! last position seen still means the feed skipped something for this subscription: the
//! subscription then replays from the log again, the same way.
//!
//! **Slow clients.** The live buffer holds at most `SUBSCRIPTION_BUFFER` events per
//! subscription; a subscriber that falls further behind (a stalled socket stops reading the
//! stream, which stops this stream) ends with SUBSCRIPTION_OVERFLOW and `extensions.cursor`,
//! the last position it was sent, to resume from. Writers and other subscribers never wait.
//!
//! **Visibility.** The record comes through the same loaders as any read, so a subscriber sees
//! what a reader sees; the audit entry (actor, before and after images) needs the admin role,
//! like `auditLog`.
//!
//! **Shared.** Subscriptions without `after` that ask the same thing run once for all of them
//! (see `shared`): this field then runs for the group, records each change's position in the
//! group's [`Progress`], and leaves the counting to the members.

use std::{collections::VecDeque, sync::Arc};

use async_graphql::{Context, Enum, ErrorExtensions, ID, Object, Subscription};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::audit_entry;
use futures::Stream;
use serde_json::Value as Json;
use tokio::sync::broadcast::error::RecvError;

use super::{
    errors::{ApiError, ApiResult},
    ids::{self, RecordKind},
    mutations::{AuditEntry, actor},
    node::{self, Node},
    shared::Progress,
};
use crate::{
    auth::Role,
    error::AppError,
    metrics::RealtimeMetrics,
    store::{
        Store,
        feed::{self, Feed},
    },
};

/// The root of every subscription.
#[derive(Default)]
pub struct Subscription;

/// The kinds of record the feed reports.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::store::RecordKind")]
pub enum RecordType {
    /// Organizations.
    Organization,
    /// Agreements (their parties and instruments count as changes of the agreement).
    Agreement,
    /// Projects (their participants and instruments count as changes of the project).
    Project,
    /// Events (their participants and instruments count as changes of the event).
    Event,
    /// Instruments.
    Instrument,
}

/// What a change did, as the audit log records it.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeAction {
    /// A record was created (by a mutation or an import).
    Created,
    /// A record's fields were changed (by a mutation or an import).
    Updated,
    /// A record was deleted (its links with it); `record` is null, `recordId` says which.
    Deleted,
    /// A link (a party, participant or instrument) was added to the record.
    Linked,
    /// A link's role (or a party's `since`) was changed.
    Relinked,
    /// A link was removed from the record.
    Unlinked,
    /// A deleted record was put back by `restore`.
    Restored,
    /// A record's fields were put back as they were before an update, by `revert`.
    Reverted,
    /// An import finished; its records' changes came just before, one event each. It names
    /// no record, so a subscription narrowed by `types` or `ids` does not get it.
    Imported,
}

impl ChangeAction {
    pub(super) fn of(action: &str) -> Option<Self> {
        Some(match action {
            "create" => Self::Created,
            "update" => Self::Updated,
            "delete" => Self::Deleted,
            "link" => Self::Linked,
            "relink" => Self::Relinked,
            "unlink" => Self::Unlinked,
            "restore" => Self::Restored,
            "revert" => Self::Reverted,
            "import" => Self::Imported,
            _ => return None,
        })
    }
}

/// One end of a link: the record type and its column in the link's row.
type LinkEnd = (RecordKind, &'static str);

/// A link table's two ends: the record owning the link and the record it points at.
fn link_ends(name: &str) -> Option<(LinkEnd, LinkEnd)> {
    use RecordKind::*;
    Some(match name {
        "AgreementParty" => (
            (Agreement, "agreement_id"),
            (Organization, "organization_id"),
        ),
        "ProjectParticipant" => ((Project, "project_id"), (Organization, "organization_id")),
        "EventParticipant" => ((Event, "event_id"), (Organization, "organization_id")),
        "AgreementInstrument" => ((Agreement, "agreement_id"), (Instrument, "instrument_id")),
        "ProjectInstrument" => ((Project, "project_id"), (Instrument, "instrument_id")),
        "EventInstrument" => ((Event, "event_id"), (Instrument, "instrument_id")),
        _ => return None,
    })
}

/// One committed change.
pub struct Change(Arc<audit_entry::Model>);

impl Change {
    /// The link row's image (after the change, or before it for an unlink).
    fn link_row(&self) -> Option<&Json> {
        self.0.after.as_ref().or(self.0.before.as_ref())
    }

    /// The link's end at `column`, when this change is a link's.
    fn link_end(&self, end: fn(&str) -> Option<LinkEnd>) -> Option<(RecordKind, i64)> {
        let (node, column) = end(&self.0.entity_type)?;
        let id = self.link_row()?.get(column)?.as_i64()?;
        Some((node, id))
    }

    /// The record the change is about: the record itself, or the link's owner.
    fn subject(&self) -> Option<(RecordKind, i64)> {
        match RecordKind::named(&self.0.entity_type) {
            Some(node) => self.0.record_id.map(|id| (node, id)),
            None => self.link_end(|name| link_ends(name).map(|(owner, _)| owner)),
        }
    }

    /// The other end of a link change.
    fn linked(&self) -> Option<(RecordKind, i64)> {
        self.link_end(|name| link_ends(name).map(|(_, target)| target))
    }
}

/// One committed change of a record (or of one of its links), as the audit log holds it.
#[Object]
impl Change {
    /// Where this change stands in the feed (opaque): pass it as `after` to resume after it.
    async fn cursor(&self) -> String {
        encode_cursor(self.0.position.unwrap_or_default())
    }

    /// What was done.
    async fn action(&self) -> Option<ChangeAction> {
        ChangeAction::of(&self.0.action)
    }

    /// The kind of record changed (for a link, the record owning it); null for an import.
    async fn record_type(&self) -> Option<RecordType> {
        self.subject().map(|(node, _)| node.into())
    }

    /// The global ID of the record changed (for a link, the record owning it); given for a
    /// deleted record too. Null for an import.
    async fn record_id(&self) -> Option<ID> {
        self.subject().map(|(node, id)| ids::encode(node, id))
    }

    /// The record as it is now, read like any other read (so it may already show later
    /// changes); null for a deletion, and when the record was deleted since.
    async fn record(&self, ctx: &Context<'_>) -> ApiResult<Option<Node>> {
        match self.subject() {
            Some(_) if self.0.action == "delete" => Ok(None),
            Some((node, id)) => node::load(ctx, node, id).await,
            None => Ok(None),
        }
    }

    /// The version the changed row got from this change (the record's, or the link's for a
    /// link change); null for a deletion, an unlink and an import.
    async fn version(&self) -> Option<i64> {
        self.0.after.as_ref()?.get("version")?.as_i64()
    }

    /// For a link change, the link's type (`AgreementParty`, `ProjectParticipant`,
    /// `EventParticipant`, `AgreementInstrument`, `ProjectInstrument`, `EventInstrument`).
    async fn link_type(&self) -> Option<&str> {
        link_ends(&self.0.entity_type).map(|_| self.0.entity_type.as_str())
    }

    /// For a link change, the link's role as its enum value (`SIGNATORY`, `CO_ORGANIZER`, …),
    /// after the change (before it for an unlink).
    async fn link_role(&self) -> Option<String> {
        link_ends(&self.0.entity_type)?;
        Some(self.link_row()?.get("role")?.as_str()?.to_ascii_uppercase())
    }

    /// For a link change, the record at the link's other end (the organization or the
    /// instrument), as it is now.
    async fn linked_record(&self, ctx: &Context<'_>) -> ApiResult<Option<Node>> {
        match self.linked() {
            Some((node, id)) => node::load(ctx, node, id).await,
            None => Ok(None),
        }
    }

    /// When the change was made.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// The audit entry of the change, with who made it and the record before and after (role
    /// admin, like `auditLog`).
    async fn audit_entry(&self, ctx: &Context<'_>) -> ApiResult<Option<AuditEntry>> {
        actor(ctx, Role::Admin)?;
        Ok(Some(AuditEntry::from((*self.0).clone())))
    }
}

fn encode_cursor(position: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("change:{position}"))
}

fn decode_cursor(cursor: &str) -> Result<i64, AppError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.strip_prefix("change:").and_then(|n| n.parse().ok()))
        .filter(|n: &i64| *n >= 0)
        .ok_or_else(|| {
            AppError::bad_field(
                "after",
                format!("`{cursor}` is not a cursor of the change feed"),
            )
        })
}

/// Which changes a subscription wants.
struct Narrowing {
    types: Option<Vec<RecordType>>,
    ids: Option<Vec<(RecordKind, i64)>>,
}

impl Narrowing {
    fn admits(&self, change: &Change) -> bool {
        let subject = change.subject();
        if let Some(types) = &self.types {
            match subject {
                Some((node, _)) if types.contains(&node.into()) => {}
                _ => return false,
            }
        }
        if let Some(ids) = &self.ids {
            let named = |end: Option<(RecordKind, i64)>| end.is_some_and(|end| ids.contains(&end));
            if !named(subject) && !named(change.linked()) {
                return false;
            }
        }
        true
    }
}

/// Most IDs one subscription may name.
const MAX_IDS: usize = 100;

/// The root of every subscription: run them over a WebSocket on `/graphql`
/// (graphql-transport-ws or the legacy graphql-ws).
#[Subscription]
impl Subscription {
    /// Every committed change to organizations, agreements, projects, events and instruments
    /// (their links included), in commit order, each once. Without `after`, from now on; with
    /// `after` (a change's `cursor`), every change committed after that one first, replayed
    /// from the audit log, then live, with no gap and no duplicate between the two. An event
    /// says what happened and carries the record as it is now. A subscriber that falls more
    /// than the server's buffer behind is ended with SUBSCRIPTION_OVERFLOW: resume with
    /// `after` set to the last cursor received.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only changes of these kinds of record (a link counts as its owner's).")]
        types: Option<Vec<RecordType>>,
        #[graphql(
            desc = "Only changes of these records (global IDs, at most 100); a link change counts for both its ends."
        )]
        ids: Option<Vec<ID>>,
        #[graphql(desc = "Replay every change after this cursor first, then go on live.")]
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Change, ApiError>> + use<>, ApiError> {
        let ids = match ids {
            Some(ids) if ids.len() > MAX_IDS => {
                return Err(AppError::bad_field(
                    "ids",
                    format!("at most {MAX_IDS} IDs at once, not {}", ids.len()),
                )
                .into());
            }
            Some(ids) => Some(
                ids.iter()
                    .map(|id| {
                        ids::decode(id).map_err(|_| {
                            AppError::bad_field(
                                "ids",
                                format!("`{}` is not a valid ID", id.as_str()),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let Some(feed) = ctx.data_opt::<Arc<Feed>>() else {
            return Err(AppError::bad_input(
                "Subscriptions run over a WebSocket (graphql-transport-ws or graphql-ws) on /graphql.",
            )
            .into());
        };
        let progress = ctx.data_opt::<Progress>().cloned();
        // A group's members count themselves.
        let metrics = match progress {
            Some(_) => RealtimeMetrics::default(),
            None => ctx
                .data_opt::<RealtimeMetrics>()
                .cloned()
                .unwrap_or_default(),
        };
        let state = Feeding {
            // Live first, so that nothing committed during the replay is missed (a group took
            // its receiver when its first member subscribed).
            live: progress
                .as_ref()
                .and_then(Progress::take_live)
                .unwrap_or_else(|| feed.subscribe()),
            feed: feed.clone(),
            store: ctx.data_unchecked::<Store>().clone(),
            narrowing: Narrowing { types, ids },
            last: after.unwrap_or(-1),
            replay: after.map(|_| Replay::default()),
            ended: false,
            _active: Active::new(&metrics),
            metrics,
            progress,
        };
        Ok(futures::stream::unfold(state, Feeding::next))
    }
}

/// The replay's progress.
#[derive(Default)]
struct Replay {
    page: VecDeque<audit_entry::Model>,
    /// The last page read was short: the replay has reached the newest position.
    read_all: bool,
    delivered: u64,
}

/// One subscription's state.
struct Feeding {
    live: tokio::sync::broadcast::Receiver<feed::Change>,
    feed: Arc<Feed>,
    store: Store,
    narrowing: Narrowing,
    /// The position of the last change replayed or received (-1: none yet).
    last: i64,
    /// While replaying.
    replay: Option<Replay>,
    ended: bool,
    metrics: RealtimeMetrics,
    /// A group's, where each change's position goes.
    progress: Option<Progress>,
    _active: Active,
}

impl Feeding {
    async fn next(mut self) -> Option<(ApiResult<Change>, Self)> {
        if self.ended {
            return None;
        }
        loop {
            if let Some(replay) = &mut self.replay {
                if let Some(entry) = replay.page.pop_front() {
                    let Some(position) = entry.position else {
                        continue;
                    };
                    self.last = position;
                    let change = Change(Arc::new(entry));
                    if self.narrowing.admits(&change) {
                        replay.delivered += 1;
                        return Some((Ok(self.deliver(change)), self));
                    }
                    continue;
                }
                if replay.read_all {
                    self.metrics.replay_length.observe(replay.delivered as f64);
                    self.replay = None;
                    continue;
                }
                match feed::after(&self.store.connection, self.last, feed::PAGE).await {
                    Ok(page) => {
                        replay.read_all = (page.len() as u64) < feed::PAGE;
                        replay.page = page.into();
                        // Until the feed has read where the log ends, a change committed
                        // after this read may never be broadcast: read once more after that.
                        if replay.read_all && self.feed.delivered().is_none() {
                            self.feed.started().await;
                            replay.read_all = false;
                        }
                    }
                    Err(err) => {
                        self.ended = true;
                        return Some((Err(AppError::from(err).into()), self));
                    }
                }
                continue;
            }
            match self.live.recv().await {
                Ok(entry) => {
                    let Some(position) = entry.position else {
                        continue;
                    };
                    // Replayed already (or older than the cursor): once is enough.
                    if position <= self.last {
                        continue;
                    }
                    // Positions are dense (each commit takes the next ones), so a jump means
                    // this process's feed never broadcast some committed change to this
                    // subscription (it began reading the log after the replay ended): read
                    // the log again from the last position, then go on live as after any
                    // replay. The event in hand is read again with the rest.
                    if self.last >= 0 && position > self.last + 1 {
                        self.replay = Some(Replay::default());
                        continue;
                    }
                    self.last = position;
                    let change = Change(entry);
                    if self.narrowing.admits(&change) {
                        return Some((Ok(self.deliver(change)), self));
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    self.metrics.overflow_closes.inc();
                    self.ended = true;
                    return Some((
                        Err(overflow((self.last >= 0).then_some(self.last)).into()),
                        self,
                    ));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

impl Feeding {
    /// Counts a change about to be sent (and tells the group which it is).
    fn deliver(&self, change: Change) -> Change {
        self.metrics.events_delivered.inc();
        if let Some(progress) = &self.progress {
            progress.record(change.0.position.unwrap_or_default());
        }
        change
    }
}

/// The error that ends a subscription whose subscriber fell too far behind, with the cursor of
/// the last change it was sent (`last`) to resume from.
pub fn overflow(last: Option<i64>) -> async_graphql::Error {
    async_graphql::Error::new(
        "This subscription fell too far behind the changes and was ended. Subscribe again with `after` set to the last cursor received.",
    )
    .extend_with(|_, ext| {
        ext.set("code", "SUBSCRIPTION_OVERFLOW");
        if let Some(last) = last {
            ext.set("cursor", encode_cursor(last));
        }
    })
}

/// Counts a subscription as active while it lives.
pub struct Active(prometheus_client::metrics::gauge::Gauge);

impl Active {
    pub fn new(metrics: &RealtimeMetrics) -> Self {
        metrics.subscriptions_active.inc();
        Self(metrics.subscriptions_active.clone())
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.dec();
    }
}
