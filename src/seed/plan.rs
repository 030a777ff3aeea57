//! A document turned into the store's [`Plan`]: the checks that belong to the file itself
//! (dates that parse, a slug or a link listed twice, parents that form a cycle within the
//! file), then the store's rule book ([`Plan::check`]: the checks a mutation makes of the same
//! fields). References stay slugs: the store resolves them against the file and the database.

use std::collections::HashSet;

use crate::{
    dates::PartialDate,
    store::write::{
        Problems, Table,
        plan::{
            AgreementFields, EventFields, InstrumentFields, LinkRole, OrganizationFields, Plan,
            Planned, PlannedLink, PlannedSource, ProjectFields, parents_first,
        },
    },
};

use super::document::{Document, InstrumentLinkDoc, ParticipantDoc};

/// The longest region or theme: the column is `varchar(200)` (PostgreSQL enforces it, SQLite
/// does not, so the file is held to it here on both).
const MAX_VALUE_CHARS: usize = 200;

impl Document {
    /// The plan that loads this document, or every problem the document has that needs no
    /// database, each at its path (`organizations[3].parent`).
    pub fn plan(&self) -> Result<Plan, Problems> {
        let mut p = Problems::default();
        for (section, slugs) in [
            (
                "sources",
                self.sources
                    .iter()
                    .map(|s| s.slug.as_str())
                    .collect::<Vec<_>>(),
            ),
            (
                "organizations",
                self.organizations.iter().map(|o| o.slug.as_str()).collect(),
            ),
            (
                "instruments",
                self.instruments.iter().map(|x| x.slug.as_str()).collect(),
            ),
            (
                "agreements",
                self.agreements.iter().map(|a| a.slug.as_str()).collect(),
            ),
            (
                "projects",
                self.projects.iter().map(|x| x.slug.as_str()).collect(),
            ),
            (
                "events",
                self.events.iter().map(|e| e.slug.as_str()).collect(),
            ),
        ] {
            listed_once(&mut p, section, &slugs);
        }
        let mut plan = Plan {
            default_source: self.default_source.clone(),
            ..Plan::default()
        };
        for (i, s) in self.sources.iter().enumerate() {
            let path = format!("sources[{i}]");
            plan.sources.push(PlannedSource {
                published_on: date(&mut p, &path, "published_on", &s.published_on),
                path,
                slug: s.slug.clone(),
                title: s.title.clone(),
                publisher: s.publisher.clone(),
                url: s.url.clone(),
                notes: s.notes.clone(),
            });
        }
        for (i, o) in self.organizations.iter().enumerate() {
            let path = format!("organizations[{i}]");
            if o.parent.as_deref() == Some(o.slug.as_str()) {
                p.push(
                    format!("{path}.parent"),
                    "an organization cannot be its own parent",
                );
            }
            let fields = OrganizationFields {
                slug: o.slug.clone(),
                name: o.name.clone(),
                acronym: o.acronym.clone(),
                kind: o.kind,
                parent: None,
                website: o.website.clone(),
                description: o.description.clone(),
            };
            let mut record = Planned::new(path, fields);
            record.source = o.source.clone();
            refer(&mut record, "parent", Table::Organization, &o.parent);
            plan.organizations.push(record);
        }
        for (i, x) in self.instruments.iter().enumerate() {
            let path = format!("instruments[{i}]");
            let fields = InstrumentFields {
                slug: x.slug.clone(),
                name: x.name.clone(),
                acronym: x.acronym.clone(),
                kind: x.kind,
                issuer: None,
                adopted_on: date(&mut p, &path, "adopted_on", &x.adopted_on),
                url: x.url.clone(),
                description: x.description.clone(),
            };
            let mut record = Planned::new(path, fields);
            record.source = x.source.clone();
            refer(&mut record, "issuer", Table::Organization, &x.issuer);
            plan.instruments.push(record);
        }
        for (i, a) in self.agreements.iter().enumerate() {
            let path = format!("agreements[{i}]");
            let fields = AgreementFields {
                slug: a.slug.clone(),
                title: a.title.clone(),
                kind: a.kind,
                signed_on: date(&mut p, &path, "signed_on", &a.signed_on),
                summary: a.summary.clone(),
            };
            let mut record = Planned::new(path.clone(), fields);
            record.source = a.source.clone();
            for (j, party) in a.parties.iter().enumerate() {
                let at = format!("{path}.parties[{j}]");
                record.links.push(PlannedLink {
                    since: date(&mut p, &at, "since", &party.since),
                    path: format!("{at}.organization"),
                    target: party.organization.clone(),
                    role: LinkRole::Party(party.role),
                });
            }
            record
                .links
                .extend(instrument_links(&mut p, &path, &a.instruments));
            let parties = a
                .parties
                .iter()
                .map(|x| (x.organization.as_str(), format!("{:?}", x.role)));
            unique_links(&mut p, &format!("{path}.parties"), parties);
            plan.agreements.push(record);
        }
        for (i, x) in self.projects.iter().enumerate() {
            let path = format!("projects[{i}]");
            let fields = ProjectFields {
                slug: x.slug.clone(),
                name: x.name.clone(),
                kind: x.kind,
                status: x.status,
                summary: x.summary.clone(),
                starts_on: date(&mut p, &path, "starts_on", &x.starts_on),
                ends_on: date(&mut p, &path, "ends_on", &x.ends_on),
                agreement: None,
            };
            let mut record = Planned::new(path.clone(), fields);
            record.source = x.source.clone();
            refer(&mut record, "agreement", Table::Agreement, &x.agreement);
            for (field, values) in [("regions", &x.regions), ("themes", &x.themes)] {
                check_values(&mut p, &format!("{path}.{field}"), values);
            }
            record.regions = x.regions.clone();
            record.themes = x.themes.clone();
            let roles = x.participants.iter().map(|x| LinkRole::Project(x.role));
            let participants = participant_links(&mut p, &path, &x.participants, roles);
            record.links.extend(participants);
            record
                .links
                .extend(instrument_links(&mut p, &path, &x.instruments));
            plan.projects.push(record);
        }
        for (i, e) in self.events.iter().enumerate() {
            let path = format!("events[{i}]");
            if e.parent.as_deref() == Some(e.slug.as_str()) {
                p.push(
                    format!("{path}.parent"),
                    "an event cannot be its own parent",
                );
            }
            let fields = EventFields {
                slug: e.slug.clone(),
                name: e.name.clone(),
                kind: e.kind,
                summary: e.summary.clone(),
                starts_on: date(&mut p, &path, "starts_on", &e.starts_on),
                ends_on: date(&mut p, &path, "ends_on", &e.ends_on),
                location: e.location.clone(),
                recurrence: e.recurrence,
                parent: None,
                project: None,
                agreement: None,
            };
            let mut record = Planned::new(path.clone(), fields);
            record.source = e.source.clone();
            refer(&mut record, "parent", Table::Event, &e.parent);
            refer(&mut record, "project", Table::Project, &e.project);
            refer(&mut record, "agreement", Table::Agreement, &e.agreement);
            let roles = e.participants.iter().map(|x| LinkRole::Event(x.role));
            let participants = participant_links(&mut p, &path, &e.participants, roles);
            record.links.extend(participants);
            record
                .links
                .extend(instrument_links(&mut p, &path, &e.instruments));
            plan.events.push(record);
        }
        if let Err(slug) = parents_first(&self.organizations, |o| &o.slug, |o| o.parent.as_deref())
        {
            p.push(
                "organizations",
                format!("the parents of `{slug}` form a cycle"),
            );
        }
        if let Err(slug) = parents_first(&self.events, |e| &e.slug, |e| e.parent.as_deref()) {
            p.push("events", format!("the parents of `{slug}` form a cycle"));
        }
        plan.check(&mut p);
        match p.0.is_empty() {
            true => Ok(plan),
            false => Err(p),
        }
    }
}

