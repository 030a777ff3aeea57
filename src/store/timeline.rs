//! Dated activity in date order: agreements signed, projects started and ended, events held,
//! for one organization (the records it takes part in) or for everything. Records without the
//! date in question are left out: no date is ever invented.
//!
//! One `UNION ALL` over the four kinds, keyset-paged on (date, kind, id). A partial date sorts
//! and filters as the first day of its period.

use chrono::NaiveDate;
use entity::DatePrecision;
use sea_orm::{ConnectionTrait, Statement};

use super::{
    page::{Key, Position},
    params::Params,
};
use crate::error::{AppError, AppResult};

/// What happened on a timeline entry's date. The order is the order of entries on the same day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    AgreementSigned,
    ProjectStarted,
    EventHeld,
    ProjectEnded,
}

impl EntryKind {
    pub const ALL: [EntryKind; 4] = [
        EntryKind::AgreementSigned,
        EntryKind::ProjectStarted,
        EntryKind::EventHeld,
        EntryKind::ProjectEnded,
    ];

    fn code(self) -> i64 {
        match self {
            Self::AgreementSigned => 1,
            Self::ProjectStarted => 2,
            Self::EventHeld => 3,
            Self::ProjectEnded => 4,
        }
    }

    fn from_code(code: i64) -> AppResult<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown timeline kind {code}")))
    }

    /// (table, date column, precision column, link table, link column).
    fn source(
        self,
    ) -> (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ) {
        match self {
            Self::AgreementSigned => (
                "agreements",
                "signed_on",
                "signed_precision",
                "agreement_parties",
                "agreement_id",
            ),
            Self::ProjectStarted => (
                "projects",
                "starts_on",
                "starts_precision",
                "project_participants",
                "project_id",
            ),
            Self::ProjectEnded => (
                "projects",
                "ends_on",
                "ends_precision",
                "project_participants",
                "project_id",
            ),
            Self::EventHeld => (
                "events",
                "starts_on",
                "starts_precision",
                "event_participants",
                "event_id",
            ),
        }
    }
}

/// What a timeline asks for.
#[derive(Debug, Clone)]
pub struct TimelineQuery {
    /// Only records this organization takes part in; everything when None.
    pub organization: Option<i64>,
    /// Only entries dated on or after this day.
    pub from: Option<NaiveDate>,
    /// Only entries dated on or before this day.
    pub to: Option<NaiveDate>,
    /// Sorted, not empty.
    pub kinds: Vec<EntryKind>,
}

impl TimelineQuery {
    /// What a cursor is bound to: a cursor of another timeline is refused.
    pub fn ordering(&self) -> String {
        let kinds: Vec<String> = self.kinds.iter().map(|k| k.code().to_string()).collect();
        format!(
            "timeline:{}:{}:{}:{}",
            self.organization.map(|o| o.to_string()).unwrap_or_default(),
            self.from.map(|d| d.to_string()).unwrap_or_default(),
            self.to.map(|d| d.to_string()).unwrap_or_default(),
            kinds.join(",")
        )
    }
}

/// One dated record.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: EntryKind,
    pub record: i64,
    pub date: NaiveDate,
    pub precision: DatePrecision,
    pub position: Position,
}

/// The entries, filtered, without the window.
fn entries_sql(query: &TimelineQuery, params: &mut Params) -> String {
    let mut parts = Vec::new();
    for kind in &query.kinds {
        let (table, date, precision, link, link_column) = kind.source();
        let mut sql = format!(
            "SELECT {code} AS kind, t.id AS record, t.{date} AS on_date, t.{precision} AS on_precision \
             FROM {table} t WHERE t.{date} IS NOT NULL",
            code = kind.code()
        );
        if let Some(org) = query.organization {
            sql.push_str(&format!(
                " AND t.id IN (SELECT {link_column} FROM {link} WHERE organization_id = {org})"
            ));
        }
        if let Some(from) = query.from {
            sql.push_str(&format!(" AND t.{date} >= {}", params.push(from)));
        }
        if let Some(to) = query.to {
            sql.push_str(&format!(" AND t.{date} <= {}", params.push(to)));
        }
        parts.push(sql);
    }
    parts.join(" UNION ALL ")
}

/// A page of entries after `after`, and whether more follow.
pub async fn page(
    db: &impl ConnectionTrait,
    query: &TimelineQuery,
    first: u64,
    after: Option<&Position>,
) -> AppResult<(Vec<Entry>, bool)> {
    let ordering = query.ordering();
    let mut params = Params::new(db.get_database_backend());
    let inner = entries_sql(query, &mut params);
    let mut sql = format!("SELECT kind, record, on_date, on_precision FROM ({inner}) e");
    if let Some(position) = after {
        let bad = || AppError::bad_field("after", "the cursor belongs to another timeline");
        if position.ordering != ordering {
            return Err(bad());
        }
        let [Key::Date(date), Key::Int(kind), Key::Int(record)] = position.keys.as_slice() else {
            return Err(bad());
        };
        // Spelled out rather than as a row comparison, which older SQLite lacks.
        let (d1, d2) = (params.push(*date), params.push(*date));
        let (k1, k2) = (params.push(*kind), params.push(*kind));
        let r = params.push(*record);
        sql.push_str(&format!(
            " WHERE on_date > {d1} OR (on_date = {d2} AND (kind > {k1} OR (kind = {k2} AND record > {r})))"
        ));
    }
    sql.push_str(&format!(
        " ORDER BY on_date, kind, record LIMIT {}",
        first + 1
    ));
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            params.backend,
            sql,
            params.values,
        ))
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in &rows {
        let kind = EntryKind::from_code(row.try_get::<i32>("", "kind")?.into())?;
        let record: i64 = row.try_get("", "record")?;
        let date: NaiveDate = row.try_get("", "on_date")?;
        let precision: DatePrecision = row.try_get("", "on_precision")?;
        entries.push(Entry {
            kind,
            record,
            date,
            precision,
            position: Position {
                ordering: ordering.clone(),
                keys: vec![Key::Date(date), Key::Int(kind.code()), Key::Int(record)],
            },
        });
    }
    let has_next = entries.len() as u64 > first;
    entries.truncate(first as usize);
    Ok((entries, has_next))
}

/// How many entries the timeline holds in all.
pub async fn count(db: &impl ConnectionTrait, query: &TimelineQuery) -> AppResult<u64> {
    let mut params = Params::new(db.get_database_backend());
    let sql = format!(
        "SELECT COUNT(*) AS n FROM ({}) e",
        entries_sql(query, &mut params)
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            params.backend,
            sql,
            params.values,
        ))
        .await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}
