//! Aggregates and groups on connections: on generated data, for random filters and every group
//! key, they equal what the plain list queries return, on PostgreSQL and on SQLite, and the two
//! stores give the same answers; nested aggregates cost one statement per level however many
//! parents; facts from the seed; bad input refused with stable codes.

use std::collections::{BTreeMap, BTreeSet};

use partnerships::generate::{self, Options};
use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, error_codes, sorted, spawn_app, spawn_app_with, spawn_embedded_app,
    spawn_embedded_app_with,
};

/// Generates the scale-0.01 dataset of seed 42 over the app's seed data.
async fn generated(app: &TestApp) {
    generate::run(
        &app.store.connection,
        Options {
            scale: 0.01,
            seed: 42,
            progress: false,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("generating: {e:#}"));
}

/// Every record of a root list matching `filter`, `selection` read from each, a page at a time.
async fn all_nodes(
    app: &TestApp,
    field: &str,
    filter_type: &str,
    filter: &Value,
    selection: &str,
) -> Vec<Value> {
    let query = format!(
        "query($f: {filter_type}, $after: String) {{ {field}(filter: $f, first: 50, after: $after) {{
            pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }} }} }}"
    );
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .data(&query, json!({ "f": filter, "after": after }))
            .await;
        let page = &data[field];
        out.extend(page["nodes"].as_array().cloned().unwrap_or_default());
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return out;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// A partial date's text as (first day, precision rank): how the API orders them, and among
/// dates beginning the same day, day < month < year.
fn date_key(text: &str) -> (String, u8) {
    match text.len() {
        4 => (format!("{text}-01-01"), 2),
        7 => (format!("{text}-01"), 1),
        _ => (text.to_owned(), 0),
    }
}

fn min_max(nodes: &[Value], field: &str) -> (Value, Value) {
    let dates: Vec<&str> = nodes.iter().filter_map(|n| n[field].as_str()).collect();
    let min = dates
        .iter()
        .min_by_key(|d| date_key(d))
        .map_or(Value::Null, |d| json!(d));
    let max = dates
        .iter()
        .max_by_key(|d| date_key(d))
        .map_or(Value::Null, |d| json!(d));
    (min, max)
}

fn distinct(nodes: &[Value], field: &str) -> u64 {
    let values: BTreeSet<String> = nodes
        .iter()
        .filter(|n| !n[field].is_null())
        .map(|n| match n[field].as_str() {
            // Dates are distinct by the day they begin on.
            Some(text) if field.ends_with("On") => date_key(text).0,
            _ => n[field].to_string(),
        })
        .collect();
    values.len() as u64
}

/// The group a date falls in, as the API writes the key.
fn date_group(date: &Value, by_month: bool) -> Value {
    let Some(text) = date.as_str() else {
        return json!({ "kind": "NO_DATE", "year": null, "month": null, "period": null });
    };
    let year: i64 = text[..4].parse().unwrap_or_default();
    if !by_month {
        return json!({ "kind": "YEAR", "year": year, "month": null, "period": &text[..4] });
    }
    if text.len() == 4 {
        return json!({ "kind": "MONTH_UNKNOWN", "year": year, "month": null, "period": text });
    }
    let month: i64 = text[5..7].parse().unwrap_or_default();
    json!({ "kind": "MONTH", "year": year, "month": month, "period": &text[..7] })
}

/// Counts per key, from the nodes: `key` turns a node into the API's key object.
fn expected_groups(nodes: &[Value], key: impl Fn(&Value) -> Value) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for node in nodes {
        *counts.entry(key(node).to_string()).or_default() += 1;
    }
    counts
}

fn answered_groups(groups: &Value) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for group in groups
        .as_array()
        .unwrap_or_else(|| panic!("no groups: {groups}"))
    {
        let previous = counts.insert(
            group["key"].to_string(),
            group["count"].as_u64().unwrap_or_default(),
        );
        assert!(previous.is_none(), "a key twice in {groups}");
    }
    counts
}

/// One kind of record: its root field, filter type, the fields read from each node, and the
/// enum and date fields its groups are keyed on (`(GROUP_BY value, key field, node field)`).
struct Kind {
    field: &'static str,
    filter_type: &'static str,
    enums: &'static [(&'static str, &'static str)],
    dates: &'static [(&'static str, &'static str)],
    /// Keys a record may have several values of, or a related record: (GROUP_BY value, key
    /// selection, node selection, the node's key objects).
    related: &'static [Related],
}

type Related = (
    &'static str,
    &'static str,
    &'static str,
    fn(&Value) -> Vec<Value>,
);

