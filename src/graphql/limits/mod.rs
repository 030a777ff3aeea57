//! Protection against hostile operations, and stable codes for the errors of requests that
//! never reach a resolver. An async-graphql extension checks the raw text (bytes, tokens,
//! bracket nesting) before parsing, the parsed document (aliases, directives, the nesting of
//! input values) and the variables after, and turns parse and validation failures into
//! `GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED` or `QUERY_TOO_COMPLEX`. Depth,
//! complexity and directives per field are async-graphql's own limits, set in `build_schema`;
//! a list's complexity is its page size times its children ([`list_cost`]). Arguments that
//! validation let through but that do not coerce to their type name the argument in
//! `extensions.field`, at the root or on a nested field: `BAD_USER_INPUT` when the type's own
//! rules refuse the value (a date "2020-13", a list over its length), and
//! `GRAPHQL_VALIDATION_FAILED` when the value has the wrong shape (an object argument given a
//! number), which validation should have caught.
//!
//! With introspection off, these messages must not give the schema away: a validation or
//! coercion message that names a type or field the client did not write ("Unknown field … on
//! type …", "… of type … must have a selection of subfields") becomes [`HIDDEN_DETAIL`], its
//! code and locations kept and its detail logged at DEBUG.
//!
//! Why input nesting is bounded here: validation, input coercion, the filter builder and the
//! SQL builder all recurse over an input value, one stack frame per level or more, and the
//! selection-depth limit does not count input values. A filter nested a few hundred levels
//! through `not`, `and` or `parent` (a 2–4 KB query) overflowed a worker's stack and killed the
//! process. Every such value is measured here, before any of those run; the measuring itself
//! stops one level past the limit, and the text scan before parsing bounds the parser too. The
//! same walk refuses U+0000 in a string as BAD_USER_INPUT naming where it is ([`input`]).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use async_graphql::{
    Name, Pos, Request, Response, ServerError, ServerResult, ValidationResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
        NextPrepareRequest, NextValidation,
    },
    parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet},
};

use crate::config::GraphqlSettings;

mod input;

use input::Flaw;

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
    pub max_input_depth: usize,
    /// Whether the schema answers introspection. When it does not, validation messages that
    /// name a type or field the client did not write are replaced by [`HIDDEN_DETAIL`]:
    /// probing field names and reading "Unknown field … on type …" or "… of type … must have
    /// a selection of subfields" recovered 71 of 75 object types and 323 of 360 fields.
    pub introspection: bool,
}

/// What a validation error says, with introspection off, instead of a detail that would
/// reveal the schema. Its locations and code stay.
pub const HIDDEN_DETAIL: &str = "The query does not fit the schema.";

/// The built-in scalars, which every GraphQL schema has: naming them reveals nothing.
const BUILT_IN_SCALARS: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];

/// How deep async-graphql's parser lets selection sets nest (its `MAX_RECURSION_DEPTH`); the
/// schema then refuses past 32 (`limit_recursive_depth`'s default) and the depth limit.
const PARSER_SELECTION_DEPTH: usize = 64;

impl Limits {
    /// The deepest bracket nesting (`{`, `[`, `(`) the text of an acceptable query can have:
    /// selection sets, an argument list, an input value and a little slack for variable
    /// types. Anything deeper is refused before the parser (which recurses on values) sees it.
    fn max_text_nesting(&self) -> usize {
        PARSER_SELECTION_DEPTH + self.max_input_depth + 4
    }
}

impl From<&GraphqlSettings> for Limits {
    fn from(s: &GraphqlSettings) -> Self {
        Self {
            max_query_bytes: s.max_query_bytes,
            max_tokens: s.max_tokens,
            max_aliases: s.max_aliases,
            max_directives: s.max_directives,
            max_input_depth: s.max_input_depth,
            introspection: s.introspection,
        }
    }
}

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Checks {
            limits: *self,
            written: Mutex::new(HashSet::new()),
            arguments: Mutex::new(Vec::new()),
        })
    }
}

/// The extension of one request: the limits, and (with introspection off) the names the
/// client's query text holds, read before parsing for the validation errors after it.
struct Checks {
    limits: Limits,
    written: Mutex<HashSet<String>>,
    /// Where the document's field arguments begin, for errors that give only that.
    arguments: Mutex<Vec<(Pos, Name)>>,
}

impl std::ops::Deref for Checks {
    type Target = Limits;

    fn deref(&self) -> &Limits {
        &self.limits
    }
}

impl Checks {
    /// The error for a flawed input value: nesting past the limit is QUERY_TOO_COMPLEX in the
    /// query and BAD_USER_INPUT in a variable; U+0000 is BAD_USER_INPUT naming where it is.
    fn input_error(&self, name: &str, what: &str, flaw: &Flaw) -> ServerError {
        let limit = self.max_input_depth;
        let variable = what == "variable";
        let (message, code) = match flaw {
            Flaw::TooDeep if variable => (
                format!(
                    "The variable `{name}` nests values more than {limit} levels deep; at most \
                     {limit} are allowed."
                ),
                "BAD_USER_INPUT",
            ),
            Flaw::TooDeep => (
                format!(
                    "The {what} `{name}` nests input values more than {limit} levels deep; at \
                     most {limit} are allowed."
                ),
                "QUERY_TOO_COMPLEX",
            ),
            Flaw::Nul(_) => {
                let at = input::path(name, flaw);
                let at = if at == name {
                    String::new()
                } else {
                    format!(" (at `{at}`)")
                };
                (
                    format!(
                        "The {what} `{name}` holds the character U+0000{at}, which no text can store."
                    ),
                    "BAD_USER_INPUT",
                )
            }
        };
        let mut err = error(message, code);
        if code == "BAD_USER_INPUT" {
            err.extensions
                .get_or_insert_with(Default::default)
                .set("field", input::path(name, flaw));
        }
        err
    }

