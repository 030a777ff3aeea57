//! Pages read only the columns their fields need (`graphql::projection`): every field of every
//! record type, asked for alone through a root page, a page through a link table and a page of
//! children, answers what the same record answers through `nodes(ids:)`, which reads every
//! column. A field that read a column its type does not declare would answer null, "" or 0 here
//! and fail. The fields come from introspection, so a field added later is checked too.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_embedded_app};

/// The fields of `type_name` that take no arguments and return scalars or enums (or lists of
/// them).
async fn leaf_fields(app: &TestApp, type_name: &str) -> Vec<String> {
    let data = app
        .data(
            "query($name: String!) { __type(name: $name) { fields {
                name args { name }
                type { kind ofType { kind ofType { kind ofType { kind } } } }
            } } }",
            json!({ "name": type_name }),
        )
        .await;
    let fields = data["__type"]["fields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut leaves = Vec::new();
    for field in fields {
        if field["args"].as_array().is_some_and(|a| !a.is_empty()) {
            continue;
        }
        let mut ty = &field["type"];
        while matches!(ty["kind"].as_str(), Some("NON_NULL" | "LIST")) {
            ty = &ty["ofType"];
        }
        if matches!(ty["kind"].as_str(), Some("SCALAR" | "ENUM")) {
            leaves.push(field["name"].as_str().unwrap_or_default().to_owned());
        }
    }
    assert!(leaves.len() > 4, "{type_name}: {leaves:?}");
    leaves
}

/// The objects at the end of `path` (keys; lists are walked through).
fn at_path<'a>(value: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
    match (value, path.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|v| at_path(v, path, out)),
        (Value::Object(_), None) => out.push(value),
        (Value::Object(map), Some((key, rest))) => {
            if let Some(v) = map.get(*key) {
                at_path(v, rest, out);
            }
        }
        _ => {}
    }
}

/// Every record of `type_name` under the pages of `query` (`FIELDS` stands for the selection),
/// each field asked for alone, against the same record read whole through `nodes(ids:)`.
/// Returns how many non-null values were compared.
async fn same_as_whole(app: &TestApp, type_name: &str, query: &str, path: &[&str]) -> usize {
    let fields = leaf_fields(app, type_name).await;
    let mut compared = 0;
    let mut whole: HashMap<String, Value> = HashMap::new();
    for field in &fields {
        let data = app
            .data(&query.replace("FIELDS", &format!("id {field}")), json!({}))
            .await;
        let mut nodes = Vec::new();
        at_path(&data, path, &mut nodes);
        assert!(
            !nodes.is_empty(),
            "{type_name}.{field}: no records under {path:?}"
        );
        let missing: Vec<String> = nodes
            .iter()
            .filter_map(|n| n["id"].as_str())
            .filter(|id| !whole.contains_key(*id))
            .map(str::to_owned)
            .collect();
        for ids in missing.chunks(100) {
            let all = fields.join(" ");
            let read = app
                .data(
                    &format!(
                        "query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on {type_name} {{ {all} }} }} }}"
                    ),
                    json!({ "ids": ids }),
                )
                .await;
            for node in read["nodes"].as_array().cloned().unwrap_or_default() {
                whole.insert(node["id"].as_str().unwrap_or_default().to_owned(), node);
            }
        }
        for node in nodes {
            let id = node["id"].as_str().unwrap_or_default();
            assert_eq!(
                node[field.as_str()],
                whole[id][field.as_str()],
                "{type_name}.{field} of {id} through {path:?}"
            );
            if !node[field.as_str()].is_null() {
                compared += 1;
            }
        }
    }
    compared
}

async fn every_field_reads_what_a_whole_record_reads(app: &TestApp) {
    let cases: [(&str, &str, &[&str]); 12] = [
        (
            "Organization",
            "{ organizations(first: 100) { nodes { FIELDS } } }",
            &["organizations", "nodes"],
        ),
        (
            "Organization",
            "{ agreements(first: 50) { nodes { parties(first: 50) { edges { node { FIELDS } } } } } }",
            &["agreements", "nodes", "parties", "edges", "node"],
        ),
        (
            "Organization",
            "{ organizations(first: 100) { nodes { children { nodes { FIELDS } } } } }",
            &["organizations", "nodes", "children", "nodes"],
        ),
        (
            "Agreement",
            "{ agreements(first: 100) { edges { node { FIELDS } } } }",
            &["agreements", "edges", "node"],
        ),
        (
            "Agreement",
            "{ organizations(first: 100) { nodes { agreements(first: 50) { nodes { FIELDS } } } } }",
            &["organizations", "nodes", "agreements", "nodes"],
        ),
        (
            "Project",
            "{ projects(first: 100) { nodes { FIELDS } } }",
            &["projects", "nodes"],
        ),
        (
            "Project",
            "{ organizations(first: 100) { nodes { projects(first: 50) { nodes { FIELDS } } } } }",
            &["organizations", "nodes", "projects", "nodes"],
        ),
        (
            "Project",
            "{ agreements(first: 100) { nodes { projects(first: 50) { nodes { FIELDS } } } } }",
            &["agreements", "nodes", "projects", "nodes"],
        ),
        (
            "Event",
            "{ events(first: 100) { nodes { FIELDS } } }",
            &["events", "nodes"],
        ),
        (
            "Event",
            "{ organizations(first: 100) { nodes { events(first: 50) { edges { node { FIELDS } } } } } }",
            &["organizations", "nodes", "events", "edges", "node"],
        ),
        (
            "Instrument",
            "{ instruments(first: 100) { nodes { FIELDS } } }",
            &["instruments", "nodes"],
        ),
        (
            "Instrument",
            "{ agreements(first: 100) { nodes { instruments(first: 50) { nodes { FIELDS } } } } }",
            &["agreements", "nodes", "instruments", "nodes"],
        ),
    ];
    for (type_name, query, path) in cases {
        let compared = same_as_whole(app, type_name, query, path).await;
        assert!(
            compared > 10,
            "{type_name} through {path:?}: {compared} values"
        );
    }
}

#[tokio::test]
async fn every_field_of_a_page_reads_what_a_whole_record_reads_on_postgres() {
    every_field_reads_what_a_whole_record_reads(&spawn_app().await).await;
}

#[tokio::test]
async fn every_field_of_a_page_reads_what_a_whole_record_reads_on_sqlite() {
    every_field_reads_what_a_whole_record_reads(&spawn_embedded_app().await).await;
}
