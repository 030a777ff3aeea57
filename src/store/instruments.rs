//! Instruments: filters and orderings.

use entity::{InstrumentKind, instrument, organization};
use sea_orm::Condition;
use sea_orm::ConnectionTrait;

use crate::error::AppResult;

use super::{
    filter::{DateFilter, EnumFilter, NamedBySlug, TextFilter, combine, references},
    organizations::OrganizationFilter,
    page::{Direction, SortKey},
};

#[derive(Debug, Clone, Default)]
pub struct InstrumentFilter {
    pub slug: Option<TextFilter>,
    pub name: Option<TextFilter>,
    pub acronym: Option<TextFilter>,
    pub kind: Option<EnumFilter<InstrumentKind>>,
    pub adopted_on: Option<DateFilter>,
    /// Was issued by an organization matching this.
    pub issuer: Option<Box<OrganizationFilter>>,
    pub and: Vec<InstrumentFilter>,
    pub or: Vec<InstrumentFilter>,
    pub not: Option<Box<InstrumentFilter>>,
}

impl NamedBySlug for InstrumentFilter {
    fn slugs(&self) -> Option<Vec<String>> {
        // Every field named, so that a new one cannot be overlooked here.
        let Self {
            slug,
            name,
            acronym,
            kind,
            adopted_on,
            issuer,
            and,
            or,
            not,
        } = self;
        if !(name.is_none()
            && acronym.is_none()
            && kind.is_none()
            && adopted_on.is_none()
            && issuer.is_none()
            && not.is_none()
            && and.is_empty()
            && or.is_empty())
        {
            return None;
        }
        slug.as_ref().and_then(TextFilter::exact_values)
    }
}

impl InstrumentFilter {
    /// Nothing to look up: no relation of this filter goes through a link table.
    pub async fn resolve_links(&mut self, _db: &impl ConnectionTrait) -> AppResult<()> {
        Ok(())
    }
}

impl InstrumentFilter {
    pub fn condition(&self) -> Condition {
        use instrument::Column as C;
        let mut own = Condition::all();
        if let Some(f) = &self.slug {
            own = own.add(f.condition(C::Slug));
        }
        if let Some(f) = &self.name {
            own = own.add(f.condition(C::Name));
        }
        if let Some(f) = &self.acronym {
            own = own.add(f.condition(C::Acronym));
        }
        if let Some(f) = &self.kind {
            own = own.add(f.condition(C::Kind));
        }
        if let Some(f) = &self.adopted_on {
            own = own.add(f.condition(C::AdoptedOn));
        }
        if let Some(f) = &self.issuer {
            own = own.add(references::<organization::Entity>(
                C::IssuerId,
                organization::Column::Id,
                f.condition(),
            ));
        }
        combine(
            own,
            &self.and,
            &self.or,
            self.not.as_deref(),
            Self::condition,
        )
    }
}

/// What instruments can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstrumentOrderField {
    Name,
    Slug,
    Kind,
    AdoptedOn,
}

impl InstrumentOrderField {
    pub fn key(self, direction: Direction) -> SortKey<instrument::Column> {
        use instrument::Column as C;
        let column = match self {
            Self::Name => C::Name,
            Self::Slug => C::Slug,
            Self::Kind => C::Kind,
            Self::AdoptedOn => C::AdoptedOn,
        };
        SortKey { column, direction }
    }
}
