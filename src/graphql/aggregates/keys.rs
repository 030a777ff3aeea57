//! The values a group was formed by: `Keyed` as the statement returns them, the period of a
//! date group, and each kind's `…GroupKey` object that reads them.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, SimpleObject};
use sea_orm::ActiveEnum;

use entity::{event, organization};

use crate::{
    dates::PartialDate,
    error::AppError,
    graphql::{
        enums::{
            AgreementKind, EventKind, InstrumentKind, OrganizationKind, ProjectKind, ProjectStatus,
            Recurrence,
        },
        errors::ApiResult,
        event::Event,
        lookup::referenced,
        organization::Organization,
    },
    store::aggregate::GroupKey,
};

/// How a group was formed from a partial date.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateGroupKind {
    /// The records with no date at all.
    NoDate,
    /// The records dated within one year (grouping by year).
    Year,
    /// The records dated within one month (grouping by month).
    Month,
    /// The records of one year whose date is known to the year only (grouping by month): they
    /// fall in no month of it.
    MonthUnknown,
}

/// The period a group of records is dated in.
#[derive(SimpleObject)]
pub struct DateGroup {
    /// How the group was formed: a year, a month, the year's records with no known month, or
    /// the records with no date.
    kind: DateGroupKind,
    /// The year; null for the records with no date.
    year: Option<i32>,
    /// The month (1–12); null unless `kind` is `MONTH`.
    month: Option<i32>,
    /// The period as a partial date (`2020`, `2020-06`); for `MONTH_UNKNOWN` the year; null
    /// for the records with no date.
    period: Option<PartialDate>,
}

impl DateGroup {
    fn of(value: Option<&str>, by_month: bool) -> ApiResult<Self> {
        let Some(text) = value else {
            return Ok(Self {
                kind: DateGroupKind::NoDate,
                year: None,
                month: None,
                period: None,
            });
        };
        let period: PartialDate = text
            .parse()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("unexpected period {text:?}")))?;
        let year = chrono::Datelike::year(&period.date);
        let month = (period.precision != entity::DatePrecision::Year)
            .then(|| chrono::Datelike::month(&period.date) as i32);
        let kind = match (by_month, month) {
            (false, _) => DateGroupKind::Year,
            (true, Some(_)) => DateGroupKind::Month,
            (true, None) => DateGroupKind::MonthUnknown,
        };
        Ok(Self {
            kind,
            year: Some(year),
            month,
            period: Some(period),
        })
    }
}

/// A group's key values, by what they were grouped by.
#[derive(Clone)]
pub struct Keyed {
    pub(super) keys: Arc<Vec<GroupKey>>,
    pub(super) values: Vec<Option<String>>,
}

impl Keyed {
    fn value(&self, key: impl Fn(&GroupKey) -> bool) -> Option<Option<&str>> {
        let at = self.keys.iter().position(key)?;
        Some(self.values.get(at).and_then(|v| v.as_deref()))
    }

    /// The value of an enumeration column (`None` when not grouped by it, or when the records
    /// have none).
    pub fn enumerated<E, G>(&self, column: &str) -> ApiResult<Option<G>>
    where
        E: ActiveEnum<Value = String>,
        G: From<E>,
    {
        let value = self
            .value(|k| matches!(k, GroupKey::Column(c) if *c == column))
            .flatten();
        Self::parse::<E, G>(value)
    }

    /// The link's role, when grouped by it.
    pub fn role<E, G>(&self) -> ApiResult<Option<G>>
    where
        E: ActiveEnum<Value = String>,
        G: From<E>,
    {
        Self::parse::<E, G>(self.value(|k| *k == GroupKey::Role).flatten())
    }

    fn parse<E, G>(value: Option<&str>) -> ApiResult<Option<G>>
    where
        E: ActiveEnum<Value = String>,
        G: From<E>,
    {
        value
            .map(|v| {
                E::try_from_value(&v.to_owned()).map(G::from).map_err(|_| {
                    AppError::Internal(anyhow::anyhow!("unexpected value {v:?}")).into()
                })
            })
            .transpose()
    }

    /// The value of a key through a table of values, when grouped by it.
    pub fn joined(&self, table: &str) -> Option<&str> {
        self.value(|k| matches!(k, GroupKey::Joined(j) if j.table == table))
            .flatten()
    }

    /// The id a key through a table of values holds, when grouped by it.
    pub fn joined_id(&self, table: &str) -> Option<i64> {
        self.joined(table).and_then(|v| v.parse().ok())
    }

    /// The id a reference column holds, when grouped by it.
    pub fn column_id(&self, column: &str) -> Option<i64> {
        self.value(|k| matches!(k, GroupKey::Column(c) if *c == column))
            .flatten()
            .and_then(|v| v.parse().ok())
    }

    /// The year (or, `by_month`, the month) group of the date in `column`, when grouped by it.
    pub fn date(&self, column: &str, by_month: bool) -> ApiResult<Option<DateGroup>> {
        let value = self.value(|k| match k {
            GroupKey::Year(d) => !by_month && d.date == column,
            GroupKey::Month(d) => by_month && d.date == column,
            _ => false,
        });
        value.map(|v| DateGroup::of(v, by_month)).transpose()
    }
}

pub struct OrganizationGroupKey(pub Keyed);

