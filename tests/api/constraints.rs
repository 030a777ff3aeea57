//! The database itself refuses bad rows, on both stores: the application's checks are not the
//! only line of defence.

use chrono::{NaiveDate, Utc};
use entity::{
    AgreementKind, DatePrecision, OrganizationKind, PartyRole, ProjectKind, ProjectStatus,
    agreement, agreement_party, organization, project,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, ModelTrait, SqlErr,
};

use partnerships::error::is_foreign_key_violation;

use crate::helpers::{TempSqlite, TestDb};

/// An organization with defaults and the given slug.
fn organization(slug: &str) -> organization::ActiveModel {
    let now = Utc::now();
    organization::ActiveModel {
        slug: Set(slug.to_owned()),
        name: Set(format!("Organization {slug}")),
        kind: Set(OrganizationKind::Other),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
}

fn agreement(slug: &str) -> agreement::ActiveModel {
    let now = Utc::now();
    agreement::ActiveModel {
        slug: Set(slug.to_owned()),
        title: Set(format!("Agreement {slug}")),
        kind: Set(AgreementKind::Partnership),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
}

fn party(agreement_id: i64, organization_id: i64) -> agreement_party::ActiveModel {
    let now = Utc::now();
    agreement_party::ActiveModel {
        agreement_id: Set(agreement_id),
        organization_id: Set(organization_id),
        role: Set(PartyRole::Signatory),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
}

fn sql_err<T: std::fmt::Debug>(result: Result<T, DbErr>, what: &str) -> Option<SqlErr> {
    match result {
        Ok(row) => panic!("{what} was accepted: {row:?}"),
        Err(err) => err.sql_err(),
    }
}

async fn constraints_hold(db: &DatabaseConnection) {
    Migrator::up(db, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ilo = organization("ilo")
        .insert(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let duplicate = organization("ilo").insert(db).await;
    assert!(
        matches!(
            sql_err(duplicate, "a duplicate slug"),
            Some(SqlErr::UniqueConstraintViolation(_))
        ),
        "a duplicate slug is a unique violation"
    );

    let mut orphan = organization("orphan");
    orphan.parent_id = Set(Some(9_999));
    assert!(
        matches!(
            sql_err(orphan.insert(db).await, "a dangling parent"),
            Some(SqlErr::ForeignKeyConstraintViolation(_))
        ),
        "a parent that does not exist is a foreign-key violation"
    );

    let gfa = agreement("gfa")
        .insert(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(
            sql_err(
                party(gfa.id, 9_999).insert(db).await,
                "a party that does not exist"
            ),
            Some(SqlErr::ForeignKeyConstraintViolation(_))
        ),
        "a party must be an existing organization"
    );
    party(gfa.id, ilo.id)
        .insert(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(
            sql_err(
                party(gfa.id, ilo.id).insert(db).await,
                "the same party twice"
            ),
            Some(SqlErr::UniqueConstraintViolation(_))
        ),
        "the same organization cannot hold the same role twice"
    );

    // RESTRICT: an organization that is party to an agreement cannot be deleted under it.
    // SQLite reports a RESTRICT as a trigger constraint (code 1811), which `sql_err` does not
    // classify; the application's `is_foreign_key_violation` knows both.
    let refused = ilo.clone().delete(db).await;
    assert!(
        refused.as_ref().is_err_and(is_foreign_key_violation),
        "deleting a referenced organization is refused: {refused:?}"
    );
    // CASCADE: an agreement's parties go with it.
    gfa.delete(db).await.unwrap_or_else(|e| panic!("{e}"));
    let parties = agreement_party::Entity::find()
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        parties.is_empty(),
        "the parties were deleted with their agreement"
    );
    ilo.delete(db)
        .await
        .unwrap_or_else(|e| panic!("an unreferenced organization can go: {e}"));

    let now = Utc::now();
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("bad date"));
    let span =
        |slug: &str, starts: (NaiveDate, DatePrecision), ends: (NaiveDate, DatePrecision)| {
            project::ActiveModel {
                slug: Set(slug.into()),
                name: Set(format!("Project {slug}")),
                kind: Set(ProjectKind::Project),
                status: Set(ProjectStatus::Unknown),
                starts_on: Set(Some(starts.0)),
                starts_precision: Set(Some(starts.1)),
                ends_on: Set(Some(ends.0)),
                ends_precision: Set(Some(ends.1)),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
                ..Default::default()
            }
        };
    use DatePrecision::{Day, Month, Year};
    let refused_spans = [
        (
            "a year that ends a whole year before its start year",
            span(
                "backwards",
                (day(2020, 1, 1), Year),
                (day(2019, 1, 1), Year),
            ),
        ),
        (
            "a day a whole year before its start year",
            span(
                "backwards-day",
                (day(2020, 1, 1), Year),
                (day(2019, 1, 1), Day),
            ),
        ),
        (
            "a month before its start month",
            span(
                "backwards-month",
                (day(2020, 6, 1), Month),
                (day(2020, 5, 1), Month),
            ),
        ),
    ];
    for (reason, backwards) in refused_spans {
        assert_check_violation(backwards.insert(db).await, reason);
    }
    // Precision counts: "from June 2020 until 2020" ends in the year it starts.
    for (reason, coarser_end) in [
        (
            "a year that contains the start month",
            span(
                "within-year",
                (day(2020, 6, 1), Month),
                (day(2020, 1, 1), Year),
            ),
        ),
        (
            "a month that contains the start day",
            span(
                "within-month",
                (day(2020, 6, 15), Day),
                (day(2020, 6, 1), Month),
            ),
        ),
    ] {
        coarser_end
            .insert(db)
            .await
            .unwrap_or_else(|e| panic!("{reason} is a valid end: {e}"));
    }

    let mut half_date = agreement("half-date");
    half_date.signed_on = Set(Some(day(2020, 1, 1)));
    assert_check_violation(half_date.insert(db).await, "a date without its precision");

    let mut empty_slug = organization("");
    empty_slug.name = Set("No slug".into());
    assert_check_violation(empty_slug.insert(db).await, "an empty slug");
}

/// The write failed because of a CHECK constraint (not, say, a missing column).
fn assert_check_violation<T: std::fmt::Debug>(result: Result<T, DbErr>, what: &str) {
    let message = match result {
        Ok(row) => panic!("{what} was accepted: {row:?}"),
        Err(err) => err.to_string(),
    };
    // PostgreSQL: "violates check constraint"; SQLite: "CHECK constraint failed".
    assert!(
        message.to_lowercase().contains("check constraint"),
        "{what} should be refused by a CHECK constraint, got: {message}"
    );
}

#[tokio::test]
async fn postgres_refuses_duplicate_slugs_dangling_references_and_bad_dates() {
    let test_db = TestDb::empty().await;
    constraints_hold(&test_db.connect().await).await;
}

#[tokio::test]
async fn sqlite_refuses_duplicate_slugs_dangling_references_and_bad_dates() {
    let file = TempSqlite::new();
    constraints_hold(&file.connect().await).await;
}
