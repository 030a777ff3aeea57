//! The explorer's questions: full-text search, partners, paths between organizations, the
//! timeline and neighbourhoods. Real answers from the seed on PostgreSQL and SQLite, caps that
//! refuse with BAD_USER_INPUT, and statement counts that do not grow with the rows.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_codes, sorted, spawn_app, spawn_embedded_app};

/// Both stores, seeded: PostgreSQL first, then the embedded SQLite default.
async fn both_stores() -> [(&'static str, TestApp); 2] {
    [
        ("postgres", spawn_app().await),
        ("sqlite", spawn_embedded_app().await),
    ]
}

fn strings(values: &Value, key: &str) -> Vec<String> {
    values
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {values}"))
        .iter()
        .map(|v| {
            v.pointer(key)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("no {key} in {v}"))
                .to_owned()
        })
        .collect()
}

const PARTNERS: &str = r#"
query Partners($slug: String!, $via: [SharedRecordKind!]) {
  organization(by: { slug: $slug }) {
    partners(via: $via) {
      totalCount
      nodes {
        organization { acronym }
        strength
        kinds
        agreements { slug }
        projects { slug }
        events { slug }
      }
    }
  }
}"#;

#[tokio::test]
async fn waipa_partners_are_the_ilo_first_then_unctad_with_what_connects_them() {
    for (store, app) in both_stores().await {
        let data = app.data(PARTNERS, json!({ "slug": "waipa" })).await;
        let partners = &data["organization"]["partners"];
        let nodes = &partners["nodes"];
        let acronyms = strings(nodes, "/organization/acronym");
        assert_eq!(
            acronyms[..2],
            ["ILO", "UNCTAD"],
            "{store}: strongest first: {partners:#}"
        );
        assert_eq!(
            sorted(&json!(acronyms[2..]), ""),
            ["UN-OHRLLS", "UNIDO"],
            "{store}: the programme's other partners: {partners:#}"
        );
        assert_eq!(partners["totalCount"], 4, "{store}");

        let ilo = &nodes[0];
        assert_eq!(ilo["kinds"], json!(["AGREEMENT", "PROJECT", "EVENT"]));
        assert_eq!(
            strings(&ilo["agreements"], "/slug"),
            ["ilo-waipa-cooperation-agreement"]
        );
        assert_eq!(
            sorted(&ilo["projects"], "/slug"),
            [
                "ilo-waipa-ipa-capacity-building",
                "waipa-consultative-committee"
            ]
        );
        assert!(
            strings(&ilo["events"], "/slug")
                .contains(&"waipa-world-investment-conference".to_owned()),
            "{store}: {ilo:#}"
        );
        let shared = ilo["agreements"].as_array().map_or(0, Vec::len)
            + ilo["projects"].as_array().map_or(0, Vec::len)
            + ilo["events"].as_array().map_or(0, Vec::len);
        assert_eq!(
            ilo["strength"], shared,
            "strength counts the shared records"
        );

        let unctad = &nodes[1];
        assert_eq!(unctad["strength"], 2, "{store}: {unctad:#}");
        assert_eq!(
            strings(&unctad["projects"], "/slug"),
            ["ilo-waipa-ipa-capacity-building"]
        );
        assert_eq!(
            strings(&unctad["events"], "/slug"),
            ["wif-2018-session-jobs-investment"]
        );

        // Only through agreements: the ILO alone.
        let data = app
            .data(PARTNERS, json!({ "slug": "waipa", "via": ["AGREEMENT"] }))
            .await;
        let nodes = &data["organization"]["partners"]["nodes"];
        assert_eq!(strings(nodes, "/organization/acronym"), ["ILO"], "{store}");
        assert_eq!(nodes[0]["strength"], 1);
    }
}

const PATHS: &str = r#"
query Paths($from: String!, $to: String!, $maxHops: Int) {
  connection(from: { slug: $from }, to: { slug: $to }, maxHops: $maxHops) {
    hops
    steps {
      from { slug }
      kinds
      via { __typename ... on Agreement { slug } ... on Project { slug } ... on Event { slug } }
      to { slug }
    }
  }
}"#;