/// Each value of a list of strings as `{ field: value }`, or one `{ field: null }`.
fn values_of(node: &Value, list: &str, field: &str) -> Vec<Value> {
    let values: BTreeSet<String> = node[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if values.is_empty() {
        return vec![json!({ field: null })];
    }
    values.into_iter().map(|v| json!({ field: v })).collect()
}

/// Each related record of a nested list as `{ field: { slug } }`, or one `{ field: null }`.
fn records_of(node: &Value, list: &str, field: &str) -> Vec<Value> {
    let slugs: BTreeSet<String> = node[list]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["slug"].as_str().map(str::to_owned))
        .collect();
    if slugs.is_empty() {
        return vec![json!({ field: null })];
    }
    slugs
        .into_iter()
        .map(|s| json!({ field: { "slug": s } }))
        .collect()
}

/// The participants of an event in one role, as `records_of` gives them.
fn in_role(node: &Value, role: &str) -> Vec<Value> {
    let slugs: BTreeSet<String> = node["participants"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["role"] == role)
        .filter_map(|e| e["node"]["slug"].as_str().map(str::to_owned))
        .collect();
    if slugs.is_empty() {
        return vec![json!({ "participant": null })];
    }
    slugs
        .into_iter()
        .map(|s| json!({ "participant": { "slug": s } }))
        .collect()
}

const IN_ROLE: &str = "participants(first: 100) { edges { role node { slug } } }";

fn parent_of(node: &Value) -> Vec<Value> {
    vec![json!({ "parent": node["parent"] })]
}

const EVENTS: Kind = Kind {
    field: "events",
    filter_type: "EventFilter",
    enums: &[("KIND", "kind"), ("RECURRENCE", "recurrence")],
    dates: &[("START", "startsOn"), ("END", "endsOn")],
    related: &[
        (
            "PARTICIPANT",
            "participant { slug }",
            "participants(first: 100) { nodes { slug } }",
            |n| records_of(n, "participants", "participant"),
        ),
        ("ORGANIZER", "participant { slug }", IN_ROLE, |n| {
            in_role(n, "ORGANIZER")
        }),
        ("CO_ORGANIZER", "participant { slug }", IN_ROLE, |n| {
            in_role(n, "CO_ORGANIZER")
        }),
        ("HOST", "participant { slug }", IN_ROLE, |n| {
            in_role(n, "HOST")
        }),
        ("SPEAKER", "participant { slug }", IN_ROLE, |n| {
            in_role(n, "SPEAKER")
        }),
        ("PARENT", "parent { slug }", "parent { slug }", parent_of),
    ],
};
const PROJECTS: Kind = Kind {
    field: "projects",
    filter_type: "ProjectFilter",
    enums: &[("KIND", "kind"), ("STATUS", "status")],
    dates: &[("START", "startsOn"), ("END", "endsOn")],
    related: &[
        ("REGION", "region", "regions", |n| {
            values_of(n, "regions", "region")
        }),
        ("THEME", "theme", "themes", |n| {
            values_of(n, "themes", "theme")
        }),
        (
            "PARTICIPANT",
            "participant { slug }",
            "participants(first: 100) { nodes { slug } }",
            |n| records_of(n, "participants", "participant"),
        ),
    ],
};
const AGREEMENTS: Kind = Kind {
    field: "agreements",
    filter_type: "AgreementFilter",
    enums: &[("KIND", "kind")],
    dates: &[("SIGNED", "signedOn")],
    related: &[(
        "PARTY",
        "party { slug }",
        "parties(first: 100) { nodes { slug } }",
        |n| records_of(n, "parties", "party"),
    )],
};
const ORGANIZATIONS: Kind = Kind {
    field: "organizations",
    filter_type: "OrganizationFilter",
    enums: &[("KIND", "kind")],
    dates: &[],
    related: &[("PARENT", "parent { slug }", "parent { slug }", parent_of)],
};

/// The key field of a date grouping (`START_MONTH` → `startMonth`).
fn date_key_field(prefix: &str, by_month: bool) -> String {
    let mut name = prefix.to_lowercase();
    name.push_str(if by_month { "Month" } else { "Year" });
    name
}

