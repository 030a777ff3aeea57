//! The editable columns of each kind of record ([`Fields`] implementations): how each is
//! read from a row, checked and written back.

use entity::{
    AgreementKind, EventKind, InstrumentKind, OrganizationKind, ProjectKind, ProjectStatus,
    Recurrence, agreement, event, instrument, organization, project,
};

use super::{MAX_NAME_CHARS, MAX_SHORT_CHARS, MAX_TEXT_CHARS, Problems, Table, records::Fields};
use crate::dates::PartialDate;

fn date_parts(
    date: Option<PartialDate>,
) -> (Option<chrono::NaiveDate>, Option<entity::DatePrecision>) {
    PartialDate::into_parts(date)
}

/// An organization's editable columns.
#[derive(Debug, Clone)]
pub struct OrganizationFields {
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: OrganizationKind,
    pub parent: Option<i64>,
    pub website: Option<String>,
    pub description: Option<String>,
}

impl Fields for OrganizationFields {
    type E = organization::Entity;

    fn from_model(m: &organization::Model) -> Self {
        Self {
            slug: m.slug.clone(),
            name: m.name.clone(),
            acronym: m.acronym.clone(),
            kind: m.kind,
            parent: m.parent_id,
            website: m.website.clone(),
            description: m.description.clone(),
        }
    }

    fn slug(&self) -> &str {
        &self.slug
    }

    fn check(&self, p: &mut Problems, path: &str) {
        p.slug(&format!("{path}.slug"), &self.slug);
        p.text(&format!("{path}.name"), &self.name, MAX_NAME_CHARS);
        p.optional_text(&format!("{path}.acronym"), &self.acronym, MAX_SHORT_CHARS);
        p.url(&format!("{path}.website"), &self.website);
        p.optional_text(
            &format!("{path}.description"),
            &self.description,
            MAX_TEXT_CHARS,
        );
    }

    fn references(&self) -> Vec<(&'static str, Table, i64)> {
        self.parent
            .map(|id| ("parent", Table::Organization, id))
            .into_iter()
            .collect()
    }

    fn parent(&self) -> Option<i64> {
        self.parent
    }

    fn reference_mut(&mut self, field: &str) -> Option<&mut Option<i64>> {
        (field == "parent").then_some(&mut self.parent)
    }

    fn write(&self, a: &mut organization::ActiveModel) {
        a.slug.set_if_not_equals(self.slug.clone());
        a.name.set_if_not_equals(self.name.clone());
        a.acronym.set_if_not_equals(self.acronym.clone());
        a.kind.set_if_not_equals(self.kind);
        a.parent_id.set_if_not_equals(self.parent);
        a.website.set_if_not_equals(self.website.clone());
        a.description.set_if_not_equals(self.description.clone());
    }
}

/// An agreement's editable columns.
#[derive(Debug, Clone)]
pub struct AgreementFields {
    pub slug: String,
    pub title: String,
    pub kind: AgreementKind,
    pub signed_on: Option<PartialDate>,
    pub summary: Option<String>,
}

impl Fields for AgreementFields {
    type E = agreement::Entity;

    fn from_model(m: &agreement::Model) -> Self {
        Self {
            slug: m.slug.clone(),
            title: m.title.clone(),
            kind: m.kind,
            signed_on: PartialDate::from_parts(m.signed_on, m.signed_precision),
            summary: m.summary.clone(),
        }
    }

    fn slug(&self) -> &str {
        &self.slug
    }

    fn check(&self, p: &mut Problems, path: &str) {
        p.slug(&format!("{path}.slug"), &self.slug);
        p.text(&format!("{path}.title"), &self.title, MAX_NAME_CHARS);
        p.optional_text(&format!("{path}.summary"), &self.summary, MAX_TEXT_CHARS);
    }

    fn references(&self) -> Vec<(&'static str, Table, i64)> {
        Vec::new()
    }

    fn write(&self, a: &mut agreement::ActiveModel) {
        let (on, precision) = date_parts(self.signed_on);
        a.slug.set_if_not_equals(self.slug.clone());
        a.title.set_if_not_equals(self.title.clone());
        a.kind.set_if_not_equals(self.kind);
        a.signed_on.set_if_not_equals(on);
        a.signed_precision.set_if_not_equals(precision);
        a.summary.set_if_not_equals(self.summary.clone());
    }
}