/// The values a group of organizations was formed by.
#[Object]
impl OrganizationGroupKey {
    /// The kind, when grouped by `KIND`.
    async fn kind(&self) -> ApiResult<Option<OrganizationKind>> {
        self.0.enumerated::<entity::OrganizationKind, _>("kind")
    }

    /// The organization they belong to, when grouped by `PARENT` (null for the group of those
    /// without one).
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let id = self.0.column_id("parent_id");
        Ok(referenced::<organization::Entity>(ctx, id)
            .await?
            .map(Organization))
    }
}

pub struct AgreementGroupKey(pub Keyed);

/// The values a group of agreements was formed by.
#[Object]
impl AgreementGroupKey {
    /// The form, when grouped by `KIND`.
    async fn kind(&self) -> ApiResult<Option<AgreementKind>> {
        self.0.enumerated::<entity::AgreementKind, _>("kind")
    }

    /// The year signed, when grouped by `SIGNED_YEAR`.
    async fn signed_year(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("signed_on", false)
    }

    /// The month signed, when grouped by `SIGNED_MONTH`.
    async fn signed_month(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("signed_on", true)
    }

    /// The party, when grouped by `PARTY`.
    async fn party(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let id = self.0.joined_id("agreement_parties");
        Ok(referenced::<organization::Entity>(ctx, id)
            .await?
            .map(Organization))
    }
}

pub struct ProjectGroupKey(pub Keyed);

/// The values a group of projects was formed by.
#[Object]
impl ProjectGroupKey {
    /// The form, when grouped by `KIND`.
    async fn kind(&self) -> ApiResult<Option<ProjectKind>> {
        self.0.enumerated::<entity::ProjectKind, _>("kind")
    }

    /// The status, when grouped by `STATUS`.
    async fn status(&self) -> ApiResult<Option<ProjectStatus>> {
        self.0.enumerated::<entity::ProjectStatus, _>("status")
    }

    /// The year it starts, when grouped by `START_YEAR`.
    async fn start_year(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("starts_on", false)
    }

    /// The month it starts, when grouped by `START_MONTH`.
    async fn start_month(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("starts_on", true)
    }

    /// The year it ends, when grouped by `END_YEAR`.
    async fn end_year(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("ends_on", false)
    }

    /// The month it ends, when grouped by `END_MONTH`.
    async fn end_month(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("ends_on", true)
    }

    /// The region, when grouped by `REGION` (null for the group of projects with none).
    async fn region(&self) -> Option<&str> {
        self.0.joined("project_regions")
    }

    /// The theme, when grouped by `THEME` (null for the group of projects with none).
    async fn theme(&self) -> Option<&str> {
        self.0.joined("project_themes")
    }

    /// The participant, when grouped by `PARTICIPANT` (null for the group of projects with
    /// none).
    async fn participant(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let id = self.0.joined_id("project_participants");
        Ok(referenced::<organization::Entity>(ctx, id)
            .await?
            .map(Organization))
    }
}

pub struct EventGroupKey(pub Keyed);

/// The values a group of events was formed by.
#[Object]
impl EventGroupKey {
    /// The kind, when grouped by `KIND`.
    async fn kind(&self) -> ApiResult<Option<EventKind>> {
        self.0.enumerated::<entity::EventKind, _>("kind")
    }

    /// The recurrence, when grouped by `RECURRENCE` (null also for the group of events without
    /// one).
    async fn recurrence(&self) -> ApiResult<Option<Recurrence>> {
        self.0.enumerated::<entity::Recurrence, _>("recurrence")
    }

    /// The year it starts, when grouped by `START_YEAR`.
    async fn start_year(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("starts_on", false)
    }

    /// The month it starts, when grouped by `START_MONTH`.
    async fn start_month(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("starts_on", true)
    }

    /// The year it ends, when grouped by `END_YEAR`.
    async fn end_year(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("ends_on", false)
    }

    /// The month it ends, when grouped by `END_MONTH`.
    async fn end_month(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("ends_on", true)
    }

    /// The participant, when grouped by `PARTICIPANT` or by one role's participants
    /// (`ORGANIZER`, `CO_ORGANIZER`, `HOST`, `SPEAKER`); null for the group of events with none.
    async fn participant(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let id = self.0.joined_id("event_participants");
        Ok(referenced::<organization::Entity>(ctx, id)
            .await?
            .map(Organization))
    }

    /// The event they are part of, when grouped by `PARENT` (null for the group of events
    /// outside any).
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Event>> {
        let id = self.0.column_id("parent_id");
        Ok(referenced::<event::Entity>(ctx, id).await?.map(Event))
    }
}

pub struct InstrumentGroupKey(pub Keyed);

/// The values a group of instruments was formed by.
#[Object]
impl InstrumentGroupKey {
    /// The kind, when grouped by `KIND`.
    async fn kind(&self) -> ApiResult<Option<InstrumentKind>> {
        self.0.enumerated::<entity::InstrumentKind, _>("kind")
    }

    /// The year adopted, when grouped by `ADOPTED_YEAR`.
    async fn adopted_year(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("adopted_on", false)
    }

    /// The month adopted, when grouped by `ADOPTED_MONTH`.
    async fn adopted_month(&self) -> ApiResult<Option<DateGroup>> {
        self.0.date("adopted_on", true)
    }
}
