//! Agreements and their parties: filters, orderings, and the batched reads of parties.

use entity::{
    AgreementKind, InstrumentRole, PartyRole, agreement, agreement_instrument, agreement_party,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, RelationTrait};

use migration::m20261201_000001_link_order_keys as order_keys;
use sea_orm::sea_query::SelectStatement;

use crate::error::AppResult;

use super::{
    filter::{
        DateFilter, EnumFilter, Link, NamedBySlug, TextFilter, combine, count_links, linked_ids,
    },
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

impl NamedBySlug for AgreementFilter {
    fn slugs(&self) -> Option<Vec<String>> {
        // Every field named, so that a new one cannot be overlooked here.
        let Self {
            slug,
            title,
            kind,
            signed_on,
            parties,
            instruments,
            and,
            or,
            not,
        } = self;
        if !(title.is_none()
            && kind.is_none()
            && signed_on.is_none()
            && parties.is_none()
            && instruments.is_none()
            && not.is_none()
            && and.is_empty()
            && or.is_empty())
        {
            return None;
        }
        slug.as_ref().and_then(TextFilter::exact_values)
    }
}

impl AgreementFilter {
    /// Looks up the records that this filter's relations name by slug alone (not inside `and`,
    /// `or` or `not`), so that the statement compares with their ids.
    pub async fn resolve_links(&mut self, db: &impl ConnectionTrait) -> AppResult<()> {
        if let Some(link) = &mut self.parties {
            link.resolve::<entity::organization::Entity>(db).await?;
        }
        if let Some(link) = &mut self.instruments {
            link.resolve::<entity::instrument::Entity>(db).await?;
        }
        Ok(())
    }
}

impl AgreementFilter {
    /// The count of the agreements this filter matches from link rows alone, when it is one
    /// relation (parties or instruments) named by slug, with at most the signing date besides
    /// ([`count_by_links`]).
    pub fn count_by_links(&self) -> Option<SelectStatement> {
        let AgreementFilter {
            slug: None,
            title: None,
            kind: None,
            signed_on,
            parties,
            instruments,
            and,
            or,
            not: None,
        } = self
        else {
            return None;
        };
        if !and.is_empty() || !or.is_empty() {
            return None;
        }
        let dates = [("signed_on", signed_on)];
        match (parties, instruments) {
            (Some(link), None) => count_links!(
                agreement_party,
                AgreementId,
                OrganizationId,
                link,
                &order_keys::AGREEMENT,
                &dates
            ),
            (None, Some(link)) => count_links!(
                agreement_instrument,
                AgreementId,
                InstrumentId,
                link,
                &order_keys::AGREEMENT,
                &dates
            ),
            _ => None,
        }
    }
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
                    (L::OrganizationId, Relation::Organization.def()),
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
                    (L::InstrumentId, Relation::Instrument.def()),
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
