//! The GraphiQL page: it opens on the example operations of `examples/`, one tab each, so a
//! newcomer starts from real questions about the data.

use serde_json::json;

/// The examples, compiled in (the examples test checks every file of `examples/` is listed).
pub const EXAMPLES: [(&str, &str); 12] = [
    (
        "global-framework-parties",
        include_str!("../../examples/global-framework-parties.graphql"),
    ),
    (
        "ilo-network",
        include_str!("../../examples/ilo-network.graphql"),
    ),
    (
        "eu-funded-projects",
        include_str!("../../examples/eu-funded-projects.graphql"),
    ),
    (
        "unctad-co-organized-events",
        include_str!("../../examples/unctad-co-organized-events.graphql"),
    ),
    (
        "parties-to-recent-agreements",
        include_str!("../../examples/parties-to-recent-agreements.graphql"),
    ),
    (
        "mne-declaration-reach",
        include_str!("../../examples/mne-declaration-reach.graphql"),
    ),
    (
        "organizations-by-kind",
        include_str!("../../examples/organizations-by-kind.graphql"),
    ),
    (
        "search-supply-chains",
        include_str!("../../examples/search-supply-chains.graphql"),
    ),
    (
        "waipa-partners",
        include_str!("../../examples/waipa-partners.graphql"),
    ),
    (
        "ohchr-to-waipa",
        include_str!("../../examples/ohchr-to-waipa.graphql"),
    ),
    (
        "ilo-timeline",
        include_str!("../../examples/ilo-timeline.graphql"),
    ),
    (
        "waipa-network",
        include_str!("../../examples/waipa-network.graphql"),
    ),
];

/// The page, pointed at `endpoint`.
pub fn page(endpoint: &str) -> String {
    let tabs: Vec<serde_json::Value> = EXAMPLES
        .iter()
        .map(|(_, query)| json!({ "query": query }))
        .collect();
    // JSON is valid JavaScript; escaping `<` keeps `</script>` in a query from closing the tag.
    let script_json = |value: serde_json::Value| value.to_string().replace('<', "\\u003c");
    include_str!("graphiql.html")
        .replace("/*TABS*/[]", &script_json(json!(tabs)))
        .replace("/*ENDPOINT*/''", &script_json(json!(endpoint)))
}
