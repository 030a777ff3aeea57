//! The change feed: the audit log, read in commit order and fanned out to this process's
//! subscribers.
//!
//! - **Positions.** Every audit entry gets a `position` when its transaction commits
//!   ([`number`], called by `write::commit`): under a transaction-scoped advisory lock, one more
//!   than the highest committed position, so committed positions are dense (entries written
//!   before the migration keep their ids, holes included). The lock is held from numbering to commit (one round
//!   trip), so positions grow in commit order and a reader that has seen position `p` has seen
//!   every change committed before it: "everything after `p`" is a complete answer, which an
//!   entry's `id` (taken from a sequence at insert, in no particular commit order) is not.
//! - **Notifications.** On PostgreSQL the same round trip calls `pg_notify(CHANNEL, position)`,
//!   which PostgreSQL delivers when the transaction commits, and only if it does, in commit
//!   order. The notification is a wake-up: the feed then reads every entry after the last
//!   position it broadcast from the database ([`Feed::catch_up`]); no entry is taken from the
//!   payload.
//! - **Nobody subscribed, nothing read.** While the process has no subscriber, a notification
//!   only moves the last position "broadcast" on to its payload (every position up to it has
//!   committed, and nobody was there to be sent them), so writers cost the feed no read of the
//!   log. A subscriber arriving then gets what it should: without `after`, the changes
//!   broadcast from then on; with `after`, it replays the log itself first. (On a
//!   (re)connection there is no payload: the feed then reads only where the log ends.)
//! - **One listener per process.** [`Feed::run_postgres`] holds one dedicated connection (its
//!   own, not the pool's; `application_name` names it) in `LISTEN`. When that connection drops
//!   (the backend terminated, PostgreSQL restarted, the network), the feed reconnects with
//!   backoff, `LISTEN`s again and only then reads everything after the last position it
//!   broadcast: changes committed while it was deaf are read then, once each, in order.
//! - **SQLite** has one writer and no NOTIFY: `write::commit` tells [`Commits`] after each
//!   commit and [`Feed::run_local`] reads what is new (one process serves an embedded file).
//! - **Fan-out** is a `tokio::sync::broadcast` channel: sending never waits, and each receiver
//!   may fall at most `capacity` changes behind before it is told it lagged (the GraphQL layer
//!   then ends that subscription with SUBSCRIPTION_OVERFLOW). A slow subscriber costs the
//!   writers and the other subscribers nothing.

use std::{
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

use entity::audit_entry;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sqlx::postgres::{PgConnectOptions, PgListener, PgNotification, PgPoolOptions},
};
use tokio::sync::{broadcast, watch};

/// The PostgreSQL channel a commit notifies with its newest position.
pub const CHANNEL: &str = "partnerships_changes";

/// The advisory lock that orders positions ("partfeed" in ASCII).
const POSITION_LOCK: i64 = 0x7061_7274_6665_6564;

/// Entries read per statement when catching up or replaying.
pub const PAGE: u64 = 500;

/// One committed change, as the audit log holds it.
pub type Change = Arc<audit_entry::Model>;

/// Numbers the audit entries the transaction wrote, in the order it wrote them, and on
/// PostgreSQL notifies [`CHANNEL`] of the newest position (delivered on commit only). Call it
/// last, right before committing: the lock it takes is held until then, so transactions are
/// numbered in the order they commit. A transaction that wrote no entry takes no lock.
pub async fn number(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    match txn.get_database_backend() {
        DatabaseBackend::Postgres => {
            // One round trip, two statements; each statement reads a fresh snapshot (READ
            // COMMITTED), so the second sees every position committed before the lock was had.
            // Only this transaction's unnumbered rows are visible to it.
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({POSITION_LOCK}) \
                   WHERE EXISTS (SELECT 1 FROM audit_entries WHERE position IS NULL); \
                 WITH mine AS (SELECT id, row_number() OVER (ORDER BY id) AS n \
                                 FROM audit_entries WHERE position IS NULL), \
                      base AS (SELECT COALESCE(MAX(position), 0) AS b FROM audit_entries), \
                      numbered AS (UPDATE audit_entries a SET position = base.b + mine.n \
                                     FROM mine, base WHERE a.id = mine.id RETURNING a.position) \
                 SELECT pg_notify('{CHANNEL}', MAX(position)::text) FROM numbered \
                   HAVING COUNT(*) > 0"
            ))
            .await?;
        }
        _ => {
            // One writer at a time: ids are already in commit order.
            txn.execute_unprepared("UPDATE audit_entries SET position = id WHERE position IS NULL")
                .await?;
        }
    }
    Ok(())
}

/// Tells this process's feed that a write committed (the embedded store; on PostgreSQL the
/// feed hears NOTIFY instead and this does nothing).
#[derive(Debug)]
pub struct Commits {
    local: bool,
    sender: watch::Sender<u64>,
}

impl Default for Commits {
    fn default() -> Self {
        Self {
            local: false,
            sender: watch::channel(0).0,
        }
    }
}

