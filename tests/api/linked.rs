//! `linked`: a connection through a link table ordered by when each link was made (the link's
//! id), the cheapest page, on both stores: pages walked with `after` give every link once, in
//! the order of the link rows; DESC reverses it; `orderBy` with it is refused, and so is a
//! cursor of another ordering.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_codes, spawn_app, spawn_embedded_app};

const PAGE: &str = r#"query ($after: String, $dir: OrderDirection!) {
  organization(by: { slug: "ilo" }) {
    agreements(first: 4, linked: $dir, after: $after) {
      edges { role node { slug } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"#;

/// The ILO's agreements page by page in `dir`, and the statements the walk cost.
async fn walk(app: &TestApp, dir: &str) -> (Vec<String>, u64) {
    let (mut slugs, mut after, mut statements) = (Vec::new(), Value::Null, 0);
    loop {
        let before = app.statements();
        let body = app
            .graphql(PAGE, json!({ "after": after, "dir": dir }))
            .await;
        statements += app.statements() - before;
        assert!(body["errors"].is_null(), "{body:#}");
        let page = &body["data"]["organization"]["agreements"];
        for edge in page["edges"].as_array().into_iter().flatten() {
            slugs.push(edge["node"]["slug"].as_str().unwrap_or_default().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return (slugs, statements);
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// The ILO's agreements in the order of their link rows' ids, from the database.
async fn by_link_id(app: &TestApp) -> Vec<String> {
    let db = &app.store.connection;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT a.slug FROM agreement_parties l JOIN agreements a ON a.id = l.agreement_id \
             JOIN organizations o ON o.id = l.organization_id WHERE o.slug = 'ilo' ORDER BY l.id",
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    rows.iter()
        .map(|row| row.try_get::<String>("", "slug").unwrap_or_default())
        .collect()
}

async fn pages_follow_the_link_rows(app: &TestApp) {
    let expected = by_link_id(app).await;
    assert!(
        expected.len() > 8,
        "the ILO needs several pages: {expected:?}"
    );

    let (asc, statements) = walk(app, "ASC").await;
    assert_eq!(asc, expected, "oldest link first");
    let pages = expected.len().div_ceil(4) as u64;
    assert_eq!(
        statements,
        2 * pages,
        "the organization and its page, per page"
    );

    let (desc, _) = walk(app, "DESC").await;
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(desc, reversed, "newest link first");

    // Not with orderBy; a cursor of another ordering is refused.
    let both = app
        .graphql(
            r#"{ organization(by: { slug: "ilo" }) { agreements(linked: ASC, orderBy: [{ field: TITLE }]) { nodes { slug } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&both), ["BAD_USER_INPUT"], "{both:#}");
    assert_eq!(
        both["errors"][0]["extensions"]["field"], "linked",
        "{both:#}"
    );
    let by_title = app
        .data(
            r#"{ organization(by: { slug: "ilo" }) { agreements(first: 1) { pageInfo { endCursor } } } }"#,
            json!({}),
        )
        .await;
    let cursor = &by_title["organization"]["agreements"]["pageInfo"]["endCursor"];
    let mixed = app
        .graphql(PAGE, json!({ "after": cursor, "dir": "ASC" }))
        .await;
    assert_eq!(error_codes(&mixed), ["BAD_USER_INPUT"], "{mixed:#}");
}

#[tokio::test]
async fn linked_pages_follow_the_link_rows_on_postgres() {
    pages_follow_the_link_rows(&spawn_app().await).await;
}

#[tokio::test]
async fn linked_pages_follow_the_link_rows_on_sqlite() {
    pages_follow_the_link_rows(&spawn_embedded_app().await).await;
}
