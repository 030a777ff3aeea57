//! Agreements and their parties: filters, orderings, and the batched reads of parties.

use entity::{
    AgreementKind, InstrumentRole, PartyRole, agreement, agreement_instrument, agreement_party,
};
use sea_orm::{ColumnTrait, Condition, RelationTrait};

use super::{
    filter::{DateFilter, EnumFilter, Link, TextFilter, combine, linked_ids},
    instruments::InstrumentFilter,
    organizations::OrganizationFilter,
    page::{Direction, SortKey},
};

#[derive(Debug, Clone, Default)]
pub struct AgreementFilter {
    pub slug: Option<TextFilter>,
    pub title: Option<TextFilter>,
    pub kind: Option<EnumFilter<AgreementKind>>,
    pub signed_on: Option<DateFilter>,
    /// Has at least one party matching in role and organization.
    pub parties: Option<Box<Link<PartyRole, OrganizationFilter>>>,
    /// Rests on at least one matching instrument.
    pub instruments: Option<Box<Link<InstrumentRole, InstrumentFilter>>>,
    pub and: Vec<AgreementFilter>,
    pub or: Vec<AgreementFilter>,
    pub not: Option<Box<AgreementFilter>>,
}

impl AgreementFilter {
    pub fn condition(&self) -> Condition {
        use agreement::Column as C;
        let mut own = Condition::all();
        if let Some(f) = &self.slug {
            own = own.add(f.condition(C::Slug));
        }
        if let Some(f) = &self.title {
            own = own.add(f.condition(C::Title));
        }
        if let Some(f) = &self.kind {
            own = own.add(f.condition(C::Kind));
        }
        if let Some(f) = &self.signed_on {
            own = own.add(f.condition(C::SignedOn));
        }
        if let Some(link) = &self.parties {
            use agreement_party::{Column as L, Relation};
            own = own.add(
                C::Id.in_subquery(linked_ids::<agreement_party::Entity, _, _>(
                    L::AgreementId,
                    Relation::Organization.def(),
                    L::Role,
                    link,
                    OrganizationFilter::condition,
                )),
            );
        }
        if let Some(link) = &self.instruments {
            use agreement_instrument::{Column as L, Relation};
            own = own.add(
                C::Id.in_subquery(linked_ids::<agreement_instrument::Entity, _, _>(
                    L::AgreementId,
                    Relation::Instrument.def(),
                    L::Role,
                    link,
                    InstrumentFilter::condition,
                )),
            );
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

/// What agreements can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementOrderField {
    Title,
    Slug,
    Kind,
    SignedOn,
}

impl AgreementOrderField {
    pub fn key(self, direction: Direction) -> SortKey<agreement::Column> {
        use agreement::Column as C;
        let column = match self {
            Self::Title => C::Title,
            Self::Slug => C::Slug,
            Self::Kind => C::Kind,
            Self::SignedOn => C::SignedOn,
        };
        SortKey { column, direction }
    }
}
