//! Only the columns a query's fields read: a page of organizations asked for their slug and
//! name does not fetch their descriptions, websites or bookkeeping. The store's statements leave
//! out the lazy columns (`store::decode::Positional::LAZY`) that no selected field reads; each
//! object type says which of its fields read which of them (`Reads`). A column that is not lazy
//! is always read, so the types' other fields and the store's sort keys, lookups and grouping
//! never miss one.

use async_graphql::Lookahead;

use crate::store::decode::{Columns, Positional};

/// The lazy columns an object type's fields read.
pub trait Reads {
    /// The model the type wraps.
    type Model: Positional;
    /// Each field that reads lazy columns, and the columns it reads. A lazy column no field
    /// lists is never read (bookkeeping: `created_at`, `updated_at`, `source_id`).
    const READS: &'static [(&'static str, &'static [&'static str])];
}

/// The columns of `T`'s model that the fields selected in any of `selections` read.
pub fn columns<T: Reads>(selections: &[Lookahead<'_>]) -> Columns {
    let mut columns = Columns::required::<T::Model>();
    for (field, reads) in T::READS {
        if selections.iter().any(|s| s.field(field).exists()) {
            for column in *reads {
                columns = columns.with::<T::Model>(column);
            }
        }
    }
    columns
}

/// The nodes of a connection field (`ctx.look_ahead()` on it), under `nodes` and `edges.node`.
pub fn nodes<'a>(connection: &Lookahead<'a>) -> [Lookahead<'a>; 2] {
    [
        connection.field("nodes"),
        connection.field("edges").field("node"),
    ]
}

/// Declares the lazy columns an object type's fields read.
macro_rules! reads {
    ($type:ty, $model:ty, { $($field:literal => [$($column:literal),* $(,)?]),* $(,)? }) => {
        impl $crate::graphql::projection::Reads for $type {
            type Model = $model;
            const READS: &'static [(&'static str, &'static [&'static str])] =
                &[$(($field, &[$($column),*])),*];
        }
    };
}
pub(super) use reads;

#[cfg(test)]
mod tests {
    use super::Reads;
    use crate::store::decode::Positional;

    fn names_lazy_columns<T: Reads>() {
        for (field, reads) in T::READS {
            for column in *reads {
                let i = T::Model::COLUMNS.iter().position(|c| c == column);
                assert!(
                    i.is_some_and(|i| T::Model::LAZY & (1 << i) != 0),
                    "`{field}` reads `{column}`, which is not a lazy column of its model"
                );
            }
        }
    }

    #[test]
    fn every_field_reads_lazy_columns_of_its_model() {
        use crate::graphql::{
            agreement::Agreement, event::Event, instrument::Instrument, nested,
            organization::Organization, project::Project,
        };
        names_lazy_columns::<Organization>();
        names_lazy_columns::<Agreement>();
        names_lazy_columns::<Project>();
        names_lazy_columns::<Event>();
        names_lazy_columns::<Instrument>();
        names_lazy_columns::<nested::OrganizationAgreementEdge>();
        names_lazy_columns::<nested::AgreementPartyEdge>();
        names_lazy_columns::<nested::ProjectParticipantEdge>();
    }
}
