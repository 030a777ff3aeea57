//! The files the web pages load (`web/assets/`: our scripts and styles, and under `vendor/` the
//! pinned builds of GraphiQL, React, GraphQL Playground and Cytoscape that `scripts/web-assets`
//! copies from npm), embedded in the binary and served at `/assets/…`, so no page needs anything
//! from another origin.
//!
//! Pages link each file as `/assets/<path>?v=<hash>`, the hash of its content: a response to
//! such a URL never changes, so browsers may keep it for a year; any other request for the file
//! is revalidated with its ETag.

use actix_web::{
    HttpMessage, HttpRequest, HttpResponse,
    http::header::{self, CacheControl, CacheDirective, ETag, EntityTag, IfNoneMatch},
    web,
};
use rust_embed::Embed;

/// `web/assets/`, embedded in debug builds too (`debug-embed`), so what the tests load is what
/// a release serves.
#[derive(Embed)]
#[folder = "web/assets/"]
struct Assets;

/// A year: the longest `max-age` caches are asked to honour.
const ONE_YEAR_SECS: u32 = 365 * 24 * 60 * 60;

/// The first 16 hex digits of the file's SHA-256 (computed when the binary is built).
fn version(file: &rust_embed::EmbeddedFile) -> String {
    file.metadata.sha256_hash()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The URL a page links `path` (relative to `web/assets/`) with; `None` when there is no such
/// file.
pub fn url(path: &str) -> Option<String> {
    Assets::get(path).map(|file| format!("/assets/{path}?v={}", version(&file)))
}

/// The media type of a file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        // Licences (LICENSE, LICENSE.*) and VERSIONS.
        _ => "text/plain; charset=utf-8",
    }
}

/// `GET /assets/{path}`: the file with its media type, an ETag and cache headers; 304 when the
/// client holds it already.
pub async fn serve(request: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let path = path.into_inner();
    let Some(file) = Assets::get(&path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("No such asset.");
    };
    let version = version(&file);
    let pinned = url::form_urlencoded::parse(request.query_string().as_bytes())
        .any(|(key, value)| key == "v" && value == version.as_str());
    let cache = if pinned {
        CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(ONE_YEAR_SECS),
            CacheDirective::Extension("immutable".into(), None),
        ])
    } else {
        CacheControl(vec![CacheDirective::NoCache])
    };
    let etag = EntityTag::new_strong(version);
    let held = match request.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(&etag)),
        None => false,
    };
    let mut response = if held {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header(ETag(etag))
        .insert_header(cache)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if held {
        return response.finish();
    }
    response.content_type(content_type(&path)).body(file.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendored_library_is_embedded_with_its_licence() {
        for dir in [
            "react",
            "react-dom",
            "graphiql",
            "graphiql-plugin-explorer",
            "graphql-playground",
            "cytoscape",
        ] {
            assert!(
                Assets::get(&format!("vendor/{dir}/LICENSE")).is_some(),
                "web/assets/vendor/{dir} carries its licence"
            );
        }
    }

    #[test]
    fn urls_carry_the_content_hash_and_unknown_files_have_none() {
        let react = url("vendor/react/react.production.min.js").unwrap_or_default();
        let (path, hash) = react.split_once("?v=").unwrap_or_default();
        assert_eq!(path, "/assets/vendor/react/react.production.min.js");
        assert_eq!(hash.len(), 16, "{react}");
        assert_eq!(url("vendor/react/missing.js"), None);
    }
}
