//! The five kinds of record, named once. GraphQL's kinds (a global ID's type, a search hit's
//! and a change's type) and the audit log's entity types all derive from [`RecordKind`].

/// A kind of record: what a global ID, a search hit or an audit entry says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    Organization,
    Agreement,
    Project,
    Event,
    Instrument,
}

impl RecordKind {
    pub const ALL: [Self; 5] = [
        Self::Organization,
        Self::Agreement,
        Self::Project,
        Self::Event,
        Self::Instrument,
    ];

    /// Its GraphQL type name, as the audit log records it (`Organization`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Organization => "Organization",
            Self::Agreement => "Agreement",
            Self::Project => "Project",
            Self::Event => "Event",
            Self::Instrument => "Instrument",
        }
    }

    /// Its name after "a" or "an", for messages.
    pub fn with_article(self) -> &'static str {
        match self {
            Self::Organization => "an Organization",
            Self::Agreement => "an Agreement",
            Self::Project => "a Project",
            Self::Event => "an Event",
            Self::Instrument => "an Instrument",
        }
    }

    /// The kind whose type name is `name` (`Organization`); none for a link's or another name.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}