/// Checks one filter of one kind: the API's aggregates and groups against the nodes of the
/// plain list; returns the API's answer (for comparing stores).
async fn check(app: &TestApp, kind: &Kind, filter: &Value) -> Value {
    let node_fields: Vec<&str> = kind
        .enums
        .iter()
        .map(|(_, f)| *f)
        .chain(kind.dates.iter().map(|(_, f)| *f))
        .collect();
    let mut selection = node_fields.join(" ");
    for (_, _, node_selection, _) in kind.related {
        selection.push(' ');
        selection.push_str(node_selection);
    }
    let nodes = all_nodes(app, kind.field, kind.filter_type, filter, &selection).await;

    let distinct_fields: Vec<&str> = kind.enums.iter().map(|(_, f)| *f).collect();
    let date_fields: Vec<&str> = kind.dates.iter().map(|(_, f)| *f).collect();
    let dates = if date_fields.is_empty() {
        String::new()
    } else {
        format!("min {{ {0} }} max {{ {0} }}", date_fields.join(" "))
    };
    let mut groups = Vec::new();
    for (value, field) in kind.enums {
        groups.push((value.to_string(), field.to_string()));
    }
    for (prefix, _) in kind.dates {
        for by_month in [false, true] {
            let by = format!("{prefix}_{}", if by_month { "MONTH" } else { "YEAR" });
            let key = date_key_field(prefix, by_month);
            groups.push((by, format!("{key} {{ kind year month period }}")));
        }
    }
    for (by, key, _, _) in kind.related {
        groups.push((by.to_string(), key.to_string()));
    }
    let group_fields: String = groups
        .iter()
        .enumerate()
        .map(|(i, (by, key))| format!("g{i}: groups(by: [{by}]) {{ key {{ {key} }} count }}\n"))
        .collect();
    let query = format!(
        "query($f: {}) {{ {}(filter: $f) {{ totalCount
            aggregates {{ count distinctCount {{ {} }} {dates} }}
            {group_fields} }} }}",
        kind.filter_type,
        kind.field,
        distinct_fields.join(" "),
    );
    let data = app.data(&query, json!({ "f": filter })).await;
    let answer = &data[kind.field];
    let context = format!("{} with {filter}", kind.field);

    let aggregates = &answer["aggregates"];
    assert_eq!(
        aggregates["count"].as_u64(),
        Some(nodes.len() as u64),
        "{context}"
    );
    assert_eq!(
        answer["totalCount"].as_u64(),
        Some(nodes.len() as u64),
        "{context}"
    );
    for field in &distinct_fields {
        assert_eq!(
            aggregates["distinctCount"][field].as_u64(),
            Some(distinct(&nodes, field)),
            "distinct {field} of {context}"
        );
    }
    for field in &date_fields {
        let (min, max) = min_max(&nodes, field);
        assert_eq!(aggregates["min"][field], min, "min {field} of {context}");
        assert_eq!(aggregates["max"][field], max, "max {field} of {context}");
    }
    let mut i = 0;
    for (_, field) in kind.enums {
        let expected = expected_groups(&nodes, |n| json!({ *field: n[*field] }));
        assert_eq!(
            answered_groups(&answer[format!("g{i}")]),
            expected,
            "{field} groups of {context}"
        );
        i += 1;
    }
    for (prefix, field) in kind.dates {
        for by_month in [false, true] {
            let key = date_key_field(prefix, by_month);
            let expected = expected_groups(
                &nodes,
                |n| json!({ key.as_str(): date_group(&n[*field], by_month) }),
            );
            let groups = &answer[format!("g{i}")];
            assert_eq!(
                answered_groups(groups),
                expected,
                "{key} groups of {context}"
            );
            // The undated come last.
            if let Some(last) = groups.as_array().and_then(|g| g.last()) {
                let undated = groups
                    .as_array()
                    .map(|g| {
                        g.iter()
                            .filter(|x| x["key"][key.as_str()]["kind"] == "NO_DATE")
                            .count()
                    })
                    .unwrap_or_default();
                if undated > 0 {
                    assert_eq!(
                        last["key"][key.as_str()]["kind"],
                        "NO_DATE",
                        "{key} of {context}"
                    );
                }
            }
            i += 1;
        }
    }
    for (by, _, _, values) in kind.related {
        let mut expected = BTreeMap::new();
        for node in &nodes {
            for key in values(node) {
                *expected.entry(key.to_string()).or_default() += 1;
            }
        }
        let groups = &answer[format!("g{i}")];
        assert_eq!(
            answered_groups(groups),
            expected,
            "{by} groups of {context}"
        );
        i += 1;
    }
    answer.clone()
}