/// A project's editable columns.
#[derive(Debug, Clone)]
pub struct ProjectFields {
    pub slug: String,
    pub name: String,
    pub kind: ProjectKind,
    pub status: ProjectStatus,
    pub summary: Option<String>,
    pub starts_on: Option<PartialDate>,
    pub ends_on: Option<PartialDate>,
    pub agreement: Option<i64>,
}

impl Fields for ProjectFields {
    type E = project::Entity;

    fn from_model(m: &project::Model) -> Self {
        Self {
            slug: m.slug.clone(),
            name: m.name.clone(),
            kind: m.kind,
            status: m.status,
            summary: m.summary.clone(),
            starts_on: PartialDate::from_parts(m.starts_on, m.starts_precision),
            ends_on: PartialDate::from_parts(m.ends_on, m.ends_precision),
            agreement: m.agreement_id,
        }
    }

    fn slug(&self) -> &str {
        &self.slug
    }

    fn check(&self, p: &mut Problems, path: &str) {
        p.slug(&format!("{path}.slug"), &self.slug);
        p.text(&format!("{path}.name"), &self.name, MAX_NAME_CHARS);
        p.optional_text(&format!("{path}.summary"), &self.summary, MAX_TEXT_CHARS);
        p.span(&format!("{path}.endsOn"), self.starts_on, self.ends_on);
    }

    fn references(&self) -> Vec<(&'static str, Table, i64)> {
        self.agreement
            .map(|id| ("agreement", Table::Agreement, id))
            .into_iter()
            .collect()
    }

    fn reference_mut(&mut self, field: &str) -> Option<&mut Option<i64>> {
        (field == "agreement").then_some(&mut self.agreement)
    }

    fn write(&self, a: &mut project::ActiveModel) {
        let (starts_on, starts_precision) = date_parts(self.starts_on);
        let (ends_on, ends_precision) = date_parts(self.ends_on);
        a.slug.set_if_not_equals(self.slug.clone());
        a.name.set_if_not_equals(self.name.clone());
        a.kind.set_if_not_equals(self.kind);
        a.status.set_if_not_equals(self.status);
        a.summary.set_if_not_equals(self.summary.clone());
        a.starts_on.set_if_not_equals(starts_on);
        a.starts_precision.set_if_not_equals(starts_precision);
        a.ends_on.set_if_not_equals(ends_on);
        a.ends_precision.set_if_not_equals(ends_precision);
        a.agreement_id.set_if_not_equals(self.agreement);
    }
}

/// An event's editable columns (a session is an event whose parent is another event).
#[derive(Debug, Clone)]
pub struct EventFields {
    pub slug: String,
    pub name: String,
    pub kind: EventKind,
    pub summary: Option<String>,
    pub starts_on: Option<PartialDate>,
    pub ends_on: Option<PartialDate>,
    pub location: Option<String>,
    pub recurrence: Option<Recurrence>,
    pub parent: Option<i64>,
    pub project: Option<i64>,
    pub agreement: Option<i64>,
}

impl Fields for EventFields {
    type E = event::Entity;

    fn from_model(m: &event::Model) -> Self {
        Self {
            slug: m.slug.clone(),
            name: m.name.clone(),
            kind: m.kind,
            summary: m.summary.clone(),
            starts_on: PartialDate::from_parts(m.starts_on, m.starts_precision),
            ends_on: PartialDate::from_parts(m.ends_on, m.ends_precision),
            location: m.location.clone(),
            recurrence: m.recurrence,
            parent: m.parent_id,
            project: m.project_id,
            agreement: m.agreement_id,
        }
    }

    fn slug(&self) -> &str {
        &self.slug
    }

    fn check(&self, p: &mut Problems, path: &str) {
        p.slug(&format!("{path}.slug"), &self.slug);
        p.text(&format!("{path}.name"), &self.name, MAX_NAME_CHARS);
        p.optional_text(&format!("{path}.summary"), &self.summary, MAX_TEXT_CHARS);
        p.optional_text(&format!("{path}.location"), &self.location, MAX_NAME_CHARS);
        p.span(&format!("{path}.endsOn"), self.starts_on, self.ends_on);
    }

