//! Read replicas: which one may serve a read, watched in the background.
//!
//! Every read-only operation goes to a usable replica (round robin), every mutation and all it
//! reads to the primary. A replica is usable while it answers and is **fresh**: it has replayed
//! everything the primary had written [`ReplicaSettings::max_lag`] ago or later. Freshness is
//! measured in WAL positions, not in replayed transactions' timestamps (which stand still while
//! the primary is idle and say nothing when the replica stops receiving): every check interval
//! the watcher reads the primary's current WAL position and keeps the recent ones with the time
//! it read them; a replica whose replay position is at least the one read at time `t` has every
//! commit acknowledged before `t`, so its staleness is at most `now - t`.
//!
//! Read-your-writes: a mutation's response carries the primary's WAL position after its commit
//! (the consistency token); a read that sends it back goes to a replica whose last checked replay
//! position is at least that far, or else to the primary. Replay positions only grow, so a
//! replica that had replayed that far when checked still has.
//!
//! The watcher uses connections of its own, never the pools' (a pool busy under load is not a
//! replica that is down). A read that fails on a replica because it cannot be reached marks it
//! down at once (the next check brings it back) and runs again on the primary, so clients see
//! no error when a replica stops.

use std::{
    collections::VecDeque,
    fmt,
    str::FromStr,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, Statement,
    sqlx::{Connection, PgConnection, Row},
};

use super::database::StatementCounter;

/// A position in PostgreSQL's write-ahead log (`pg_lsn`), e.g. `16/B374D848`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(u64);

impl FromStr for Lsn {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (high, low) = text.split_once('/').ok_or(())?;
        let part = |hex: &str| {
            if hex.is_empty() || hex.len() > 8 {
                return Err(());
            }
            u32::from_str_radix(hex, 16).map_err(|_| ())
        };
        Ok(Self((u64::from(part(high)?) << 32) | u64::from(part(low)?)))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// What a mutation hands its client so that later reads see its writes: the primary's WAL
/// position after the commit. Opaque to clients; `v1:` leaves room for another form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConsistencyToken(pub Lsn);

impl ConsistencyToken {
    const PREFIX: &'static str = "v1:";
}

impl FromStr for ConsistencyToken {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let lsn = text.strip_prefix(Self::PREFIX).ok_or(())?;
        Ok(Self(lsn.parse()?))
    }
}

impl fmt::Display for ConsistencyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.0)
    }
}

/// The primary's WAL position now, as a token: read after a mutation's commit, it is at or past
/// the commit's record, so a replica that has replayed this far holds the mutation's writes.
pub async fn commit_position(primary: &DatabaseConnection) -> Result<ConsistencyToken, DbErr> {
    let row = primary
        .query_one_raw(Statement::from_string(
            primary.get_database_backend(),
            "SELECT pg_current_wal_lsn()::text AS lsn",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("pg_current_wal_lsn() returned no row".into()))?;
    let text: String = row.try_get("", "lsn")?;
    text.parse()
        .map(ConsistencyToken)
        .map_err(|()| DbErr::Custom(format!("pg_current_wal_lsn() returned {text:?}")))
}

/// How replicas are chosen and watched.
#[derive(Debug, Clone, Copy)]
pub struct ReplicaSettings {
    /// The stalest a replica may be and still serve reads.
    pub max_lag: Duration,
    /// How often the watcher reads the primary's position and each replica's.
    pub check_interval: Duration,
    /// How long one check may take before the replica counts as down.
    pub timeout: Duration,
}

/// What the watcher last found of one replica.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplicaState {
    /// It answered the last check as a server in recovery (a standby).
    pub up: bool,
    /// Its replay position at the last check.
    pub replayed: Option<Lsn>,
    /// It holds every commit the primary had acknowledged at this instant.
    pub fresh_as_of: Option<Instant>,
}

impl ReplicaState {
    /// How stale it may be now; `None` when not known (never checked, or further behind than
    /// the watcher remembers).
    pub fn lag(&self) -> Option<Duration> {
        self.fresh_as_of.map(|at| at.elapsed())
    }
}