/// Random filters over the generated data, built from the values it holds.
fn random_filters(
    rng: &mut ChaCha8Rng,
    kinds: &[String],
    date_field: &str,
    n: usize,
) -> Vec<Value> {
    let date = |rng: &mut ChaCha8Rng| -> String {
        let year = rng.random_range(1990..2030);
        match rng.random_range(0..3) {
            0 => format!("{year}"),
            1 => format!("{year}-{:02}", rng.random_range(1..13)),
            _ => format!(
                "{year}-{:02}-{:02}",
                rng.random_range(1..13),
                rng.random_range(1..29)
            ),
        }
    };
    (0..n)
        .map(|i| {
            let mut filter = serde_json::Map::new();
            if i % 2 == 0 && !kinds.is_empty() {
                let how_many = rng.random_range(1..=kinds.len().min(3));
                let picked: Vec<&String> = kinds.choose_multiple(rng, how_many).collect();
                filter.insert("kind".into(), json!({ "in": picked }));
            }
            if !date_field.is_empty() {
                let bounds = ["after", "before", "from", "to"];
                match i % 4 {
                    0 => {}
                    1 => {
                        filter.insert(date_field.into(), json!({ "isNull": rng.random_bool(0.5) }));
                    }
                    _ => {
                        let bound = bounds[rng.random_range(0..4)];
                        filter.insert(date_field.into(), json!({ bound: date(rng) }));
                    }
                }
            }
            if i % 5 == 3 {
                let letter = (b'a' + rng.random_range(0..26u8)) as char;
                let name = if date_field == "signedOn" {
                    "title"
                } else {
                    "name"
                };
                filter.insert(name.into(), json!({ "contains": letter.to_string() }));
            }
            if i % 7 == 6 {
                return json!({ "or": [Value::Object(filter), { "kind": { "eq": kinds[0] } }] });
            }
            Value::Object(filter)
        })
        .collect()
}

/// The enum values a kind's records hold.
async fn kinds_of(app: &TestApp, field: &str) -> Vec<String> {
    let data = app
        .data(
            &format!("{{ {field} {{ groups(by: [KIND]) {{ key {{ kind }} }} }} }}"),
            json!({}),
        )
        .await;
    sorted(&data[field]["groups"], "/key/kind")
}

/// Every check, on one store; the answers, for comparing stores.
async fn check_all(app: &TestApp) -> Vec<Value> {
    generated(app).await;
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let mut answers = Vec::new();
    for (kind, date_field, n) in [
        (&EVENTS, "startsOn", 24),
        (&PROJECTS, "endsOn", 8),
        (&AGREEMENTS, "signedOn", 6),
        (&ORGANIZATIONS, "", 4),
    ] {
        let kinds = kinds_of(app, kind.field).await;
        assert!(kinds.len() > 1, "{}: {kinds:?}", kind.field);
        let mut filters = vec![json!({})];
        filters.extend(random_filters(&mut rng, &kinds, date_field, n));
        for filter in &filters {
            answers.push(check(app, kind, filter).await);
        }
    }
    answers
}

#[tokio::test]
async fn aggregates_and_groups_equal_the_lists_on_both_stores_and_the_stores_agree() {
    // Each check asks for every grouping at once: more groups than the default allows.
    let postgres = spawn_app_with(|s| {
        s.graphql.max_groups = 100_000;
        s.graphql.complexity_limit = 1_000_000;
    })
    .await;
    let sqlite = spawn_embedded_app_with(|s| {
        s.graphql.max_groups = 100_000;
        s.graphql.complexity_limit = 1_000_000;
    })
    .await;

    let on_postgres = check_all(&postgres).await;
    let on_sqlite = check_all(&sqlite).await;

    assert!(on_postgres.len() >= 40);
    assert_eq!(
        on_postgres, on_sqlite,
        "PostgreSQL and SQLite answer differently"
    );
}

/// A nested query over `n` organizations: their agreements' aggregates by role, their events
/// grouped by year, their children's count.
const NESTED: &str = r#"query($n: Int!) { organizations(first: $n) { nodes { slug
    agreements(role: { eq: SIGNATORY }, first: 1) { totalCount aggregates { count byRole { role count } distinctCount { kind } min { signedOn } max { signedOn } } }
    events(first: 1) { totalCount groups(byRole: true) { role count } years: groups(by: [START_YEAR], first: 3) { key { startYear { year kind } } count } }
    children(first: 1) { totalCount aggregates { count distinctCount { kind } } } } } }"#;

