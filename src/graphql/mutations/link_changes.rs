//! The link changes an update carries (`updateAgreement(input: { …, parties: { connect,
//! change, disconnect } })`): inputs that name organizations and instruments by ID or slug,
//! turned into the store's [`LinkChanges`].

use async_graphql::{ID, InputObject, MaybeUndefined, OneofObject};
use entity::agreement_party;

use super::{
    super::{
        enums::{EventRole, InstrumentRole, PartyRole, ProjectRole},
        ids::RecordKind,
    },
    reference,
};
use crate::{
    dates::PartialDate,
    store::write::{
        link_changes::{Change, Connect, Disconnect, LinkChanges, Target},
        links::{LinkRole, LinkTable},
    },
};

/// An organization, named by its global ID or by its slug (exactly one of them).
#[derive(OneofObject)]
pub enum OrganizationRef {
    /// The organization's global ID.
    Id(ID),
    /// The organization's slug (`ilo`).
    Slug(String),
}

/// An instrument, named by its global ID or by its slug (exactly one of them).
#[derive(OneofObject)]
pub enum InstrumentRef {
    /// The instrument's global ID.
    Id(ID),
    /// The instrument's slug.
    Slug(String),
}

impl OrganizationRef {
    fn target(&self) -> Target {
        match self {
            Self::Id(id) => Target::Id(reference(id, RecordKind::Organization)),
            Self::Slug(slug) => Target::Slug(slug.clone()),
        }
    }
}

impl InstrumentRef {
    fn target(&self) -> Target {
        match self {
            Self::Id(id) => Target::Id(reference(id, RecordKind::Instrument)),
            Self::Slug(slug) => Target::Slug(slug.clone()),
        }
    }
}

/// Link changes whose links carry only a role: participants and instrument links.
macro_rules! link_changes {
    (
        $changes:ident, $connect:ident, $change:ident, $disconnect:ident,
        $target:ident: $target_ref:ident, $role:ident => $variant:ident,
        links = $links:literal, group = $group:literal, target = $target_doc:literal $(,)?
    ) => {
        #[doc = concat!("Changes to the ", $links, " made with the update, applied in this order: disconnect, change, connect. Every problem is reported with its path (`input.", $group, ".connect[1].", stringify!($target), "`).")]
        #[derive(InputObject, Default)]
        pub struct $changes {
            #[doc = concat!("Links to add: ", $target_doc, " and role.")]
            #[graphql(default)]
            pub connect: Vec<$connect>,
            #[doc = concat!("Links whose role changes: ", $target_doc, ", the role it has and the new one.")]
            #[graphql(default)]
            pub change: Vec<$change>,
            #[doc = concat!("Links to remove: ", $target_doc, " and role.")]
            #[graphql(default)]
            pub disconnect: Vec<$disconnect>,
        }

        #[doc = concat!("A link to add: ", $target_doc, " and its role.")]
        #[derive(InputObject)]
        pub struct $connect {
            #[doc = concat!("The ", stringify!($target), ".")]
            pub $target: $target_ref,
            /// The role of the link.
            pub role: $role,
        }

        #[doc = concat!("A link whose role changes: ", $target_doc, ", the role it has and the new one.")]
        #[derive(InputObject)]
        pub struct $change {
            #[doc = concat!("The ", stringify!($target), ".")]
            pub $target: $target_ref,
            /// The role the link has now.
            pub role: $role,
            /// The role it should have.
            pub new_role: $role,
        }

        #[doc = concat!("A link to remove: ", $target_doc, " and its role.")]
        #[derive(InputObject)]
        pub struct $disconnect {
            #[doc = concat!("The ", stringify!($target), ".")]
            pub $target: $target_ref,
            /// The role of the link.
            pub role: $role,
        }

        impl $changes {
            /// The store's changes to link table `L`; `path` is the group's input path.
            pub(super) fn draft<L: LinkTable>(&self, path: &str) -> LinkChanges<L> {
                let role = |role: $role| LinkRole::$variant(role.into());
                let mut changes = LinkChanges::new(path);
                changes.connect = (self.connect.iter())
                    .map(|c| Connect { target: c.$target.target(), role: role(c.role), since: None })
                    .collect();
                changes.change = (self.change.iter())
                    .map(|c| Change {
                        target: c.$target.target(),
                        role: role(c.role),
                        new_role: role(c.new_role),
                        since: None,
                    })
                    .collect();
                changes.disconnect = (self.disconnect.iter())
                    .map(|d| Disconnect { target: d.$target.target(), role: role(d.role) })
                    .collect();
                changes
            }
        }
    };
}

