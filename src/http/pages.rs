//! The web pages: GraphiQL (`GET /graphql` from a browser) and GraphQL Playground
//! (`/playground`), both opening on the example operations of `examples/`, one tab each; and the
//! partnership explorer (`/explore`), which asks the public API the same questions a frontend
//! would, with the `explore-*` operations of `examples/`.
//!
//! Every script and style a page loads comes from this server (`assets.rs`); no page has an
//! inline script. What a page's script needs to know (the endpoint, the tabs, the explorer's
//! operations) travels in a `<script type="application/json">` block, which browsers never run,
//! so the Content-Security-Policy can allow scripts from the server's own origin only.

use std::sync::LazyLock;

use actix_web::{HttpResponse, http::header, web};
use serde_json::{Value, json};

use super::{AppState, assets};

/// The examples, compiled in (the examples test checks every file of `examples/` is listed).
pub const EXAMPLES: [(&str, &str); 20] = [
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
        "agreements-signed-per-year",
        include_str!("../../examples/agreements-signed-per-year.graphql"),
    ),
    (
        "projects-per-region-and-status",
        include_str!("../../examples/projects-per-region-and-status.graphql"),
    ),
    (
        "organizations-in-most-events",
        include_str!("../../examples/organizations-in-most-events.graphql"),
    ),
    (
        "organizations-co-organizing-most-events",
        include_str!("../../examples/organizations-co-organizing-most-events.graphql"),
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
    (
        "explore-search",
        include_str!("../../examples/explore-search.graphql"),
    ),
    (
        "explore-network",
        include_str!("../../examples/explore-network.graphql"),
    ),
    (
        "explore-timeline",
        include_str!("../../examples/explore-timeline.graphql"),
    ),
    (
        "explore-connection",
        include_str!("../../examples/explore-connection.graphql"),
    ),
];

/// Where the pages send their GraphQL requests.
const ENDPOINT: &str = "/graphql";

/// What a page may load, and from where: everything from the server's own origin, nothing
/// inline, no plugins, and no framing. `data:` images and fonts are GraphiQL's: its stylesheet
/// carries its fonts and a few icons inline. `connect-src 'self'` covers the WebSocket of
/// subscriptions too (CSP Level 3 matches ws: and wss: to the page's own host and port).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of GraphQL Playground's page, which differs in one place: Playground styles
/// itself with styled-components, which writes `<style>` elements at run time, so its styles
/// need `'unsafe-inline'`. Scripts stay `'self'` only.
const PLAYGROUND_CSP: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// The Content-Security-Policy of each page (the tests read them from the responses).
pub fn content_security_policy(page: Page) -> &'static str {
    match page {
        Page::Playground => PLAYGROUND_CSP,
        Page::Graphiql | Page::Explore => CSP,
    }
}

/// The pages the server renders.
#[derive(Clone, Copy, Debug)]
pub enum Page {
    Graphiql,
    Playground,
    Explore,
}

impl Page {
    fn template(self) -> &'static str {
        match self {
            Self::Graphiql => include_str!("../../web/pages/graphiql.html"),
            Self::Playground => include_str!("../../web/pages/playground.html"),
            Self::Explore => include_str!("../../web/pages/explore.html"),
        }
    }

    /// What the page's script reads from its JSON block.
    fn config(self) -> Value {
        let tabs = || -> Vec<Value> {
            EXAMPLES
                .iter()
                .map(|(name, query)| json!({ "name": name, "query": query }))
                .collect()
        };
        match self {
            Self::Graphiql | Self::Playground => json!({ "endpoint": ENDPOINT, "tabs": tabs() }),
            Self::Explore => {
                let operations: serde_json::Map<String, Value> = EXAMPLES
                    .iter()
                    .filter_map(|(name, query)| {
                        let name = name.strip_prefix("explore-")?;
                        Some((name.to_owned(), json!(query)))
                    })
                    .collect();
                json!({ "endpoint": ENDPOINT, "operations": operations })
            }
        }
    }
}