#[tokio::test]
async fn ohchr_reaches_waipa_in_two_steps_through_the_ilo_or_unctad() {
    for (store, app) in both_stores().await {
        let data = app
            .data(PATHS, json!({ "from": "ohchr", "to": "waipa" }))
            .await;
        let paths = data["connection"].as_array().cloned().unwrap_or_default();
        assert!(!paths.is_empty(), "{store}: a path exists");
        let mut middles = Vec::new();
        for path in &paths {
            assert_eq!(
                path["hops"], 2,
                "{store}: the shortest is two steps: {path:#}"
            );
            let steps = &path["steps"];
            assert_eq!(steps[0]["from"]["slug"], "ohchr");
            assert_eq!(steps[1]["to"]["slug"], "waipa");
            assert_eq!(
                steps[0]["to"]["slug"], steps[1]["from"]["slug"],
                "the steps chain"
            );
            middles.push(
                steps[0]["to"]["slug"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        middles.sort();
        middles.dedup();
        assert_eq!(middles, ["ilo", "unctad"], "{store}");
        // OHCHR and UNCTAD meet at the inter-agency round table; UNCTAD and WAIPA at the 2018
        // session on jobs through investment or in the capacity-building programme.
        let via_unctad = paths
            .iter()
            .find(|p| p["steps"][0]["to"]["slug"] == "unctad")
            .unwrap_or_else(|| panic!("a path through UNCTAD"));
        assert_eq!(
            via_unctad["steps"][0]["via"],
            json!([{ "__typename": "Event", "slug": "inter-agency-round-table-csr" }])
        );
        assert_eq!(via_unctad["steps"][0]["kinds"], json!(["EVENT"]));
        let unctad_waipa = sorted(&via_unctad["steps"][1]["via"], "/slug");
        assert_eq!(
            unctad_waipa,
            [
                "ilo-waipa-ipa-capacity-building",
                "wif-2018-session-jobs-investment"
            ],
            "{store}"
        );

        // One hop is not enough.
        let data = app
            .data(
                PATHS,
                json!({ "from": "ohchr", "to": "waipa", "maxHops": 1 }),
            )
            .await;
        assert_eq!(data["connection"], json!([]), "{store}");
    }
}

#[tokio::test]
async fn paths_refuse_bad_bounds_and_unknown_organizations() {
    let app = spawn_app().await;
    for (variables, code, why) in [
        (
            json!({ "from": "ohchr", "to": "waipa", "maxHops": 5 }),
            "BAD_USER_INPUT",
            "more hops than the cap",
        ),
        (
            json!({ "from": "ohchr", "to": "waipa", "maxHops": 0 }),
            "BAD_USER_INPUT",
            "no hops",
        ),
        (
            json!({ "from": "ohchr", "to": "ohchr" }),
            "BAD_USER_INPUT",
            "the same organization",
        ),
        (
            json!({ "from": "ohchr", "to": "no-such-org" }),
            "NOT_FOUND",
            "an unknown organization",
        ),
    ] {
        let body = app.graphql(PATHS, variables).await;
        assert_eq!(error_codes(&body), [code], "{why}: {body:#}");
    }
}

const TIMELINE: &str = r#"
query Timeline($org: String, $from: PartialDate, $to: PartialDate, $kinds: [TimelineEntryKind!], $first: Int, $after: String) {
  timeline(organization: { slug: $org }, from: $from, to: $to, kinds: $kinds, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        __typename
        date
        kind
        ... on AgreementSigned { agreement { slug signedOn } }
        ... on ProjectStarted { project { slug startsOn } }
        ... on ProjectEnded { project { slug endsOn } }
        ... on EventHeld { event { slug startsOn } }
        ... on JoinedAgreement {
          role
          organization { slug }
          agreement { slug parties { edges { since node { slug } } } }
        }
      }
    }
  }
}"#;

/// (date, kind, slug) of each entry of a timeline page.
fn entries(data: &Value) -> Vec<(String, String, String)> {
    data["timeline"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("edges: {data:#}"))
        .iter()
        .map(|e| {
            let node = &e["node"];
            let record = ["agreement", "project", "event"]
                .iter()
                .find_map(|k| node[*k]["slug"].as_str())
                .unwrap_or_else(|| panic!("a record: {node:#}"));
            (
                node["date"].as_str().unwrap_or_default().to_owned(),
                node["kind"].as_str().unwrap_or_default().to_owned(),
                record.to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_ilo_timeline_is_in_date_order_pages_and_invents_no_date() {
    for (store, app) in both_stores().await {
        let all = app
            .data(TIMELINE, json!({ "org": "ilo", "first": 100 }))
            .await;
        let list = entries(&all);
        let total = all["timeline"]["totalCount"].as_u64().unwrap_or_default();
        assert_eq!(list.len() as u64, total, "{store}: one page holds it all");
        assert!(total >= 5, "{store}: {list:?}");
        // In order by the first day of each period.
        let days: Vec<String> = list
            .iter()
            .map(|(d, _, _)| match d.len() {
                4 => format!("{d}-01-01"),
                7 => format!("{d}-01"),
                _ => d.clone(),
            })
            .collect();
        let mut in_order = days.clone();
        in_order.sort();
        assert_eq!(days, in_order, "{store}: date order: {list:?}");
        // Facts of the page: the Global Framework of Action signed in 2020, the 2014 session.
        assert!(
            list.contains(&(
                "2020".into(),
                "AGREEMENT_SIGNED".into(),
                "ilo-undp-global-framework-of-action".into()
            )),
            "{store}: {list:?}"
        );
        assert!(
            list.iter()
                .any(|(d, k, _)| d == "2014" && k == "EVENT_HELD"),
            "{store}: {list:?}"
        );
        // The ILO's part in the UN Global Compact since its launch, a dated link: a joining.
        assert!(
            list.contains(&(
                "1999".into(),
                "JOINED_AGREEMENT".into(),
                "ilo-ungc-partnership".into()
            )),
            "{store}: {list:?}"
        );
        // The entry's date is the record's own date (a joining's, its party's `since`): nothing
        // undated shows up, and a joining is the organization's own.
        for edge in all["timeline"]["edges"].as_array().into_iter().flatten() {
            let node = &edge["node"];
            let own = match node["__typename"].as_str() {
                Some("AgreementSigned") => &node["agreement"]["signedOn"],
                Some("ProjectStarted") => &node["project"]["startsOn"],
                Some("ProjectEnded") => &node["project"]["endsOn"],
                Some("JoinedAgreement") => {
                    assert_eq!(node["organization"]["slug"], "ilo", "{store}: {node:#}");
                    assert_eq!(node["role"], "PARTNER", "{store}: {node:#}");
                    let parties = node["agreement"]["parties"]["edges"].as_array();
                    parties
                        .into_iter()
                        .flatten()
                        .find(|p| p["node"]["slug"] == "ilo")
                        .map(|p| &p["since"])
                        .unwrap_or_else(|| panic!("{store}: the ILO is a party: {node:#}"))
                }
                _ => &node["event"]["startsOn"],
            };
            assert_eq!(&node["date"], own, "{store}: {node:#}");
        }
        // The UN Global Compact's timeline holds the agreement, not the ILO's joining of it.
        let ungc = app
            .data(
                TIMELINE,
                json!({ "org": "ungc", "kinds": ["JOINED_AGREEMENT"], "first": 100 }),
            )
            .await;
        assert_eq!(entries(&ungc), [], "{store}: {ungc:#}");
        let joinings = app
            .data(
                TIMELINE,
                json!({ "org": "ilo", "kinds": ["JOINED_AGREEMENT"], "first": 100 }),
            )
            .await;
        assert_eq!(
            entries(&joinings),
            [(
                "1999".to_owned(),
                "JOINED_AGREEMENT".to_owned(),
                "ilo-ungc-partnership".to_owned()
            )],
            "{store}: {joinings:#}"
        );
        // The WAIPA World Investment Conference is recurring and undated: not on the timeline.
        assert!(
            !list
                .iter()
                .any(|(_, _, s)| s == "waipa-world-investment-conference"),
            "{store}"
        );

        // Pages of 3 walk the same list.
        let mut paged = Vec::new();
        let mut after = Value::Null;
        loop {
            let page = app
                .data(
                    TIMELINE,
                    json!({ "org": "ilo", "first": 3, "after": after }),
                )
                .await;
            paged.extend(entries(&page));
            let info = &page["timeline"]["pageInfo"];
            if info["hasNextPage"] != true {
                break;
            }
            after = info["endCursor"].clone();
        }
        assert_eq!(paged, list, "{store}: paging gives the same entries");

        // From/to and kinds: agreements signed in 2020 or later.
        let recent = app
            .data(
                TIMELINE,
                json!({ "org": "ilo", "from": "2020", "kinds": ["AGREEMENT_SIGNED"], "first": 100 }),
            )
            .await;
        let recent = entries(&recent);
        assert!(!recent.is_empty(), "{store}");
        assert!(
            recent
                .iter()
                .all(|(d, k, _)| d.as_str() >= "2020" && k == "AGREEMENT_SIGNED"),
            "{store}: {recent:?}"
        );
        let to_2014 = app
            .data(
                TIMELINE,
                json!({ "org": "ilo", "to": "2014", "first": 100 }),
            )
            .await;
        assert!(
            entries(&to_2014)
                .iter()
                .all(|(d, _, _)| d.as_str() < "2015"),
            "{store}"
        );
    }
}

#[tokio::test]
async fn a_timeline_cursor_does_not_fit_another_timeline() {
    let app = spawn_app().await;
    let page = app
        .data(TIMELINE, json!({ "org": "ilo", "first": 1 }))
        .await;
    let cursor = page["timeline"]["pageInfo"]["endCursor"].clone();
    let body = app
        .graphql(TIMELINE, json!({ "org": "waipa", "after": cursor }))
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body:#}");
    let body = app
        .graphql(TIMELINE, json!({ "org": "ilo", "after": "not-a-cursor" }))
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body:#}");
}

const SEARCH: &str = r#"
query Search($q: String!, $types: [SearchType!], $first: Int, $after: String) {
  search(query: $q, types: $types, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        type
        rank
        snippet
        record {
          __typename
          ... on Organization { slug }
          ... on Agreement { slug }
          ... on Project { slug }
          ... on Event { slug }
          ... on Instrument { slug }
        }
      }
    }
  }
}"#;

fn hit_slugs(data: &Value) -> Vec<String> {
    strings(&data["search"]["edges"], "/node/record/slug")
}

#[tokio::test]
async fn supply_chains_ranks_the_asia_project_and_the_decent_work_platform_first() {
    for (store, app) in both_stores().await {
        let data = app
            .data(SEARCH, json!({ "q": "supply chains", "first": 50 }))
            .await;
        let slugs = hit_slugs(&data);
        // One page holds every hit: the count agrees with it.
        assert_eq!(data["search"]["pageInfo"]["hasNextPage"], false, "{store}");
        assert_eq!(
            data["search"]["totalCount"].as_u64(),
            Some(slugs.len() as u64),
            "{store}: totalCount counts the hits"
        );
        let position = |slug: &str| {
            slugs
                .iter()
                .position(|s| s == slug)
                .unwrap_or_else(|| panic!("{store}: {slug} is found: {slugs:?}"))
        };
        let asia = position("responsible-supply-chains-asia");
        let platform = position("ungc-action-platform-decent-work-supply-chains");
        assert!(
            asia < 3 && platform < 3,
            "{store}: both rank at the top: {slugs:?}"
        );
        // Records that only mention supply chains in passing rank below both.
        let edges = data["search"]["edges"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let rank = |i: usize| edges[i]["node"]["rank"].as_f64().unwrap_or_default();
        assert!(rank(asia) > rank(slugs.len() - 1), "{store}: {edges:?}");
        let hit = &edges[asia]["node"];
        assert_eq!(hit["type"], "PROJECT");
        assert_eq!(hit["record"]["__typename"], "Project");
        assert!(
            hit["snippet"]
                .as_str()
                .is_some_and(|s| s.to_lowercase().contains("<mark>supply</mark>")),
            "{store}: the snippet marks the match: {hit:#}"
        );
        // Unrelated records do not match at all.
        assert!(!slugs.contains(&"waipa".to_owned()), "{store}");

        // Case and accents are ignored.
        let plain = hit_slugs(&app.data(SEARCH, json!({ "q": "decent work" })).await);
        let accented = hit_slugs(&app.data(SEARCH, json!({ "q": "DÉCENT Wörk" })).await);
        assert!(plain.len() >= 3, "{store}: {plain:?}");
        assert_eq!(accented, plain, "{store}");
    }
}

#[tokio::test]
async fn search_takes_phrases_prefixes_types_accents_and_pages() {
    let app = spawn_app().await;
    // A phrase in quotes.
    let phrase = hit_slugs(
        &app.data(SEARCH, json!({ "q": "\"supply chains\"", "first": 50 }))
            .await,
    );
    assert!(phrase.contains(&"responsible-supply-chains-asia".to_owned()));
    // A prefix.
    let prefix = hit_slugs(
        &app.data(SEARCH, json!({ "q": "supp* asia", "first": 50 }))
            .await,
    );
    assert!(
        prefix.contains(&"responsible-supply-chains-asia".to_owned()),
        "{prefix:?}"
    );
    // Case and accents are ignored.
    let accents = hit_slugs(&app.data(SEARCH, json!({ "q": "WAÏPA" })).await);
    let plain = hit_slugs(&app.data(SEARCH, json!({ "q": "waipa" })).await);
    assert!(accents.contains(&"waipa".to_owned()), "{accents:?}");
    assert_eq!(accents, plain);
    // Types.
    let orgs = app
        .data(
            SEARCH,
            json!({ "q": "decent work", "types": ["ORGANIZATION"], "first": 50 }),
        )
        .await;
    assert!(
        strings(&orgs["search"]["edges"], "/node/type")
            .iter()
            .all(|t| t == "ORGANIZATION"),
        "{orgs:#}"
    );
    // Pages of 2 walk the same hits.
    let all = hit_slugs(
        &app.data(SEARCH, json!({ "q": "decent work", "first": 100 }))
            .await,
    );
    let mut paged = Vec::new();
    let mut after = Value::Null;
    for _ in 0..100 {
        let page = app
            .data(
                SEARCH,
                json!({ "q": "decent work", "first": 2, "after": after }),
            )
            .await;
        paged.extend(hit_slugs(&page));
        if page["search"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["search"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(paged, all);
    // A cursor of another search, an empty query, an overlong one.
    for (variables, why) in [
        (
            json!({ "q": "supply", "after": after }),
            "a cursor of another search",
        ),
        (json!({ "q": "  " }), "an empty query"),
        (json!({ "q": "a".repeat(300) }), "an overlong query"),
        (json!({ "q": "work", "first": 101 }), "a page too large"),
    ] {
        let body = app.graphql(SEARCH, variables).await;
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{why}: {body:#}");
    }
}

const NETWORK: &str = r#"
query Network($slug: String!, $depth: Int!, $maxNodes: Int!) {
  organization(by: { slug: $slug }) {
    network(depth: $depth, maxNodes: $maxNodes) {
      nodes { id depth organization { slug } }
      links { source target weight kinds agreements projects events }
    }
  }
}"#;

#[tokio::test]
async fn the_waipa_neighbourhood_holds_its_partners_and_the_links_among_them() {
    for (store, app) in both_stores().await {
        let data = app
            .data(
                NETWORK,
                json!({ "slug": "waipa", "depth": 1, "maxNodes": 100 }),
            )
            .await;
        let network = &data["organization"]["network"];
        let nodes = network["nodes"].as_array().cloned().unwrap_or_default();
        assert_eq!(nodes[0]["organization"]["slug"], "waipa");
        assert_eq!(nodes[0]["depth"], 0);
        assert_eq!(
            sorted(&json!(nodes[1..]), "/organization/slug"),
            ["ilo", "un-ohrlls", "unctad", "unido"],
            "{store}: {network:#}"
        );
        let id = |slug: &str| {
            nodes
                .iter()
                .find(|n| n["organization"]["slug"] == slug)
                .map(|n| n["id"].clone())
                .unwrap_or_else(|| panic!("{slug}"))
        };
        let (waipa, ilo, unctad) = (id("waipa"), id("ilo"), id("unctad"));
        let link = |a: &Value, b: &Value| {
            network["links"]
                .as_array()
                .and_then(|links| {
                    links.iter().find(|l| {
                        (&l["source"] == a && &l["target"] == b)
                            || (&l["source"] == b && &l["target"] == a)
                    })
                })
                .cloned()
                .unwrap_or_else(|| panic!("{store}: a link {a} – {b}: {network:#}"))
        };
        let waipa_unctad = link(&waipa, &unctad);
        assert_eq!(waipa_unctad["weight"], 2);
        assert_eq!(waipa_unctad["projects"], 1);
        assert_eq!(waipa_unctad["events"], 1);
        // Links among the partners themselves (the outer ring) are there too.
        let ilo_unctad = link(&ilo, &unctad);
        assert!(
            ilo_unctad["weight"].as_u64().unwrap_or_default() >= 3,
            "{ilo_unctad:#}"
        );

        for (variables, why) in [
            (
                json!({ "slug": "waipa", "depth": 4, "maxNodes": 100 }),
                "too deep",
            ),
            (
                json!({ "slug": "waipa", "depth": 2, "maxNodes": 3 }),
                "too many nodes",
            ),
            (
                json!({ "slug": "waipa", "depth": 1, "maxNodes": 501 }),
                "a cap above the maximum",
            ),
        ] {
            let body = app.graphql(NETWORK, variables).await;
            assert_eq!(
                error_codes(&body),
                ["BAD_USER_INPUT"],
                "{store}, {why}: {body:#}"
            );
        }
    }
}

/// The statements of one request.
async fn statements(app: &TestApp, query: &str, variables: Value) -> (u64, Value) {
    let before = app.statements();
    let data = app.data(query, variables).await;
    (app.statements() - before, data)
}

#[tokio::test]
async fn partners_of_many_organizations_take_a_fixed_number_of_statements() {
    let app = spawn_app().await;
    crate::nested::generate(&app.store.connection).await;
    const MANY: &str = r#"
    query Many($first: Int!) {
      organizations(first: $first) {
        nodes {
          slug
          partners(first: 5) {
            totalCount
            nodes { strength organization { slug } agreements { slug } projects { slug } events { slug } }
          }
        }
      }
    }"#;
    let mut figures = Vec::new();
    for first in [2, 50, 100] {
        let (n, data) = statements(&app, MANY, json!({ "first": first })).await;
        assert_eq!(
            data["organizations"]["nodes"].as_array().map(Vec::len),
            Some(first as usize)
        );
        figures.push(n);
    }
    // The page, the partners of all organizations, the partners themselves, and the shared
    // agreements, projects and events: one statement each, however many organizations.
    assert!(
        // A bound, not an equality: on a saturated machine a loader batch can split in two.
        figures.iter().all(|n| *n <= 6),
        "statements per request for 2, 50, 100 organizations: {figures:?}"
    );
}

#[tokio::test]
async fn paths_and_timelines_take_a_bounded_number_of_statements() {
    let app = spawn_app().await;
    crate::nested::generate(&app.store.connection).await;
    // One statement per hop, then the organizations and the shared records of the steps.
    let (n, data) = statements(
        &app,
        PATHS,
        json!({ "from": "ohchr", "to": "waipa", "maxHops": 4 }),
    )
    .await;
    assert!(!data["connection"].as_array().is_some_and(Vec::is_empty));
    assert!(n <= 2 + 2 + 3 + 2, "a path costs {n} statements");

    // The page, the count, then the agreements, projects and events on it.
    const EVERYTHING: &str = r#"
    query Everything($first: Int!) {
      timeline(first: $first) {
        totalCount
        nodes {
          date
          ... on AgreementSigned { agreement { slug } }
          ... on ProjectStarted { project { slug } }
          ... on ProjectEnded { project { slug } }
          ... on EventHeld { event { slug } }
          ... on JoinedAgreement { organization { slug } agreement { slug } }
        }
      }
    }"#;
    for first in [5, 100] {
        let (n, data) = statements(&app, EVERYTHING, json!({ "first": first })).await;
        assert_eq!(
            data["timeline"]["nodes"].as_array().map(Vec::len),
            Some(first as usize)
        );
        assert!(n <= 6, "a timeline page of {first} costs {n} statements");
    }
    // Every dated party link is a joining, and only those: counted apart in SQL.
    let dated: i64 = app
        .store
        .connection
        .query_one_raw(Statement::from_string(
            app.store.connection.get_database_backend(),
            "SELECT COUNT(*) AS n FROM agreement_parties WHERE since_on IS NOT NULL",
        ))
        .await
        .expect("count")
        .expect("a row")
        .try_get("", "n")
        .expect("n");
    assert!(dated > 0, "the generated data has dated party links");
    const JOININGS: &str = r#"
    query Joinings($after: String) {
      timeline(kinds: [JOINED_AGREEMENT], first: 100, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { kind ... on JoinedAgreement { organization { slug } agreement { slug } } }
      }
    }"#;
    let (mut seen, mut after) = (0, Value::Null);
    loop {
        let (n, data) = statements(&app, JOININGS, json!({ "after": after })).await;
        assert!(n <= 4, "a page of joinings costs {n} statements");
        let timeline = &data["timeline"];
        assert_eq!(timeline["totalCount"].as_i64(), Some(dated), "{timeline:#}");
        for node in timeline["nodes"].as_array().into_iter().flatten() {
            assert_eq!(node["kind"], "JOINED_AGREEMENT");
            assert!(node["organization"]["slug"].is_string(), "{node:#}");
            assert!(node["agreement"]["slug"].is_string(), "{node:#}");
            seen += 1;
        }
        if timeline["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = timeline["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, dated, "paging walks every joining once");
    let (n, _) = statements(&app, SEARCH, json!({ "q": "generated", "first": 100 })).await;
    assert!(n <= 7, "a search page of 100 costs {n} statements");

    // One statement per hop, one for the links among the outer ring, one for the organizations.
    let (n, data) = statements(
        &app,
        NETWORK,
        json!({ "slug": "gen-org-0000", "depth": 2, "maxNodes": 500 }),
    )
    .await;
    let nodes = data["organization"]["network"]["nodes"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(nodes > 10, "a generated neighbourhood: {nodes} nodes");
    assert!(
        n <= 2 + 2 + 1,
        "a neighbourhood two hops deep costs {n} statements"
    );
}

#[tokio::test]
async fn a_walk_past_its_caps_is_refused_not_run_to_the_end() {
    use partnerships::{
        error::AppError,
        store::explore::{self, SharedKind, WalkLimits},
    };
    let app = spawn_app().await;
    crate::nested::generate(&app.store.connection).await;
    let db = &app.store.connection;
    let from = app_id(&app, "gen-org-0000").await;
    let to = app_id(&app, "waipa").await;

    // The generated network is far from WAIPA: with room enough the walk ends, finding nothing.
    let paths =
        explore::shortest_paths(db, from, to, &SharedKind::ALL, 4, 10, WalkLimits::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(paths.is_empty());

    // With tight caps it stops early and says so.
    let tight = WalkLimits {
        max_visited: 10,
        max_links: 50_000,
    };
    let refused = explore::shortest_paths(db, from, to, &SharedKind::ALL, 4, 10, tight).await;
    assert!(
        matches!(refused, Err(AppError::BadUserInput { .. })),
        "{refused:?}"
    );
}

/// The database id of an organization, by slug.
async fn app_id(app: &TestApp, slug: &str) -> i64 {
    use entity::organization;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    organization::Entity::find()
        .filter(organization::Column::Slug.eq(slug))
        .one(&app.store.connection)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no organization {slug}"))
        .id
}

#[tokio::test]
async fn hostile_search_text_is_answered_never_an_error() {
    for (store, app) in both_stores().await {
        // Letters that accent folding turns into query syntax (`½` → ` 1/2`, `ʼ` → `'`), and
        // the operators of both engines' query languages.
        for text in [
            "x½*",
            "aʼb*",
            "⑴*",
            "NEAR(",
            "a:b",
            "^x",
            "supply AND",
            "(chains",
            "\"supply",
            "col:umn*",
            "-",
            "'; DROP TABLE organizations; --",
        ] {
            let body = app.graphql(SEARCH, json!({ "q": text })).await;
            let codes = error_codes(&body);
            assert!(
                codes.iter().all(|c| c == "BAD_USER_INPUT"),
                "{store}: `{text}` gets a clean answer: {body:#}"
            );
        }
        // A negated prefix excludes; a negated phrase too.
        let without = hit_slugs(&app.data(SEARCH, json!({ "q": "supply -asi*" })).await);
        assert!(!without.is_empty(), "{store}");
        assert!(
            !without.contains(&"responsible-supply-chains-asia".to_owned()),
            "{store}: -asi* excludes the Asia project: {without:?}"
        );
        let phrase = hit_slugs(
            &app.data(SEARCH, json!({ "q": "supply -\"chains in asia\"" }))
                .await,
        );
        assert!(
            !phrase.contains(&"responsible-supply-chains-asia".to_owned()),
            "{store}: a negated phrase excludes: {phrase:?}"
        );
    }
}

#[tokio::test]
async fn an_edited_record_is_found_by_its_new_words_only() {
    use crate::helpers::{auth_settings, spawn_embedded_app_with, token};
    use partnerships::auth::Role;
    let apps = [
        ("postgres", crate::helpers::spawn_app_with_auth().await),
        (
            "sqlite",
            spawn_embedded_app_with(|s| s.auth = auth_settings()).await,
        ),
    ];
    let editor = token(Role::Editor, "search-test");
    let admin = token(Role::Admin, "search-test");
    for (store, app) in apps {
        let record = app
            .data(
                r#"{ organization(by: { slug: "waipa" }) { id version } }"#,
                json!({}),
            )
            .await;
        let (id, version) = (
            record["organization"]["id"].clone(),
            record["organization"]["version"].clone(),
        );
        let renamed = app
            .graphql_as(
                &editor,
                "mutation($id: ID!, $v: Int!) { updateOrganization(input: {id: $id, version: $v, name: \"Zanzibar Promotion League\"}) { record { name } } }",
                json!({ "id": id, "v": version }),
            )
            .await;
        assert!(renamed.get("errors").is_none(), "{store}: {renamed:#}");
        let found = hit_slugs(&app.data(SEARCH, json!({ "q": "zanzibar" })).await);
        assert_eq!(found, ["waipa"], "{store}: the new name is indexed");
        let old = hit_slugs(
            &app.data(SEARCH, json!({ "q": "\"World Association\"" }))
                .await,
        );
        assert!(
            !old.contains(&"waipa".to_owned()),
            "{store}: the old name is gone from the index: {old:?}"
        );

        // A deleted record leaves the index.
        let created = app
            .graphql_as(
                &editor,
                "mutation { createOrganization(input: {slug: \"quokka-council\", name: \"Quokka Council\", kind: OTHER}) { record { id version } } }",
                json!({}),
            )
            .await;
        let record = &created["data"]["createOrganization"]["record"];
        assert_eq!(
            hit_slugs(&app.data(SEARCH, json!({ "q": "quokka" })).await),
            ["quokka-council"],
            "{store}"
        );
        let deleted = app
            .graphql_as(
                &admin,
                "mutation($id: ID!, $v: Int!) { deleteOrganization(input: {id: $id, version: $v}) { deletedId } }",
                json!({ "id": record["id"], "v": record["version"] }),
            )
            .await;
        assert!(deleted.get("errors").is_none(), "{store}: {deleted:#}");
        assert!(
            hit_slugs(&app.data(SEARCH, json!({ "q": "quokka" })).await).is_empty(),
            "{store}: a deleted record is not found"
        );
    }
}

#[tokio::test]
async fn partners_first_zero_still_counts_them() {
    for (store, app) in both_stores().await {
        let data = app
            .data(
                r#"{ organization(by: { slug: "waipa" }) { partners(first: 0) { totalCount nodes { strength } } } }"#,
                json!({}),
            )
            .await;
        let partners = &data["organization"]["partners"];
        assert_eq!(partners["totalCount"], 4, "{store}: {partners}");
        assert_eq!(partners["nodes"], json!([]), "{store}");
    }
}

#[tokio::test]
async fn a_neighbourhood_per_organization_of_a_list_is_too_complex() {
    let app = spawn_app().await;
    let body = app
        .graphql(
            "{ organizations(first: 20) { nodes { network(depth: 1, maxNodes: 10) { nodes { depth } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&body), ["QUERY_TOO_COMPLEX"], "{body:#}");
}

#[tokio::test]
async fn a_walk_past_its_link_budget_is_refused_before_the_rows_are_held() {
    use partnerships::{
        error::AppError,
        store::explore::{self, SharedKind, WalkLimits},
    };
    let app = spawn_app().await;
    let db = &app.store.connection;
    let (from, to) = (app_id(&app, "ohchr").await, app_id(&app, "waipa").await);
    let tight = WalkLimits {
        max_visited: 2_000,
        max_links: 3,
    };
    let refused = explore::shortest_paths(db, from, to, &SharedKind::ALL, 4, 10, tight).await;
    assert!(
        matches!(refused, Err(AppError::BadUserInput { .. })),
        "{refused:?}"
    );
    // The same walk with room enough finds its paths.
    let paths =
        explore::shortest_paths(db, from, to, &SharedKind::ALL, 4, 10, WalkLimits::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(!paths.is_empty());
}
