//! The timeline: dated activity as a connection of an interface type (see `store::timeline`).

use async_graphql::{Context, Enum, Interface, Object, SimpleObject, connection::PageInfo};
use entity::{agreement, event, organization, project};

use super::{
    agreement::Agreement,
    connection::{decode_cursor, encode_cursor},
    enums::PartyRole,
    errors::ApiResult,
    event::Event,
    explore::records,
    organization::Organization,
    project::Project,
};
use crate::{
    dates::PartialDate,
    store::{
        Store,
        page::{DEFAULT_PAGE_SIZE, size},
        timeline::{self, EntryKind, TimelineQuery},
    },
};

/// What happened on a timeline entry's date.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineEntryKind {
    /// An agreement was signed.
    AgreementSigned,
    /// A project started.
    ProjectStarted,
    /// An event was held (it started).
    EventHeld,
    /// A project ended (or is due to end).
    ProjectEnded,
    /// An organization became a party to an agreement: the date the source gives for its part
    /// (a party's `since`), which may come before or after the agreement's signing.
    JoinedAgreement,
}

impl From<TimelineEntryKind> for EntryKind {
    fn from(k: TimelineEntryKind) -> Self {
        match k {
            TimelineEntryKind::AgreementSigned => EntryKind::AgreementSigned,
            TimelineEntryKind::ProjectStarted => EntryKind::ProjectStarted,
            TimelineEntryKind::EventHeld => EntryKind::EventHeld,
            TimelineEntryKind::ProjectEnded => EntryKind::ProjectEnded,
            TimelineEntryKind::JoinedAgreement => EntryKind::JoinedAgreement,
        }
    }
}

impl From<EntryKind> for TimelineEntryKind {
    fn from(k: EntryKind) -> Self {
        match k {
            EntryKind::AgreementSigned => TimelineEntryKind::AgreementSigned,
            EntryKind::ProjectStarted => TimelineEntryKind::ProjectStarted,
            EntryKind::EventHeld => TimelineEntryKind::EventHeld,
            EntryKind::ProjectEnded => TimelineEntryKind::ProjectEnded,
            EntryKind::JoinedAgreement => TimelineEntryKind::JoinedAgreement,
        }
    }
}

/// Something that happened on a date: an agreement signed, a project started or ended, an
/// event held, an organization joining an agreement.
#[derive(Interface, Clone)]
#[graphql(
    field(
        name = "date",
        ty = "&PartialDate",
        desc = "When it happened, at the precision the source gives."
    ),
    field(name = "kind", ty = "TimelineEntryKind", desc = "What happened.")
)]
pub enum TimelineEntry {
    AgreementSigned(AgreementSigned),
    ProjectStarted(ProjectStarted),
    ProjectEnded(ProjectEnded),
    EventHeld(EventHeld),
    JoinedAgreement(JoinedAgreement),
}

macro_rules! entry {
    ($name:ident, $field:ident, $node:ident, $kind:ident, $doc:literal, $field_doc:literal) => {
        #[derive(Clone)]
        pub struct $name {
            date: PartialDate,
            $field: $node,
        }

        #[doc = $doc]
        #[Object]
        impl $name {
            /// When it happened, at the precision the source gives.
            async fn date(&self) -> &PartialDate {
                &self.date
            }

            /// What happened.
            async fn kind(&self) -> TimelineEntryKind {
                TimelineEntryKind::$kind
            }

            #[doc = $field_doc]
            async fn $field(&self) -> &$node {
                &self.$field
            }
        }
    };
}

entry!(
    AgreementSigned,
    agreement,
    Agreement,
    AgreementSigned,
    "An agreement was signed.",
    "The agreement."
);
entry!(
    ProjectStarted,
    project,
    Project,
    ProjectStarted,
    "A project started.",
    "The project."
);
entry!(
    ProjectEnded,
    project,
    Project,
    ProjectEnded,
    "A project ended (or is due to end).",
    "The project."
);
entry!(
    EventHeld,
    event,
    Event,
    EventHeld,
    "An event was held.",
    "The event."
);

/// An organization became a party to an agreement, on the date the source gives for its part.
#[derive(Clone)]
pub struct JoinedAgreement {
    date: PartialDate,
    organization: Organization,
    agreement: Agreement,
    role: PartyRole,
}

/// An organization became a party to an agreement, on the date the source gives for its part
/// (the party's `since`).
#[Object]
impl JoinedAgreement {
    /// When it joined, at the precision the source gives.
    async fn date(&self) -> &PartialDate {
        &self.date
    }

    /// What happened.
    async fn kind(&self) -> TimelineEntryKind {
        TimelineEntryKind::JoinedAgreement
    }

    /// The organization that joined.
    async fn organization(&self) -> &Organization {
        &self.organization
    }

    /// The agreement it joined.
    async fn agreement(&self) -> &Agreement {
        &self.agreement
    }

    /// Its part in the agreement.
    async fn role(&self) -> PartyRole {
        self.role
    }
}