    /// A validation error as the client may see it: unchanged when introspection is on or when
    /// every name it quotes is one the client wrote (or a built-in scalar); otherwise
    /// [`HIDDEN_DETAIL`], the detail logged at DEBUG.
    fn reveal(&self, err: &mut ServerError) {
        if self.introspection {
            return;
        }
        let written = self
            .written
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let names_only_written = err
            .message
            .split('"')
            .skip(1)
            .step_by(2)
            .flat_map(|quoted| quoted.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
            .filter(|name| !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()))
            .all(|name| BUILT_IN_SCALARS.contains(&name) || written.contains(name));
        if !names_only_written {
            tracing::debug!(detail = %err.message, "Validation error detail hidden (introspection is off)");
            err.message = HIDDEN_DETAIL.to_owned();
        }
    }
}

/// Whether an error is async-graphql's, raised when an argument's value does not coerce to
/// its type: validation lets some through (an object argument given a scalar, a list over its
/// length), and the resolver machinery then refuses them without a code (the HTTP layer gave
/// one only when no data was left).
fn is_coercion_error(err: &ServerError) -> bool {
    let coded = err
        .extensions
        .as_ref()
        .is_some_and(|x| x.get("code").is_some());
    !coded
        && (err.message.starts_with("Failed to parse \"")
            || err.message.starts_with("Expected input type \"")
            || err.message.starts_with("Invalid value for argument"))
}

#[async_trait::async_trait]
impl Extension for Checks {
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
        let nesting_cap = self.max_text_nesting();
        if text_nesting(query, nesting_cap) > nesting_cap {
            return Err(error(
                format!(
                    "The query nests brackets more than {nesting_cap} levels deep (selections, \
                     arguments and input values together; input values may nest at most {} \
                     levels).",
                    self.max_input_depth
                ),
                "QUERY_TOO_COMPLEX",
            ));
        }
        for (name, value) in variables.iter() {
            let Some(flaw) = input::variable_flaw(value, self.max_input_depth) else {
                continue;
            };
            return Err(self.input_error(&format!("${name}"), "variable", &flaw));
        }
        if !self.introspection {
            let mut written = self
                .written
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *written = written_names(query);
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
        if let Some((name, flaw)) = input::document_flaw(&document, self.max_input_depth) {
            let what = if name.starts_with('$') {
                "default of"
            } else {
                "argument"
            };
            return Err(self.input_error(&name, what, &flaw));
        }
        *self
            .arguments
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            input::argument_positions(&document);
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
                    let mut e = e;
                    self.reveal(&mut e);
                    with_code(e, code)
                })
                .collect()
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let arguments = self
            .arguments
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for err in response.errors.iter_mut().filter(|e| is_coercion_error(e)) {
            // The position is the argument's value; the message names its type, not its name.
            let argument = err
                .locations
                .first()
                .and_then(|at| arguments.iter().find(|(pos, _)| pos == at))
                .map(|(_, name)| name.to_string());
            // A value of the wrong shape (an object argument given a number) is one validation
            // should have refused; a value its type's own rules refuse is the user's input.
            let code = if err.message.starts_with("Expected input type \"") {
                "GRAPHQL_VALIDATION_FAILED"
            } else {
                "BAD_USER_INPUT"
            };
            self.reveal(err);
            let extensions = err.extensions.get_or_insert_with(Default::default);
            extensions.set("code", code);
            if let Some(argument) = argument {
                err.message = format!("The argument `{argument}` is not valid: {}", err.message);
                err.extensions
                    .get_or_insert_with(Default::default)
                    .set("field", argument);
            }
        }
        response
    }
}

/// The names (and variables, without `$`) a query's text holds outside strings and comments:
/// what the client wrote. Runs after [`count_tokens`] bounded the text.
fn written_names(query: &str) -> HashSet<String> {
    let bytes = query.as_bytes();
    let (mut i, mut names) = (0, HashSet::new());
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b if b.is_ascii_digit() || b == b'-' => {
                // A number, exponent and fraction included (`1e5` holds no name `e5`).
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'-' | b'+'))
                {
                    i += 1;
                }
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                names.insert(query[start..i].to_owned());
            }
            _ => i += 1,
        }
    }
    names
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

/// The deepest nesting of `{`, `[` and `(` outside strings and comments, stopping past `limit`.
/// Like [`count_tokens`], it runs before the parser and allocates nothing.
fn text_nesting(query: &str, limit: usize) -> usize {
    let bytes = query.as_bytes();
    let (mut i, mut depth, mut deepest) = (0, 0usize, 0);
    while i < bytes.len() && deepest <= limit {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    deepest
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
    fn written_names_are_the_names_outside_strings_and_comments() {
        let names = written_names(
            "query Q($x: [Int!] = 1e5) { a: b(s: \"Hidden\", t: \"\"\"Block\"\"\") ... on T { c } } # Comment",
        );
        let mut names: Vec<_> = names.into_iter().collect();
        names.sort();
        assert_eq!(
            names,
            ["Int", "Q", "T", "a", "b", "c", "on", "query", "s", "t", "x"]
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
