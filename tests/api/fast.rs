//! Connections, their edges and their nodes are resolved with leaf fields read in place
//! (`graphql::fast`) rather than a future per field. What a client sees must not change: the
//! keys in the query's order, `__typename` at every level, fragments on the object's own type
//! and on its interfaces, aliases, a key selected twice merged into one,
//! and a failing nested field reported with its full path while its siblings still answer.

use serde_json::{Value, json};

use crate::helpers::{error_codes, spawn_app};

#[tokio::test]
async fn a_page_read_in_place_answers_as_graphql_says() {
    let app = spawn_app().await;
    let ids = app
        .data(
            "{ ilo: organization(by: {slug: \"ilo\"}) { id }
               ungc: organization(by: {slug: \"ungc\"}) { id } }",
            json!({}),
        )
        .await;
    let query = r#"
        query {
          agreement(by: {slug: "ilo-ungc-partnership"}) {
            title
            parties(first: 5) {
              __typename
              totalCount
              edges { role }
              edges { since node { __typename slug ...Named ... on Organization { again: slug } } }
              nodes { ... on Node { id } slug again: slug }
            }
          }
        }
        fragment Named on Organization { name }
    "#;
    let text = app.graphql_text(query, json!({})).await;
    let expected = json!({ "data": { "agreement": {
        "title": "ILO participation in the UN Global Compact",
        "parties": {
            "__typename": "AgreementPartyConnection",
            "totalCount": 2,
            "edges": [
                { "role": "PARTNER", "since": "1999", "node": {
                    "__typename": "Organization", "slug": "ilo",
                    "name": "International Labour Organization", "again": "ilo" } },
                { "role": "PARTNER", "since": null, "node": {
                    "__typename": "Organization", "slug": "ungc",
                    "name": "United Nations Global Compact", "again": "ungc" } },
            ],
            "nodes": [
                { "id": ids["ilo"]["id"], "slug": "ilo", "again": "ilo" },
                { "id": ids["ungc"]["id"], "slug": "ungc", "again": "ungc" },
            ],
        },
    } } });
    // serde_json keeps keys sorted, so the order is checked on the text: the expected body
    // written out in the query's order, compact, as the server sends it.
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(body, expected, "{text}");
    let in_order = [
        "\"title\"",
        "\"parties\"",
        "\"__typename\":\"AgreementPartyConnection\"",
        "\"totalCount\"",
        "\"edges\":[{\"role\":\"PARTNER\",\"since\":\"1999\",\"node\":{\"__typename\":\"Organization\",\"slug\":\"ilo\",\"name\":",
        "\"again\":\"ilo\"}}",
        "\"nodes\":[{\"id\":",
        "\"slug\":\"ilo\",\"again\":\"ilo\"",
    ];
    let mut from = 0;
    for piece in in_order {
        let at = text[from..]
            .find(piece)
            .unwrap_or_else(|| panic!("`{piece}` after byte {from} of {text}"));
        from += at + piece.len();
    }
}

#[tokio::test]
async fn a_failing_field_inside_a_page_has_its_path_and_its_siblings_answer() {
    let app = spawn_app().await;
    let body = app
        .graphql(
            r#"{ organization(by: {slug: "ilo"}) {
                   name
                   agreements(first: 2) {
                     edges { role node { title parties(after: "not-a-cursor") { totalCount } } }
                   }
                 } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        error_codes(&body),
        ["BAD_USER_INPUT", "BAD_USER_INPUT"],
        "{body:#}"
    );
    let mut paths: Vec<Value> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["path"].clone())
        .collect();
    paths.sort_by_key(|p| p[3].as_u64());
    assert_eq!(
        paths,
        [
            json!(["organization", "agreements", "edges", 0, "node", "parties"]),
            json!(["organization", "agreements", "edges", 1, "node", "parties"]),
        ]
    );
    let organization = &body["data"]["organization"];
    assert_eq!(organization["name"], "International Labour Organization");
    let edges = organization["agreements"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {body:#}"));
    assert_eq!(edges.len(), 2);
    for edge in edges {
        assert!(edge["role"].is_string(), "{edge}");
        assert!(edge["node"]["title"].is_string(), "{edge}");
    }
}

/// A leaf that loads (a project's regions and themes) does not answer at once: its first try is
/// dropped and it runs as a future beside the others. Its load must still batch: a page of
/// projects costs the page and one statement each for all their regions and all their themes,
/// however many projects there are.
#[tokio::test]
async fn a_leaf_that_loads_still_batches_with_its_siblings() {
    let app = spawn_app().await;
    let query = "query($first: Int) { projects(first: $first) { nodes { slug regions themes } } }";
    let mut figures = Vec::new();
    for first in [2, 20] {
        let (data, fewest) = app
            .fewest_statements(query, json!({ "first": first }))
            .await;
        figures.push((first, fewest));
        let nodes = data["projects"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if first == 20 {
            let asia = nodes
                .iter()
                .find(|p| p["slug"] == "responsible-supply-chains-asia")
                .unwrap_or_else(|| panic!("no responsible-supply-chains-asia in {data:#}"));
            assert_eq!(asia["regions"], json!(["asia"]), "{asia}");
            assert!(
                asia["themes"].as_array().is_some_and(|t| !t.is_empty()),
                "{asia}"
            );
        }
    }
    assert_eq!(
        figures[0].1, figures[1].1,
        "statements by page size: {figures:?}"
    );
    // The page, the regions of every project, the themes of every project.
    assert_eq!(figures[1].1, 3, "statements by page size: {figures:?}");
}
