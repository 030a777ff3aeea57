//! Persisted operations. By default the server speaks Apollo's automatic persisted queries
//! (the protocol of async-graphql's `ApolloPersistedQueries`): a client may send a query's
//! SHA-256 instead of its text once the server has seen it. That is a cache, not a gate: any
//! client can register any query, and a registered text is checked like any other (it is
//! kept only once it passed the limits, and checked again whenever it is parsed). With `PERSISTED_OPERATIONS_DIR` set, the server instead runs only the operations in
//! that folder (its `.graphql` files, e.g. `examples/` or a client's manifest): by hash, or by
//! text equal to one of them once comments and spacing are ignored. Anything else is FORBIDDEN.

use std::{
    collections::{HashMap, HashSet},
    num::NonZeroUsize,
    path::Path,
    sync::{Arc, Mutex, PoisonError},
};

use anyhow::Context;
use async_graphql::{Request, ServerError};
use lru::LruCache;
use sha2::{Digest, Sha256};

fn error(message: &str, code: &str) -> ServerError {
    let mut err = ServerError::new(message, None);
    err.extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    err
}

/// The operations a server in allow-list mode runs.
#[derive(Debug, Default)]
pub struct AllowList {
    by_hash: HashMap<String, String>,
    normalized: HashSet<String>,
}

/// The SHA-256 of a text, in lowercase hex (what Apollo clients send).
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The text without comments and without insignificant spacing and commas: a space stays only
/// between two name characters (`query Q`), so `{a}` and `{ a }` normalize alike.
fn normalize(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut in_string = false;
    let mut chars = query.chars().peekable();
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '#' => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        break;
                    }
                }
                pending_space = true;
            }
            c if c.is_whitespace() || c == ',' => pending_space = true,
            c => {
                let is_name = |c: char| c.is_alphanumeric() || c == '_';
                if pending_space && out.chars().last().is_some_and(is_name) && is_name(c) {
                    out.push(' ');
                }
                pending_space = false;
                if c == '"' {
                    in_string = true;
                }
                out.push(c);
            }
        }
    }
    out
}

impl AllowList {
    /// Reads every `.graphql` file of `dir`.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let mut list = Self::default();
        let entries = std::fs::read_dir(dir).with_context(|| {
            format!("Failed to read PERSISTED_OPERATIONS_DIR {}", dir.display())
        })?;
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "graphql") {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("Failed to read {}", path.display()))?;
                list.add(text);
            }
        }
        anyhow::ensure!(
            !list.by_hash.is_empty(),
            "PERSISTED_OPERATIONS_DIR {} holds no .graphql file",
            dir.display()
        );
        Ok(list)
    }

    pub fn add(&mut self, text: String) {
        self.normalized.insert(normalize(&text));
        self.by_hash.insert(sha256_hex(&text), text);
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

/// How a server treats persisted queries.
pub enum Persisted {
    /// Neither hashes nor an allow-list: every request sends its text.
    Off,
    /// Apollo's automatic persisted queries: texts by hash, the most recently used kept.
    Automatic(Mutex<LruCache<String, Arc<str>>>),
    /// Only these operations run.
    AllowList(Arc<AllowList>),
}

/// A text to keep under its hash once it has passed the limits.
pub struct Registration(String);

/// The `persistedQuery` request extension.
#[derive(serde::Deserialize)]
struct PersistedQuery {
    version: i32,
    #[serde(rename = "sha256Hash")]
    sha256_hash: String,
}

impl Persisted {
    /// Automatic persisted queries keeping at most `entries` texts.
    pub fn automatic(entries: usize) -> Self {
        let entries = NonZeroUsize::new(entries).unwrap_or(NonZeroUsize::MIN);
        Self::Automatic(Mutex::new(LruCache::new(entries)))
    }

    /// Puts the text of the request's persisted query, if it names one, in `request.query`;
    /// refuses a hash it does not know (PERSISTED_QUERY_NOT_FOUND, which Apollo's link answers
    /// by sending the text) and, with an allow-list, a text not on it (FORBIDDEN). A text sent
    /// with its hash comes back as a [`Registration`], for [`Persisted::register`].
    pub fn resolve(&self, request: &mut Request) -> Result<Option<Registration>, ServerError> {
        let sent = request.extensions.remove("persistedQuery");
        match self {
            Self::Off => Ok(None),
            Self::Automatic(cache) => {
                let Some(value) = sent else { return Ok(None) };
                let persisted: PersistedQuery = value
                    .into_json()
                    .ok()
                    .and_then(|json| serde_json::from_value(json).ok())
                    .ok_or_else(|| {
                        error(
                            "Invalid \"PersistedQuery\" extension configuration.",
                            "BAD_USER_INPUT",
                        )
                    })?;
                if persisted.version != 1 {
                    return Err(error(
                        &format!(
                            "Only the \"PersistedQuery\" extension of version \"1\" is \
                             supported, and the current version is \"{}\".",
                            persisted.version
                        ),
                        "BAD_USER_INPUT",
                    ));
                }
                if request.query.is_empty() {
                    let found = cache
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get(&persisted.sha256_hash)
                        .cloned();
                    match found {
                        Some(text) => request.query = text.to_string(),
                        None => return Err(not_found()),
                    }
                    Ok(None)
                } else if sha256_hex(&request.query) != persisted.sha256_hash {
                    Err(error("provided sha does not match query", "BAD_USER_INPUT"))
                } else {
                    Ok(Some(Registration(persisted.sha256_hash)))
                }
            }
            Self::AllowList(list) => {
                let hash = sent
                    .and_then(|value| value.into_json().ok())
                    .and_then(|json| {
                        json.get("sha256Hash")
                            .and_then(|h| h.as_str())
                            .map(str::to_owned)
                    });
                if request.query.trim().is_empty() {
                    match hash.and_then(|h| list.by_hash.get(&h)) {
                        Some(text) => request.query = text.clone(),
                        None => return Err(not_found()),
                    }
                } else if !list.normalized.contains(&normalize(&request.query)) {
                    return Err(error(
                        "This server runs only its persisted operations; this one is not among them.",
                        "FORBIDDEN",
                    ));
                }
                Ok(None)
            }
        }
    }

    /// Keeps `query` under the hash it was sent with.
    pub fn register(&self, registration: Registration, query: &str) {
        if let Self::Automatic(cache) = self {
            cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .put(registration.0, query.into());
        }
    }
}

fn not_found() -> ServerError {
    error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_and_comments_do_not_change_an_operation() {
        assert_eq!(
            normalize("# who\n{ a(x: \"b  c\") ,  d }\n"),
            "{a(x:\"b  c\")d}"
        );
        assert_eq!(normalize("query  Q {\n  a\n}"), "query Q{a}");
        assert_eq!(normalize("{a}"), normalize("  {\n  a\n}  "));
        assert_ne!(normalize("{ a }"), normalize("{ b }"));
    }

    #[test]
    fn hashes_are_apollo_style_lowercase_hex() {
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