/// The page's HTML: `{{asset:PATH}}` becomes the asset's versioned URL and `{{config}}` the
/// page's settings as JSON, with `<` escaped so no text in it can close the `<script>` block.
/// An asset that is not embedded is a mistake in the template: it is named in the error.
pub fn render(page: Page) -> Result<String, String> {
    let template = page.template();
    let mut html = String::with_capacity(template.len() + 16 * 1024);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        html.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("{page:?}: an unclosed {{{{ in the template"))?;
        let placeholder = &after[..end];
        match placeholder.split_once(':') {
            Some(("asset", path)) => html
                .push_str(&assets::url(path).ok_or_else(|| format!("{page:?}: no asset {path}"))?),
            None if placeholder == "config" => {
                html.push_str(&page.config().to_string().replace('<', "\\u003c"));
            }
            _ => {
                return Err(format!(
                    "{page:?}: unknown placeholder {{{{{placeholder}}}}}"
                ));
            }
        }
        rest = &after[end + 2..];
    }
    html.push_str(rest);
    Ok(html)
}

/// Each page, rendered once.
static PAGES: LazyLock<[Result<String, String>; 3]> = LazyLock::new(|| {
    [
        render(Page::Graphiql),
        render(Page::Playground),
        render(Page::Explore),
    ]
});

fn respond(page: Page) -> HttpResponse {
    match &PAGES[page as usize] {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                content_security_policy(page),
            ))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(html.clone()),
        Err(problem) => {
            tracing::error!(page = ?page, "The page cannot be rendered: {problem}");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("This page is broken on this server; the log says why.")
        }
    }
}

/// `GET /graphql` from a browser: GraphiQL.
pub async fn graphiql(state: web::Data<AppState>) -> HttpResponse {
    if !state.graphiql {
        return HttpResponse::NotFound().body("GraphiQL is turned off on this server.");
    }
    respond(Page::Graphiql)
}

/// `GET /playground`: GraphQL Playground (turned off with GraphiQL: both are IDEs).
pub async fn playground(state: web::Data<AppState>) -> HttpResponse {
    if !state.graphiql {
        return HttpResponse::NotFound().body("GraphQL Playground is turned off on this server.");
    }
    respond(Page::Playground)
}

/// `GET /explore`: the partnership explorer.
pub async fn explore() -> HttpResponse {
    respond(Page::Explore)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_renders_with_embedded_assets_only() {
        for page in [Page::Graphiql, Page::Playground, Page::Explore] {
            let html = render(page).unwrap_or_else(|problem| panic!("{problem}"));
            assert!(
                !html.contains("{{"),
                "{page:?}: every placeholder is filled"
            );
            for attribute in ["src=\"", "href=\""] {
                for link in html.split(attribute).skip(1) {
                    let target = link.split('"').next().unwrap_or_default();
                    let own_origin = (target.starts_with('/') && !target.starts_with("//"))
                        || target.starts_with('#')
                        || target.starts_with("data:");
                    assert!(
                        own_origin,
                        "{page:?} links only its own origin, not {target}"
                    );
                }
            }
            assert!(
                !html.contains("<script>") && !html.contains("<script type=\"text/javascript\">"),
                "{page:?} has no inline script"
            );
        }
    }

    #[test]
    fn the_explorer_carries_its_four_operations() {
        let config = Page::Explore.config();
        for name in ["search", "network", "timeline", "connection"] {
            assert!(
                config["operations"][name]
                    .as_str()
                    .is_some_and(|q| q.contains("query Explore")),
                "{name}: {config:#}"
            );
        }
    }

    #[test]
    fn a_query_cannot_close_the_config_block() {
        let html = render(Page::Graphiql).unwrap_or_default();
        let block = html
            .split("<script type=\"application/json\" id=\"page-config\">")
            .nth(1)
            .and_then(|rest| rest.split("</script>").next())
            .unwrap_or_default();
        assert!(block.contains("GlobalFrameworkParties"), "{block}");
        assert!(!block.contains('<'));
    }
}
