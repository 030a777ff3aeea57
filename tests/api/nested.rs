//! Nested connections: pages per parent, edges with the link's data, filters and orderings
//! inside, the same answers on PostgreSQL and SQLite, and statement counts that depend on the
//! shape of a query, not on how many rows it returns (on a generated dataset far larger than
//! the seed).

use chrono::{NaiveDate, Utc};
use entity::{
    AgreementKind, DatePrecision, OrganizationKind, PartyRole, ProjectKind, ProjectRole,
    ProjectStatus, agreement, agreement_party, organization, project, project_participant,
};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::{TestApp, sorted, spawn_app, spawn_embedded_app};

const ORGANIZATIONS: i64 = 300;
const AGREEMENTS: i64 = 900;
const PROJECTS: i64 = 300;

/// Adds a synthetic network to the seeded database: 300 organizations (a binary tree of
/// parents and children), 900 agreements with three parties each, 300 projects with three
/// participants each. Deterministic; slugs start with `gen-`.
pub async fn generate(db: &DatabaseConnection) {
    let now = Utc::now();
    let orgs: Vec<organization::ActiveModel> = (0..ORGANIZATIONS)
        .map(|i| organization::ActiveModel {
            slug: Set(format!("gen-org-{i:04}")),
            name: Set(format!("Generated organization {i:04}")),
            acronym: Set((i % 3 == 0).then(|| format!("G{i}"))),
            kind: Set(if i % 2 == 0 {
                OrganizationKind::Association
            } else {
                OrganizationKind::Network
            }),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        })
        .collect();
    for chunk in orgs.chunks(100) {
        organization::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let ids: Vec<i64> = organization::Entity::find()
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|o| o.slug.starts_with("gen-"))
        .map(|o| o.id)
        .collect();
    assert_eq!(ids.len() as i64, ORGANIZATIONS);
    // A binary tree: every organization but the first has a parent and up to two children.
    for i in 1..ORGANIZATIONS as usize {
        let child = organization::ActiveModel {
            id: sea_orm::ActiveValue::Unchanged(ids[i]),
            parent_id: Set(Some(ids[(i - 1) / 2])),
            ..Default::default()
        };
        organization::Entity::update(child)
            .exec(db)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    let agreements: Vec<agreement::ActiveModel> = (0..AGREEMENTS)
        .map(|j| agreement::ActiveModel {
            slug: Set(format!("gen-agr-{j:04}")),
            title: Set(format!("Generated agreement {j:04}")),
            kind: Set(AgreementKind::CooperationAgreement),
            signed_on: Set((j % 4 != 0)
                .then(|| NaiveDate::from_ymd_opt(2000 + (j % 25) as i32, 1, 1))
                .flatten()),
            signed_precision: Set((j % 4 != 0).then_some(DatePrecision::Year)),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        })
        .collect();
    for chunk in agreements.chunks(300) {
        agreement::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let agreement_ids: Vec<i64> = agreement::Entity::find()
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|a| a.slug.starts_with("gen-"))
        .map(|a| a.id)
        .collect();
    let pick = |j: i64, k: i64| ids[((j * (2 * k + 1) + k * 37) % ORGANIZATIONS) as usize];
    let mut parties = Vec::new();
    for (j, agreement_id) in agreement_ids.iter().enumerate() {
        let j = j as i64;
        let mut chosen: Vec<i64> = Vec::new();
        for k in 0..3 {
            let org = pick(j, k);
            if !chosen.contains(&org) {
                chosen.push(org);
                parties.push(agreement_party::ActiveModel {
                    agreement_id: Set(*agreement_id),
                    organization_id: Set(org),
                    role: Set(if k == 0 {
                        PartyRole::Signatory
                    } else {
                        PartyRole::Partner
                    }),
                    created_at: Set(now),
                    updated_at: Set(now),
                    version: Set(1),
                    ..Default::default()
                });
            }
        }
    }
    for chunk in parties.chunks(500) {
        agreement_party::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    let projects: Vec<project::ActiveModel> = (0..PROJECTS)
        .map(|p| project::ActiveModel {
            slug: Set(format!("gen-prj-{p:04}")),
            name: Set(format!("Generated project {p:04}")),
            kind: Set(ProjectKind::Project),
            status: Set(ProjectStatus::Active),
            agreement_id: Set(Some(agreement_ids[(p * 3) as usize])),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        })
        .collect();
    project::Entity::insert_many(projects)
        .exec(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let project_ids: Vec<i64> = project::Entity::find()
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|p| p.slug.starts_with("gen-"))
        .map(|p| p.id)
        .collect();
    let mut participants = Vec::new();
    for (p, project_id) in project_ids.iter().enumerate() {
        let p = p as i64;
        let mut chosen: Vec<i64> = Vec::new();
        for k in 0..3 {
            let org = pick(p + 1000, k);
            if !chosen.contains(&org) {
                chosen.push(org);
                participants.push(project_participant::ActiveModel {
                    project_id: Set(*project_id),
                    organization_id: Set(org),
                    role: Set(if k == 0 {
                        ProjectRole::Funder
                    } else {
                        ProjectRole::Implementer
                    }),
                    created_at: Set(now),
                    updated_at: Set(now),
                    version: Set(1),
                    ..Default::default()
                });
            }
        }
    }
    for chunk in participants.chunks(500) {
        project_participant::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

const NESTED: &str = r#"query Nested($first: Int) {
  organizations(first: $first, filter: { slug: { startsWith: "gen-" } }, orderBy: [{ field: NAME, direction: DESC }]) {
    totalCount
    nodes {
      slug
      parent { slug }
      children { totalCount nodes { slug } }
      agreements(first: 3, orderBy: [{ field: SIGNED_ON, direction: DESC }]) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { role node { slug signedOn parties(first: 2) { totalCount nodes { slug } } } }
      }
      projects(first: 2, role: { eq: FUNDER }) { edges { role node { slug agreement { slug } } } }
    }
  }
}"#;

#[tokio::test]
async fn nested_statements_depend_on_the_query_shape_not_on_the_rows() {
    let app = spawn_app().await;
    generate(&app.store.connection).await;

    let mut figures = Vec::new();
    for first in [2, 50, 100] {
        let (data, fewest) = app
            .fewest_statements(NESTED, json!({ "first": first }))
            .await;
        figures.push((first, fewest));
        let nodes = data["organizations"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(nodes.len(), first as usize);
        for org in &nodes {
            let agreements = &org["agreements"];
            let total = agreements["totalCount"].as_u64().unwrap_or_default();
            let shown = agreements["edges"]
                .as_array()
                .map(Vec::len)
                .unwrap_or_default() as u64;
            assert_eq!(
                shown,
                total.min(3),
                "each organization gets its own page of 3: {org:#}"
            );
            assert_eq!(agreements["pageInfo"]["hasNextPage"], total > 3, "{org:#}");
            for edge in agreements["edges"].as_array().into_iter().flatten() {
                let parties = &edge["node"]["parties"];
                let shown = parties["nodes"]
                    .as_array()
                    .map(Vec::len)
                    .unwrap_or_default() as u64;
                assert_eq!(
                    shown,
                    parties["totalCount"].as_u64().unwrap_or_default().min(2)
                );
            }
        }
    }
    eprintln!("statements per nested query (organizations: statements): {figures:?}");
    // The bound: one statement per relation level, plus one per totalCount asked:
    // organizations page + totalCount, parents, children page + count, agreements page +
    // count, parties page + count, projects page, the projects' agreements.
    for (first, statements) in &figures {
        assert!(
            *statements <= 11,
            "{statements} statements for {first} organizations: {figures:?}"
        );
    }
}

/// Siblings' keys are batched by their printed query, printed once per field of the document:
/// two fields that ask the same (aliases, a fragment spread at two levels) still share one
/// statement, and fields that ask differently get their own and their own answers.
#[tokio::test]
async fn fields_asking_the_same_share_a_statement_and_fields_asking_otherwise_do_not() {
    let app = spawn_app().await;
    generate(&app.store.connection).await;
    let query = r#"fragment Deals on Organization { deals: agreements(first: 2) { nodes { slug } } }
    query {
      organizations(first: 30, filter: { slug: { startsWith: "gen-" } }) {
        nodes {
          a: agreements(first: 2) { nodes { slug } }
          b: agreements(first: 2) { nodes { slug } }
          one: agreements(first: 1) { totalCount nodes { slug } }
          ...Deals
          parent { ...Deals }
        }
      }
    }"#;
    let (data, fewest) = app.fewest_statements(query, json!({})).await;
    let nodes = data["organizations"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(nodes.len(), 30);
    let mut parents = 0;
    for org in &nodes {
        let two = &org["a"]["nodes"];
        assert!(!two.as_array().is_some_and(Vec::is_empty), "{org:#}");
        assert_eq!(&org["b"]["nodes"], two, "{org:#}");
        assert_eq!(&org["deals"]["nodes"], two, "{org:#}");
        assert_eq!(
            org["one"]["nodes"].as_array().map(Vec::len),
            Some(1),
            "{org:#}"
        );
        assert_eq!(org["one"]["nodes"][0], two[0], "{org:#}");
        assert!(org["one"]["totalCount"].as_u64() >= two.as_array().map(|t| t.len() as u64));
        if org["parent"].is_object() {
            parents += 1;
            assert!(org["parent"]["deals"]["nodes"].is_array(), "{org:#}");
        }
    }
    assert!(parents > 0, "some generated organizations have a parent");
    // The organizations' page; then their parents, the pages of two agreements (a, b and the
    // spread of Deals: one statement, three would make 8), and the page of one and its count;
    // then the parents' Deals, one level down.
    assert_eq!(fewest, 6, "statements for the query");
}

#[tokio::test]
async fn paging_through_a_nested_list_visits_every_row_once() {
    let app = spawn_app().await;
    generate(&app.store.connection).await;
    let query = r#"query ($slug: String!, $after: String) {
      organization(by: { slug: $slug }) {
        agreements(first: 2, after: $after, orderBy: [{ field: SIGNED_ON }, { field: TITLE, direction: DESC }]) {
          totalCount pageInfo { hasNextPage endCursor } nodes { slug }
        }
        all: agreements(first: 100, orderBy: [{ field: SIGNED_ON }, { field: TITLE, direction: DESC }]) { nodes { slug } }
      }
    }"#;
    for slug in ["gen-org-0001", "gen-org-0150", "ilo"] {
        let mut seen: Vec<Value> = Vec::new();
        let mut after = Value::Null;
        let mut expected = Vec::new();
        for _ in 0..100 {
            let data = app
                .data(query, json!({ "slug": slug, "after": after }))
                .await;
            let page = &data["organization"]["agreements"];
            expected = data["organization"]["all"]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            seen.extend(page["nodes"].as_array().cloned().unwrap_or_default());
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        assert!(!expected.is_empty(), "{slug} is party to agreements");
        assert_eq!(seen, expected, "{slug}: pages in order, each row once");
    }
}

#[tokio::test]
async fn edges_carry_roles_and_nested_lists_filter_and_order() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{
              ilo: organization(by: { slug: "ilo" }) {
                signed: agreements(role: { eq: SIGNATORY }, first: 100) { nodes { slug } }
                dated: agreements(filter: { signedOn: { isNull: false } }) { edges { role node { slug } } }
                children { nodes { slug } }
              }
              forum: event(by: { slug: "world-investment-forum-2018" }) {
                sessions { nodes { slug participants(orderBy: [{ field: NAME }]) { edges { role node { slug } } } } }
              }
              mne: instrument(by: { slug: "mne-declaration" }) {
                agreements(role: { eq: GUIDANCE }) { nodes { slug } }
                projects { totalCount }
              }
              eu: organization(by: { slug: "eu" }) {
                projects(role: { eq: FUNDER }) { totalCount nodes { slug } }
              }
            }"#,
            json!({}),
        )
        .await;
    let signed = sorted(&data["ilo"]["signed"]["nodes"], "/slug");
    for slug in [
        "ilo-undp-global-framework-of-action",
        "ilo-unctad-mou",
        "ilo-waipa-cooperation-agreement",
        "ilo-tokyo-2020-agreement",
    ] {
        assert!(
            signed.contains(&slug.to_owned()),
            "the ILO signed {slug}: {signed:?}"
        );
    }
    assert!(
        !signed.contains(&"ilo-ungc-partnership".to_owned()),
        "the ILO is a partner, not a signatory, of the Compact"
    );
    assert_eq!(
        data["ilo"]["dated"]["edges"],
        json!([{ "role": "SIGNATORY", "node": { "slug": "ilo-undp-global-framework-of-action" } }])
    );
    assert_eq!(
        sorted(&data["ilo"]["children"]["nodes"], "/slug"),
        ["ilo-governing-body"]
    );

    let sessions = &data["forum"]["sessions"]["nodes"];
    assert_eq!(
        sorted(sessions, "/slug"),
        ["wif-2018-session-jobs-investment"]
    );
    let organizers: Vec<&str> = sessions[0]["participants"]["edges"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| x["node"]["slug"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        organizers,
        ["ilo", "unctad", "waipa"],
        "by name: International Labour…, United Nations Conference…, World Association…"
    );

    assert_eq!(
        sorted(&data["mne"]["agreements"]["nodes"], "/slug"),
        ["ilo-tokyo-2020-agreement"]
    );
    assert_eq!(data["eu"]["projects"]["totalCount"], 3);
}

/// The same nested query against PostgreSQL and the embedded SQLite store.
async fn network(app: &TestApp) -> Value {
    app.data(
        r#"{
          organizations(first: 30, orderBy: [{ field: KIND }, { field: ACRONYM, direction: DESC }]) {
            nodes {
              slug
              agreements(first: 2, orderBy: [{ field: SIGNED_ON, direction: DESC }]) {
                totalCount pageInfo { hasNextPage endCursor }
                edges { role since node { slug signedOn parties(orderBy: [{ field: SLUG }]) { edges { role node { slug } } } } }
              }
              events(first: 3) { totalCount edges { role node { slug startsOn sessions { nodes { slug } } } } }
              projects(first: 5) { edges { role node { slug instruments(first: 5) { edges { role node { slug } } } } } }
            }
          }
        }"#,
        json!({}),
    )
    .await
}

#[tokio::test]
async fn postgres_and_sqlite_give_the_same_nested_answers() {
    let postgres = spawn_app().await;
    let sqlite = spawn_embedded_app().await;

    let from_postgres = network(&postgres).await;
    let from_sqlite = network(&sqlite).await;

    assert!(
        from_postgres["organizations"]["nodes"]
            .as_array()
            .is_some_and(|n| n.len() >= 20)
    );
    assert_eq!(from_postgres, from_sqlite);
}

/// Children's pages are each parent's own (a `LATERAL … LIMIT` per parent over the
/// (parent, name, id) index on PostgreSQL, a window on SQLite): for each of 40 parents, its
/// first child either way and its count agree with the list of all its children, and a cursor
/// walks one parent's children once each, in order.
#[tokio::test]
async fn child_pages_are_each_parents_own_and_a_cursor_walks_them_once() {
    let query = r#"{
      organizations(first: 40, filter: { slug: { startsWith: "gen-" } }) {
        nodes {
          slug
          all: children(first: 100) { nodes { slug } }
          first: children(first: 1) { totalCount pageInfo { hasNextPage } nodes { slug } }
          last: children(first: 1, orderBy: [{ field: NAME, direction: DESC }]) { nodes { slug } }
        }
      }
    }"#;
    let walk = r#"query ($slug: String!, $after: String) {
      organization(by: { slug: $slug }) {
        children(first: 1, after: $after) { pageInfo { hasNextPage endCursor } nodes { slug } }
      }
    }"#;
    for app in [spawn_app().await, spawn_embedded_app().await] {
        generate(&app.store.connection).await;
        let data = app.data(query, json!({})).await;
        let nodes = data["organizations"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(nodes.len(), 40, "{data:#}");
        let mut parents = Vec::new();
        for org in &nodes {
            let all = org["all"]["nodes"].as_array().cloned().unwrap_or_default();
            let mut sorted_slugs: Vec<String> = all
                .iter()
                .map(|n| n["slug"].as_str().unwrap_or_default().to_owned())
                .collect();
            sorted_slugs.sort();
            let slugs: Vec<String> = all
                .iter()
                .map(|n| n["slug"].as_str().unwrap_or_default().to_owned())
                .collect();
            assert_eq!(slugs, sorted_slugs, "by name: {org:#}");
            assert_eq!(org["first"]["totalCount"], all.len(), "{org:#}");
            assert_eq!(
                org["first"]["pageInfo"]["hasNextPage"],
                all.len() > 1,
                "{org:#}"
            );
            assert_eq!(
                org["first"]["nodes"],
                json!(all.first().into_iter().collect::<Vec<_>>())
            );
            assert_eq!(
                org["last"]["nodes"],
                json!(all.last().into_iter().collect::<Vec<_>>())
            );
            if all.len() > 1 {
                parents.push((org["slug"].clone(), all));
            }
        }
        assert!(parents.len() >= 10, "the tree has parents: {data:#}");
        let (slug, all) = &parents[parents.len() / 2];
        let mut seen = Vec::new();
        let mut after = Value::Null;
        for _ in 0..5 {
            let data = app
                .data(walk, json!({ "slug": slug, "after": after }))
                .await;
            let page = &data["organization"]["children"];
            seen.extend(page["nodes"].as_array().cloned().unwrap_or_default());
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(&seen, all, "{slug}: one child a page, each once");
    }
}

/// The `totalCount`s of a record's relations without a role or a filter are read from the kept
/// counts together: the ILO's agreements, projects and events cost one statement of counts
/// beside their three pages (the hub detail's shape), and each count is the number of records
/// the relation lists. A count with a role is its own statement.
#[tokio::test]
async fn kept_counts_of_several_relations_share_one_statement() {
    let app = spawn_app().await;
    let counted = r#"{ organization(by: { slug: "ilo" }) {
        agreements(first: 1) { totalCount nodes { slug } }
        projects(first: 1) { totalCount nodes { slug } }
        events(first: 1) { totalCount nodes { slug } }
    } }"#;
    let (data, fewest) = app.fewest_statements(counted, json!({})).await;
    assert_eq!(
        fewest, 5,
        "the organization, three pages, one statement of counts"
    );
    let all = app
        .data(
            r#"{ organization(by: { slug: "ilo" }) {
                agreements(first: 100) { nodes { slug } }
                projects(first: 100) { nodes { slug } }
                events(first: 100) { nodes { slug } }
            } }"#,
            json!({}),
        )
        .await;
    for relation in ["agreements", "projects", "events"] {
        let listed = all["organization"][relation]["nodes"]
            .as_array()
            .map(Vec::len)
            .unwrap_or_default();
        assert!(listed > 0, "the ILO has {relation}");
        assert_eq!(
            data["organization"][relation]["totalCount"], listed,
            "{relation}: {data:#}"
        );
    }
    let (_, fewest) = app
        .fewest_statements(
            r#"{ organization(by: { slug: "ilo" }) {
                agreements { totalCount } projects { totalCount } events { totalCount }
            } }"#,
            json!({}),
        )
        .await;
    assert_eq!(fewest, 2, "the organization, one statement of counts");
    let (_, fewest) = app
        .fewest_statements(
            r#"{ organization(by: { slug: "ilo" }) {
                agreements(role: { eq: SIGNATORY }) { totalCount } projects { totalCount } events { totalCount }
            } }"#,
            json!({}),
        )
        .await;
    assert_eq!(fewest, 3, "the count with a role is its own");
}
