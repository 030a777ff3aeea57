//! Persisted operations. By default the server speaks Apollo's automatic persisted queries
//! (async-graphql's `ApolloPersistedQueries`): a client may send a query's SHA-256 instead of its
//! text once the server has seen it. That is a cache, not a gate: any client can register any
//! query. With `PERSISTED_OPERATIONS_DIR` set, the server instead runs only the operations in
//! that folder (its `.graphql` files, e.g. `examples/` or a client's manifest): by hash, or by
//! text equal to one of them once comments and spacing are ignored. Anything else is FORBIDDEN.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    sync::Arc,
};

use anyhow::Context;
use async_graphql::{
    Request, ServerError, ServerResult,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest},
};
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

/// The allow-list as an async-graphql extension.
#[derive(Clone)]
pub struct AllowListExtension(pub Arc<AllowList>);

impl ExtensionFactory for AllowListExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Extension for AllowListExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let hash = request
            .extensions
            .remove("persistedQuery")
            .and_then(|value| value.into_json().ok())
            .and_then(|json| {
                json.get("sha256Hash")
                    .and_then(|h| h.as_str())
                    .map(str::to_owned)
            });
        if request.query.trim().is_empty() {
            match hash.and_then(|h| self.0.by_hash.get(&h)) {
                Some(text) => request.query = text.clone(),
                None => return Err(error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")),
            }
        } else if !self.0.normalized.contains(&normalize(&request.query)) {
            return Err(error(
                "This server runs only its persisted operations; this one is not among them.",
                "FORBIDDEN",
            ));
        }
        next.run(ctx, request).await
    }
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
