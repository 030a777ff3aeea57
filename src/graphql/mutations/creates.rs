//! The inputs of `create…` and `upsert…`: a new record's fields, its links and, for an event,
//! its sessions, each a draft the store takes through [`NewRecord`].

use std::collections::HashSet;

use async_graphql::{ID, InputObject};
use entity::{
    agreement_instrument, agreement_party, event_instrument, event_participant, project_instrument,
    project_participant,
};

use super::{
    super::{
        enums::{
            AgreementKind, EventKind, EventRole, InstrumentKind, InstrumentRole, OrganizationKind,
            PartyRole, ProjectKind, ProjectRole, ProjectStatus, Recurrence,
        },
        ids::RecordKind,
    },
    optional_reference, reference,
};
use crate::{
    dates::PartialDate,
    store::write::{
        Problems, Table,
        calls::{Child, Draft},
        link_changes::{Connect, LinkChanges, LinkGroup, Target},
        links::{LinkRole, LinkTable},
        records::{
            AgreementFields, EventFields, Fields, InstrumentFields, Nested, OrganizationFields,
            ProjectFields,
        },
    },
};

/// A create input as the store takes it: the record's fields, its links and the other records
/// created with it.
pub(super) trait NewRecord {
    type Fields: Fields;

    fn fields(&self) -> Self::Fields;

    /// The record's links, checked with its fields and inserted after it.
    fn links(&self) -> Vec<LinkGroup> {
        Vec::new()
    }

    /// What the records created with it (an event's sessions) need checked beforehand.
    fn nested(&self) -> Nested {
        Nested::default()
    }

    /// The records created after it as its children (an event's sessions).
    fn children(&self) -> Vec<Child<Self::Fields>> {
        Vec::new()
    }

    /// The whole of it, as the store creates it.
    fn draft(&self) -> Draft<Self::Fields> {
        Draft {
            path: "input".into(),
            fields: self.fields(),
            links: self.links(),
            nested: self.nested(),
            children: self.children(),
        }
    }
}

/// A new organization.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// Stable, URL-safe key: lowercase words joined by hyphens (`un-women`), unique.
    pub slug: String,
    /// Full name.
    pub name: String,
    /// Short name or acronym.
    pub acronym: Option<String>,
    /// What sort of body it is.
    pub kind: OrganizationKind,
    /// The organization it belongs to.
    pub parent: Option<ID>,
    /// Official website (http or https).
    pub website: Option<String>,
    /// A short description.
    pub description: Option<String>,
}

impl NewRecord for CreateOrganizationInput {
    type Fields = OrganizationFields;

    fn fields(&self) -> OrganizationFields {
        OrganizationFields {
            slug: self.slug.clone(),
            name: self.name.clone(),
            acronym: self.acronym.clone(),
            kind: self.kind.into(),
            parent: optional_reference(self.parent.as_ref(), RecordKind::Organization),
            website: self.website.clone(),
            description: self.description.clone(),
        }
    }
}

/// A party to a new agreement.
#[derive(InputObject)]
pub struct NewAgreementPartyInput {
    /// The organization's global ID.
    pub organization: ID,
    /// Its part in the agreement.
    pub role: PartyRole,
    /// Since when it takes part.
    pub since: Option<PartialDate>,
}

/// An instrument link of a new agreement, project or event.
#[derive(InputObject)]
pub struct NewInstrumentLinkInput {
    /// The instrument's global ID.
    pub instrument: ID,
    /// How the record relates to the instrument.
    pub role: InstrumentRole,
}

/// A participant of a new project.
#[derive(InputObject)]
pub struct NewProjectParticipantInput {
    /// The organization's global ID.
    pub organization: ID,
    /// Its part in the project.
    pub role: ProjectRole,
}

/// A participant (an organizer, a host, ...) of a new event.
#[derive(InputObject)]
pub struct NewEventParticipantInput {
    /// The organization's global ID.
    pub organization: ID,
    /// Its part in the event (ORGANIZER, CO_ORGANIZER, ...).
    pub role: EventRole,
}

/// The instrument links of a new record, as a group of the store's link changes.
fn instrument_links<L: LinkTable>(links: &[NewInstrumentLinkInput]) -> LinkChanges<L> {
    let mut group = LinkChanges::new_links("input.instruments");
    group.connect = (links.iter())
        .map(|l| Connect {
            target: Target::Id(reference(&l.instrument, RecordKind::Instrument)),
            role: LinkRole::Instrument(l.role.into()),
            since: None,
        })
        .collect();
    group
}

/// The participants of a new project or event, as a group of the store's link changes.
fn participant_links<L: LinkTable>(
    path: &str,
    participants: impl Iterator<Item = (ID, LinkRole)>,
) -> LinkChanges<L> {
    let mut group = LinkChanges::new_links(path);
    group.connect = participants
        .map(|(organization, role)| Connect {
            target: Target::Id(reference(&organization, RecordKind::Organization)),
            role,
            since: None,
        })
        .collect();
    group
}