/// One replica: its pool for reads, and the watcher's findings.
pub struct Replica {
    /// The URL with its password masked, for logs, `/readyz` and `/metrics`.
    pub name: String,
    url: String,
    pub pool: DatabaseConnection,
    /// Statements sent through its pool.
    pub statements: StatementCounter,
    state: Mutex<ReplicaState>,
}

impl Replica {
    pub fn new(name: String, url: String, pool: DatabaseConnection) -> Self {
        Self {
            name,
            url,
            pool,
            statements: StatementCounter::default(),
            state: Mutex::default(),
        }
    }

    pub fn state(&self) -> ReplicaState {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, change: impl FnOnce(&mut ReplicaState)) {
        change(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// A read could not reach it: it serves nothing until a check finds it answering.
    pub fn suspect(&self) {
        let was_up = self.state().up;
        self.set(|state| state.up = false);
        if was_up {
            tracing::warn!(replica = %self.name, "A read could not reach the replica: reads go elsewhere until it answers");
        }
    }

    /// Whether it may serve a read now (within the lag bound, and far enough for `token`).
    fn usable(&self, max_lag: Duration, token: Option<ConsistencyToken>) -> bool {
        let state = self.state();
        state.up
            && state.lag().is_some_and(|lag| lag <= max_lag)
            && token.is_none_or(|ConsistencyToken(wanted)| {
                state.replayed.is_some_and(|replayed| replayed >= wanted)
            })
    }
}

/// The replicas of a store (none on SQLite or without DATABASE_REPLICA_URLS).
pub struct Replicas {
    pub members: Vec<Replica>,
    next: AtomicUsize,
    pub settings: ReplicaSettings,
}

impl Default for Replicas {
    fn default() -> Self {
        Self::new(
            Vec::new(),
            ReplicaSettings {
                max_lag: Duration::ZERO,
                check_interval: Duration::from_secs(1),
                timeout: Duration::from_secs(1),
            },
        )
    }
}

impl fmt::Debug for Replicas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.members.iter().map(|r| &r.name))
            .finish()
    }
}

