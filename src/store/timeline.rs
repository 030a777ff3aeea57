//! Dated activity in date order: agreements signed, projects started and ended, events held,
//! organizations joining agreements (a party's `since`), for one organization (the records it
//! takes part in, and its own joinings) or for everything. Records and links without the date
//! in question are left out: no date is ever invented.
//!
//! One `UNION ALL` over the kinds, keyset-paged on (date, kind, id), where the id is the
//! record's, or the link row's for a joining. A joining carries its link's agreement,
//! organization and role in the same row, so the page needs no statement for the links. A
//! partial date sorts and filters as the first day of its period.

use chrono::NaiveDate;
use entity::{DatePrecision, PartyRole};
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
    /// An organization became a party to an agreement (the link's `since`).
    JoinedAgreement,
}

/// Where a kind's dated rows are, and how they belong to an organization.
struct Source {
    table: &'static str,
    date: &'static str,
    precision: &'static str,
    member: Member,
}

/// How the rows of a kind belong to an organization.
enum Member {
    /// Records the organization takes part in through a link table (`link.column` is the
    /// record's id where `link.organization_id` is the organization's).
    Through(&'static str, &'static str),
    /// Link rows of the organization itself.
    Own,
}

impl EntryKind {
    pub const ALL: [EntryKind; 5] = [
        EntryKind::AgreementSigned,
        EntryKind::ProjectStarted,
        EntryKind::EventHeld,
        EntryKind::ProjectEnded,
        EntryKind::JoinedAgreement,
    ];

    fn code(self) -> i64 {
        match self {
            Self::AgreementSigned => 1,
            Self::ProjectStarted => 2,
            Self::EventHeld => 3,
            Self::ProjectEnded => 4,
            Self::JoinedAgreement => 5,
        }
    }

    fn from_code(code: i64) -> AppResult<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown timeline kind {code}")))
    }

    fn source(self) -> Source {
        let (table, date, precision, member) = match self {
            Self::AgreementSigned => (
                "agreements",
                "signed_on",
                "signed_precision",
                Member::Through("agreement_parties", "agreement_id"),
            ),
            Self::ProjectStarted => (
                "projects",
                "starts_on",
                "starts_precision",
                Member::Through("project_participants", "project_id"),
            ),
            Self::ProjectEnded => (
                "projects",
                "ends_on",
                "ends_precision",
                Member::Through("project_participants", "project_id"),
            ),
            Self::EventHeld => (
                "events",
                "starts_on",
                "starts_precision",
                Member::Through("event_participants", "event_id"),
            ),
            Self::JoinedAgreement => (
                "agreement_parties",
                "since_on",
                "since_precision",
                Member::Own,
            ),
        };
        Source {
            table,
            date,
            precision,
            member,
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

/// An organization's part in an agreement, for a joining.
#[derive(Debug, Clone, Copy)]
pub struct Joining {
    pub agreement: i64,
    pub organization: i64,
    pub role: PartyRole,
}

/// One dated record, or one dated link.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: EntryKind,
    /// The record's id, or the link row's for a joining.
    pub record: i64,
    /// The link, for a joining.
    pub joining: Option<Joining>,
    pub date: NaiveDate,
    pub precision: DatePrecision,
    pub position: Position,
}

/// The entries, filtered, without the window. `columns`: with the link's agreement,
/// organization and role (null but for joinings), which the page reads and the count does not.
fn entries_sql(query: &TimelineQuery, params: &mut Params, columns: bool) -> String {
    let mut parts = Vec::new();
    for kind in &query.kinds {
        let Source {
            table,
            date,
            precision,
            member,
        } = kind.source();
        let link = if !columns {
            ""
        } else if matches!(member, Member::Own) {
            ", t.agreement_id AS agreement, t.organization_id AS organization, t.role AS role"
        } else {
            // Typed so that a union of these alone still reads as integers and text.
            ", CAST(NULL AS BIGINT) AS agreement, CAST(NULL AS BIGINT) AS organization, \
             CAST(NULL AS TEXT) AS role"
        };
        let mut sql = format!(
            "SELECT {code} AS kind, t.id AS record, t.{date} AS on_date, t.{precision} AS on_precision{link} \
             FROM {table} t WHERE t.{date} IS NOT NULL",
            code = kind.code()
        );
        if let Some(org) = query.organization {
            sql.push_str(&match member {
                Member::Through(link, column) => format!(
                    " AND t.id IN (SELECT {column} FROM {link} WHERE organization_id = {org})"
                ),
                Member::Own => format!(" AND t.organization_id = {org}"),
            });
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
    let inner = entries_sql(query, &mut params, true);
    let mut sql = format!(
        "SELECT kind, record, on_date, on_precision, agreement, organization, role FROM ({inner}) e"
    );
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
        let joining = match kind {
            EntryKind::JoinedAgreement => Some(Joining {
                agreement: row.try_get("", "agreement")?,
                organization: row.try_get("", "organization")?,
                role: row.try_get("", "role")?,
            }),
            _ => None,
        };
        entries.push(Entry {
            kind,
            record,
            joining,
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
        entries_sql(query, &mut params, false)
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
