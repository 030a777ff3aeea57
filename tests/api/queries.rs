//! The query API: lookups, Relay connections with keyset cursors in both directions, ordering,
//! typed filters (through relations too), global IDs and `node`, asserted on the ILO facts.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_codes, sorted, spawn_app};

/// The slugs of `data.<field>.nodes`.
fn slugs(data: &Value, field: &str) -> Vec<String> {
    data[field]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no {field}.nodes in {data:#}"))
        .iter()
        .map(|n| n["slug"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn slugs_where(app: &TestApp, field: &str, filter: Value) -> Vec<String> {
    let query = format!(
        "query ($filter: {}Filter) {{ {field}(filter: $filter, first: 100) {{ nodes {{ slug }} }} }}",
        type_of(field)
    );
    let data = app.data(&query, json!({ "filter": filter })).await;
    let mut found = slugs(&data, field);
    found.sort();
    found
}

fn type_of(field: &str) -> &'static str {
    match field {
        "organizations" => "Organization",
        "agreements" => "Agreement",
        "projects" => "Project",
        "events" => "Event",
        "instruments" => "Instrument",
        other => panic!("unknown list {other}"),
    }
}

#[tokio::test]
async fn filters_answer_the_questions_of_the_issue() {
    let app = spawn_app().await;

    // Organizations party to an agreement signed after 2015.
    let parties = slugs_where(
        &app,
        "organizations",
        json!({ "agreements": { "agreement": { "signedOn": { "after": "2015" } } } }),
    )
    .await;
    assert_eq!(
        parties,
        ["ilo", "undp"],
        "only the 2020 Global Framework of Action is dated after 2015"
    );

    // Events co-organized by UNCTAD.
    let events = slugs_where(
        &app,
        "events",
        json!({ "participants": { "role": { "eq": "CO_ORGANIZER" }, "organization": { "slug": { "eq": "unctad" } } } }),
    )
    .await;
    assert_eq!(
        events,
        [
            "inter-agency-round-table-csr",
            "wif-2014-session-more-better-jobs",
            "wif-2018-session-jobs-investment"
        ]
    );

    // Projects funded by the EU.
    let funded = slugs_where(
        &app,
        "projects",
        json!({ "participants": { "role": { "eq": "FUNDER" }, "organization": { "acronym": { "eq": "EU" } } } }),
    )
    .await;
    assert_eq!(
        funded,
        [
            "rbc-latin-america-caribbean",
            "responsible-supply-chains-asia",
            "wee-rbc-g7-programme"
        ]
    );
}

#[tokio::test]
async fn text_enum_date_null_and_boolean_filters_combine() {
    let app = spawn_app().await;
    let cases: [(&str, &str, Value, &[&str]); 8] = [
        (
            "case-insensitive contains",
            "organizations",
            json!({ "name": { "contains": "LABOUR" } }),
            &["ilo"],
        ),
        (
            "starts with, ignoring case",
            "organizations",
            json!({ "slug": { "startsWith": "UN-" } }),
            &["un-general-assembly", "un-ohrlls", "un-women"],
        ),
        (
            "enum in",
            "organizations",
            json!({ "kind": { "in": ["ASSOCIATION", "ORGANIZING_COMMITTEE"] } }),
            &["tokyo-2020", "waipa"],
        ),
        (
            "null check with a parent filter",
            "organizations",
            json!({ "acronym": { "isNull": true }, "parent": { "slug": { "eq": "ohchr" } } }),
            &["working-group-business-human-rights"],
        ),
        (
            "or",
            "events",
            json!({ "or": [{ "slug": { "eq": "wto-forum-2019" } }, { "kind": { "eq": "GAMES" } }] }),
            &["tokyo-2020-games", "wto-forum-2019"],
        ),
        (
            "not",
            "events",
            json!({ "kind": { "eq": "SESSION" }, "not": { "startsOn": { "isNull": true } } }),
            &[
                "wif-2014-session-more-better-jobs",
                "wif-2018-session-jobs-investment",
                "wto-forum-2019-session-trade-decent-work",
            ],
        ),
        (
            "date range read at its precision",
            "events",
            json!({ "kind": { "eq": "FORUM" }, "startsOn": { "from": "2014", "to": "2018" } }),
            &["world-investment-forum-2014", "world-investment-forum-2018"],
        ),
        (
            "sessions of a forum held by UNCTAD",
            "events",
            json!({ "parent": { "participants": { "organization": { "slug": { "eq": "unctad" } } } } }),
            &[
                "wif-2014-session-more-better-jobs",
                "wif-2018-session-jobs-investment",
            ],
        ),
    ];
    for (reason, field, filter, expected) in cases {
        assert_eq!(slugs_where(&app, field, filter).await, expected, "{reason}");
    }
}

#[tokio::test]
async fn like_wildcards_in_user_text_match_literally() {
    let app = spawn_app().await;
    assert!(
        slugs_where(
            &app,
            "organizations",
            json!({ "name": { "contains": "%" } })
        )
        .await
        .is_empty()
    );
    assert!(
        slugs_where(
            &app,
            "organizations",
            json!({ "name": { "contains": "_" } })
        )
        .await
        .is_empty()
    );
}

const PAGE: &str = r#"query ($orderBy: [OrganizationOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  organizations(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { slug }
  }
}"#;

/// Walks the whole list forwards, then backwards, `size` at a time.
async fn walk(app: &TestApp, order_by: &Value, size: i32) -> (Vec<String>, Vec<String>) {
    let mut forwards = Vec::new();
    let mut after = Value::Null;
    for _ in 0..50 {
        let data = app
            .data(
                PAGE,
                json!({ "orderBy": order_by, "first": size, "after": after }),
            )
            .await;
        forwards.extend(slugs(&data, "organizations"));
        if data["organizations"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = data["organizations"]["pageInfo"]["endCursor"].clone();
    }
    let mut backwards = Vec::new();
    let mut before = Value::Null;
    for _ in 0..50 {
        let data = app
            .data(
                PAGE,
                json!({ "orderBy": order_by, "last": size, "before": before }),
            )
            .await;
        let mut page = slugs(&data, "organizations");
        page.extend(backwards);
        backwards = page;
        if data["organizations"]["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = data["organizations"]["pageInfo"]["startCursor"].clone();
    }
    (forwards, backwards)
}

#[tokio::test]
async fn keyset_pages_cover_every_ordering_once_in_both_directions() {
    let app = spawn_app().await;
    let orderings = [
        json!([{ "field": "NAME" }]),
        json!([{ "field": "NAME", "direction": "DESC" }]),
        // Many ties: the id tiebreak must keep pages stable.
        json!([{ "field": "KIND" }]),
        // Nullable key (half the organizations have no acronym) with ties inside kinds.
        json!([{ "field": "KIND", "direction": "DESC" }, { "field": "ACRONYM" }]),
        json!([{ "field": "ACRONYM", "direction": "DESC" }, { "field": "NAME", "direction": "DESC" }]),
    ];
    for order_by in orderings {
        let all = app
            .data(PAGE, json!({ "orderBy": order_by, "first": 100 }))
            .await;
        let expected = slugs(&all, "organizations");
        assert_eq!(
            expected.len() as u64,
            all["organizations"]["totalCount"]
                .as_u64()
                .unwrap_or_default()
        );
        for size in [1, 3, 7] {
            let (forwards, backwards) = walk(&app, &order_by, size).await;
            assert_eq!(forwards, expected, "forwards by {size} in {order_by}");
            assert_eq!(backwards, expected, "backwards by {size} in {order_by}");
        }
    }
}

#[tokio::test]
async fn orderings_put_missing_values_last_going_up() {
    let app = spawn_app().await;
    let data = app
        .data(r#"{ agreements(orderBy: [{ field: SIGNED_ON }], first: 100) { nodes { slug signedOn } } }"#, json!({}))
        .await;
    let dates: Vec<&Value> = data["agreements"]["nodes"]
        .as_array()
        .map(|n| n.iter().map(|a| &a["signedOn"]).collect())
        .unwrap_or_default();
    assert_eq!(
        dates.first().copied(),
        Some(&json!("2020")),
        "the dated agreement comes first"
    );
    assert!(
        dates[1..].iter().all(|d| d.is_null()),
        "undated agreements follow: {dates:?}"
    );
}

#[tokio::test]
async fn every_kind_of_record_is_found_by_slug_by_id_and_through_node() {
    let app = spawn_app().await;
    let kinds = [
        ("organization", "Organization", "waipa"),
        ("agreement", "Agreement", "ilo-unctad-mou"),
        ("project", "Project", "responsible-supply-chains-asia"),
        ("event", "Event", "wif-2014-session-more-better-jobs"),
        ("instrument", "Instrument", "mne-declaration"),
    ];
    let mut ids = Vec::new();
    for (field, type_name, slug) in kinds {
        let by_slug = app
            .data(
                &format!(r#"{{ {field}(by: {{ slug: "{slug}" }}) {{ id slug }} }}"#),
                json!({}),
            )
            .await;
        let id = by_slug[field]["id"].clone();
        assert!(id.is_string(), "{field} {slug} exists");
        let by_id = app
            .data(
                &format!("query ($id: ID!) {{ {field}(by: {{ id: $id }}) {{ slug }} }}"),
                json!({ "id": id }),
            )
            .await;
        assert_eq!(by_id[field]["slug"], slug);
        let node = app
            .data(
                "query ($id: ID!) { node(id: $id) { __typename id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(node["node"]["__typename"], type_name);
        assert_eq!(node["node"]["id"], id);
        ids.push(id);
    }

    ids.insert(2, json!("T3JnYW5pemF0aW9uOjk5OTk5")); // Organization:99999, which does not exist
    let before = app.statements();
    let nodes = app
        .data(
            "query ($ids: [ID!]!) { nodes(ids: $ids) { __typename } }",
            json!({ "ids": ids }),
        )
        .await;
    let statements = app.statements() - before;
    let types: Vec<Value> = nodes["nodes"]
        .as_array()
        .map(|n| n.iter().map(|x| x["__typename"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(
        types,
        [
            json!("Organization"),
            json!("Agreement"),
            Value::Null,
            json!("Project"),
            json!("Event"),
            json!("Instrument")
        ]
    );
    assert_eq!(
        statements, 5,
        "one statement per type, the missing organization batched with WAIPA"
    );
}

#[tokio::test]
async fn nested_to_one_references_resolve() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{
              event(by: { slug: "wif-2018-session-jobs-investment" }) { startsOn kind parent { slug startsOn } }
              project(by: { slug: "ilo-undp-nap-bhr-support" }) { agreement { slug signedOn } }
              instrument(by: { slug: "mne-declaration" }) { issuer { acronym } }
            }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["event"]["startsOn"], "2018");
    assert_eq!(data["event"]["kind"], "SESSION");
    assert_eq!(
        data["event"]["parent"]["slug"],
        "world-investment-forum-2018"
    );
    assert_eq!(
        data["project"]["agreement"]["slug"],
        "ilo-undp-global-framework-of-action"
    );
    assert_eq!(data["instrument"]["issuer"]["acronym"], "ILO");
}

#[tokio::test]
async fn a_list_costs_one_statement_and_one_more_for_total_count() {
    let app = spawn_app().await;
    let before = app.statements();
    app.data("{ projects(first: 5) { nodes { slug } } }", json!({}))
        .await;
    assert_eq!(app.statements() - before, 1);
    let before = app.statements();
    app.data(
        "{ projects(first: 5) { totalCount nodes { slug } } }",
        json!({}),
    )
    .await;
    assert_eq!(app.statements() - before, 2);
}

#[tokio::test]
async fn bad_paging_is_a_clear_bad_user_input() {
    let app = spawn_app().await;
    let by_name = app
        .data(
            r#"{ organizations(first: 2) { pageInfo { endCursor } } }"#,
            json!({}),
        )
        .await;
    let cursor = by_name["organizations"]["pageInfo"]["endCursor"].clone();
    let cases = [
        ("first and last together", json!({ "first": 2, "last": 2 })),
        ("last above the maximum", json!({ "last": 101 })),
        (
            "a cursor from another ordering",
            json!({ "after": cursor, "orderBy": [{ "field": "KIND" }] }),
        ),
        (
            "a cursor that is not one",
            json!({ "before": "eyJvIjoibmFtZTphc2MsaWQiLCJrIjpbXX0" }),
        ),
    ];
    for (reason, variables) in cases {
        let body = app.graphql(PAGE, variables).await;
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{reason}: {body:#}");
    }
    let too_many: Vec<String> = (0..101).map(|_| "T3JnYW5pemF0aW9uOjE".to_owned()).collect();
    let body = app
        .graphql(
            "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": too_many }),
        )
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "101 ids: {body:#}");
}

#[tokio::test]
async fn a_page_of_instruments_and_its_total_agree() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{ instruments(filter: { issuer: { slug: { eq: "oecd" } } }, orderBy: [{ field: NAME }], first: 2) {
                totalCount pageInfo { hasNextPage } edges { cursor node { slug issuer { slug } } } } }"#,
            json!({}),
        )
        .await;
    let page = &data["instruments"];
    assert!(
        page["totalCount"].as_u64().unwrap_or_default() >= 5,
        "the OECD issued its Guidelines and due-diligence guidance: {page:#}"
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        sorted(&page["edges"], "/node/issuer/slug"),
        ["oecd", "oecd"]
    );
}

#[tokio::test]
async fn facets_count_what_a_filter_ui_shows() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{
              kinds: organizationKindCounts { kind count }
              statuses: projectStatusCounts { status count }
              years: eventYearCounts(filter: { kind: { in: [FORUM, SESSION] } }) { year count }
              organizations { totalCount }
            }"#,
            json!({}),
        )
        .await;
    let kinds = data["kinds"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        kinds[0],
        json!({ "kind": "UN_SYSTEM_ENTITY", "count": 8 }),
        "UN system entities are the most common kind: {kinds:?}"
    );
    let total: u64 = kinds.iter().filter_map(|k| k["count"].as_u64()).sum();
    assert_eq!(
        total,
        data["organizations"]["totalCount"]
            .as_u64()
            .unwrap_or_default(),
        "the kinds add up to all organizations"
    );
    assert!(
        data["statuses"]
            .as_array()
            .is_some_and(|s| s.contains(&json!({ "status": "COMPLETED", "count": 3 }))),
        "{:#}",
        data["statuses"]
    );
    assert_eq!(
        data["years"],
        json!([
            { "year": 2014, "count": 2 },
            { "year": 2018, "count": 2 },
            { "year": 2019, "count": 2 },
            { "year": null, "count": 4 },
        ]),
        "forums and sessions by year, undated last"
    );
}

#[tokio::test]
async fn projects_list_their_regions_and_themes() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{ projects(filter: { region: { contains: "asia" } }) { nodes { slug regions themes } } }"#,
            json!({}),
        )
        .await;
    let nodes = data["projects"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    assert_eq!(nodes[0]["slug"], "responsible-supply-chains-asia");
    assert_eq!(nodes[0]["regions"], json!(["asia"]));
    assert!(nodes[0]["themes"].as_array().is_some_and(|t| !t.is_empty()));
}