/// A new agreement, with its parties and instrument links.
#[derive(InputObject)]
pub struct CreateAgreementInput {
    /// Stable, URL-safe key, unique.
    pub slug: String,
    /// The agreement's title.
    pub title: String,
    /// The form it takes.
    pub kind: AgreementKind,
    /// When it was signed (a year, a month or a day).
    pub signed_on: Option<PartialDate>,
    /// What it is for.
    pub summary: Option<String>,
    /// Its parties, created with it.
    #[graphql(default)]
    pub parties: Vec<NewAgreementPartyInput>,
    /// Its instrument links, created with it.
    #[graphql(default)]
    pub instruments: Vec<NewInstrumentLinkInput>,
}

impl NewRecord for CreateAgreementInput {
    type Fields = AgreementFields;

    fn fields(&self) -> AgreementFields {
        AgreementFields {
            slug: self.slug.clone(),
            title: self.title.clone(),
            kind: self.kind.into(),
            signed_on: self.signed_on,
            summary: self.summary.clone(),
        }
    }

    fn links(&self) -> Vec<LinkGroup> {
        let mut parties = LinkChanges::<agreement_party::Entity>::new_links("input.parties");
        parties.connect = (self.parties.iter())
            .map(|p| Connect {
                target: Target::Id(reference(&p.organization, RecordKind::Organization)),
                role: LinkRole::Party(p.role.into()),
                since: p.since,
            })
            .collect();
        let instruments = instrument_links::<agreement_instrument::Entity>(&self.instruments);
        vec![parties.into(), instruments.into()]
    }
}

/// A new project, with its participants and instrument links.
#[derive(InputObject)]
pub struct CreateProjectInput {
    /// Stable, URL-safe key, unique.
    pub slug: String,
    /// The project's name.
    pub name: String,
    /// The form it takes.
    pub kind: ProjectKind,
    /// Where it stands.
    pub status: ProjectStatus,
    /// What it is for.
    pub summary: Option<String>,
    /// When it starts.
    pub starts_on: Option<PartialDate>,
    /// When it ends (never before it starts).
    pub ends_on: Option<PartialDate>,
    /// The agreement it implements.
    pub agreement: Option<ID>,
    /// Its participants, created with it.
    #[graphql(default)]
    pub participants: Vec<NewProjectParticipantInput>,
    /// Its instrument links, created with it.
    #[graphql(default)]
    pub instruments: Vec<NewInstrumentLinkInput>,
}

impl NewRecord for CreateProjectInput {
    type Fields = ProjectFields;

    fn fields(&self) -> ProjectFields {
        ProjectFields {
            slug: self.slug.clone(),
            name: self.name.clone(),
            kind: self.kind.into(),
            status: self.status.into(),
            summary: self.summary.clone(),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            agreement: optional_reference(self.agreement.as_ref(), RecordKind::Agreement),
        }
    }

    fn links(&self) -> Vec<LinkGroup> {
        let roles = (self.participants.iter())
            .map(|p| (p.organization.clone(), LinkRole::Project(p.role.into())));
        let participants =
            participant_links::<project_participant::Entity>("input.participants", roles);
        let instruments = instrument_links::<project_instrument::Entity>(&self.instruments);
        vec![participants.into(), instruments.into()]
    }
}

/// A session of a new event: an event held inside it.
#[derive(InputObject)]
pub struct NewSessionInput {
    /// Stable, URL-safe key, unique among events.
    pub slug: String,
    /// The session's name.
    pub name: String,
    /// The form it takes.
    pub kind: EventKind,
    /// What it is about.
    pub summary: Option<String>,
    /// When it starts.
    pub starts_on: Option<PartialDate>,
    /// When it ends.
    pub ends_on: Option<PartialDate>,
    /// Where it takes place.
    pub location: Option<String>,
    /// Its participants.
    #[graphql(default)]
    pub participants: Vec<NewEventParticipantInput>,
}

/// A new event, with its participants (organizers among them), instrument links and sessions.
#[derive(InputObject)]
pub struct CreateEventInput {
    /// Stable, URL-safe key, unique.
    pub slug: String,
    /// The event's name.
    pub name: String,
    /// The form it takes.
    pub kind: EventKind,
    /// What it is about.
    pub summary: Option<String>,
    /// When it starts.
    pub starts_on: Option<PartialDate>,
    /// When it ends (never before it starts).
    pub ends_on: Option<PartialDate>,
    /// Where it takes place.
    pub location: Option<String>,
    /// How often it recurs.
    pub recurrence: Option<Recurrence>,
    /// The event it is a session of.
    pub parent: Option<ID>,
    /// The project it belongs to.
    pub project: Option<ID>,
    /// The agreement it belongs to.
    pub agreement: Option<ID>,
    /// Its participants (organizers, hosts, ...), created with it.
    #[graphql(default)]
    pub participants: Vec<NewEventParticipantInput>,
    /// Its instrument links, created with it.
    #[graphql(default)]
    pub instruments: Vec<NewInstrumentLinkInput>,
    /// Its sessions, created with it.
    #[graphql(default)]
    pub sessions: Vec<NewSessionInput>,
}

