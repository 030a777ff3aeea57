//! The dataset file (docs/DATA.md): its shape, and the checks that need no database.

use entity::{
    AgreementKind, EventKind, EventRole, InstrumentKind, InstrumentRole, OrganizationKind,
    PartyRole, ProjectKind, ProjectRole, ProjectStatus, Recurrence,
};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub default_source: Option<String>,
    #[serde(default)]
    pub sources: Vec<SourceDoc>,
    #[serde(default)]
    pub organizations: Vec<OrganizationDoc>,
    #[serde(default)]
    pub instruments: Vec<InstrumentDoc>,
    #[serde(default)]
    pub agreements: Vec<AgreementDoc>,
    #[serde(default)]
    pub projects: Vec<ProjectDoc>,
    #[serde(default)]
    pub events: Vec<EventDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDoc {
    pub slug: String,
    pub title: String,
    pub publisher: String,
    pub published_on: Option<String>,
    pub url: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationDoc {
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: OrganizationKind,
    pub parent: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentDoc {
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: InstrumentKind,
    pub issuer: Option<String>,
    pub adopted_on: Option<String>,
    pub url: Option<String>,
    pub description: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementDoc {
    pub slug: String,
    pub title: String,
    pub kind: AgreementKind,
    pub signed_on: Option<String>,
    pub summary: Option<String>,
    pub source: Option<String>,
    #[serde(default)]
    pub parties: Vec<PartyDoc>,
    #[serde(default)]
    pub instruments: Vec<InstrumentLinkDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyDoc {
    pub organization: String,
    pub role: PartyRole,
    pub since: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentLinkDoc {
    pub instrument: String,
    pub role: InstrumentRole,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectDoc {
    pub slug: String,
    pub name: String,
    pub kind: ProjectKind,
    #[serde(default = "unknown_status")]
    pub status: ProjectStatus,
    pub summary: Option<String>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub themes: Vec<String>,
    pub agreement: Option<String>,
    pub source: Option<String>,
    #[serde(default)]
    pub participants: Vec<ParticipantDoc<ProjectRole>>,
    #[serde(default)]
    pub instruments: Vec<InstrumentLinkDoc>,
}

fn unknown_status() -> ProjectStatus {
    ProjectStatus::Unknown
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantDoc<R> {
    pub organization: String,
    pub role: R,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventDoc {
    pub slug: String,
    pub name: String,
    pub kind: EventKind,
    pub summary: Option<String>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub location: Option<String>,
    pub recurrence: Option<Recurrence>,
    pub parent: Option<String>,
    pub project: Option<String>,
    pub agreement: Option<String>,
    pub source: Option<String>,
    #[serde(default)]
    pub participants: Vec<ParticipantDoc<EventRole>>,
    #[serde(default)]
    pub instruments: Vec<InstrumentLinkDoc>,
}

impl Document {
    pub fn parse(text: &str) -> Result<Self, serde_saphyr::Error> {
        serde_saphyr::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_enum_values_are_refused() {
        assert!(
            Document::parse("organizations:\n  - { slug: a, name: A, kind: galaxy }\n").is_err()
        );
        assert!(Document::parse("organisations: []\n").is_err());
    }
}
