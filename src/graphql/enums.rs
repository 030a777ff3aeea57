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

/// The form a project takes.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::ProjectKind")]
pub enum ProjectKind {
    /// A programme of work, usually funded and time-bound.
    Programme,
    /// A project with its own budget and partners.
    Project,
    /// A platform that gathers companies and organizations around one issue.
    Platform,
    /// A joint initiative without a formal programme.
    Initiative,
    /// A standing network, committee or body of members.
    Network,
    /// An ongoing process, such as a negotiation or a review cycle.
    Process,
    /// Joint research or a joint report.
    Research,
    /// Any other form.
    Other,
}

/// Where a project stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::ProjectStatus")]
pub enum ProjectStatus {
    /// Announced but not started.
    Planned,
    /// Under way.
    Active,
    /// Finished.
    Completed,
    /// The source does not say.
    Unknown,
}

/// The part an organization plays in a project.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::ProjectRole")]
pub enum ProjectRole {
    /// Carries out the work.
    Implementer,
    /// Pays for the work.
    Funder,
    /// Works alongside the implementers.
    Partner,
    /// Belongs to the network or body.
    Member,
    /// Leads or hosts it.
    Lead,
    /// Chairs it together with others.
    CoChair,
    /// Contributes expertise or inputs on request.
    Contributor,
}

/// The form an event takes.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::EventKind")]
pub enum EventKind {
    /// A forum of many sessions.
    Forum,
    /// A conference.
    Conference,
    /// A session inside a larger event.
    Session,
    /// A round table among experts or agencies.
    RoundTable,
    /// Sports games, such as the Olympic and Paralympic Games.
    Games,
    /// A meeting.
    Meeting,
    /// Any other form.
    Other,
}

/// How often an event takes place.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::Recurrence")]
pub enum Recurrence {
    /// Once.
    OneOff,
    /// Every year.
    Annual,
    /// Every two years.
    Biennial,
    /// Again and again, at no fixed interval the source gives.
    Recurring,
}

/// The part an organization plays in an event.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::EventRole")]
pub enum EventRole {
    /// Organizes it.
    Organizer,
    /// Organizes it together with others.
    CoOrganizer,
    /// Hosts it.
    Host,
    /// Takes part.
    Participant,
    /// Speaks at it.
    Speaker,
}

/// The form an instrument takes.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::InstrumentKind")]
pub enum InstrumentKind {
    /// A declaration adopted by a governing body (the MNE Declaration).
    Declaration,
    /// A set of principles (the UN Guiding Principles, the Ten Principles).
    Principles,
    /// Guidelines (the OECD Guidelines for Multinational Enterprises).
    Guidelines,
    /// Guidance for applying a standard (due diligence guidance).
    Guidance,
    /// A policy framework.
    Framework,
    /// An international agenda (the 2030 Agenda, the Addis Ababa Action Agenda).
    Agenda,
    /// A programme of action (the Istanbul Programme of Action).
    ProgrammeOfAction,
    /// A body of standards (international labour standards).
    Standards,
    /// A binding or proposed legal instrument (a treaty, a directive).
    LegalInstrument,
    /// A report or briefing.
    Report,
    /// Any other form.
    Other,
}

/// How an agreement, project or event relates to an instrument.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::InstrumentRole")]
pub enum InstrumentRole {
    /// It is built on the instrument.
    Basis,
    /// It follows the instrument's guidance.
    Guidance,
    /// It promotes the instrument.
    Promotes,
    /// It refers to the instrument.
    References,
    /// The instrument is what it is about.
    Subject,
}

/// What organizations can be ordered by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::store::organizations::OrganizationOrderField")]
pub enum OrganizationOrderField {
    /// Full name.
    Name,
    /// Slug.
    Slug,
    /// Acronym (organizations without one come last going up).
    Acronym,
    /// Kind of body.
    Kind,
}

/// What agreements can be ordered by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::store::agreements::AgreementOrderField")]
pub enum AgreementOrderField {
    /// Title.
    Title,
    /// Slug.
    Slug,
    /// Kind of agreement.
    Kind,
    /// Signing date (undated agreements come last going up).
    SignedOn,
}

/// What projects can be ordered by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::store::projects::ProjectOrderField")]
pub enum ProjectOrderField {
    /// Name.
    Name,
    /// Slug.
    Slug,
    /// Kind of project.
    Kind,
    /// Status.
    Status,
    /// Start date (undated projects come last going up).
    StartsOn,
    /// End date (undated projects come last going up).
    EndsOn,
}

/// What events can be ordered by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::store::events::EventOrderField")]
pub enum EventOrderField {
    /// Name.
    Name,
    /// Slug.
    Slug,
    /// Kind of event.
    Kind,
    /// Start date (undated events come last going up).
    StartsOn,
    /// End date (undated events come last going up).
    EndsOn,
}

/// What instruments can be ordered by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::store::instruments::InstrumentOrderField")]
pub enum InstrumentOrderField {
    /// Name.
    Name,
    /// Slug.
    Slug,
    /// Kind of instrument.
    Kind,
    /// Adoption date (undated instruments come last going up).
    AdoptedOn,
}