#[tokio::test]
async fn empty_lists_in_filters_mean_nothing_and_everything() {
    let app = spawn_app().await;
    let all = slugs_where(&app, "organizations", json!({})).await;
    let cases = [
        (
            "`in` an empty list matches nothing",
            json!({ "slug": { "in": [] } }),
            0,
        ),
        (
            "`notIn` an empty list matches everything",
            json!({ "kind": { "notIn": [] } }),
            all.len(),
        ),
        (
            "an empty `or` adds no condition",
            json!({ "or": [] }),
            all.len(),
        ),
        (
            "an empty `and` adds no condition",
            json!({ "and": [] }),
            all.len(),
        ),
        (
            "`in` an empty enum list matches nothing",
            json!({ "kind": { "in": [] } }),
            0,
        ),
    ];
    for (reason, filter, expected) in cases {
        assert_eq!(
            slugs_where(&app, "organizations", filter).await.len(),
            expected,
            "{reason}"
        );
    }
}

#[tokio::test]
async fn a_relation_filter_by_slug_is_looked_up_first_and_answers_as_the_join_does() {
    let app = spawn_app().await;
    let query = r#"query ($p: OrganizationFilter) {
      events(first: 50, filter: { participants: { organization: $p } }, orderBy: [{ field: STARTS_ON, direction: DESC }]) {
        totalCount nodes { slug }
      }
    }"#;
    // By slug alone: the slug becomes an id in its own statement, then page and count.
    let by_slug = json!({ "slug": { "eq": "ilo" } });
    let before = app.statements();
    let looked_up = app.data(query, json!({ "p": by_slug })).await;
    assert_eq!(
        app.statements() - before,
        3,
        "the slug, the page and the count"
    );
    // With another condition beside the slug, the filter joins the organizations as before.
    let joined = app
        .data(
            query,
            json!({ "p": { "slug": { "eq": "ilo" }, "name": { "contains": "Labour" } } }),
        )
        .await;
    assert_eq!(looked_up, joined, "both ways find the same events");
    assert!(
        looked_up["events"]["totalCount"].as_u64().unwrap_or(0) > 1,
        "{looked_up:#}"
    );
    let several = app
        .data(
            query,
            json!({ "p": { "slug": { "in": ["ilo", "waipa"] } } }),
        )
        .await;
    assert!(
        several["events"]["totalCount"].as_u64() >= looked_up["events"]["totalCount"].as_u64(),
        "two organizations' events include one's"
    );
    let unknown = app
        .data(query, json!({ "p": { "slug": { "eq": "no-such-body" } } }))
        .await;
    assert_eq!(unknown["events"]["totalCount"], 0);
    assert_eq!(unknown["events"]["nodes"], json!([]));
}
