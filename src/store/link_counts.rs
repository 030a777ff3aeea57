//! The link counts the triggers keep (the migration `m20261201_000002_link_counts`): how many
//! links each record has on each side of each link table, read for `totalCount`, and kept small.
//!
//! On PostgreSQL each writing statement adds a delta row per record it linked or unlinked, so a
//! hub that many writes touch gathers rows: after 50,000 event writes naming the ILO, its event
//! count summed 50,000 rows (5.3 ms, most of the hub detail's SQL). A server folds them back
//! into one row per record in the background, after writes ([`keep_folded`]).

use std::{collections::HashMap, time::Duration};

use sea_orm::{
    Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityName, IdenStatic, Statement,
    TransactionTrait,
    sea_query::{Alias, Expr, ExprTrait, Func, Query},
};

use super::nested::LinkRelation;
use crate::error::AppResult;
use migration::m20261201_000002_link_counts::{TABLE, fold_statements};

/// Every link of each owner, from the kept counts: a hub's 24,733 events are one index lookup,
/// not a scan of 24,733 index entries (6–10 ms at scale 1).
pub(super) async fn kept<R: LinkRelation>(
    db: &impl ConnectionTrait,
    owners: &[i64],
) -> AppResult<HashMap<i64, u64>> {
    let side = Side::of::<R>();
    let keys: Vec<KeptKey> = owners.iter().map(|&owner| (side, owner)).collect();
    Ok(kept_many(db, &keys)
        .await?
        .into_iter()
        .map(|((_, owner), n)| (owner, n))
        .collect())
}

/// One side of a link table: the owners' column (`agreement_parties.organization_id` holds an
/// organization's agreements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Side {
    pub link_table: &'static str,
    pub owner_column: &'static str,
}

impl Side {
    pub fn of<R: LinkRelation>() -> Self {
        Self {
            link_table: R::Link::default().table_name(),
            owner_column: R::OWNER.as_str(),
        }
    }
}

/// An owner on one side of a link table.
pub type KeptKey = (Side, i64);

/// The kept counts of owners on any sides, in one statement: a hub's agreements, projects and
/// events counted together (the hub detail's three `totalCount`s). An owner without links has
/// no entry.
pub async fn kept_many(
    db: &impl ConnectionTrait,
    keys: &[KeptKey],
) -> AppResult<HashMap<KeptKey, u64>> {
    let mut sides: HashMap<Side, Vec<i64>> = HashMap::new();
    for (side, owner) in keys {
        sides.entry(*side).or_default().push(*owner);
    }
    if sides.is_empty() {
        return Ok(HashMap::new());
    }
    let table = Alias::new(TABLE);
    let column = |name: &str| Expr::col((table.clone(), Alias::new(name)));
    let mut any = Condition::any();
    for (side, owners) in &sides {
        any = any.add(
            Condition::all()
                .add(column("link_table").eq(side.link_table))
                .add(column("owner_column").eq(side.owner_column))
                .add(column("owner_id").is_in(owners.iter().copied())),
        );
    }
    let mut select = Query::select();
    select
        .expr(column("link_table"))
        .expr(column("owner_column"))
        .expr(column("owner_id"))
        // SUM of BIGINT is NUMERIC on PostgreSQL: cast back, on both engines alike.
        .expr_as(
            Expr::expr(Func::sum(column("delta"))).cast_as("BIGINT"),
            Alias::new("n"),
        )
        .from(table.clone())
        .cond_where(any)
        .group_by_col((table.clone(), Alias::new("link_table")))
        .group_by_col((table.clone(), Alias::new("owner_column")))
        .group_by_col((table.clone(), Alias::new("owner_id")));
    let mut counts = HashMap::with_capacity(keys.len());
    for row in db.query_all(&select).await? {
        let link_table: String = row.try_get("", "link_table")?;
        let owner_column: String = row.try_get("", "owner_column")?;
        let owner: i64 = row.try_get("", "owner_id")?;
        let n: i64 = row.try_get("", "n")?;
        // Back to the side asked for (its names are static).
        if let Some(side) = sides
            .keys()
            .find(|side| side.link_table == link_table && side.owner_column == owner_column)
        {
            counts.insert((*side, owner), u64::try_from(n).unwrap_or(0));
        }
    }
    Ok(counts)
}

/// Sums each record's deltas into one row (PostgreSQL; SQLite keeps one row per record
/// already). Safe beside writers and beside another fold (see `fold_statements`).
pub async fn fold(db: &impl ConnectionTrait) -> AppResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        for statement in fold_statements() {
            db.execute_unprepared(&statement).await?;
        }
    }
    Ok(())
}

/// How many rows have been inserted into the deltas' table since statistics began: it moves
/// when something was written, and reading it costs nothing.
async fn inserted(db: &DatabaseConnection) -> AppResult<Option<i64>> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = $1",
            [TABLE.into()],
        ))
        .await?;
    Ok(row.and_then(|row| row.try_get::<i64>("", "n_tup_ins").ok()))
}

/// Runs until the process ends (PostgreSQL): every `every`, folds the deltas if rows were
/// added to them since the last fold. Several servers on one database may each run it. A
/// failure (the database away) is logged and tried again next time.
pub async fn keep_folded(db: DatabaseConnection, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut folded_at: Option<i64> = None;
    loop {
        ticks.tick().await;
        let result = async {
            let now = inserted(&db).await?;
            if now.is_none() || now != folded_at {
                // In a transaction of its own, under a timeout of its own: the requests' one
                // (`DB_STATEMENT_TIMEOUT_MS`) is for reads a client waits on, and a fold after a
                // burst of writes may take longer. A fold may take up to its period.
                let txn = db.begin().await?;
                txn.execute_unprepared(&format!(
                    "SET LOCAL statement_timeout = {}",
                    every.as_millis().max(1)
                ))
                .await?;
                fold(&txn).await?;
                txn.commit().await?;
                folded_at = now;
            }
            AppResult::Ok(())
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, "Folding the link counts failed; trying again later");
        }
    }
}
