//! Filter and ordering inputs, mirrored from the store's plain filter types (the store knows no
//! GraphQL; these convert into it). Within one filter object every condition given must hold;
//! `and`, `or` and `not` combine whole filters.

use async_graphql::{InputObject, InputType};

use super::{
    connection::OrderDirection,
    enums::{
        AgreementKind, AgreementOrderField, EventKind, EventOrderField, EventRole, InstrumentKind,
        InstrumentOrderField, InstrumentRole, OrganizationKind, OrganizationOrderField, PartyRole,
        ProjectKind, ProjectOrderField, ProjectRole, ProjectStatus, Recurrence,
    },
    errors::ApiResult,
};
use crate::{
    dates::PartialDate,
    error::AppError,
    store::{self, filter::Link, page::SortKey},
};

/// Conditions on a text field; all that are given must hold.
#[derive(InputObject, Default)]
pub struct TextFilter {
    /// Exactly this text.
    eq: Option<String>,
    /// Anything but this text (missing values match).
    ne: Option<String>,
    /// One of these texts.
    #[graphql(name = "in", validator(max_items = 100))]
    any_of: Option<Vec<String>>,
    /// Contains this text, ignoring case.
    contains: Option<String>,
    /// Starts with this text, ignoring case.
    starts_with: Option<String>,
    /// True: the field is missing; false: it is present.
    is_null: Option<bool>,
}

impl From<TextFilter> for store::filter::TextFilter {
    fn from(f: TextFilter) -> Self {
        Self {
            eq: f.eq,
            ne: f.ne,
            any_of: f.any_of,
            contains: f.contains,
            starts_with: f.starts_with,
            is_null: f.is_null,
        }
    }
}

/// Conditions on a date, read at the precision they are written in: `after: "2015"` means from
/// 2016 on, `to: "2015"` includes all of 2015. All that are given must hold.
#[derive(InputObject, Default)]
pub struct DateFilter {
    /// Strictly after the whole period.
    after: Option<PartialDate>,
    /// Strictly before the period begins.
    before: Option<PartialDate>,
    /// On or after the period begins.
    from: Option<PartialDate>,
    /// On or before the period ends.
    to: Option<PartialDate>,
    /// True: the date is unknown; false: it is known.
    is_null: Option<bool>,
}

impl From<DateFilter> for store::filter::DateFilter {
    fn from(f: DateFilter) -> Self {
        Self {
            after: f.after,
            before: f.before,
            from: f.from,
            to: f.to,
            is_null: f.is_null,
        }
    }
}

/// Conditions on an enumerated field; all that are given must hold.
#[derive(InputObject)]
#[graphql(concrete(name = "OrganizationKindFilter", params(OrganizationKind)))]
#[graphql(concrete(name = "AgreementKindFilter", params(AgreementKind)))]
#[graphql(concrete(name = "PartyRoleFilter", params(PartyRole)))]
#[graphql(concrete(name = "ProjectKindFilter", params(ProjectKind)))]
#[graphql(concrete(name = "ProjectStatusFilter", params(ProjectStatus)))]
#[graphql(concrete(name = "ProjectRoleFilter", params(ProjectRole)))]
#[graphql(concrete(name = "EventKindFilter", params(EventKind)))]
#[graphql(concrete(name = "RecurrenceFilter", params(Recurrence)))]
#[graphql(concrete(name = "EventRoleFilter", params(EventRole)))]
#[graphql(concrete(name = "InstrumentKindFilter", params(InstrumentKind)))]
#[graphql(concrete(name = "InstrumentRoleFilter", params(InstrumentRole)))]
pub struct EnumFilter<T: InputType> {
    /// Exactly this value.
    eq: Option<T>,
    /// Anything but this value (missing values match).
    ne: Option<T>,
    /// One of these values.
    #[graphql(name = "in", validator(max_items = 100))]
    any_of: Option<Vec<T>>,
    /// None of these values (missing values match).
    #[graphql(validator(max_items = 100))]
    not_in: Option<Vec<T>>,
    /// True: the field is missing; false: it is present.
    is_null: Option<bool>,
}

impl<T: InputType, S: From<T>> From<EnumFilter<T>> for store::filter::EnumFilter<S> {
    fn from(f: EnumFilter<T>) -> Self {
        let list = |v: Option<Vec<T>>| v.map(|v| v.into_iter().map(S::from).collect());
        Self {
            eq: f.eq.map(S::from),
            ne: f.ne.map(S::from),
            any_of: list(f.any_of),
            none_of: list(f.not_in),
            is_null: f.is_null,
        }
    }
}