impl CreateEventInput {
    /// A session's fields (its parent is the event, known once inserted).
    fn session_fields(s: &NewSessionInput, parent: Option<i64>) -> EventFields {
        EventFields {
            slug: s.slug.clone(),
            name: s.name.clone(),
            kind: s.kind.into(),
            summary: s.summary.clone(),
            starts_on: s.starts_on,
            ends_on: s.ends_on,
            location: s.location.clone(),
            recurrence: None,
            parent,
            project: None,
            agreement: None,
        }
    }

    /// The participants of the event (`input`) or of a session (`input.sessions[0]`).
    fn participants(path: &str, list: &[NewEventParticipantInput]) -> LinkGroup {
        let roles = (list.iter()).map(|p| (p.organization.clone(), LinkRole::Event(p.role.into())));
        let path = format!("{path}.participants");
        participant_links::<event_participant::Entity>(&path, roles).into()
    }
}

impl NewRecord for CreateEventInput {
    type Fields = EventFields;

    fn fields(&self) -> EventFields {
        EventFields {
            slug: self.slug.clone(),
            name: self.name.clone(),
            kind: self.kind.into(),
            summary: self.summary.clone(),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            location: self.location.clone(),
            recurrence: self.recurrence.map(Into::into),
            parent: optional_reference(self.parent.as_ref(), RecordKind::Event),
            project: optional_reference(self.project.as_ref(), RecordKind::Project),
            agreement: optional_reference(self.agreement.as_ref(), RecordKind::Agreement),
        }
    }

    fn links(&self) -> Vec<LinkGroup> {
        let instruments = instrument_links::<event_instrument::Entity>(&self.instruments);
        vec![
            Self::participants("input", &self.participants),
            instruments.into(),
        ]
    }

    /// The sessions' problems found without the database (their fields, slugs repeated within
    /// the input) and their participants' references, all checked before anything is inserted.
    fn nested(&self) -> Nested {
        let mut problems = Problems::default();
        let mut slugs = HashSet::from([self.slug.as_str()]);
        let mut references = Vec::new();
        for (i, s) in self.sessions.iter().enumerate() {
            let path = format!("input.sessions[{i}]");
            Self::session_fields(s, None).check(&mut problems, &path);
            if !slugs.insert(s.slug.as_str()) {
                problems.push(
                    format!("{path}.slug"),
                    format!("`{}` is used more than once in this input", s.slug),
                );
            }
            references.extend(s.participants.iter().enumerate().map(|(j, p)| {
                (
                    format!("{path}.participants[{j}].organization"),
                    Table::Organization,
                    reference(&p.organization, RecordKind::Organization),
                )
            }));
        }
        Nested {
            references,
            problems,
        }
    }

    /// The sessions, each with its participants.
    fn children(&self) -> Vec<Child<EventFields>> {
        (self.sessions.iter().enumerate())
            .map(|(i, s)| {
                let path = format!("input.sessions[{i}]");
                Child {
                    fields: Self::session_fields(s, None),
                    links: vec![Self::participants(&path, &s.participants)],
                    path,
                }
            })
            .collect()
    }
}

/// A new instrument.
#[derive(InputObject)]
pub struct CreateInstrumentInput {
    /// Stable, URL-safe key, unique.
    pub slug: String,
    /// The instrument's name.
    pub name: String,
    /// Short name or acronym.
    pub acronym: Option<String>,
    /// What sort of instrument it is.
    pub kind: InstrumentKind,
    /// The organization that issued it.
    pub issuer: Option<ID>,
    /// When it was adopted.
    pub adopted_on: Option<PartialDate>,
    /// Where to read it (http or https).
    pub url: Option<String>,
    /// A short description.
    pub description: Option<String>,
}

impl NewRecord for CreateInstrumentInput {
    type Fields = InstrumentFields;

    fn fields(&self) -> InstrumentFields {
        InstrumentFields {
            slug: self.slug.clone(),
            name: self.name.clone(),
            acronym: self.acronym.clone(),
            kind: self.kind.into(),
            issuer: optional_reference(self.issuer.as_ref(), RecordKind::Organization),
            adopted_on: self.adopted_on,
            url: self.url.clone(),
            description: self.description.clone(),
        }
    }
}
