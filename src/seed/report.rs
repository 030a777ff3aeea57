//! What a load did, per kind of record.

use std::fmt;

/// Records created, updated and left as they were.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
}

impl Counts {
    pub fn changes(&self) -> u64 {
        self.created + self.updated + self.removed
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SeedReport {
    pub sources: Counts,
    pub organizations: Counts,
    pub instruments: Counts,
    pub agreements: Counts,
    pub projects: Counts,
    pub events: Counts,
    /// Parties, participants, instrument links, regions and themes.
    pub links: Counts,
    /// Each record created or updated, with its row before and after (only when the caller
    /// asked for them: the `importDocument` mutation audits each).
    #[serde(skip)]
    pub records: Vec<RecordChange>,
}

/// One record a load created (no `before`) or updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordChange {
    /// The GraphQL type name (`Organization`), as the audit log records it.
    pub entity_type: &'static str,
    pub id: i64,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl SeedReport {
    fn rows(&self) -> [(&'static str, &Counts); 7] {
        [
            ("sources", &self.sources),
            ("organizations", &self.organizations),
            ("instruments", &self.instruments),
            ("agreements", &self.agreements),
            ("projects", &self.projects),
            ("events", &self.events),
            ("links", &self.links),
        ]
    }

    /// Rows written or deleted: zero when the file was already loaded.
    pub fn changes(&self) -> u64 {
        self.rows().iter().map(|(_, c)| c.changes()).sum()
    }
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<14} {:>8} {:>8} {:>10} {:>8}",
            "", "created", "updated", "unchanged", "removed"
        )?;
        for (name, c) in self.rows() {
            writeln!(
                f,
                "{name:<14} {:>8} {:>8} {:>10} {:>8}",
                c.created, c.updated, c.unchanged, c.removed
            )?;
        }
        Ok(())
    }
}
