//! Instruments: filters and orderings.

use entity::{InstrumentKind, instrument, organization};
use sea_orm::Condition;

use super::{
    filter::{DateFilter, EnumFilter, TextFilter, combine, references},
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
