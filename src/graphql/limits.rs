//! Protection against hostile operations, and stable codes for the errors of requests that
//! never reach a resolver. An async-graphql extension checks the raw text (bytes, tokens) before
//! parsing, the parsed document (aliases, directives) after, and turns parse and validation
//! failures into `GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED` or `QUERY_TOO_COMPLEX`.
//! Depth, complexity and directives per field are async-graphql's own limits, set in
//! `build_schema`; a list's complexity is its page size times its children ([`list_cost`]).

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Request, ServerError, ServerResult, ValidationResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
        NextValidation,
    },
    parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet},
};

use crate::config::GraphqlSettings;

/// The complexity of a list field: each of its (at most 100) items costs its children.
pub fn list_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first.or(last).unwrap_or(20).clamp(1, 100) as usize;
    size.saturating_mul(child_complexity).saturating_add(1)
}

fn error(message: String, code: &str) -> ServerError {
    let mut err = ServerError::new(message, None);
    err.extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    err
}

fn with_code(mut err: ServerError, code: &str) -> ServerError {
    let extensions = err.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    err
}

/// The limits the extension enforces.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_query_bytes: usize,
    pub max_tokens: usize,
    pub max_aliases: usize,
    pub max_directives: usize,
}

impl From<&GraphqlSettings> for Limits {
    fn from(s: &GraphqlSettings) -> Self {
        Self {
            max_query_bytes: s.max_query_bytes,
            max_tokens: s.max_tokens,
            max_aliases: s.max_aliases,
            max_directives: s.max_directives,
        }
    }
}

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_trait::async_trait]
impl Extension for Limits {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // The persisted-query extensions run inside this one: give their errors codes.
        next.run(ctx, request).await.map_err(|e| {
            let code = match e.message.as_str() {
                "PersistedQueryNotFound" => "PERSISTED_QUERY_NOT_FOUND",
                _ => "BAD_USER_INPUT",
            };
            with_code(e, code)
        })
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if query.len() > self.max_query_bytes {
            return Err(error(
                format!(
                    "The query is {} bytes long; at most {} are allowed.",
                    query.len(),
                    self.max_query_bytes
                ),
                "QUERY_TOO_COMPLEX",
            ));
        }
        let tokens = count_tokens(query, self.max_tokens);
        if tokens > self.max_tokens {
            return Err(error(
                format!("The query has more than {} tokens.", self.max_tokens),
                "QUERY_TOO_COMPLEX",
            ));
        }
        let document = next.run(ctx, query, variables).await.map_err(|e| {
            // async-graphql checks its recursion and per-field directive limits while parsing.
            let code =
                if e.message.contains("number of directives") || e.message.contains("recursion") {
                    "QUERY_TOO_COMPLEX"
                } else {
                    "GRAPHQL_PARSE_FAILED"
                };
            with_code(e, code)
        })?;
        let mut counts = Counts::default();
        counts.document(&document);
        if counts.aliases > self.max_aliases {
            return Err(error(
                format!(
                    "The query uses {} aliases; at most {} are allowed.",
                    counts.aliases, self.max_aliases
                ),
                "QUERY_TOO_COMPLEX",
            ));
        }
        if counts.directives > self.max_directives {
            return Err(error(
                format!(
                    "The query uses {} directives; at most {} are allowed.",
                    counts.directives, self.max_directives
                ),
                "QUERY_TOO_COMPLEX",
            ));
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    // async-graphql's own limit messages (validation/mod.rs).
                    let code = if e.message.contains("too complex")
                        || e.message.contains("nested too deep")
                    {
                        "QUERY_TOO_COMPLEX"
                    } else {
                        "GRAPHQL_VALIDATION_FAILED"
                    };
                    with_code(e, code)
                })
                .collect()
        })
    }
}

/// Aliases and directives an operation would run: a fragment counts at every spread of it, so
/// spreading one fragment many times cannot multiply the work past the caps.
#[derive(Default)]
struct Counts {
    aliases: usize,
    directives: usize,
}

