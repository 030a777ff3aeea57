//! A plan: what a dataset document (docs/DATA.md) asks the store to make true, in the store's
//! own terms. `partnerships seed` and the `importDocument` mutation build one from a document
//! (`seed::Document::plan`) and the store applies it (`write::apply`) with the record checks,
//! inserts, updates and link writes the mutations use.
//!
//! Records name each other by slug here: a plan may refer to records of the same plan, which
//! have no id until they are inserted, and to records already in the database.

use std::{collections::HashMap, fmt};

use serde::Serialize;

pub use super::fields::{
    AgreementFields, EventFields, InstrumentFields, OrganizationFields, ProjectFields,
};
pub use super::links::LinkRole;
use super::{MAX_NAME_CHARS, MAX_TEXT_CHARS, Problems, Table};
use crate::dates::PartialDate;

/// Every record of a document, each table's in the document's order.
#[derive(Debug, Default)]
pub struct Plan {
    /// The source of records that name none (`default_source`).
    pub default_source: Option<String>,
    pub sources: Vec<PlannedSource>,
    pub organizations: Vec<Planned<OrganizationFields>>,
    pub instruments: Vec<Planned<InstrumentFields>>,
    pub agreements: Vec<Planned<AgreementFields>>,
    pub projects: Vec<Planned<ProjectFields>>,
    pub events: Vec<Planned<EventFields>>,
}

/// One record to create, or to update when a record has its slug already.
#[derive(Debug)]
pub struct Planned<F> {
    /// Where the record is in the document (`organizations[3]`): the prefix of its problems.
    pub path: String,
    /// Its columns; the references by slug in `references` are filled in once resolved.
    pub fields: F,
    /// `(field, table, slug)`: the records it refers to (`("parent", Organization, "ilo")`).
    pub references: Vec<(&'static str, Table, String)>,
    /// The slug of its source (else the plan's default source).
    pub source: Option<String>,
    /// Its links, exactly: the links it has and the plan does not list are removed.
    pub links: Vec<PlannedLink>,
    /// A project's regions and themes, exactly (empty for other records).
    pub regions: Vec<String>,
    pub themes: Vec<String>,
}

impl<F> Planned<F> {
    pub fn new(path: String, fields: F) -> Self {
        Self {
            path,
            fields,
            references: Vec::new(),
            source: None,
            links: Vec::new(),
            regions: Vec::new(),
            themes: Vec::new(),
        }
    }
}

/// One link of a planned record: the target's slug and the link's role, whose type says which
/// link table it goes to (a party's role: the agreement's parties).
#[derive(Debug)]
pub struct PlannedLink {
    /// The input path of the link's target (`agreements[0].parties[1].organization`).
    pub path: String,
    pub target: String,
    pub role: LinkRole,
    /// When a party joined (parties only).
    pub since: Option<PartialDate>,
}

/// A source to create or update by slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSource {
    /// Where it is in the document (`sources[0]`).
    pub path: String,
    pub slug: String,
    pub title: String,
    pub publisher: String,
    pub published_on: Option<PartialDate>,
    pub url: Option<String>,
    pub notes: Option<String>,
}

impl PlannedSource {
    /// The rule book's checks of a source's fields.
    pub(super) fn check(&self, problems: &mut Problems) {
        let path = &self.path;
        problems.slug(&format!("{path}.slug"), &self.slug);
        problems.text(&format!("{path}.title"), &self.title, MAX_NAME_CHARS);
        problems.text(
            &format!("{path}.publisher"),
            &self.publisher,
            MAX_NAME_CHARS,
        );
        problems.url(&format!("{path}.url"), &self.url);
        problems.optional_text(&format!("{path}.notes"), &self.notes, MAX_TEXT_CHARS);
    }
}

/// Records created, updated and left as they were.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// What applying a plan did, per kind of record.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SeedReport {
    pub sources: Counts,
    pub organizations: Counts,
    pub instruments: Counts,
    pub agreements: Counts,
    pub projects: Counts,
    pub events: Counts,
    /// Parties, participants, instrument links, regions and themes.
    pub links: Counts,
    /// Each record created or updated, with its row before and after (the `importDocument`
    /// mutation audits each).
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

/// Orders records so that each comes after its parent (when the parent is in the same list).
/// Returns the indexes in that order, or the slug of a record on a cycle.
pub fn parents_first<T>(
    items: &[T],
    slug: impl Fn(&T) -> &str,
    parent: impl Fn(&T) -> Option<&str>,
) -> Result<Vec<usize>, String> {
    let index: HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, x)| (slug(x), i))
        .collect();
    // 0 = not visited, 1 = on the current path, 2 = placed.
    let mut state = vec![0u8; items.len()];
    let mut order = Vec::with_capacity(items.len());
    for start in 0..items.len() {
        let mut path = Vec::new();
        let mut current = Some(start);
        while let Some(i) = current {
            match state[i] {
                2 => break,
                1 => return Err(slug(&items[i]).to_owned()),
                _ => {
                    state[i] = 1;
                    path.push(i);
                    current = parent(&items[i]).and_then(|p| index.get(p).copied());
                }
            }
        }
        for &i in path.iter().rev() {
            state[i] = 2;
            order.push(i);
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_before_children_and_cycles_are_found() {
        let items = [
            ("b", Some("a")),
            ("c", Some("b")),
            ("a", None),
            ("d", Some("elsewhere")),
        ];
        let order = parents_first(&items, |x| x.0, |x| x.1).unwrap_or_else(|e| panic!("cycle {e}"));
        let pos = |s: &str| order.iter().position(|&i| items[i].0 == s);
        assert!(
            pos("a") < pos("b") && pos("b") < pos("c"),
            "order was {order:?}"
        );
        assert_eq!(order.len(), 4);

        let cycle = [("a", Some("b")), ("b", Some("a"))];
        assert!(parents_first(&cycle, |x| x.0, |x| x.1).is_err());
    }
}
