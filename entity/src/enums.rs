//! String-backed enumerations shared by the entities.
//!
//! They are stored as short lowercase strings (not native PostgreSQL enums), so the same
//! migrations run on PostgreSQL and SQLite and a new value needs no `ALTER TYPE`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// How precise a stored date is: the source often gives only a year.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
#[serde(rename_all = "snake_case")]
pub enum DatePrecision {
    #[sea_orm(string_value = "year")]
    Year,
    #[sea_orm(string_value = "month")]
    Month,
    #[sea_orm(string_value = "day")]
    Day,
}

/// What sort of body an organization is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    #[sea_orm(string_value = "un_system_entity")]
    UnSystemEntity,
    #[sea_orm(string_value = "un_organ")]
    UnOrgan,
    #[sea_orm(string_value = "intergovernmental_organization")]
    IntergovernmentalOrganization,
    #[sea_orm(string_value = "intergovernmental_body")]
    IntergovernmentalBody,
    #[sea_orm(string_value = "regional_organization")]
    RegionalOrganization,
    #[sea_orm(string_value = "governing_body")]
    GoverningBody,
    #[sea_orm(string_value = "association")]
    Association,
    #[sea_orm(string_value = "expert_body")]
    ExpertBody,
    #[sea_orm(string_value = "network")]
    Network,
    #[sea_orm(string_value = "organizing_committee")]
    OrganizingCommittee,
    #[sea_orm(string_value = "other")]
    Other,
}

/// The form an agreement takes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
#[serde(rename_all = "snake_case")]
pub enum AgreementKind {
    #[sea_orm(string_value = "memorandum_of_understanding")]
    MemorandumOfUnderstanding,
    #[sea_orm(string_value = "cooperation_agreement")]
    CooperationAgreement,
    #[sea_orm(string_value = "framework_of_action")]
    FrameworkOfAction,
    #[sea_orm(string_value = "partnership")]
    Partnership,
    #[sea_orm(string_value = "joint_statement")]
    JointStatement,
    #[sea_orm(string_value = "other")]
    Other,
}

/// The part an organization plays in an agreement.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    #[sea_orm(string_value = "signatory")]
    Signatory,
    #[sea_orm(string_value = "partner")]
    Partner,
    #[sea_orm(string_value = "supporter")]
    Supporter,
}

/// The form a project takes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
#[serde(rename_all = "snake_case")]
pub enum ProjectKind {
    #[sea_orm(string_value = "programme")]
    Programme,
    #[sea_orm(string_value = "project")]
    Project,
    #[sea_orm(string_value = "platform")]
    Platform,
    #[sea_orm(string_value = "initiative")]
    Initiative,
    #[sea_orm(string_value = "network")]
    Network,
    #[sea_orm(string_value = "process")]
    Process,
    #[sea_orm(string_value = "research")]
    Research,
    #[sea_orm(string_value = "other")]
    Other,
}

/// Where a project stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    #[sea_orm(string_value = "planned")]
    Planned,
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "completed")]
    Completed,
    #[sea_orm(string_value = "unknown")]
    Unknown,
}

/// The part an organization plays in a project.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
#[serde(rename_all = "snake_case")]
pub enum ProjectRole {
    #[sea_orm(string_value = "implementer")]
    Implementer,
    #[sea_orm(string_value = "funder")]
    Funder,
    #[sea_orm(string_value = "partner")]
    Partner,
    #[sea_orm(string_value = "member")]
    Member,
    #[sea_orm(string_value = "lead")]
    Lead,
    #[sea_orm(string_value = "co_chair")]
    CoChair,
    #[sea_orm(string_value = "contributor")]
    Contributor,
}

/// The form an event takes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    #[sea_orm(string_value = "forum")]
    Forum,
    #[sea_orm(string_value = "conference")]
    Conference,
    #[sea_orm(string_value = "session")]
    Session,
    #[sea_orm(string_value = "round_table")]
    RoundTable,
    #[sea_orm(string_value = "games")]
    Games,
    #[sea_orm(string_value = "meeting")]
    Meeting,
    #[sea_orm(string_value = "other")]
    Other,
}

/// How often an event takes place.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    #[sea_orm(string_value = "one_off")]
    OneOff,
    #[sea_orm(string_value = "annual")]
    Annual,
    #[sea_orm(string_value = "biennial")]
    Biennial,
    #[sea_orm(string_value = "recurring")]
    Recurring,
}

/// The part an organization plays in an event.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
#[serde(rename_all = "snake_case")]
pub enum EventRole {
    #[sea_orm(string_value = "organizer")]
    Organizer,
    #[sea_orm(string_value = "co_organizer")]
    CoOrganizer,
    #[sea_orm(string_value = "host")]
    Host,
    #[sea_orm(string_value = "participant")]
    Participant,
    #[sea_orm(string_value = "speaker")]
    Speaker,
}

/// The form an instrument (standard, framework, agenda) takes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
#[serde(rename_all = "snake_case")]
pub enum InstrumentKind {
    #[sea_orm(string_value = "declaration")]
    Declaration,
    #[sea_orm(string_value = "principles")]
    Principles,
    #[sea_orm(string_value = "guidelines")]
    Guidelines,
    #[sea_orm(string_value = "guidance")]
    Guidance,
    #[sea_orm(string_value = "framework")]
    Framework,
    #[sea_orm(string_value = "agenda")]
    Agenda,
    #[sea_orm(string_value = "programme_of_action")]
    ProgrammeOfAction,
    #[sea_orm(string_value = "standards")]
    Standards,
    #[sea_orm(string_value = "legal_instrument")]
    LegalInstrument,
    #[sea_orm(string_value = "report")]
    Report,
    #[sea_orm(string_value = "other")]
    Other,
}

/// How an agreement, project or event relates to an instrument.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(40))")]
#[serde(rename_all = "snake_case")]
pub enum InstrumentRole {
    #[sea_orm(string_value = "basis")]
    Basis,
    #[sea_orm(string_value = "guidance")]
    Guidance,
    #[sea_orm(string_value = "promotes")]
    Promotes,
    #[sea_orm(string_value = "references")]
    References,
    #[sea_orm(string_value = "subject")]
    Subject,
}