fn convert<A, B: From<A>>(value: Option<A>) -> Option<B> {
    value.map(B::from)
}

fn boxed<A, B: From<A>>(value: Option<Box<A>>) -> Option<Box<B>> {
    value.map(|v| Box::new(B::from(*v)))
}

fn all<A, B: From<A>>(values: Option<Vec<A>>) -> Vec<B> {
    values
        .unwrap_or_default()
        .into_iter()
        .map(B::from)
        .collect()
}

/// Conditions on organizations.
#[derive(InputObject, Default)]
pub struct OrganizationFilter {
    /// On the slug.
    slug: Option<TextFilter>,
    /// On the full name.
    name: Option<TextFilter>,
    /// On the acronym.
    acronym: Option<TextFilter>,
    /// On the kind of body.
    kind: Option<EnumFilter<OrganizationKind>>,
    /// The organization belongs to a parent matching this.
    parent: Option<Box<OrganizationFilter>>,
    /// The organization is party to at least one agreement matching this.
    agreements: Option<Box<OrganizationAgreementFilter>>,
    /// The organization takes part in at least one project matching this.
    projects: Option<Box<OrganizationProjectFilter>>,
    /// The organization takes part in at least one event matching this.
    events: Option<Box<OrganizationEventFilter>>,
    /// Every one of these filters holds too.
    #[graphql(validator(max_items = 20))]
    and: Option<Vec<OrganizationFilter>>,
    /// At least one of these filters holds too.
    #[graphql(validator(max_items = 20))]
    or: Option<Vec<OrganizationFilter>>,
    /// This filter does not hold.
    not: Option<Box<OrganizationFilter>>,
}

impl From<OrganizationFilter> for store::organizations::OrganizationFilter {
    fn from(f: OrganizationFilter) -> Self {
        Self {
            slug: convert(f.slug),
            name: convert(f.name),
            acronym: convert(f.acronym),
            kind: convert(f.kind),
            parent: boxed(f.parent),
            agreements: f
                .agreements
                .map(|l| Box::new(Link::new(convert(l.role), convert(l.agreement)))),
            projects: f
                .projects
                .map(|l| Box::new(Link::new(convert(l.role), convert(l.project)))),
            events: f
                .events
                .map(|l| Box::new(Link::new(convert(l.role), convert(l.event)))),
            and: all(f.and),
            or: all(f.or),
            not: boxed(f.not),
        }
    }
}

/// An organization's part in an agreement: the role it holds and the agreement.
#[derive(InputObject)]
pub struct OrganizationAgreementFilter {
    /// On the organization's role.
    role: Option<EnumFilter<PartyRole>>,
    /// On the agreement.
    agreement: Option<AgreementFilter>,
}

/// An organization's part in a project: the role it holds and the project.
#[derive(InputObject)]
pub struct OrganizationProjectFilter {
    /// On the organization's role.
    role: Option<EnumFilter<ProjectRole>>,
    /// On the project.
    project: Option<ProjectFilter>,
}

/// An organization's part in an event: the role it holds and the event.
#[derive(InputObject)]
pub struct OrganizationEventFilter {
    /// On the organization's role.
    role: Option<EnumFilter<EventRole>>,
    /// On the event.
    event: Option<EventFilter>,
}

/// Declares the filter on one kind of participant link: its role and the organization.
macro_rules! participant_filter {
    ($name:ident, $role:ty, $entity_role:ty, $what:literal) => {
        #[doc = concat!("A ", $what, ": the role it holds and the organization.")]
        #[derive(InputObject)]
        pub struct $name {
            /// On the role.
            role: Option<EnumFilter<$role>>,
            /// On the organization.
            organization: Option<OrganizationFilter>,
        }

        impl From<$name> for Link<$entity_role, store::organizations::OrganizationFilter> {
            fn from(f: $name) -> Self {
                Link::new(convert(f.role), convert(f.organization))
            }
        }
    };
}

participant_filter!(
    AgreementPartyFilter,
    PartyRole,
    entity::PartyRole,
    "party to an agreement"
);
participant_filter!(
    ProjectParticipantFilter,
    ProjectRole,
    entity::ProjectRole,
    "participant in a project"
);
participant_filter!(
    EventParticipantFilter,
    EventRole,
    entity::EventRole,
    "participant in an event"
);

/// A link to an instrument: how the record relates to it, and the instrument.
#[derive(InputObject)]
pub struct InstrumentLinkFilter {
    /// On how the record relates to the instrument.
    role: Option<EnumFilter<InstrumentRole>>,
    /// On the instrument.
    instrument: Option<InstrumentFilter>,
}