fn refer<F>(record: &mut Planned<F>, field: &'static str, table: Table, slug: &Option<String>) {
    if let Some(slug) = slug {
        record.references.push((field, table, slug.clone()));
    }
}

/// A project's or event's participants (`roles`: theirs, in order), each listed once.
fn participant_links<R: std::fmt::Debug>(
    p: &mut Problems,
    path: &str,
    participants: &[ParticipantDoc<R>],
    roles: impl Iterator<Item = LinkRole>,
) -> Vec<PlannedLink> {
    let pairs = (participants.iter()).map(|x| (x.organization.as_str(), format!("{:?}", x.role)));
    unique_links(p, &format!("{path}.participants"), pairs);
    (participants.iter().zip(roles).enumerate())
        .map(|(j, (x, role))| PlannedLink {
            path: format!("{path}.participants[{j}].organization"),
            target: x.organization.clone(),
            role,
            since: None,
        })
        .collect()
}

/// A record's instrument links, each listed once.
fn instrument_links(p: &mut Problems, path: &str, links: &[InstrumentLinkDoc]) -> Vec<PlannedLink> {
    let pairs = links
        .iter()
        .map(|l| (l.instrument.as_str(), format!("{:?}", l.role)));
    unique_links(p, &format!("{path}.instruments"), pairs);
    (links.iter().enumerate())
        .map(|(j, l)| PlannedLink {
            path: format!("{path}.instruments[{j}].instrument"),
            target: l.instrument.clone(),
            role: LinkRole::Instrument(l.role),
            since: None,
        })
        .collect()
}

