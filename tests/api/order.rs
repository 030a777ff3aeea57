//! Responses keep the query's order (GraphQL spec §7.2.2): every object's keys come in the
//! order its selection set names them, however the nested loads behind them finish. The bodies
//! are read as text into an order-keeping tree, so the assertions see the bytes' order.

use std::fmt;

use partnerships::auth::Role;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app, spawn_app_with_auth, spawn_embedded_app, token};

/// A JSON value with its objects' keys in the order the body gave them.
#[derive(Debug)]
enum Ordered {
    Object(Vec<(String, Ordered)>),
    List(Vec<Ordered>),
    Text(String),
    Other,
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Read;
        impl<'de> Visitor<'de> for Read {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered::Object(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::List(items))
            }
            fn visit_str<E>(self, text: &str) -> Result<Ordered, E> {
                Ok(Ordered::Text(text.to_owned()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
        }
        deserializer.deserialize_any(Read)
    }
}

impl Ordered {
    fn get(&self, key: &str) -> Option<&Ordered> {
        match self {
            Ordered::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Every object at `path` (keys joined by `.`; lists are entered at every step).
    fn objects_at<'a>(&'a self, path: &str, out: &mut Vec<&'a [(String, Ordered)]>) {
        match (self, path.split_once('.')) {
            (Ordered::List(items), _) => {
                for item in items {
                    item.objects_at(path, out);
                }
            }
            (Ordered::Object(entries), _) if path.is_empty() => out.push(entries),
            (Ordered::Object(_), split) => {
                let (key, rest) = split.unwrap_or((path, ""));
                if let Some(value) = self.get(key) {
                    value.objects_at(rest, out);
                }
            }
            _ => {}
        }
    }
}

/// The body's tree, asserting it has data and no errors.
fn read(body: &str) -> Ordered {
    let tree: Ordered = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert!(tree.get("errors").is_none(), "no errors: {body}");
    assert!(tree.get("data").is_some(), "data: {body}");
    tree
}

/// Asserts every object at `path` whose `__typename` is `typename` (any, when `None`) has
/// exactly the keys `expected`, in that order; and that there is at least one.
fn keys(body: &str, tree: &Ordered, path: &str, typename: Option<&str>, expected: &[&str]) {
    let mut objects = Vec::new();
    tree.objects_at(path, &mut objects);
    let objects: Vec<_> = objects
        .into_iter()
        .filter(|entries| {
            typename.is_none_or(|name| {
                entries
                    .iter()
                    .any(|(k, v)| k == "__typename" && matches!(v, Ordered::Text(t) if t == name))
            })
        })
        .collect();
    assert!(
        !objects.is_empty(),
        "objects at {path} ({typename:?}): {body}"
    );
    for entries in objects {
        let got: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            got, expected,
            "keys at {path} ({typename:?}) in query order: {body}"
        );
    }
}

/// The hub's own fields between its three nested lists (each a load of its own, finishing in
/// whatever order), an alias, a fragment spread, an inline fragment, `@include` and `@skip`,
/// and the same key selected twice (its selections merge, in the order first named).
const HUB: &str = r#"
query Hub($yes: Boolean!) {
  organization(by: { slug: "ilo" }) {
    name
    events(first: 5) { nodes { name startsOn participants(first: 3) { nodes { slug name } } } totalCount }
    ...Counted
    slug
    agreements(first: 5) { totalCount nodes { title parties { nodes { acronym name } } signedOn } }
    work: projects(first: 5) { nodes { name agreement { title } } pageInfo { hasNextPage } }
    acronym @include(if: $yes)
    kind @skip(if: $yes)
    ... on Organization { id }
    events(first: 5) { pageInfo { endCursor } }
  }
}
fragment Counted on Organization { partners(first: 3) { totalCount nodes { strength organization { slug } } } }
"#;

fn assert_hub(body: &str) {
    let tree = read(body);
    let org = "data.organization";
    keys(
        body,
        &tree,
        org,
        None,
        &[
            "name",
            "events",
            "partners",
            "slug",
            "agreements",
            "work",
            "acronym",
            "id",
        ],
    );
    keys(
        body,
        &tree,
        "data.organization.events",
        None,
        &["nodes", "totalCount", "pageInfo"],
    );
    keys(
        body,
        &tree,
        "data.organization.events.nodes",
        None,
        &["name", "startsOn", "participants"],
    );
    keys(
        body,
        &tree,
        "data.organization.events.nodes.participants.nodes",
        None,
        &["slug", "name"],
    );
    keys(
        body,
        &tree,
        "data.organization.partners",
        None,
        &["totalCount", "nodes"],
    );
    keys(
        body,
        &tree,
        "data.organization.partners.nodes",
        None,
        &["strength", "organization"],
    );
    keys(
        body,
        &tree,
        "data.organization.agreements",
        None,
        &["totalCount", "nodes"],
    );
    keys(
        body,
        &tree,
        "data.organization.agreements.nodes",
        None,
        &["title", "parties", "signedOn"],
    );
    keys(
        body,
        &tree,
        "data.organization.agreements.nodes.parties.nodes",
        None,
        &["acronym", "name"],
    );
    keys(
        body,
        &tree,
        "data.organization.work",
        None,
        &["nodes", "pageInfo"],
    );
    keys(
        body,
        &tree,
        "data.organization.work.nodes",
        None,
        &["name", "agreement"],
    );
}

async fn hub_in_order(store: &str, app: &TestApp, times: usize) {
    for run in 0..times {
        let body = app.graphql_text(HUB, json!({ "yes": true })).await;
        assert_hub(&body);
        if run == 0 {
            eprintln!("{store}: {}", &body[..body.len().min(300)]);
        }
    }
}

#[tokio::test]
async fn the_hub_and_its_nested_lists_answer_in_query_order_100_times_on_postgres() {
    let app = spawn_app().await;
    hub_in_order("postgres", &app, 100).await;
}

#[tokio::test]
async fn the_hub_and_its_nested_lists_answer_in_query_order_100_times_on_sqlite() {
    let app = spawn_embedded_app().await;
    hub_in_order("sqlite", &app, 100).await;
}

/// An interface (`node`, `nodes`, the timeline's entries), unions (a search hit's record, a
/// path step's shared records) and the explore payloads, each type with its own selection.
const ABSTRACT: &str = r#"
query Abstract($id: ID!) {
  nodes(ids: [$id]) {
    ... on Organization { slug events(first: 2) { totalCount } name }
    id
  }
  search(query: "labour", first: 10) {
    nodes {
      record {
        ... on Event { participants(first: 2) { totalCount } name }
        ... on Organization { name agreements(first: 1) { totalCount } }
        ... on Agreement { title parties { totalCount } }
        ... on Project { participants(first: 2) { totalCount } name }
        ... on Instrument { name }
        __typename
      }
      rank
      type
    }
    totalCount
  }
  timeline(organization: { slug: "ilo" }, first: 10) {
    nodes {
      ... on AgreementSigned { agreement { parties { totalCount } title } }
      ... on EventHeld { event { participants(first: 1) { totalCount } name } }
      ... on ProjectStarted { project { participants(first: 1) { totalCount } name } }
      date
      __typename
      kind
    }
  }
  connection(from: { slug: "ohchr" }, to: { slug: "waipa" }) {
    steps {
      via {
        ... on Agreement { parties { totalCount } title }
        ... on Event { participants(first: 1) { totalCount } name }
        ... on Project { participants(first: 1) { totalCount } name }
        __typename
      }
      to { slug }
      from { name slug }
    }
    hops
  }
}"#;

fn assert_abstract(body: &str) {
    let tree = read(body);
    let t = &tree;
    keys(
        body,
        t,
        "data",
        None,
        &["nodes", "search", "timeline", "connection"],
    );
    keys(
        body,
        t,
        "data.nodes",
        None,
        &["slug", "events", "name", "id"],
    );
    keys(body, t, "data.search", None, &["nodes", "totalCount"]);
    keys(
        body,
        t,
        "data.search.nodes",
        None,
        &["record", "rank", "type"],
    );
    let record = "data.search.nodes.record";
    for (ty, first) in [("Event", "participants"), ("Project", "participants")] {
        let mut objects = Vec::new();
        tree.objects_at(record, &mut objects);
        let present = objects.iter().any(|entries| {
            entries
                .iter()
                .any(|(k, v)| k == "__typename" && matches!(v, Ordered::Text(t) if t == ty))
        });
        if present {
            keys(body, t, record, Some(ty), &[first, "name", "__typename"]);
        }
    }
    keys(
        body,
        t,
        record,
        Some("Organization"),
        &["name", "agreements", "__typename"],
    );
    let step = "data.timeline.nodes";
    keys(
        body,
        t,
        step,
        Some("AgreementSigned"),
        &["agreement", "date", "__typename", "kind"],
    );
    keys(
        body,
        t,
        &format!("{step}.agreement"),
        None,
        &["parties", "title"],
    );
    keys(
        body,
        t,
        step,
        Some("EventHeld"),
        &["event", "date", "__typename", "kind"],
    );
    keys(
        body,
        t,
        &format!("{step}.event"),
        None,
        &["participants", "name"],
    );
    keys(body, t, "data.connection", None, &["steps", "hops"]);
    keys(
        body,
        t,
        "data.connection.steps",
        None,
        &["via", "to", "from"],
    );
    keys(
        body,
        t,
        "data.connection.steps.from",
        None,
        &["name", "slug"],
    );
    keys(
        body,
        t,
        "data.connection.steps.via",
        Some("Agreement"),
        &["parties", "title", "__typename"],
    );
}

#[tokio::test]
async fn interfaces_unions_and_explore_payloads_answer_in_query_order_on_both_stores() {
    for (store, app) in [
        ("postgres", spawn_app().await),
        ("sqlite", spawn_embedded_app().await),
    ] {
        let ilo = app
            .data(r#"{ organization(by: {slug: "ilo"}) { id } }"#, json!({}))
            .await;
        let id = ilo["organization"]["id"].clone();
        for run in 0..30 {
            let body = app.graphql_text(ABSTRACT, json!({ "id": id })).await;
            assert_abstract(&body);
            if run == 0 {
                eprintln!("{store}: {}", &body[..body.len().min(300)]);
            }
        }
    }
}

/// A mutation's payload is resolved like any object: its fields concurrently.
#[tokio::test]
async fn a_mutation_payload_answers_in_query_order() {
    let app = spawn_app_with_auth().await;
    let editor = token(Role::Editor, "order-test");
    for n in 0..20 {
        let query = format!(
            r#"mutation {{
  second: createOrganization(input: {{slug: "order-b-{n}", name: "Order B {n}", kind: OTHER}}) {{
    created record {{ events {{ totalCount }} name agreements {{ totalCount }} slug }} auditEntry {{ action }}
  }}
  first: createOrganization(input: {{slug: "order-a-{n}", name: "Order A {n}", kind: OTHER}}) {{
    auditEntry {{ action }} record {{ slug projects {{ totalCount }} }} created
  }}
}}"#
        );
        let body = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&editor)
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .text()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let tree = read(&body);
        let t = &tree;
        keys(&body, t, "data", None, &["second", "first"]);
        keys(
            &body,
            t,
            "data.second",
            None,
            &["created", "record", "auditEntry"],
        );
        keys(
            &body,
            t,
            "data.second.record",
            None,
            &["events", "name", "agreements", "slug"],
        );
        keys(
            &body,
            t,
            "data.first",
            None,
            &["auditEntry", "record", "created"],
        );
        keys(&body, t, "data.first.record", None, &["slug", "projects"]);
    }
}