impl From<InstrumentLinkFilter>
    for Link<entity::InstrumentRole, store::instruments::InstrumentFilter>
{
    fn from(f: InstrumentLinkFilter) -> Self {
        Link::new(convert(f.role), convert(f.instrument))
    }
}

/// Conditions on agreements.
#[derive(InputObject, Default)]
pub struct AgreementFilter {
    /// On the slug.
    slug: Option<TextFilter>,
    /// On the title.
    title: Option<TextFilter>,
    /// On the kind of agreement.
    kind: Option<EnumFilter<AgreementKind>>,
    /// On the signing date.
    signed_on: Option<DateFilter>,
    /// At least one party matches this.
    parties: Option<Box<AgreementPartyFilter>>,
    /// At least one linked instrument matches this.
    instruments: Option<Box<InstrumentLinkFilter>>,
    /// Every one of these filters holds too.
    #[graphql(validator(max_items = 20))]
    and: Option<Vec<AgreementFilter>>,
    /// At least one of these filters holds too.
    #[graphql(validator(max_items = 20))]
    or: Option<Vec<AgreementFilter>>,
    /// This filter does not hold.
    not: Option<Box<AgreementFilter>>,
}

impl From<AgreementFilter> for store::agreements::AgreementFilter {
    fn from(f: AgreementFilter) -> Self {
        Self {
            slug: convert(f.slug),
            title: convert(f.title),
            kind: convert(f.kind),
            signed_on: convert(f.signed_on),
            parties: boxed(f.parties),
            instruments: boxed(f.instruments),
            and: all(f.and),
            or: all(f.or),
            not: boxed(f.not),
        }
    }
}

/// Conditions on projects.
#[derive(InputObject, Default)]
pub struct ProjectFilter {
    /// On the slug.
    slug: Option<TextFilter>,
    /// On the name.
    name: Option<TextFilter>,
    /// On the kind of project.
    kind: Option<EnumFilter<ProjectKind>>,
    /// On the status.
    status: Option<EnumFilter<ProjectStatus>>,
    /// On the start date.
    starts_on: Option<DateFilter>,
    /// On the end date.
    ends_on: Option<DateFilter>,
    /// At least one region the project covers matches this.
    region: Option<TextFilter>,
    /// At least one theme the project works on matches this.
    theme: Option<TextFilter>,
    /// The agreement the project carries out matches this.
    agreement: Option<Box<AgreementFilter>>,
    /// At least one participant matches this.
    participants: Option<Box<ProjectParticipantFilter>>,
    /// At least one linked instrument matches this.
    instruments: Option<Box<InstrumentLinkFilter>>,
    /// Every one of these filters holds too.
    #[graphql(validator(max_items = 20))]
    and: Option<Vec<ProjectFilter>>,
    /// At least one of these filters holds too.
    #[graphql(validator(max_items = 20))]
    or: Option<Vec<ProjectFilter>>,
    /// This filter does not hold.
    not: Option<Box<ProjectFilter>>,
}

impl From<ProjectFilter> for store::projects::ProjectFilter {
    fn from(f: ProjectFilter) -> Self {
        Self {
            slug: convert(f.slug),
            name: convert(f.name),
            kind: convert(f.kind),
            status: convert(f.status),
            starts_on: convert(f.starts_on),
            ends_on: convert(f.ends_on),
            region: convert(f.region),
            theme: convert(f.theme),
            agreement: boxed(f.agreement),
            participants: boxed(f.participants),
            instruments: boxed(f.instruments),
            and: all(f.and),
            or: all(f.or),
            not: boxed(f.not),
        }
    }
}

/// Conditions on events.
#[derive(InputObject, Default)]
pub struct EventFilter {
    /// On the slug.
    slug: Option<TextFilter>,
    /// On the name.
    name: Option<TextFilter>,
    /// On the kind of event.
    kind: Option<EnumFilter<EventKind>>,
    /// On the start date.
    starts_on: Option<DateFilter>,
    /// On the end date.
    ends_on: Option<DateFilter>,
    /// On the location.
    location: Option<TextFilter>,
    /// On how often the event takes place.
    recurrence: Option<EnumFilter<Recurrence>>,
    /// The event is held inside an event matching this (a session of a forum).
    parent: Option<Box<EventFilter>>,
    /// The event belongs to a project matching this.
    project: Option<Box<ProjectFilter>>,
    /// The event is held under an agreement matching this.
    agreement: Option<Box<AgreementFilter>>,
    /// At least one participant matches this.
    participants: Option<Box<EventParticipantFilter>>,
    /// At least one linked instrument matches this.
    instruments: Option<Box<InstrumentLinkFilter>>,
    /// Every one of these filters holds too.
    #[graphql(validator(max_items = 20))]
    and: Option<Vec<EventFilter>>,
    /// At least one of these filters holds too.
    #[graphql(validator(max_items = 20))]
    or: Option<Vec<EventFilter>>,
    /// This filter does not hold.
    not: Option<Box<EventFilter>>,
}

