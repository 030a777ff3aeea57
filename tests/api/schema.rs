//! The schema as a product: the checked-in SDL matches the code, every element is described,
//! and GraphiQL's own introspection query fits within the default limits.

use partnerships::{config::GraphqlSettings, graphql};
use serde_json::Value;

#[test]
fn the_checked_in_schema_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == graphql::sdl(),
        "schema.graphql is out of date: run `cargo run -- export-schema` and commit it"
    );
}

async fn introspect(query: &str) -> Value {
    let api = graphql::Api::new(&GraphqlSettings::default(), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let response = api
        .execute(async_graphql::Request::new(query), false, |r, _| r)
        .await
        .response;
    assert!(
        response.errors.is_empty(),
        "introspection failed: {:?}",
        response.errors
    );
    response.data.into_json().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_has_a_description() {
    let data = introspect(
        r#"{ __schema { types {
            name description
            fields { name description args { name description } }
            inputFields { name description }
            enumValues { name description }
        } } }"#,
    )
    .await;
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let described = |v: &Value| {
        v["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    };
    let mut missing = Vec::new();
    for ty in data["__schema"]["types"].as_array().into_iter().flatten() {
        let name = ty["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_owned());
        }
        for field in ty["fields"].as_array().into_iter().flatten() {
            if !described(field) {
                missing.push(format!("{name}.{}", field["name"]));
            }
            for arg in field["args"].as_array().into_iter().flatten() {
                if !described(arg) {
                    missing.push(format!("{name}.{}({})", field["name"], arg["name"]));
                }
            }
        }
        for key in ["inputFields", "enumValues"] {
            for item in ty[key].as_array().into_iter().flatten() {
                if !described(item) {
                    missing.push(format!("{name}.{}", item["name"]));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "undescribed schema elements: {missing:#?}"
    );
}

/// The query GraphiQL sends when it opens (graphql-js `getIntrospectionQuery()`).
const GRAPHIQL_INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}"#;

#[tokio::test]
async fn graphiql_introspection_fits_within_the_default_limits() {
    let data = introspect(GRAPHIQL_INTROSPECTION).await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
}
