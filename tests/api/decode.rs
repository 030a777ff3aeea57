//! The read path decodes rows by column position (`store::decode`), not through sea-orm's
//! by-name `FromQueryResult`. Over generated data on both stores, every record and every link
//! row read that way equals the model sea-orm reads by name: NULLs, enums, partial dates and
//! timestamps included. Read with only the columns that are not lazy (`decode::Columns`), the
//! rest equals and the lazy columns are left out.

use std::collections::{BTreeSet, HashMap};

use partnerships::{
    generate::{self, Options},
    store::{
        decode::{Columns, Positional},
        nested::{self, LinkRelation, NestedQuery, Projection},
        page::PageArgs,
        records::{self, Record},
    },
};
use sea_orm::{DatabaseConnection, EntityTrait, Iterable, ModelTrait, Value};

use crate::helpers::{TestApp, spawn_app, spawn_embedded_app};

fn id(value: Value) -> i64 {
    match value {
        Value::BigInt(Some(id)) => id,
        other => panic!("not an id: {other:?}"),
    }
}

/// A filter that keeps every record.
struct Everything;

impl records::Filter for Everything {
    fn condition(&self) -> sea_orm::Condition {
        sea_orm::Condition::all()
    }

    fn resolve<'a>(
        &'a mut self,
        _: &'a DatabaseConnection,
    ) -> futures::future::BoxFuture<'a, partnerships::error::AppResult<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// `part`, read without its lazy columns, equals `whole` in every other column; whether a lazy
/// column of `whole` held something `part` left out.
fn left_out_lazy<M: ModelTrait + Positional>(part: &M, whole: &M) -> bool {
    let mut left_out = false;
    for (i, column) in <M::Entity as EntityTrait>::Column::iter().enumerate() {
        if M::LAZY & (1 << i) == 0 {
            assert_eq!(part.get(column), whole.get(column), "column {i}");
        } else {
            left_out |= part.get(column) != whole.get(column);
        }
    }
    left_out
}

/// Every record of kind `E`, by position (the loaders' `find_by_ids`) and by name.
async fn same_records<E>(db: &DatabaseConnection) -> usize
where
    E: Record,
    E::Model: PartialEq + std::fmt::Debug,
{
    let by_name = E::find().all(db).await.unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<i64> = by_name.iter().map(|m| id(m.get(E::ID))).collect();
    let mut by_position = records::find_by_ids::<E>(db, &ids)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    by_position.sort_by_key(|m| id(m.get(E::ID)));
    let mut by_name = by_name;
    by_name.sort_by_key(|m| id(m.get(E::ID)));
    assert_eq!(by_position, by_name);

    // A page of up to 100 without the lazy columns.
    let whole: HashMap<i64, &E::Model> = by_name.iter().map(|m| (id(m.get(E::ID)), m)).collect();
    let args = PageArgs::new(Some(100), None, None, None).unwrap_or_else(|e| panic!("{e}"));
    let part = records::list::<E>(db, &Everything, &[], &args, Columns::required::<E::Model>())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!part.rows.is_empty());
    let mut left_out = false;
    for (model, _) in &part.rows {
        left_out |= left_out_lazy(model, whole[&id(model.get(E::ID))]);
    }
    assert!(left_out, "some lazy column was left out of the page");
    by_name.len()
}

/// Every link row of `R` and its record, read from one nested page per owner, equal to what
/// sea-orm reads by name.
async fn same_links<R>(db: &DatabaseConnection) -> usize
where
    R: LinkRelation,
    <R::Link as EntityTrait>::Model: PartialEq + std::fmt::Debug,
    <R::Target as EntityTrait>::Model: PartialEq + std::fmt::Debug,
{
    let links: HashMap<i64, _> = R::Link::find()
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|l| (id(l.get(R::LINK_ID)), l))
        .collect();
    let targets: HashMap<i64, _> = R::Target::find()
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|t| (id(t.get(R::Target::ID)), t))
        .collect();
    let owners: Vec<i64> = links
        .values()
        .map(|l| id(l.get(R::OWNER)))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let query = NestedQuery {
        role: None,
        filter: R::Filter::default(),
        order: Vec::new(),
        linked: None,
        first: 100,
        after: None,
    };
    let pages = nested::link_pages::<R>(db, &owners, &query, Projection::ALL)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut seen = 0;
    for page in pages.values() {
        for ((link, target), _) in &page.rows {
            assert_eq!(Some(link), links.get(&id(link.get(R::LINK_ID))));
            assert_eq!(Some(target), targets.get(&id(target.get(R::Target::ID))));
            seen += 1;
        }
    }

    // The same pages without the lazy columns of either.
    let required = Projection {
        link: Columns::required::<<R::Link as EntityTrait>::Model>(),
        target: Columns::required::<<R::Target as EntityTrait>::Model>(),
    };
    let parts = nested::link_pages::<R>(db, &owners, &query, required)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (mut part_seen, mut left_out) = (0, false);
    for page in parts.values() {
        for ((link, target), _) in &page.rows {
            left_out |= left_out_lazy(link, &links[&id(link.get(R::LINK_ID))]);
            left_out |= left_out_lazy(target, &targets[&id(target.get(R::Target::ID))]);
            part_seen += 1;
        }
    }
    assert_eq!(part_seen, seen);
    assert!(left_out, "some lazy column was left out of the pages");
    seen
}

async fn positions_read_what_names_read(app: &TestApp) {
    let db = &app.store.connection;
    generate::run(
        db,
        Options {
            scale: 0.01,
            seed: 7,
            progress: false,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("generating: {e:#}"));

    assert!(same_records::<entity::organization::Entity>(db).await > 100);
    assert!(same_records::<entity::agreement::Entity>(db).await > 10);
    assert!(same_records::<entity::project::Entity>(db).await > 10);
    assert!(same_records::<entity::event::Entity>(db).await > 100);
    assert!(same_records::<entity::instrument::Entity>(db).await > 0);

    // Some links have a `since` date and some have none: both decode.
    let parties = entity::agreement_party::Entity::find()
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(parties.iter().any(|p| p.since_on.is_some()));
    assert!(parties.iter().any(|p| p.since_on.is_none()));

    use nested::*;
    assert!(same_links::<AgreementsOfOrganization>(db).await > 0);
    assert!(same_links::<PartiesOfAgreement>(db).await > 0);
    assert!(same_links::<ProjectsOfOrganization>(db).await > 0);
    assert!(same_links::<ParticipantsOfProject>(db).await > 0);
    assert!(same_links::<EventsOfOrganization>(db).await > 0);
    assert!(same_links::<ParticipantsOfEvent>(db).await > 0);
    assert!(same_links::<InstrumentsOfAgreement>(db).await > 0);
    assert!(same_links::<AgreementsOfInstrument>(db).await > 0);
    // The seed's own links (generated data adds none to these two tables).
    assert!(same_links::<InstrumentsOfProject>(db).await > 0);
    assert!(same_links::<ProjectsOfInstrument>(db).await > 0);
    assert!(same_links::<InstrumentsOfEvent>(db).await > 0);
    assert!(same_links::<EventsOfInstrument>(db).await > 0);
}

#[tokio::test]
async fn rows_read_by_position_equal_rows_read_by_name_on_postgres() {
    positions_read_what_names_read(&spawn_app().await).await;
}

#[tokio::test]
async fn rows_read_by_position_equal_rows_read_by_name_on_sqlite() {
    positions_read_what_names_read(&spawn_embedded_app().await).await;
}