link_changes!(
    ProjectParticipantChangesInput,
    ProjectParticipantConnectInput,
    ProjectParticipantChangeInput,
    ProjectParticipantDisconnectInput,
    organization: OrganizationRef,
    ProjectRole => Project,
    links = "project's participants",
    group = "participants",
    target = "the organization",
);

link_changes!(
    EventParticipantChangesInput,
    EventParticipantConnectInput,
    EventParticipantChangeInput,
    EventParticipantDisconnectInput,
    organization: OrganizationRef,
    EventRole => Event,
    links = "event's participants",
    group = "participants",
    target = "the organization",
);

link_changes!(
    InstrumentLinkChangesInput,
    InstrumentLinkConnectInput,
    InstrumentLinkChangeInput,
    InstrumentLinkDisconnectInput,
    instrument: InstrumentRef,
    InstrumentRole => Instrument,
    links = "record's instrument links",
    group = "instruments",
    target = "the instrument",
);

/// Changes to an agreement's parties made with the update, applied in this order: disconnect,
/// change, connect. Every problem is reported with its path
/// (`input.parties.connect[1].organization`).
#[derive(InputObject, Default)]
pub struct AgreementPartyChangesInput {
    /// Parties to add: the organization, its role and since when.
    #[graphql(default)]
    pub connect: Vec<AgreementPartyConnectInput>,
    /// Parties whose role (or start) changes.
    #[graphql(default)]
    pub change: Vec<AgreementPartyChangeInput>,
    /// Parties to remove: the organization and its role.
    #[graphql(default)]
    pub disconnect: Vec<AgreementPartyDisconnectInput>,
}

/// A party to add to the agreement.
#[derive(InputObject)]
pub struct AgreementPartyConnectInput {
    /// The organization.
    pub organization: OrganizationRef,
    /// Its part in the agreement.
    pub role: PartyRole,
    /// Since when it takes part.
    pub since: Option<PartialDate>,
}

/// A party whose role (or start) changes.
#[derive(InputObject)]
pub struct AgreementPartyChangeInput {
    /// The organization.
    pub organization: OrganizationRef,
    /// The role it has now.
    pub role: PartyRole,
    /// The role it should have (the same to change only `since`).
    pub new_role: PartyRole,
    /// Since when it takes part; absent keeps it, null clears it.
    pub since: MaybeUndefined<PartialDate>,
}

/// A party to remove from the agreement.
#[derive(InputObject)]
pub struct AgreementPartyDisconnectInput {
    /// The organization.
    pub organization: OrganizationRef,
    /// Its role in the agreement.
    pub role: PartyRole,
}

fn party_role(role: PartyRole) -> LinkRole {
    LinkRole::Party(role.into())
}

impl AgreementPartyChangesInput {
    /// The store's changes to the agreement's parties.
    pub(super) fn draft(&self, path: &str) -> LinkChanges<agreement_party::Entity> {
        let mut changes = LinkChanges::new(path);
        changes.connect = (self.connect.iter())
            .map(|c| Connect {
                target: c.organization.target(),
                role: party_role(c.role),
                since: c.since,
            })
            .collect();
        changes.change = (self.change.iter())
            .map(|c| Change {
                target: c.organization.target(),
                role: party_role(c.role),
                new_role: party_role(c.new_role),
                since: super::links::kept(&c.since),
            })
            .collect();
        changes.disconnect = (self.disconnect.iter())
            .map(|d| Disconnect {
                target: d.organization.target(),
                role: party_role(d.role),
            })
            .collect();
        changes
    }
}
