//! The dataset file (docs/DATA.md): its shape, and the checks that need no database.

use std::collections::{HashMap, HashSet};

use entity::{
    AgreementKind, EventKind, EventRole, InstrumentKind, InstrumentRole, OrganizationKind,
    PartyRole, ProjectKind, ProjectRole, ProjectStatus, Recurrence,
};
use serde::Deserialize;

use crate::{
    dates::PartialDate,
    store::write::{MAX_NAME_CHARS, MAX_SHORT_CHARS, MAX_TEXT_CHARS, is_valid_slug},
};

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

/// Everything wrong with a document, each problem with its path (`organizations[3].parent`).
#[derive(Debug, Default)]
pub struct Problems(pub Vec<String>);

impl Problems {
    fn push(&mut self, path: impl std::fmt::Display, message: impl std::fmt::Display) {
        self.0.push(format!("{path}: {message}"));
    }
}

impl Document {
    pub fn parse(text: &str) -> Result<Self, serde_saphyr::Error> {
        serde_saphyr::from_str(text)
    }

    /// Checks that need no database: slugs, duplicates, dates, URLs and cycles of parents.
    /// References (sources, organizations, instruments, agreements, projects, events) may name
    /// records of the file or already in the database; the loader checks those.
    pub fn validate(&self) -> Problems {
        let mut problems = Problems::default();
        // Sources, like every other reference, may name records already in the database:
        // the loader resolves them against both.
        self.check_slugs(
            "sources",
            self.sources.iter().map(|s| s.slug.as_str()),
            &mut problems,
        );
        self.check_slugs(
            "organizations",
            self.organizations.iter().map(|o| o.slug.as_str()),
            &mut problems,
        );
        self.check_slugs(
            "instruments",
            self.instruments.iter().map(|i| i.slug.as_str()),
            &mut problems,
        );
        self.check_slugs(
            "agreements",
            self.agreements.iter().map(|a| a.slug.as_str()),
            &mut problems,
        );
        self.check_slugs(
            "projects",
            self.projects.iter().map(|p| p.slug.as_str()),
            &mut problems,
        );
        self.check_slugs(
            "events",
            self.events.iter().map(|e| e.slug.as_str()),
            &mut problems,
        );

        for (i, s) in self.sources.iter().enumerate() {
            let path = format!("sources[{i}]");
            check_text(&mut problems, &path, "title", &s.title, MAX_NAME_CHARS);
            check_text(
                &mut problems,
                &path,
                "publisher",
                &s.publisher,
                MAX_NAME_CHARS,
            );
            check_date(&mut problems, &path, "published_on", &s.published_on);
            check_url(&mut problems, &path, "url", &s.url);
        }
        for (i, o) in self.organizations.iter().enumerate() {
            let path = format!("organizations[{i}]");
            check_text(&mut problems, &path, "name", &o.name, MAX_NAME_CHARS);
            check_optional(&mut problems, &path, "acronym", &o.acronym, MAX_SHORT_CHARS);
            check_optional(
                &mut problems,
                &path,
                "description",
                &o.description,
                MAX_TEXT_CHARS,
            );
            check_url(&mut problems, &path, "website", &o.website);
            if o.parent.as_deref() == Some(o.slug.as_str()) {
                problems.push(
                    format!("{path}.parent"),
                    "an organization cannot be its own parent",
                );
            }
        }
        for (i, x) in self.instruments.iter().enumerate() {
            let path = format!("instruments[{i}]");
            check_text(&mut problems, &path, "name", &x.name, MAX_NAME_CHARS);
            check_optional(&mut problems, &path, "acronym", &x.acronym, MAX_SHORT_CHARS);
            check_optional(
                &mut problems,
                &path,
                "description",
                &x.description,
                MAX_TEXT_CHARS,
            );
            check_date(&mut problems, &path, "adopted_on", &x.adopted_on);
            check_url(&mut problems, &path, "url", &x.url);
        }
        for (i, a) in self.agreements.iter().enumerate() {
            let path = format!("agreements[{i}]");
            check_text(&mut problems, &path, "title", &a.title, MAX_NAME_CHARS);
            check_optional(&mut problems, &path, "summary", &a.summary, MAX_TEXT_CHARS);
            check_date(&mut problems, &path, "signed_on", &a.signed_on);
            for (j, p) in a.parties.iter().enumerate() {
                check_date(
                    &mut problems,
                    &format!("{path}.parties[{j}]"),
                    "since",
                    &p.since,
                );
            }
            check_unique_links(
                &mut problems,
                &format!("{path}.parties"),
                a.parties
                    .iter()
                    .map(|p| (p.organization.as_str(), format!("{:?}", p.role))),
            );
            check_unique_links(
                &mut problems,
                &format!("{path}.instruments"),
                a.instruments
                    .iter()
                    .map(|l| (l.instrument.as_str(), format!("{:?}", l.role))),
            );
        }
        for (i, p) in self.projects.iter().enumerate() {
            let path = format!("projects[{i}]");
            check_text(&mut problems, &path, "name", &p.name, MAX_NAME_CHARS);
            check_optional(&mut problems, &path, "summary", &p.summary, MAX_TEXT_CHARS);
            check_span(&mut problems, &path, &p.starts_on, &p.ends_on);
            for (field, values) in [("regions", &p.regions), ("themes", &p.themes)] {
                check_values(&mut problems, &format!("{path}.{field}"), values);
            }
            check_unique_links(
                &mut problems,
                &format!("{path}.participants"),
                p.participants
                    .iter()
                    .map(|x| (x.organization.as_str(), format!("{:?}", x.role))),
            );
            check_unique_links(
                &mut problems,
                &format!("{path}.instruments"),
                p.instruments
                    .iter()
                    .map(|l| (l.instrument.as_str(), format!("{:?}", l.role))),
            );
        }
        for (i, e) in self.events.iter().enumerate() {
            let path = format!("events[{i}]");
            check_text(&mut problems, &path, "name", &e.name, MAX_NAME_CHARS);
            check_optional(&mut problems, &path, "summary", &e.summary, MAX_TEXT_CHARS);
            check_optional(
                &mut problems,
                &path,
                "location",
                &e.location,
                MAX_NAME_CHARS,
            );
            check_span(&mut problems, &path, &e.starts_on, &e.ends_on);
            if e.parent.as_deref() == Some(e.slug.as_str()) {
                problems.push(
                    format!("{path}.parent"),
                    "an event cannot be its own parent",
                );
            }
            check_unique_links(
                &mut problems,
                &format!("{path}.participants"),
                e.participants
                    .iter()
                    .map(|x| (x.organization.as_str(), format!("{:?}", x.role))),
            );
            check_unique_links(
                &mut problems,
                &format!("{path}.instruments"),
                e.instruments
                    .iter()
                    .map(|l| (l.instrument.as_str(), format!("{:?}", l.role))),
            );
        }
        if let Err(slug) = parents_first(&self.organizations, |o| &o.slug, |o| o.parent.as_deref())
        {
            problems.push(
                "organizations",
                format!("the parents of `{slug}` form a cycle"),
            );
        }
        if let Err(slug) = parents_first(&self.events, |e| &e.slug, |e| e.parent.as_deref()) {
            problems.push("events", format!("the parents of `{slug}` form a cycle"));
        }
        problems
    }