impl Counts {
    fn document(&mut self, document: &ExecutableDocument) {
        let mut fragments = HashMap::new();
        let operations: Vec<_> = match &document.operations {
            DocumentOperations::Single(op) => vec![&op.node],
            DocumentOperations::Multiple(ops) => ops.values().map(|op| &op.node).collect(),
        };
        for op in operations {
            self.directives += op.directives.len();
            let inner = selection_counts(document, &op.selection_set.node, &mut fragments, 0);
            self.aliases = self.aliases.saturating_add(inner.aliases);
            self.directives = self.directives.saturating_add(inner.directives);
        }
    }
}

/// Counts of one selection set, spreads expanded (memoized per fragment; a cycle or a nesting
/// past 64 levels counts as over any cap, and the parser refuses cycles anyway).
fn selection_counts(
    document: &ExecutableDocument,
    set: &SelectionSet,
    fragments: &mut HashMap<String, (usize, usize)>,
    depth: usize,
) -> Counts {
    let mut counts = Counts::default();
    if depth > 64 {
        return Counts {
            aliases: usize::MAX,
            directives: usize::MAX,
        };
    }
    for item in &set.items {
        let (aliases, directives) = match &item.node {
            Selection::Field(field) => {
                let inner = selection_counts(
                    document,
                    &field.node.selection_set.node,
                    fragments,
                    depth + 1,
                );
                (
                    usize::from(field.node.alias.is_some()).saturating_add(inner.aliases),
                    field.node.directives.len().saturating_add(inner.directives),
                )
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                let (aliases, directives) = match fragments.get(name) {
                    Some(known) => *known,
                    None => {
                        let found = document.fragments.get(&spread.node.fragment_name.node).map(
                            |fragment| {
                                let inner = selection_counts(
                                    document,
                                    &fragment.node.selection_set.node,
                                    fragments,
                                    depth + 1,
                                );
                                (
                                    inner.aliases,
                                    fragment
                                        .node
                                        .directives
                                        .len()
                                        .saturating_add(inner.directives),
                                )
                            },
                        );
                        let found = found.unwrap_or_default();
                        fragments.insert(name.to_owned(), found);
                        found
                    }
                };
                (
                    aliases,
                    directives.saturating_add(spread.node.directives.len()),
                )
            }
            Selection::InlineFragment(inline) => {
                let inner = selection_counts(
                    document,
                    &inline.node.selection_set.node,
                    fragments,
                    depth + 1,
                );
                (
                    inner.aliases,
                    inline
                        .node
                        .directives
                        .len()
                        .saturating_add(inner.directives),
                )
            }
        };
        counts.aliases = counts.aliases.saturating_add(aliases);
        counts.directives = counts.directives.saturating_add(directives);
    }
    counts
}

/// Counts GraphQL lexical tokens (names, numbers, strings, punctuators), stopping past `limit`.
/// Cheap and allocation-free: it runs before the parser, so a huge query costs little.
fn count_tokens(query: &str, limit: usize) -> usize {
    let bytes = query.as_bytes();
    let (mut i, mut count) = (0, 0);
    while i < bytes.len() && count <= limit {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                count += 1;
                if bytes[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                        i += 1;
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                count += 1;
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                count += 1;
                // Numbers may hold `.`, `e+`, `-`; names hold only letters, digits and `_`.
                let number = b.is_ascii_digit() || b == b'-';
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || (number && matches!(bytes[i], b'.' | b'-' | b'+')))
                {
                    i += 1;
                }
            }
            _ => {
                count += 1;
                i += 1;
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_counted_like_the_grammar_reads_them() {
        assert_eq!(count_tokens("{ a }", 100), 3);
        assert_eq!(
            count_tokens("query Q($x: Int = -1) { a(x: $x) @skip(if: true) }", 100),
            26
        );
        assert_eq!(
            count_tokens("# a comment\n{ a(s: \"x y, z\") ...F }", 100),
            10
        );
        assert_eq!(count_tokens("{ a(s: \"\"\"block { } \"\"\") }", 100), 8);
        assert!(
            count_tokens(&"a ".repeat(10_000), 50) <= 51,
            "counting stops past the limit"
        );
    }

    #[test]
    fn a_list_costs_its_page_times_its_children() {
        assert_eq!(list_cost(Some(10), None, 5), 51);
        assert_eq!(list_cost(None, Some(3), 2), 7);
        assert_eq!(list_cost(None, None, 1), 21, "20 items by default");
        assert_eq!(
            list_cost(Some(100_000), None, 1),
            101,
            "sizes past the maximum are refused elsewhere"
        );
    }
}