impl Commits {
    /// For a store whose commits only this process makes (SQLite).
    pub fn local() -> Self {
        Self {
            local: true,
            ..Self::default()
        }
    }

    /// A write committed.
    pub fn committed(&self) {
        if self.local {
            self.sender.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

/// The entries after `position`, oldest first, at most `limit`.
pub async fn after(
    db: &impl ConnectionTrait,
    position: i64,
    limit: u64,
) -> Result<Vec<audit_entry::Model>, DbErr> {
    audit_entry::Entity::find()
        .filter(audit_entry::Column::Position.gt(position))
        .order_by_asc(audit_entry::Column::Position)
        .limit(limit)
        .all(db)
        .await
}

/// The newest committed position (0 when the log is empty).
pub async fn newest(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let newest: Option<Option<i64>> = audit_entry::Entity::find()
        .select_only()
        .column_as(audit_entry::Column::Position.max(), "newest")
        .into_tuple()
        .one(db)
        .await?;
    Ok(newest.flatten().unwrap_or(0))
}

/// What the feed counts, for `/metrics` and the tests.
#[derive(Debug, Default)]
pub struct FeedStats {
    /// Times the LISTEN connection was (re)established.
    pub listens: AtomicU64,
    /// Changes broadcast.
    pub broadcast: AtomicU64,
    /// Statements the feed read the audit log with (entries, or where the log ends).
    pub reads: AtomicU64,
}

/// This process's fan-out of committed changes.
#[derive(Debug)]
pub struct Feed {
    db: DatabaseConnection,
    sender: broadcast::Sender<Change>,
    /// How far each receiver may fall behind.
    capacity: usize,
    /// The position of the last change broadcast; -1 until the feed has read where the log ends.
    delivered: AtomicI64,
    /// Whether `delivered` is known yet (see [`Feed::started`]).
    started: watch::Sender<bool>,
    stop: watch::Sender<bool>,
    pub stats: FeedStats,
}

impl Feed {
    /// A feed reading `db`, letting each subscriber fall `capacity` changes behind at most.
    pub fn new(db: DatabaseConnection, capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            db,
            sender: broadcast::channel(capacity.max(1)).0,
            capacity: capacity.max(1),
            delivered: AtomicI64::new(-1),
            started: watch::channel(false).0,
            stop: watch::channel(false).0,
            stats: FeedStats::default(),
        })
    }

    /// Every change broadcast from now on. Subscribe before reading the log to replay, so
    /// that nothing committed in between is missed (see the GraphQL `changes` field).
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// How many changes a subscriber may fall behind (`SUBSCRIPTION_BUFFER`).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many receivers the broadcast has (one per subscription with `after`, one per group
    /// of live ones).
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    /// The position of the last change broadcast, once known.
    pub fn delivered(&self) -> Option<i64> {
        let position = self.delivered.load(Ordering::Acquire);
        (position >= 0).then_some(position)
    }

    /// Waits until the feed has read where the log ends (its first read, which broadcasts
    /// nothing), or stops. A replay that reads the log only after this leaves no gap for the
    /// broadcast to fill: every entry past that first read is broadcast. A replay that ended
    /// before it could miss, for good, a change committed between its last read and the
    /// feed's first one (nothing later would show the gap).
    pub async fn started(&self) {
        let mut started = self.started.subscribe();
        tokio::select! {
            _ = started.wait_for(|started| *started) => {}
            () = self.stopped() => {}
        }
    }

    /// Reads where the log ends, before the server takes its first subscriber: from then on
    /// every committed change is broadcast to whoever subscribed before it. Before that read a
    /// change committed after a subscriber arrived could be taken for old and never
    /// broadcast. A failure, or no answer within `patience` (the database is down), is
    /// logged, and the feed's task reads it when it can.
    pub async fn start(&self, patience: Duration) {
        if self.delivered().is_some() {
            return;
        }
        let error = match tokio::time::timeout(patience, self.catch_up(None)).await {
            Ok(Ok(())) => return,
            Ok(Err(err)) => err.to_string(),
            Err(_) => format!("no answer within {patience:?}"),
        };
        tracing::warn!(%error, "The change feed could not read where the audit log ends; it will once the database answers");
    }

    /// Ends the feed's task (the server stopped).
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    async fn stopped(&self) {
        let mut stop = self.stop.subscribe();
        let _ = stop.wait_for(|stopped| *stopped).await;
    }

    /// Broadcasts every entry committed after the last one broadcast, in position order. The
    /// first call only finds where the log ends (a subscriber wanting older changes replays
    /// them itself). With no subscriber, it only moves the last position on: to `heard` (what
    /// a notification said has committed) without a read, or to where the log ends.
    async fn catch_up(&self, heard: Option<i64>) -> Result<(), DbErr> {
        let known = self.delivered();
        if known.is_some() && self.sender.receiver_count() == 0 {
            let newest = match heard {
                Some(heard) => heard,
                None => {
                    self.stats.reads.fetch_add(1, Ordering::Relaxed);
                    newest(&self.db).await?
                }
            };
            // What `heard` names committed before anyone subscribed; what the read found may
            // not have, if someone subscribed meanwhile: then the entries are read for them.
            if heard.is_some() || self.sender.receiver_count() == 0 {
                // Only forward: a notification may come after a read that went past it.
                self.delivered.fetch_max(newest, Ordering::AcqRel);
                return Ok(());
            }
        }
        let mut last = match known {
            Some(position) => position,
            None => {
                self.stats.reads.fetch_add(1, Ordering::Relaxed);
                let newest = newest(&self.db).await?;
                self.delivered.store(newest, Ordering::Release);
                self.started.send_replace(true);
                return Ok(());
            }
        };
        loop {
            self.stats.reads.fetch_add(1, Ordering::Relaxed);
            let page = after(&self.db, last, PAGE).await?;
            let full = page.len() as u64 == PAGE;
            for entry in page {
                let Some(position) = entry.position else {
                    continue;
                };
                last = position;
                // No receiver is not an error: nobody subscribes right now.
                let _ = self.sender.send(Arc::new(entry));
                self.stats.broadcast.fetch_add(1, Ordering::Relaxed);
                self.delivered.store(last, Ordering::Release);
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Catches up until it succeeds (the database may be down), or the feed stops.
    async fn catch_up_patiently(&self, heard: Option<i64>) -> bool {
        let mut backoff = Backoff::default();
        loop {
            match self.catch_up(heard).await {
                Ok(()) => return true,
                Err(err) => {
                    tracing::warn!(error = %err, "The change feed could not read the audit log; retrying");
                    tokio::select! {
                        () = backoff.wait() => {}
                        () = self.stopped() => return false,
                    }
                }
            }
        }
    }

    /// The embedded store: reads what is new after each local commit (a commit says nothing of
    /// its positions here, so the feed reads the log even with no subscriber: a local read).
    pub async fn run_local(self: Arc<Self>, commits: Arc<Commits>) {
        let mut wake = commits.sender.subscribe();
        loop {
            if !self.catch_up_patiently(None).await {
                return;
            }
            tokio::select! {
                changed = wake.changed() => if changed.is_err() { return },
                () = self.stopped() => return,
            }
        }
    }

    /// PostgreSQL: one dedicated LISTEN connection (named `application_name`), reconnected
    /// with backoff whenever it drops; after each (re)connection, and after each notification,
    /// everything after the last position broadcast is read from the log.
    pub async fn run_postgres(
        self: Arc<Self>,
        url: String,
        application_name: String,
        connect_timeout: Duration,
    ) {
        let mut backoff = Backoff::default();
        loop {
            let mut listener = tokio::select! {
                listener = listen(&url, &application_name, connect_timeout) => match listener {
                    Ok(listener) => listener,
                    Err(err) => {
                        tracing::warn!(error = %err, "The change feed cannot LISTEN; retrying");
                        tokio::select! {
                            () = backoff.wait() => continue,
                            () = self.stopped() => return,
                        }
                    }
                },
                () = self.stopped() => return,
            };
            let listens = self.stats.listens.fetch_add(1, Ordering::Relaxed) + 1;
            if listens > 1 {
                tracing::info!(
                    delivered = ?self.delivered(),
                    "The change feed listens again; reading the changes committed meanwhile"
                );
            }
            // Listening first, then reading: a change committed in between is both notified
            // and read, and read once (positions only move forward).
            if !self.catch_up_patiently(None).await {
                return;
            }
            backoff = Backoff::default();
            loop {
                let received = tokio::select! {
                    received = listener.try_recv() => received,
                    () = self.stopped() => return,
                };
                match received {
                    Ok(Some(notification)) => {
                        // The payload is the commit's newest position; the log is the truth
                        // for the entries themselves: read them all.
                        let mut heard = position_in(&notification);
                        while let Some(notification) = listener.next_buffered() {
                            heard = heard.max(position_in(&notification));
                        }
                        if !self.catch_up_patiently(heard).await {
                            return;
                        }
                    }
                    Ok(None) => {
                        tracing::warn!("The change feed's LISTEN connection was lost");
                        break;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "The change feed's LISTEN connection failed");
                        break;
                    }
                }
            }
        }
    }
}

/// The position a notification carries (the newest its commit numbered).
fn position_in(notification: &PgNotification) -> Option<i64> {
    notification.payload().parse().ok()
}

/// A LISTEN on its own connection (a pool of one, outside the application's pool).
async fn listen(
    url: &str,
    application_name: &str,
    connect_timeout: Duration,
) -> Result<PgListener, sea_orm::sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.application_name(application_name);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(connect_timeout)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(options);
    let mut listener = PgListener::connect_with(&pool).await?;
    // A lost connection is re-established by the loop above, which then reads what it missed.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// 250 ms doubling to 5 s.
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Self(Duration::from_millis(250))
    }
}

impl Backoff {
    async fn wait(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
    }
}