    fn check_slugs<'a>(
        &self,
        section: &str,
        slugs: impl Iterator<Item = &'a str>,
        problems: &mut Problems,
    ) -> HashSet<&'a str> {
        let mut seen = HashSet::new();
        for (i, slug) in slugs.enumerate() {
            if !is_valid_slug(slug) {
                problems.push(
                    format!("{section}[{i}].slug"),
                    format!("`{slug}` is not a slug: use lowercase letters, digits and single hyphens (at most 100)"),
                );
            }
            if !seen.insert(slug) {
                problems.push(
                    format!("{section}[{i}].slug"),
                    format!("`{slug}` appears twice in `{section}`"),
                );
            }
        }
        seen
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

/// A required text: not blank, and no longer than `max` characters (the limits mutations
/// enforce, so an import cannot write what an editor could not).
fn check_text(problems: &mut Problems, path: &str, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        problems.push(format!("{path}.{field}"), "must not be empty");
    } else {
        check_length(problems, path, field, value, max);
    }
}

/// An optional text no longer than `max` characters.
fn check_optional(
    problems: &mut Problems,
    path: &str,
    field: &str,
    value: &Option<String>,
    max: usize,
) {
    if let Some(value) = value {
        check_length(problems, path, field, value, max);
    }
}

fn check_length(problems: &mut Problems, path: &str, field: &str, value: &str, max: usize) {
    let n = value.chars().count();
    if n > max {
        problems.push(
            format!("{path}.{field}"),
            format!("is {n} characters long; at most {max}"),
        );
    }
}