/// One timeline entry in a page, with the cursor to page from it.
#[derive(SimpleObject)]
pub struct TimelineEdge {
    /// Opaque position of this entry in this timeline: pass it as `after` to page from here.
    pub cursor: String,
    /// The entry.
    pub node: TimelineEntry,
}

/// A page of timeline entries in date order (a Relay cursor connection).
#[derive(SimpleObject)]
pub struct TimelineConnection {
    /// The entries of this page, each with its cursor.
    pub edges: Vec<TimelineEdge>,
    /// The entries of this page, without cursors.
    pub nodes: Vec<TimelineEntry>,
    /// Where this page sits in the whole list.
    pub page_info: PageInfo,
    /// How many entries the whole timeline holds (with the filters applied).
    pub total_count: u64,
}

/// The `timeline` root field: one statement for the page, one per kind of record on it (the
/// organizations of joinings among them), one more for `totalCount` when asked.
pub async fn timeline(
    ctx: &Context<'_>,
    organization: Option<i64>,
    from: Option<PartialDate>,
    to: Option<PartialDate>,
    kinds: Option<Vec<TimelineEntryKind>>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<TimelineConnection> {
    let mut kinds: Vec<EntryKind> = kinds
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect();
    kinds.sort();
    kinds.dedup();
    if kinds.is_empty() {
        kinds = EntryKind::ALL.to_vec();
    }
    let query = TimelineQuery {
        organization,
        from: from.map(|d| d.date),
        to: to.map(|d| d.last_day()),
        kinds,
    };
    let first = first
        .map(|n| size("first", n))
        .transpose()?
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let after = after.map(|c| decode_cursor("after", &c)).transpose()?;
    let store = ctx.data_unchecked::<Store>();
    let (entries, has_next_page) =
        timeline::page(&store.connection, &query, first, after.as_ref()).await?;
    let total_count = if ctx.look_ahead().field("totalCount").exists() {
        timeline::count(&store.connection, &query).await?
    } else {
        0
    };

    // Collected first: iterators borrowing `entries` would not be `Send` across the awaits.
    let ids = |kinds: &[EntryKind]| -> Vec<i64> {
        entries
            .iter()
            .filter(|e| kinds.contains(&e.kind))
            .map(|e| e.record)
            .collect()
    };
    let joinings: Vec<_> = entries.iter().filter_map(|e| e.joining).collect();
    let mut agreement_ids = ids(&[EntryKind::AgreementSigned]);
    agreement_ids.extend(joinings.iter().map(|j| j.agreement));
    let organization_ids: Vec<i64> = joinings.iter().map(|j| j.organization).collect();
    let (agreements, projects, mut events, organizations) = futures::try_join!(
        records::<agreement::Entity>(ctx, agreement_ids),
        records::<project::Entity>(
            ctx,
            ids(&[EntryKind::ProjectStarted, EntryKind::ProjectEnded])
        ),
        records::<event::Entity>(ctx, ids(&[EntryKind::EventHeld])),
        records::<organization::Entity>(ctx, organization_ids),
    )?;
    let mut edges = Vec::with_capacity(entries.len());
    for entry in &entries {
        let date = PartialDate {
            date: entry.date,
            precision: entry.precision,
        };
        // A record deleted between the statements is left out.
        let node = match entry.kind {
            EntryKind::AgreementSigned => agreements.get(&entry.record).cloned().map(|m| {
                TimelineEntry::AgreementSigned(AgreementSigned {
                    date,
                    agreement: Agreement(m),
                })
            }),
            EntryKind::ProjectStarted => projects.get(&entry.record).cloned().map(|m| {
                TimelineEntry::ProjectStarted(ProjectStarted {
                    date,
                    project: Project(m),
                })
            }),
            EntryKind::ProjectEnded => projects.get(&entry.record).cloned().map(|m| {
                TimelineEntry::ProjectEnded(ProjectEnded {
                    date,
                    project: Project(m),
                })
            }),
            EntryKind::EventHeld => events.remove(&entry.record).map(|m| {
                TimelineEntry::EventHeld(EventHeld {
                    date,
                    event: Event(m),
                })
            }),
            EntryKind::JoinedAgreement => entry.joining.and_then(|j| {
                let agreement = agreements.get(&j.agreement).cloned()?;
                let organization = organizations.get(&j.organization).cloned()?;
                Some(TimelineEntry::JoinedAgreement(JoinedAgreement {
                    date,
                    organization: Organization(organization),
                    agreement: Agreement(agreement),
                    role: j.role.into(),
                }))
            }),
        };
        if let Some(node) = node {
            edges.push(TimelineEdge {
                cursor: encode_cursor(&entry.position),
                node,
            });
        }
    }
    let page_info = PageInfo {
        has_previous_page: after.is_some(),
        has_next_page,
        start_cursor: edges.first().map(|e| e.cursor.clone()),
        end_cursor: edges.last().map(|e| e.cursor.clone()),
    };
    Ok(TimelineConnection {
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        edges,
        page_info,
        total_count,
    })
}