#[tokio::test]
async fn nested_aggregates_cost_one_statement_per_level_for_2_50_or_100_parents() {
    let app = spawn_app().await;
    generated(&app).await;

    let mut costs = Vec::new();
    for n in [2, 50, 100] {
        let (data, statements) = app.fewest_statements(NESTED, json!({ "n": n })).await;
        let nodes = data["organizations"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(nodes.len(), n as usize);
        for org in &nodes {
            let agreements = &org["agreements"];
            assert_eq!(
                agreements["aggregates"]["count"], agreements["totalCount"],
                "{org}"
            );
            let by_role: u64 = agreements["aggregates"]["byRole"]
                .as_array()
                .map(|r| r.iter().filter_map(|x| x["count"].as_u64()).sum())
                .unwrap_or_default();
            assert_eq!(Some(by_role), agreements["totalCount"].as_u64(), "{org}");
            // The role filter applies: every link counted is a signatory's.
            for role in agreements["aggregates"]["byRole"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if role["role"] != "SIGNATORY" {
                    assert_eq!(role["count"], 0, "{org}");
                }
            }
            let grouped: u64 = org["events"]["groups"]
                .as_array()
                .map(|g| g.iter().filter_map(|x| x["count"].as_u64()).sum())
                .unwrap_or_default();
            assert_eq!(Some(grouped), org["events"]["totalCount"].as_u64(), "{org}");
            let children = &org["children"];
            assert_eq!(
                children["aggregates"]["count"], children["totalCount"],
                "{org}"
            );
        }
        costs.push(statements);
    }
    assert_eq!(costs[0], costs[1], "2 vs 50 parents: {costs:?}");
    assert_eq!(costs[1], costs[2], "50 vs 100 parents: {costs:?}");
    // The organizations; each nested connection's count and one statement for each of its
    // aggregates or groupings (no page: none of them selects edges, nodes or pageInfo):
    // agreements 2, events 3 (two groupings), children 2.
    assert_eq!(costs[0], 8, "{costs:?}");
}

/// Checks the nested aggregates of 40 organizations against their nested lists; returns them.
async fn nested_aggregates_equal_the_nested_lists(app: &TestApp) -> Vec<Value> {
    generated(app).await;
    let orgs = app
        .data("{ organizations(first: 40) { nodes { slug } } }", json!({}))
        .await;
    let mut nodes_of = Vec::new();
    for org in orgs["organizations"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let data = app
            .data(
                r#"query($slug: String!) { organization(by: { slug: $slug }) { slug
                     events(first: 100) { totalCount nodes { kind startsOn } aggregates { count distinctCount { kind } min { startsOn } max { startsOn } } groups(by: [KIND]) { key { kind } count } }
                     agreements(first: 100) { edges { role } aggregates { byRole { role count } } } } }"#,
                json!({ "slug": org["slug"] }),
            )
            .await;
        nodes_of.push(data["organization"].clone());
    }
    let mut checked = 0;
    for org in &nodes_of {
        let events = &org["events"];
        if events["totalCount"].as_u64().unwrap_or_default() > 100 {
            continue;
        }
        let nodes = events["nodes"].as_array().cloned().unwrap_or_default();
        let aggregates = &events["aggregates"];
        assert_eq!(
            aggregates["count"].as_u64(),
            Some(nodes.len() as u64),
            "{org}"
        );
        assert_eq!(
            aggregates["distinctCount"]["kind"].as_u64(),
            Some(distinct(&nodes, "kind")),
            "{org}"
        );
        let (min, max) = min_max(&nodes, "startsOn");
        assert_eq!(aggregates["min"]["startsOn"], min, "{org}");
        assert_eq!(aggregates["max"]["startsOn"], max, "{org}");
        assert_eq!(
            answered_groups(&events["groups"]),
            expected_groups(&nodes, |n| json!({ "kind": n["kind"] })),
            "{org}"
        );
        let mut roles: BTreeMap<String, u64> = BTreeMap::new();
        for edge in org["agreements"]["edges"].as_array().into_iter().flatten() {
            *roles
                .entry(edge["role"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
        for role in org["agreements"]["aggregates"]["byRole"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = role["role"].as_str().unwrap_or_default();
            assert_eq!(
                role["count"].as_u64(),
                Some(roles.get(name).copied().unwrap_or(0)),
                "{org}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} organizations checked");
    nodes_of
}

#[tokio::test]
async fn nested_aggregates_equal_the_nested_lists_on_both_stores_and_the_stores_agree() {
    let postgres = spawn_app().await;
    let sqlite = spawn_embedded_app().await;

    let on_postgres = nested_aggregates_equal_the_nested_lists(&postgres).await;
    let on_sqlite = nested_aggregates_equal_the_nested_lists(&sqlite).await;

    assert_eq!(
        on_postgres, on_sqlite,
        "PostgreSQL and SQLite answer differently"
    );
}

#[tokio::test]
async fn aggregates_are_read_only_when_selected() {
    let app = spawn_app().await;
    let (_, plain) = app
        .fewest_statements("{ agreements { nodes { slug } } }", json!({}))
        .await;
    let (_, with) = app
        .fewest_statements(
            "{ agreements { nodes { slug } aggregates { count min { signedOn } } } }",
            json!({}),
        )
        .await;
    assert_eq!(with, plain + 1);
    // A connection read only for its count or aggregates costs no page statement, top-level or
    // nested.
    for (query, expected) in [
        ("{ agreements { totalCount } }", 1),
        ("{ agreements { aggregates { count } } }", 1),
        ("{ agreements { totalCount aggregates { count } } }", 2),
        ("{ agreements { totalCount pageInfo { hasNextPage } } }", 2),
        (
            r#"{ organization(by: { slug: "ilo" }) { events { totalCount } } }"#,
            2,
        ),
        (
            r#"{ organization(by: { slug: "ilo" }) { events { groups(byRole: true) { count } } children { aggregates { count } } } }"#,
            3,
        ),
        (
            r#"{ organization(by: { slug: "ilo" }) { events { nodes { slug } } } }"#,
            2,
        ),
    ] {
        let (_, statements) = app.fewest_statements(query, json!({})).await;
        assert_eq!(statements, expected, "{query}");
    }
}

#[tokio::test]
async fn the_seed_signed_one_agreement_in_2020_and_the_ilo_signs_most() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{ agreements {
                   totalCount
                   aggregates { min { signedOn } max { signedOn } }
                   groups(by: [SIGNED_YEAR]) { key { signedYear { kind year } } count }
                   months: groups(by: [SIGNED_MONTH]) { key { signedMonth { kind year period } } count }
                 }
                 agreement(by: { slug: "ilo-undp-global-framework-of-action" }) {
                   parties { aggregates { count byRole { role count } } }
                 } }"#,
            json!({}),
        )
        .await;
    let agreements = &data["agreements"];
    assert_eq!(agreements["aggregates"]["min"]["signedOn"], "2020");
    assert_eq!(agreements["aggregates"]["max"]["signedOn"], "2020");
    let total = agreements["totalCount"].as_u64().unwrap_or_default();
    assert_eq!(
        agreements["groups"],
        json!([
            { "key": { "signedYear": { "kind": "YEAR", "year": 2020 } }, "count": 1 },
            { "key": { "signedYear": { "kind": "NO_DATE", "year": null } }, "count": total - 1 },
        ])
    );
    // Signed "2020": known to the year only, so in 2020's "month unknown" group.
    assert_eq!(
        agreements["months"][0],
        json!({ "key": { "signedMonth": { "kind": "MONTH_UNKNOWN", "year": 2020, "period": "2020" } }, "count": 1 })
    );
    // The ILO and UNDP both signed the Global Framework of Action.
    assert_eq!(
        data["agreement"]["parties"]["aggregates"],
        json!({ "count": 2, "byRole": [
            { "role": "SIGNATORY", "count": 2 },
            { "role": "PARTNER", "count": 0 },
            { "role": "SUPPORTER", "count": 0 },
        ] })
    );
}

#[tokio::test]
async fn in_the_seed_the_ilo_takes_part_in_most_events_and_the_forum_holds_sessions() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{ events {
                   most: groups(by: [PARTICIPANT], orderBy: { field: COUNT, direction: DESC }, first: 1) { key { participant { slug } } count }
                   forums: groups(by: [PARENT], having: { minCount: 1 }) { key { parent { slug } } count }
                 }
                 ilo: organization(by: { slug: "ilo" }) { events { totalCount } } }"#,
            json!({}),
        )
        .await;
    let most = &data["events"]["most"][0];
    assert_eq!(most["key"]["participant"]["slug"], "ilo", "{data}");
    // The ILO's 10 links to events are 9 events: it holds two roles in one, which the group
    // counts once.
    assert_eq!(most["count"], 9, "{data}");
    assert_eq!(data["ilo"]["events"]["totalCount"], 10, "{data}");
    // Sessions sit under their forum; the events outside any make the group with no parent.
    let forums = data["events"]["forums"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(forums.len() >= 2, "{forums:?}");
    assert_eq!(
        forums.last().map(|g| &g["key"]["parent"]),
        Some(&Value::Null)
    );
}

#[tokio::test]
async fn bad_groupings_are_refused_with_bad_user_input() {
    let app = spawn_app_with(|s| s.graphql.max_groups = 3).await;
    for (query, why) in [
        ("{ agreements { groups(by: []) { count } } }", "no key"),
        (
            "{ agreements { groups(by: [KIND, KIND]) { count } } }",
            "a key twice",
        ),
        (
            "{ agreements { groups(by: [KIND], having: { minCount: 5, maxCount: 2 }) { count } } }",
            "min above max",
        ),
        (
            "{ agreements { groups(by: [KIND], having: { minCount: -1 }) { count } } }",
            "a negative count",
        ),
        (
            "{ agreements { groups(by: [KIND], first: -1) { count } } }",
            "a negative first",
        ),
        (
            "{ events { groups(by: [PARTICIPANT, CO_ORGANIZER]) { count } } }",
            "two participant keys",
        ),
        (
            r#"{ organization(by: { slug: "ilo" }) { agreements { groups { count } } } }"#,
            "neither keys nor role",
        ),
        (
            "{ organizations { groups(by: [KIND]) { count } } }",
            "more kinds of organization than the 3 groups allowed",
        ),
        (
            "{ a: agreements { groups(by: [KIND], first: 2) { count } } b: projects { groups(by: [STATUS], first: 2) { count } } }",
            "4 groups in one request, 3 allowed",
        ),
    ] {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{why}: {body}");
    }
    // Within the limit, answered.
    app.data(
        "{ agreements { groups(by: [SIGNED_YEAR]) { count } } }",
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn groups_count_toward_the_complexity_limit() {
    let app = spawn_app().await;
    let body = app
        .graphql(
            "{ organizations(first: 100) { nodes { events { groups(by: [START_MONTH], first: 1000) { count key { startMonth { year month } } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&body), ["QUERY_TOO_COMPLEX"], "{body}");
}

/// The deprecated facets and the groups that replace them give the same numbers, for several
/// filters, on generated data.
#[tokio::test]
async fn the_deprecated_facets_agree_with_groups() {
    let app = spawn_app().await;
    generated(&app).await;
    for (organizations, projects, events) in [
        (json!({}), json!({}), json!({})),
        (
            json!({ "name": { "contains": "a" } }),
            json!({ "kind": { "eq": "PROGRAMME" } }),
            json!({ "kind": { "in": ["FORUM", "SESSION"] } }),
        ),
        (
            json!({ "not": { "kind": { "eq": "OTHER" } } }),
            json!({ "startsOn": { "from": "2010" } }),
            json!({ "startsOn": { "to": "2015-06" } }),
        ),
    ] {
        let data = app
            .data(
                r#"query($o: OrganizationFilter, $p: ProjectFilter, $e: EventFilter) {
                     kinds: organizationKindCounts(filter: $o) { kind count }
                     statuses: projectStatusCounts(filter: $p) { status count }
                     years: eventYearCounts(filter: $e) { year count }
                     organizations(filter: $o) { groups(by: [KIND], orderBy: { field: COUNT, direction: DESC }) { key { kind } count } }
                     projects(filter: $p) { groups(by: [STATUS], orderBy: { field: COUNT, direction: DESC }) { key { status } count } }
                     events(filter: $e) { groups(by: [START_YEAR]) { key { startYear { year } } count } }
                   }"#,
                json!({ "o": organizations, "p": projects, "e": events }),
            )
            .await;
        // Ties in count may come in another order: compare as sets, and the counts in order.
        let facet = |list: &Value, key: &str| -> BTreeMap<String, u64> {
            list.as_array()
                .into_iter()
                .flatten()
                .map(|x| (x[key].to_string(), x["count"].as_u64().unwrap_or_default()))
                .collect()
        };
        let grouped = |list: &Value, key: &str| -> BTreeMap<String, u64> {
            list.as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    let value = match key {
                        "year" => x["key"]["startYear"]["year"].to_string(),
                        _ => x["key"][key].to_string(),
                    };
                    (value, x["count"].as_u64().unwrap_or_default())
                })
                .collect()
        };
        let counts = |list: &Value| -> Vec<u64> {
            list.as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x["count"].as_u64())
                .collect()
        };
        let context = format!("{organizations} {projects} {events}");
        assert_eq!(
            facet(&data["kinds"], "kind"),
            grouped(&data["organizations"]["groups"], "kind"),
            "{context}"
        );
        assert_eq!(
            counts(&data["kinds"]),
            counts(&data["organizations"]["groups"]),
            "{context}"
        );
        assert_eq!(
            facet(&data["statuses"], "status"),
            grouped(&data["projects"]["groups"], "status"),
            "{context}"
        );
        assert_eq!(
            counts(&data["statuses"]),
            counts(&data["projects"]["groups"]),
            "{context}"
        );
        // Years in the same order, the undated last in both.
        assert_eq!(
            data["years"],
            Value::Array(
                data["events"]["groups"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|g| json!({ "year": g["key"]["startYear"]["year"], "count": g["count"] }))
                    .collect()
            ),
            "{context}"
        );
    }
}