fn check_date(
    problems: &mut Problems,
    path: &str,
    field: &str,
    value: &Option<String>,
) -> Option<PartialDate> {
    let text = value.as_deref()?;
    match text.parse::<PartialDate>() {
        Ok(date) => Some(date),
        Err(e) => {
            problems.push(format!("{path}.{field}"), e);
            None
        }
    }
}

fn check_span(problems: &mut Problems, path: &str, starts: &Option<String>, ends: &Option<String>) {
    let start = check_date(problems, path, "starts_on", starts);
    let end = check_date(problems, path, "ends_on", ends);
    // The end's whole period counts: "from 2020-06 until 2020" ends in the year it starts.
    if let (Some(start), Some(end)) = (start, end)
        && end.last_day() < start.date
    {
        problems.push(
            format!("{path}.ends_on"),
            format!("ends ({end}) before it starts ({start})"),
        );
    }
}

/// The longest region or theme: the column is `varchar(200)` (PostgreSQL enforces it, SQLite
/// does not, so the file is held to it here on both).
pub const MAX_VALUE_CHARS: usize = 200;

/// A project's regions or themes: each non-empty, at most [`MAX_VALUE_CHARS`] characters, and
/// listed once (they are the rows' primary key with the project).
fn check_values(problems: &mut Problems, path: &str, values: &[String]) {
    let mut seen = HashSet::new();
    for (j, value) in values.iter().enumerate() {
        let at = format!("{path}[{j}]");
        if value.trim().is_empty() {
            problems.push(&at, "must not be empty");
        } else if value.chars().count() > MAX_VALUE_CHARS {
            problems.push(&at, format!("longer than {MAX_VALUE_CHARS} characters"));
        }
        if !seen.insert(value.as_str()) {
            problems.push(&at, format!("`{value}` is listed twice"));
        }
    }
}

fn check_url(problems: &mut Problems, path: &str, field: &str, value: &Option<String>) {
    if let Some(text) = value {
        match url::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => problems.push(
                format!("{path}.{field}"),
                format!("`{text}` is not an http(s) URL"),
            ),
        }
    }
}

