//! GraphQL mirrors of the entity enums (`remote` derives the conversions both ways).

use async_graphql::Enum;

/// What sort of body an organization is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::OrganizationKind")]
pub enum OrganizationKind {
    /// A fund, programme, specialized agency or office of the United Nations system (ILO, UNDP).
    UnSystemEntity,
    /// A principal organ of the United Nations or one of its subsidiary councils (the General Assembly).
    UnOrgan,
    /// An organization whose members are states, outside the UN system (OECD).
    IntergovernmentalOrganization,
    /// A body of state representatives set up for one mandate (a negotiating working group).
    IntergovernmentalBody,
    /// An organization of states of one region (the European Union).
    RegionalOrganization,
    /// The governing or executive organ of another organization (the ILO Governing Body).
    GoverningBody,
    /// A membership association of agencies or institutions (WAIPA).
    Association,
    /// A group of independent experts with a mandate (a UN working group).
    ExpertBody,
    /// A network of offices or contact points (the OECD National Contact Points).
    Network,
    /// The committee that organizes an event such as the Olympic Games.
    OrganizingCommittee,
    /// Any other kind of body.
    Other,
}

/// The form an agreement takes.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::AgreementKind")]
pub enum AgreementKind {
    /// A signed memorandum of understanding.
    MemorandumOfUnderstanding,
    /// A signed cooperation agreement.
    CooperationAgreement,
    /// A framework that sets joint priorities for action.
    FrameworkOfAction,
    /// A standing collaboration that the source describes without a signed document.
    Partnership,
    /// A letter or statement issued jointly.
    JointStatement,
    /// Any other form.
    Other,
}

/// The part an organization plays in an agreement.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::PartyRole")]
pub enum PartyRole {
    /// Signed the agreement or is a principal party to the collaboration.
    Signatory,
    /// Takes part as a partner without being a principal party.
    Partner,
    /// Supports the agreement, for example with funds or expertise.
    Supporter,
}