impl Replicas {
    pub fn new(members: Vec<Replica>, settings: ReplicaSettings) -> Self {
        Self {
            members,
            next: AtomicUsize::new(0),
            settings,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The replica a read goes to, round robin over the usable ones; `None`: the primary.
    pub fn pick(&self, token: Option<ConsistencyToken>) -> Option<&Replica> {
        let count = self.members.len();
        if count == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .map(|i| &self.members[(start + i) % count])
            .find(|replica| replica.usable(self.settings.max_lag, token))
    }
}

/// The primary's recent WAL positions and when each was read, oldest first.
struct History {
    samples: VecDeque<(Instant, Lsn)>,
    /// How far back to remember: past it, a replica is too stale to serve anyway.
    keep: Duration,
}

impl History {
    fn push(&mut self, at: Instant, lsn: Lsn) {
        self.samples.push_back((at, lsn));
        while self
            .samples
            .front()
            .is_some_and(|(then, _)| at.duration_since(*then) > self.keep)
        {
            self.samples.pop_front();
        }
    }

    /// The latest instant at which the primary had written nothing past `replayed`.
    fn fresh_as_of(&self, replayed: Lsn) -> Option<Instant> {
        self.samples
            .iter()
            .rev()
            .find(|(_, lsn)| *lsn <= replayed)
            .map(|(at, _)| *at)
    }
}

/// Runs until the process ends: every check interval, reads the primary's WAL position at
/// `primary_url`, then each replica's state, each over a connection of the watcher's own.
pub async fn watch(replicas: Arc<Replicas>, primary_url: String) {
    let settings = replicas.settings;
    let mut history = History {
        samples: VecDeque::new(),
        keep: settings.max_lag * 2 + settings.check_interval * 4,
    };
    let mut primary: Option<PgConnection> = None;
    let mut connections: Vec<Option<PgConnection>> =
        replicas.members.iter().map(|_| None).collect();
    let mut ticks = tokio::time::interval(settings.check_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // While the primary is down replicas stand still too, and without its position their
        // freshness is not known to grow: they keep what was found last.
        if let Ok((_, Some(lsn))) = ask(&mut primary, &primary_url, settings.timeout, PRIMARY).await
        {
            history.push(Instant::now(), lsn);
        }
        for (replica, connection) in replicas.members.iter().zip(connections.iter_mut()) {
            let found = ask(connection, &replica.url, settings.timeout, REPLICA).await;
            let was_up = replica.state().up;
            match found {
                Ok((true, Some(replayed))) => {
                    if !was_up {
                        tracing::info!(replica = %replica.name, "The replica answers: it serves reads while fresh");
                    }
                    replica.set(|state| {
                        state.up = true;
                        state.replayed = Some(replayed);
                        state.fresh_as_of = history.fresh_as_of(replayed);
                    });
                }
                Ok(_) => {
                    if was_up {
                        tracing::warn!(replica = %replica.name, "The server is not a standby (promoted?): it serves no reads");
                    }
                    replica.set(|state| state.up = false);
                }
                Err(err) => {
                    if was_up {
                        tracing::warn!(replica = %replica.name, error = %err, "The replica does not answer: reads go elsewhere");
                    }
                    replica.set(|state| state.up = false);
                }
            }
        }
    }
}

/// The primary's current WAL position (and `false`: it is not in recovery).
const PRIMARY: &str = "SELECT pg_is_in_recovery(), pg_current_wal_lsn()::text";
/// A standby's replay position (and `true`: it is in recovery).
const REPLICA: &str = "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text";

/// Runs `sql` (one of the two above) over `connection`, connecting first if needed; a failure
/// drops the connection so that the next check reconnects.
async fn ask(
    connection: &mut Option<PgConnection>,
    url: &str,
    timeout: Duration,
    sql: &'static str,
) -> Result<(bool, Option<Lsn>), String> {
    let attempt = async {
        if connection.is_none() {
            *connection = Some(PgConnection::connect(url).await?);
        }
        let Some(open) = connection.as_mut() else {
            unreachable!("connected above")
        };
        let row = sea_orm::sqlx::query(sql).fetch_one(open).await?;
        let in_recovery: bool = row.try_get(0)?;
        let lsn: Option<String> = row.try_get(1)?;
        Ok::<_, sea_orm::sqlx::Error>((in_recovery, lsn.and_then(|l| l.parse().ok())))
    };
    let result = match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    };
    if result.is_err() {
        *connection = None;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_compare_and_print_as_postgresql_does() {
        let lsn: Lsn = "16/B374D848".parse().unwrap_or_else(|()| panic!("parses"));
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert!(lsn > "16/B374D847".parse().unwrap_or_else(|()| panic!("parses")));
        assert!(lsn < "17/0".parse().unwrap_or_else(|()| panic!("parses")));
        for bad in ["", "16", "/1", "1/", "x/1", "123456789/0", "1/2/3"] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad:?} is refused");
        }
        let token = ConsistencyToken(lsn);
        assert_eq!(token.to_string(), "v1:16/B374D848");
        assert_eq!("v1:16/B374D848".parse(), Ok(token));
        assert!("16/B374D848".parse::<ConsistencyToken>().is_err());
    }

    #[test]
    fn freshness_is_the_last_time_the_primary_had_nothing_newer() {
        let start = Instant::now();
        let mut history = History {
            samples: VecDeque::new(),
            keep: Duration::from_secs(10),
        };
        let at = |ms| start + Duration::from_millis(ms);
        history.push(at(0), Lsn(100));
        history.push(at(100), Lsn(200));
        history.push(at(200), Lsn(200));
        history.push(at(300), Lsn(300));
        assert_eq!(history.fresh_as_of(Lsn(300)), Some(at(300)));
        assert_eq!(history.fresh_as_of(Lsn(250)), Some(at(200)));
        assert_eq!(history.fresh_as_of(Lsn(100)), Some(at(0)));
        assert_eq!(history.fresh_as_of(Lsn(99)), None, "older than remembered");
        history.push(at(20_000), Lsn(400));
        assert_eq!(history.samples.len(), 1, "samples past `keep` are dropped");
    }
}
