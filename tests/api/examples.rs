//! The example operations in `examples/` are real questions about the data: each must
//! validate against the schema, run on the seed without errors, and give the answer it promises.

use serde_json::{Value, json};

use crate::helpers::{sorted, spawn_app};

fn examples() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "graphql"))
        .map(|path| {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
            (name, text)
        })
        .collect();
    files.sort();
    files
}

/// What each example must answer, in facts of the ILO page.
fn check(name: &str, data: &Value) {
    match name {
        "global-framework-parties" => {
            let gfa = &data["agreement"];
            assert_eq!(gfa["signedOn"], "2020");
            assert_eq!(
                sorted(&gfa["parties"]["edges"], "/node/acronym"),
                ["ILO", "UNDP"]
            );
            assert!(
                sorted(&gfa["instruments"]["edges"], "/node/name")
                    .iter()
                    .any(|n| n.contains("Guiding Principles"))
            );
        }
        "eu-funded-projects" => {
            assert_eq!(data["projects"]["totalCount"], 3);
            let asia = data["projects"]["nodes"]
                .as_array()
                .and_then(|n| n.iter().find(|p| p["regions"] == json!(["asia"])))
                .unwrap_or_else(|| panic!("the Asia supply-chain project is EU-funded: {data:#}"));
            assert_eq!(
                sorted(&asia["implementers"]["nodes"], "/acronym"),
                ["ILO", "OECD"]
            );
        }
        "unctad-co-organized-events" => {
            let nodes = &data["events"]["nodes"];
            assert_eq!(nodes[0]["startsOn"], "2014", "in date order: {nodes:#}");
            assert_eq!(
                nodes[0]["parent"]["name"]
                    .as_str()
                    .map(|n| n.contains("World Investment Forum")),
                Some(true)
            );
            assert_eq!(
                sorted(&nodes[1]["participants"]["nodes"], "/acronym"),
                ["ILO", "UNCTAD", "WAIPA"]
            );
        }
        "parties-to-recent-agreements" => {
            let names = sorted(&data["organizations"]["nodes"], "/name");
            assert_eq!(
                names,
                [
                    "International Labour Organization",
                    "United Nations Development Programme"
                ]
            );
        }
        "mne-declaration-reach" => {
            let mne = &data["instrument"];
            assert_eq!(mne["issuer"]["name"], "International Labour Organization");
            assert!(
                mne["agreements"]["totalCount"].as_u64().unwrap_or_default() >= 8,
                "{mne:#}"
            );
            assert!(
                mne["projects"]["totalCount"].as_u64().unwrap_or_default() >= 1,
                "{mne:#}"
            );
        }
        "organizations-by-kind" => {
            assert_eq!(
                data["organizations"]["groups"][0]["key"]["kind"],
                "UN_SYSTEM_ENTITY"
            );
            assert!(data["events"]["groups"].as_array().is_some_and(|y| {
                y.contains(
                    &json!({ "key": { "startYear": { "kind": "YEAR", "year": 2014 } }, "count": 2 })
                )
            }));
        }
        "ilo-network" => {
            let ilo = &data["organization"];
            assert_eq!(
                sorted(&ilo["children"]["nodes"], "/name"),
                ["ILO Governing Body"]
            );
            assert!(ilo["agreements"]["totalCount"].as_u64().unwrap_or_default() >= 9);
            let first_event = &ilo["events"]["edges"][0]["node"];
            assert_eq!(
                first_event["startsOn"], "2014",
                "events in date order: {ilo:#}"
            );
        }
        "search-supply-chains" => {
            let slugs = sorted(&data["search"]["edges"], "/node/record/slug");
            for slug in [
                "responsible-supply-chains-asia",
                "ungc-action-platform-decent-work-supply-chains",
            ] {
                assert!(slugs.iter().any(|s| s == slug), "{slug}: {data:#}");
            }
        }
        "waipa-partners" => {
            let nodes = &data["organization"]["partners"]["nodes"];
            assert_eq!(nodes[0]["organization"]["acronym"], "ILO");
            assert_eq!(
                nodes[0]["agreements"][0]["title"],
                "ILO-WAIPA cooperation agreement"
            );
        }
        "ohchr-to-waipa" => {
            let paths = data["connection"].as_array().cloned().unwrap_or_default();
            assert!(
                !paths.is_empty() && paths.iter().all(|p| p["hops"] == 2),
                "{data:#}"
            );
        }
        "ilo-timeline" => {
            let nodes = &data["timeline"]["nodes"];
            assert!(
                nodes.as_array().is_some_and(|n| n
                    .iter()
                    .any(|e| e["kind"] == "AGREEMENT_SIGNED" && e["date"] == "2020")),
                "{data:#}"
            );
            // Its part in the UN Global Compact since the Compact's launch.
            assert!(
                nodes
                    .as_array()
                    .is_some_and(|n| n.iter().any(|e| e["kind"] == "JOINED_AGREEMENT"
                        && e["date"] == "1999"
                        && e["role"] == "PARTNER"
                        && e["agreement"]["title"]
                            == "ILO participation in the UN Global Compact")),
                "{data:#}"
            );
        }
        "waipa-network" => {
            let network = &data["organization"]["network"];
            assert_eq!(network["nodes"][0]["organization"]["acronym"], "WAIPA");
            assert!(
                network["links"].as_array().is_some_and(|l| l.len() >= 4),
                "{data:#}"
            );
        }
        "explore-search" => {
            let first = &data["search"]["nodes"][0]["record"];
            assert_eq!(first["slug"], "waipa", "{data:#}");
            assert!(
                data["search"]["nodes"][0]["snippet"]
                    .as_str()
                    .is_some_and(|s| s.contains("<mark>WAIPA</mark>")),
                "{data:#}"
            );
        }
        "explore-network" => {
            let network = &data["organization"]["network"];
            assert_eq!(network["nodes"][0]["organization"]["acronym"], "WAIPA");
            let acronyms = sorted(&network["nodes"], "/organization/acronym");
            for partner in ["ILO", "UNCTAD"] {
                assert!(acronyms.iter().any(|a| a == partner), "{data:#}");
            }
            assert!(
                network["links"].as_array().is_some_and(|links| links
                    .iter()
                    .all(|l| l["weight"].as_u64().unwrap_or_default() >= 1)),
                "{data:#}"
            );
        }
        "explore-timeline" => {
            let nodes = &data["timeline"]["nodes"];
            assert!(
                nodes
                    .as_array()
                    .is_some_and(|n| n.iter().any(|e| e["kind"] == "EVENT_HELD"
                        && e["date"] == "2018"
                        && e["event"]["name"]
                            .as_str()
                            .is_some_and(|name| name.contains("World Investment Forum 2018")))),
                "WAIPA's session at the World Investment Forum 2018, dated to its year: {data:#}"
            );
        }
        "explore-connection" => {
            let paths = data["connection"].as_array().cloned().unwrap_or_default();
            assert!(!paths.is_empty(), "{data:#}");
            for path in &paths {
                assert_eq!(path["hops"], 2, "{data:#}");
                let middle = path["steps"][0]["to"]["acronym"]
                    .as_str()
                    .unwrap_or_default();
                assert!(["ILO", "UNCTAD"].contains(&middle), "{data:#}");
                assert!(
                    path["steps"][0]["via"]
                        .as_array()
                        .is_some_and(|v| !v.is_empty()),
                    "{data:#}"
                );
            }
        }
        "agreements-signed-per-year" => {
            // The seed dates one agreement (the Global Framework of Action, 2020); the others'
            // sources give no date.
            let groups = &data["agreements"]["groups"];
            assert_eq!(
                groups[0],
                json!({ "key": { "signedYear": { "kind": "YEAR", "year": 2020 } }, "count": 1 })
            );
            assert_eq!(
                groups[1]["key"]["signedYear"]["kind"], "NO_DATE",
                "{groups:#}"
            );
        }
        "projects-per-region-and-status" => {
            let groups = data["projects"]["groups"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(
                groups.iter().any(|g| g["key"]["region"] == "asia"),
                "a project covers Asia: {groups:?}"
            );
        }
        "organizations-in-most-events" => {
            let first = &data["events"]["groups"][0];
            assert_eq!(first["key"]["participant"]["acronym"], "ILO", "{data:#}");
            assert_eq!(first["count"], 9, "{data:#}");
            let ilo = &data["ilo"]["events"]["aggregates"];
            let organizes: u64 = ilo["byRole"]
                .as_array()
                .map(|r| r.iter().filter_map(|x| x["count"].as_u64()).sum())
                .unwrap_or_default();
            assert_eq!(ilo["count"].as_u64(), Some(organizes), "{ilo:#}");
        }
        "organizations-co-organizing-most-events" => {
            // In the seed: 5 events have a co-organizer; the ILO co-organizes 5 events, UNCTAD
            // 3, UNDP 2.
            let events = &data["events"];
            assert_eq!(events["totalCount"], 5, "{data:#}");
            let top: Vec<(String, u64)> = events["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|g| {
                    (
                        g["key"]["participant"]["acronym"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        g["count"].as_u64().unwrap_or_default(),
                    )
                })
                .collect();
            assert_eq!(
                top[..3],
                [("ILO".into(), 5), ("UNCTAD".into(), 3), ("UNDP".into(), 2)],
                "{data:#}"
            );
            assert!(top[3..].iter().all(|(_, n)| *n == 1), "{data:#}");
        }
        other => panic!("examples/{other}.graphql has no expected answer in tests/api/examples.rs"),
    }
}

#[tokio::test]
async fn every_example_runs_on_the_seed_and_answers_its_question() {
    let app = spawn_app().await;
    let examples = examples();
    assert!(examples.len() >= 7, "the examples are there");
    for (name, text) in examples {
        let body = app.graphql(&text, json!({})).await;
        assert!(
            body.get("errors").is_none(),
            "examples/{name}.graphql failed: {body:#}"
        );
        check(&name, &body["data"]);
    }
}

#[test]
fn graphiql_opens_on_every_example() {
    let listed: Vec<&str> = partnerships::http::EXAMPLES
        .iter()
        .map(|(name, _)| *name)
        .collect();
    let mut on_disk: Vec<String> = examples().into_iter().map(|(name, _)| name).collect();
    on_disk.sort();
    let mut sorted_listed: Vec<String> = listed.iter().map(|s| (*s).to_owned()).collect();
    sorted_listed.sort();
    assert_eq!(
        sorted_listed, on_disk,
        "src/http/pages.rs lists every file of examples/"
    );
}

#[tokio::test]
async fn the_graphiql_page_carries_the_examples() {
    let app = spawn_app().await;
    let html = app
        .client
        .get(format!("{}/graphql", app.address))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    for operation in ["GlobalFrameworkParties", "EuFundedProjects", "IloNetwork"] {
        assert!(
            html.contains(operation),
            "GraphiQL opens with the {operation} example"
        );
    }
    assert!(!html.contains("{{"), "the placeholders are filled");
}