/// A problem for each slug a section lists a second time.
fn listed_once(p: &mut Problems, section: &str, slugs: &[&str]) {
    let mut seen = HashSet::new();
    for (i, slug) in slugs.iter().enumerate() {
        if !seen.insert(*slug) {
            p.push(
                format!("{section}[{i}].slug"),
                format!("`{slug}` appears twice in `{section}`"),
            );
        }
    }
}

/// The date of `field`, or a problem when its text is not a date.
fn date(p: &mut Problems, path: &str, field: &str, text: &Option<String>) -> Option<PartialDate> {
    match text.as_deref()?.parse::<PartialDate>() {
        Ok(date) => Some(date),
        Err(e) => {
            p.push(format!("{path}.{field}"), e.to_string());
            None
        }
    }
}

/// A project's regions or themes: each non-empty, at most [`MAX_VALUE_CHARS`] characters, and
/// listed once (they are the rows' primary key with the project).
fn check_values(p: &mut Problems, path: &str, values: &[String]) {
    let mut seen = HashSet::new();
    for (j, value) in values.iter().enumerate() {
        let at = format!("{path}[{j}]");
        if value.trim().is_empty() {
            p.push(&at, "must not be empty");
        } else if value.contains('\0') {
            p.push(&at, "must not contain a NUL character");
        } else if value.chars().count() > MAX_VALUE_CHARS {
            p.push(&at, format!("longer than {MAX_VALUE_CHARS} characters"));
        }
        if !seen.insert(value.as_str()) {
            p.push(&at, format!("`{value}` is listed twice"));
        }
    }
}

/// A problem for each link listed a second time with the same target and role.
fn unique_links<'a>(p: &mut Problems, path: &str, links: impl Iterator<Item = (&'a str, String)>) {
    let mut seen = HashSet::new();
    for (i, (target, role)) in links.enumerate() {
        if !seen.insert((target, role.clone())) {
            p.push(
                format!("{path}[{i}]"),
                format!("`{target}` is listed twice with the same role"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document's problems as `path: message` lines.
    fn lines(doc: &Document) -> Vec<String> {
        match doc.plan() {
            Ok(_) => Vec::new(),
            Err(p) => {
                p.0.iter()
                    .map(|p| format!("{}: {}", p.path, p.message))
                    .collect()
            }
        }
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
        let problems = lines(&doc).join("\n");
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
            lines(&Document::parse(&text).unwrap_or_else(|e| panic!("{e}")))
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
        let found = lines(&doc);
        let expected = [
            "projects[0].regions[2]: `asia` is listed twice",
            "projects[0].themes[1]: longer than 200 characters",
            "projects[0].themes[2]: `jobs` is listed twice",
        ];
        assert_eq!(found, expected, "200 characters fit; 201 do not");
    }

    #[test]
    fn a_document_is_held_to_the_rules_of_the_mutations() {
        // The mutations' rule book applies: a URL over 2,000 characters and a source's overlong
        // notes passed the document's own checks before there was one rule book; a NUL character,
        // which PostgreSQL cannot store, is refused by the rule book for every text field.
        let long_url = format!("https://example.org/{}", "a".repeat(2_000));
        let long_notes = "n".repeat(5_001);
        let text = format!(
            "sources:\n  - {{ slug: s, title: S, publisher: P, notes: \"{long_notes}\" }}\n\
             organizations:\n  - {{ slug: o, name: \"O\\0\", kind: other, website: \"{long_url}\" }}\n\
             events:\n  - {{ slug: e, name: E, kind: forum, location: \"{}\" }}\n",
            "l".repeat(301)
        );
        let found = lines(&Document::parse(&text).unwrap_or_else(|e| panic!("{e}"))).join("\n");
        for expected in [
            "sources[0].notes: is 5001 characters long; at most 5000",
            "organizations[0].website: `https://example.org/",
            "events[0].location: is 301 characters long; at most 300",
            "organizations[0].name: must not contain a NUL character",
        ] {
            assert!(
                found.contains(expected),
                "missing {expected:?} in:\n{found}"
            );
        }
    }
}