fn check_unique_links<'a>(
    problems: &mut Problems,
    path: &str,
    links: impl Iterator<Item = (&'a str, String)>,
) {
    let mut seen = HashSet::new();
    for (i, (target, role)) in links.enumerate() {
        if !seen.insert((target, role.clone())) {
            problems.push(
                format!("{path}[{i}]"),
                format!("`{target}` is listed twice with the same role"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_words_joined_by_single_hyphens() {
        for good in [
            "ilo",
            "un-women",
            "ilo-undp-global-framework-of-action",
            "g7",
            "2020-games",
        ] {
            assert!(is_valid_slug(good), "{good} should be accepted");
        }
        for bad in [
            "",
            "ILO",
            "un women",
            "-ilo",
            "ilo-",
            "un--women",
            "ilo_undp",
            "é",
            &"a".repeat(101),
        ] {
            assert!(!is_valid_slug(bad), "{bad:?} should be refused");
        }
    }

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

    #[test]
    fn a_document_reports_all_its_problems_with_paths() {
        let text = r#"
default_source: missing
sources:
  - { slug: page, title: "A page", publisher: "ILO", published_on: "2024-13-01" }
organizations:
  - { slug: ilo, name: "ILO", kind: un_system_entity }
  - { slug: ilo, name: "", kind: association, website: "ftp://x" }
  - { slug: Bad Slug, name: "x", kind: other, parent: "Bad Slug" }
projects:
  - { slug: p, name: "P", kind: project, starts_on: "2020", ends_on: "2019" }
"#;
        let doc = Document::parse(text).unwrap_or_else(|e| panic!("{e}"));
        let problems = doc.validate().0.join("\n");
        for expected in [
            "sources[0].published_on",
            "organizations[1].slug: `ilo` appears twice",
            "organizations[1].name: must not be empty",
            "organizations[1].website",
            "organizations[2].slug: `Bad Slug` is not a slug",
            "organizations[2].parent: an organization cannot be its own parent",
            "projects[0].ends_on: ends (2019) before it starts (2020)",
        ] {
            assert!(
                problems.contains(expected),
                "missing {expected:?} in:\n{problems}"
            );
        }
        assert!(
            !problems.contains("default_source"),
            "a source may be in the database: the loader resolves it\n{problems}"
        );
    }

    #[test]
    fn a_span_is_refused_only_when_its_whole_end_period_is_before_its_start() {
        let problems = |starts: &str, ends: &str| {
            let text = format!(
                "projects:\n  - {{ slug: p, name: P, kind: project, starts_on: \"{starts}\", ends_on: \"{ends}\" }}\n\
                 events:\n  - {{ slug: e, name: E, kind: forum, starts_on: \"{starts}\", ends_on: \"{ends}\" }}\n"
            );
            Document::parse(&text)
                .unwrap_or_else(|e| panic!("{e}"))
                .validate()
                .0
        };
        for (starts, ends) in [
            ("2020-06", "2020"),
            ("2020-06-15", "2020-06"),
            ("2020-06-15", "2020"),
            ("2020", "2020"),
            ("2020", "2020-01-01"),
        ] {
            let found = problems(starts, ends);
            assert!(
                found.is_empty(),
                "{starts} to {ends} is a valid span: {found:?}"
            );
        }
        for (starts, ends) in [
            ("2020", "2019"),
            ("2020-06", "2020-05-31"),
            ("2020-06-15", "2020-05"),
            ("2021-01", "2020"),
        ] {
            let found = problems(starts, ends).join("\n");
            for path in ["projects[0].ends_on", "events[0].ends_on"] {
                assert!(
                    found.contains(&format!(
                        "{path}: ends ({ends}) before it starts ({starts})"
                    )),
                    "{starts} to {ends} should be refused at {path}: {found}"
                );
            }
        }
    }

    #[test]
    fn project_regions_and_themes_are_unique_and_fit_their_column() {
        let long = "é".repeat(201);
        let fits = "é".repeat(200);
        let text = format!(
            "projects:\n  - slug: p\n    name: P\n    kind: project\n    \
             regions: [asia, africa, asia, \"{fits}\"]\n    themes: [jobs, \"{long}\", jobs]\n"
        );
        let doc = Document::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        let found = doc.validate().0;
        let expected = [
            "projects[0].regions[2]: `asia` is listed twice",
            "projects[0].themes[1]: longer than 200 characters",
            "projects[0].themes[2]: `jobs` is listed twice",
        ];
        assert_eq!(found, expected, "200 characters fit; 201 do not");
    }

    #[test]
    fn unknown_fields_and_enum_values_are_refused() {
        assert!(
            Document::parse("organizations:\n  - { slug: a, name: A, kind: galaxy }\n").is_err()
        );
        assert!(Document::parse("organisations: []\n").is_err());
    }
}