    fn references(&self) -> Vec<(&'static str, Table, i64)> {
        let mut refs = Vec::new();
        if let Some(id) = self.parent {
            refs.push(("parent", Table::Event, id));
        }
        if let Some(id) = self.project {
            refs.push(("project", Table::Project, id));
        }
        if let Some(id) = self.agreement {
            refs.push(("agreement", Table::Agreement, id));
        }
        refs
    }

    fn parent(&self) -> Option<i64> {
        self.parent
    }

    fn reference_mut(&mut self, field: &str) -> Option<&mut Option<i64>> {
        match field {
            "parent" => Some(&mut self.parent),
            "project" => Some(&mut self.project),
            "agreement" => Some(&mut self.agreement),
            _ => None,
        }
    }

    fn write(&self, a: &mut event::ActiveModel) {
        let (starts_on, starts_precision) = date_parts(self.starts_on);
        let (ends_on, ends_precision) = date_parts(self.ends_on);
        a.slug.set_if_not_equals(self.slug.clone());
        a.name.set_if_not_equals(self.name.clone());
        a.kind.set_if_not_equals(self.kind);
        a.summary.set_if_not_equals(self.summary.clone());
        a.starts_on.set_if_not_equals(starts_on);
        a.starts_precision.set_if_not_equals(starts_precision);
        a.ends_on.set_if_not_equals(ends_on);
        a.ends_precision.set_if_not_equals(ends_precision);
        a.location.set_if_not_equals(self.location.clone());
        a.recurrence.set_if_not_equals(self.recurrence);
        a.parent_id.set_if_not_equals(self.parent);
        a.project_id.set_if_not_equals(self.project);
        a.agreement_id.set_if_not_equals(self.agreement);
    }
}

/// An instrument's editable columns.
#[derive(Debug, Clone)]
pub struct InstrumentFields {
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: InstrumentKind,
    pub issuer: Option<i64>,
    pub adopted_on: Option<PartialDate>,
    pub url: Option<String>,
    pub description: Option<String>,
}

impl Fields for InstrumentFields {
    type E = instrument::Entity;

    fn from_model(m: &instrument::Model) -> Self {
        Self {
            slug: m.slug.clone(),
            name: m.name.clone(),
            acronym: m.acronym.clone(),
            kind: m.kind,
            issuer: m.issuer_id,
            adopted_on: PartialDate::from_parts(m.adopted_on, m.adopted_precision),
            url: m.url.clone(),
            description: m.description.clone(),
        }
    }

    fn slug(&self) -> &str {
        &self.slug
    }

    fn check(&self, p: &mut Problems, path: &str) {
        p.slug(&format!("{path}.slug"), &self.slug);
        p.text(&format!("{path}.name"), &self.name, MAX_NAME_CHARS);
        p.optional_text(&format!("{path}.acronym"), &self.acronym, MAX_SHORT_CHARS);
        p.url(&format!("{path}.url"), &self.url);
        p.optional_text(
            &format!("{path}.description"),
            &self.description,
            MAX_TEXT_CHARS,
        );
    }

    fn references(&self) -> Vec<(&'static str, Table, i64)> {
        self.issuer
            .map(|id| ("issuer", Table::Organization, id))
            .into_iter()
            .collect()
    }

    fn reference_mut(&mut self, field: &str) -> Option<&mut Option<i64>> {
        (field == "issuer").then_some(&mut self.issuer)
    }

    fn write(&self, a: &mut instrument::ActiveModel) {
        let (on, precision) = date_parts(self.adopted_on);
        a.slug.set_if_not_equals(self.slug.clone());
        a.name.set_if_not_equals(self.name.clone());
        a.acronym.set_if_not_equals(self.acronym.clone());
        a.kind.set_if_not_equals(self.kind);
        a.issuer_id.set_if_not_equals(self.issuer);
        a.adopted_on.set_if_not_equals(on);
        a.adopted_precision.set_if_not_equals(precision);
        a.url.set_if_not_equals(self.url.clone());
        a.description.set_if_not_equals(self.description.clone());
    }
}
