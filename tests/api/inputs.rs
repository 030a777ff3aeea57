//! Input values the stores cannot take or the types refuse: each is BAD_USER_INPUT naming
//! where it is (`extensions.field`), on both stores, at the root or on a nested field, inline
//! or through a variable, and nothing is written.

use partnerships::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_codes, spawn_app_with_auth, spawn_embedded_app_with, token};

async fn both_stores() -> [(&'static str, TestApp); 2] {
    [
        ("postgres", spawn_app_with_auth().await),
        (
            "sqlite",
            spawn_embedded_app_with(|s| s.auth = crate::helpers::auth_settings()).await,
        ),
    ]
}

/// The one error's `extensions.field`, asserting it is BAD_USER_INPUT.
fn bad_field(body: &Value, why: &str) -> String {
    assert_eq!(error_codes(body), ["BAD_USER_INPUT"], "{why}: {body:#}");
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("{why}: a field: {body:#}"))
        .to_owned()
}

#[tokio::test]
async fn a_nul_character_anywhere_in_an_input_is_bad_user_input_naming_where_it_is() {
    let cases = [
        (
            "a filter's text",
            r#"{ organizations(filter: {name: {contains: "a\u0000b"}}) { totalCount } }"#,
            json!({}),
            "filter.name.contains",
        ),
        (
            "a slug",
            r#"{ organization(by: {slug: "ilo\u0000"}) { name } }"#,
            json!({}),
            "by.slug",
        ),
        (
            "an item of a list",
            r#"{ organizations(filter: {slug: {in: ["ilo", "\u0000"]}}) { totalCount } }"#,
            json!({}),
            "filter.slug.in[1]",
        ),
        (
            "a nested field's filter",
            r#"{ organization(by: {slug: "ilo"}) { events(filter: {name: {eq: "\u0000"}}) { totalCount } } }"#,
            json!({}),
            "filter.name.eq",
        ),
        (
            "a variable",
            "query ($q: String!) { search(query: $q) { totalCount } }",
            json!({ "q": "labour\u{0}" }),
            "$q",
        ),
        (
            "inside a variable's object",
            "query ($f: OrganizationFilter) { organizations(filter: $f) { totalCount } }",
            json!({ "f": { "or": [{ "acronym": { "eq": "ILO" } }, { "name": { "startsWith": "\u{0}" } }] } }),
            "$f.or[1].name.startsWith",
        ),
        (
            "a variable's default",
            r#"query ($q: String = "x\u0000") { search(query: $q) { totalCount } }"#,
            json!({}),
            "$q",
        ),
    ];
    for (store, app) in both_stores().await {
        for (why, query, variables, field) in &cases {
            let body = app.graphql(query, variables.clone()).await;
            assert_eq!(bad_field(&body, why), *field, "{store}: {why}: {body:#}");
            assert!(
                body["data"].is_null(),
                "{store}: {why}: nothing ran: {body:#}"
            );
        }
    }
}

#[tokio::test]
async fn a_mutation_with_a_nul_character_writes_nothing() {
    for (store, app) in both_stores().await {
        let editor = token(Role::Editor, "nul");
        let body = app
            .graphql_as(
                &editor,
                r#"mutation { createOrganization(input: {slug: "nul-body", name: "N\u0000", kind: OTHER}) { created } }"#,
                json!({}),
            )
            .await;
        assert_eq!(bad_field(&body, store), "input.name", "{store}: {body:#}");
        let data = app
            .data(
                r#"{ organization(by: {slug: "nul-body"}) { name } }"#,
                json!({}),
            )
            .await;
        assert!(
            data["organization"].is_null(),
            "{store}: nothing written: {data:#}"
        );
    }
}

/// A custom scalar's text that does not parse (a `PartialDate` of "-1" or "2020-13") reaches
/// the resolver machinery, past validation: on a nested field the error had no code at all.
#[tokio::test]
async fn a_value_that_does_not_coerce_is_bad_user_input_naming_the_argument_at_any_depth() {
    let nested = r#"{ organization(by: {slug: "ilo"}) { acronym events(filter: {startsOn: {after: "-1"}}) { totalCount } } }"#;
    let through_default = r#"query ($d: PartialDate = "2020-13") { organization(by: {slug: "ilo"}) { acronym events(filter: {startsOn: {after: $d}}) { totalCount } } }"#;
    let through_variable = r#"query ($d: PartialDate) { organization(by: {slug: "ilo"}) { acronym events(filter: {startsOn: {after: $d}}) { totalCount } } }"#;
    let root = r#"{ events(filter: {startsOn: {after: "-1"}}) { totalCount } }"#;
    for (store, app) in both_stores().await {
        for (why, query, variables) in [
            ("inline", nested, json!({})),
            ("a variable's default", through_default, json!({})),
            ("a variable", through_variable, json!({ "d": "2020-13" })),
        ] {
            let body = app.graphql(query, variables).await;
            assert_eq!(bad_field(&body, why), "filter", "{store}: {why}");
            assert!(
                body["data"].is_object(),
                "{store}: {why}: the operation ran: {body:#}"
            );
            assert_eq!(
                body["errors"][0]["path"],
                json!(["organization", "events"]),
                "{store}: {why}"
            );
        }
        let body = app.graphql(root, json!({})).await;
        assert_eq!(bad_field(&body, "root"), "filter", "{store}");
    }
}