/// `first` on a top-level grouping is applied in the statement: the first groups of an order
/// are the head of the whole ordered list (ties broken by key the same way), on both stores, and
/// a top 5 of more groups than the request may make is answered, where the whole list is refused.
#[tokio::test]
async fn the_first_groups_are_the_head_of_the_whole_order_and_are_not_refused() {
    let cap = 40;
    let big = [
        (
            "postgres",
            spawn_app_with(|s| s.graphql.max_groups = 100_000).await,
        ),
        (
            "sqlite",
            spawn_embedded_app_with(|s| s.graphql.max_groups = 100_000).await,
        ),
    ];
    let small = [
        (
            "postgres",
            spawn_app_with(|s| s.graphql.max_groups = cap).await,
        ),
        (
            "sqlite",
            spawn_embedded_app_with(|s| s.graphql.max_groups = cap).await,
        ),
    ];
    for (_, app) in &big {
        generated(app).await;
    }
    let mut answers = Vec::new();
    for ((store, app), (_, capped)) in big.iter().zip(&small) {
        generated(capped).await;
        for (by, order) in [
            ("[PARTICIPANT]", "{ field: COUNT, direction: DESC }"),
            ("[PARTICIPANT]", "{ field: COUNT, direction: ASC }"),
            ("[PARTICIPANT, KIND]", "{ field: KEY, direction: DESC }"),
            (
                "[RECURRENCE, START_YEAR]",
                "{ field: COUNT, direction: DESC }",
            ),
            ("[START_MONTH]", "{ field: KEY, direction: ASC }"),
        ] {
            let query = |first: &str| {
                format!(
                    "{{ events {{ groups(by: {by}, orderBy: {order}{first}) {{ \
                     key {{ participant {{ slug }} kind recurrence startYear {{ kind year }} startMonth {{ kind year month }} }} count }} }} }}"
                )
            };
            let all = app.data(&query(""), json!({})).await;
            let all = all["events"]["groups"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(all.len() > cap, "{store} {by}: {} groups", all.len());
            for first in [1, 5, 17] {
                let head = app
                    .data(&query(&format!(", first: {first}")), json!({}))
                    .await;
                assert_eq!(
                    head["events"]["groups"].as_array().map(Vec::as_slice),
                    Some(&all[..first]),
                    "{store} {by} {order}: the first {first}"
                );
                let capped = capped
                    .data(&query(&format!(", first: {first}")), json!({}))
                    .await;
                assert_eq!(capped, head, "{store} {by} {order}: under a cap of {cap}");
            }
            let refused = capped.graphql(&query(""), json!({})).await;
            assert_eq!(
                error_codes(&refused),
                ["BAD_USER_INPUT"],
                "{store} {by}: {refused}"
            );
            answers.push(all);
        }
    }
    let (postgres, sqlite) = answers.split_at(answers.len() / 2);
    assert_eq!(postgres, sqlite, "the stores agree");
}

/// The aggregates of many parents in one statement (on PostgreSQL one `LATERAL` grouping per
/// parent) are each parent's alone, `first` and the order included, on both stores.
#[tokio::test]
async fn many_parents_at_once_answer_as_each_parent_alone_on_both_stores() {
    const SELECTION: &str = "slug
        events(role: { in: [ORGANIZER, PARTICIPANT] }) {
          aggregates { count min { startsOn } max { startsOn } byRole { role count } }
          top: groups(by: [KIND], orderBy: { field: COUNT, direction: DESC }, first: 2) { key { kind } count }
          years: groups(by: [START_YEAR], having: { minCount: 1 }) { key { startYear { kind year } } count }
        }
        agreements { groups(byRole: true) { role count } }
        children { aggregates { count } }";
    let mut answers = Vec::new();
    for app in [
        spawn_app_with(|s| s.graphql.complexity_limit = 1_000_000).await,
        spawn_embedded_app_with(|s| s.graphql.complexity_limit = 1_000_000).await,
    ] {
        generated(&app).await;
        let all = app
            .data(
                &format!("{{ organizations(first: 40) {{ nodes {{ {SELECTION} }} }} }}"),
                json!({}),
            )
            .await;
        let nodes = all["organizations"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(nodes.len(), 40);
        assert!(
            nodes
                .iter()
                .any(|n| n["events"]["aggregates"]["count"].as_u64() > Some(2)),
            "some parents have several events: {all}"
        );
        for node in &nodes {
            let alone = app
                .data(
                    &format!("query($slug: String!) {{ organization(by: {{ slug: $slug }}) {{ {SELECTION} }} }}"),
                    json!({ "slug": node["slug"] }),
                )
                .await;
            assert_eq!(&alone["organization"], node, "alone and among 40");
        }
        answers.push(nodes);
    }
    assert_eq!(answers[0], answers[1], "the stores agree");
}