impl From<EventFilter> for store::events::EventFilter {
    fn from(f: EventFilter) -> Self {
        Self {
            slug: convert(f.slug),
            name: convert(f.name),
            kind: convert(f.kind),
            starts_on: convert(f.starts_on),
            ends_on: convert(f.ends_on),
            location: convert(f.location),
            recurrence: convert(f.recurrence),
            parent: boxed(f.parent),
            project: boxed(f.project),
            agreement: boxed(f.agreement),
            participants: boxed(f.participants),
            instruments: boxed(f.instruments),
            and: all(f.and),
            or: all(f.or),
            not: boxed(f.not),
        }
    }
}

/// Conditions on instruments.
#[derive(InputObject, Default)]
pub struct InstrumentFilter {
    /// On the slug.
    slug: Option<TextFilter>,
    /// On the name.
    name: Option<TextFilter>,
    /// On the acronym.
    acronym: Option<TextFilter>,
    /// On the kind of instrument.
    kind: Option<EnumFilter<InstrumentKind>>,
    /// On the adoption date.
    adopted_on: Option<DateFilter>,
    /// The issuing organization matches this.
    issuer: Option<Box<OrganizationFilter>>,
    /// Every one of these filters holds too.
    #[graphql(validator(max_items = 20))]
    and: Option<Vec<InstrumentFilter>>,
    /// At least one of these filters holds too.
    #[graphql(validator(max_items = 20))]
    or: Option<Vec<InstrumentFilter>>,
    /// This filter does not hold.
    not: Option<Box<InstrumentFilter>>,
}

impl From<InstrumentFilter> for store::instruments::InstrumentFilter {
    fn from(f: InstrumentFilter) -> Self {
        Self {
            slug: convert(f.slug),
            name: convert(f.name),
            acronym: convert(f.acronym),
            kind: convert(f.kind),
            adopted_on: convert(f.adopted_on),
            issuer: boxed(f.issuer),
            and: all(f.and),
            or: all(f.or),
            not: boxed(f.not),
        }
    }
}

/// One sort key: a field and a direction.
#[derive(InputObject)]
#[graphql(concrete(name = "OrganizationOrder", params(OrganizationOrderField)))]
#[graphql(concrete(name = "AgreementOrder", params(AgreementOrderField)))]
#[graphql(concrete(name = "ProjectOrder", params(ProjectOrderField)))]
#[graphql(concrete(name = "EventOrder", params(EventOrderField)))]
#[graphql(concrete(name = "InstrumentOrder", params(InstrumentOrderField)))]
pub struct Order<F: InputType> {
    /// The field to sort on.
    pub field: F,
    /// Which way; ascending when omitted.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// Most sort keys one `orderBy` may give (a field appears at most once).
const MAX_SORT_KEYS: usize = 4;

/// The sort keys of an `orderBy` argument, or `default` when it is absent or empty. More than
/// four keys, or a field given twice, is BAD_USER_INPUT.
pub fn sort_keys<F: InputType + Copy + PartialEq, S, C>(
    order_by: Option<Vec<Order<F>>>,
    default: F,
    key: impl Fn(S, crate::store::page::Direction) -> SortKey<C>,
) -> ApiResult<Vec<SortKey<C>>>
where
    S: From<F>,
{
    let order = order_by.filter(|o| !o.is_empty()).unwrap_or_else(|| {
        vec![Order {
            field: default,
            direction: OrderDirection::Asc,
        }]
    });
    if order.len() > MAX_SORT_KEYS {
        return Err(AppError::bad_field(
            "orderBy",
            format!("at most {MAX_SORT_KEYS} sort keys, not {}", order.len()),
        )
        .into());
    }
    for (i, o) in order.iter().enumerate() {
        if order[..i].iter().any(|earlier| earlier.field == o.field) {
            return Err(
                AppError::bad_field("orderBy", "each field may appear once in `orderBy`").into(),
            );
        }
    }
    Ok(order
        .into_iter()
        .map(|o| key(S::from(o.field), o.direction.into()))
        .collect())
}
