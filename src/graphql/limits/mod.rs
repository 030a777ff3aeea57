//! Protection against hostile operations, and stable codes for the errors of requests that
//! never reach a resolver. [`Limits::parse`] checks the raw text (bytes, tokens, bracket
//! nesting) before parsing and the parsed document (aliases, directives, the nesting of input
//! values) after; [`Limits::check_variables`] checks the variables; [`Limits::explain`] gives
//! async-graphql's own errors (validation, its depth, complexity and per-field directive
//! limits, set in `build_schema`) the codes `GRAPHQL_VALIDATION_FAILED` or `QUERY_TOO_COMPLEX`.
//! A list's complexity is its page size times its children ([`list_cost`]). Arguments that
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
//! stops one level past the limit, and the text scan before parsing bounds the parser too: no
//! text reaches the parser without it, a persisted query's included. The same walk refuses
//! U+0000 in a string as BAD_USER_INPUT naming where it is ([`input`]).
//!
//! The scans of the raw text are in [`text`], the counts of aliases and directives in
//! [`counts`].

use std::collections::HashSet;

use async_graphql::{
    Name, Pos, Response, ServerError, Variables, parser::types::ExecutableDocument,
};

use crate::config::GraphqlSettings;

mod counts;
mod input;
mod text;

use counts::Counts;
use input::Flaw;
use text::{count_tokens, text_nesting, written_names};

/// The complexity of a list field: each of its (at most 100) items costs its children.
pub fn list_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first.or(last).unwrap_or(20).clamp(1, 100) as usize;
    size.saturating_mul(child_complexity).saturating_add(1)
}

pub(super) fn error(message: String, code: &str) -> ServerError {
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

/// The limits every operation runs under.
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

/// A document that passed every check of its text and of its parse, with what the errors of
/// its later stages need. It depends on the text alone, so one is kept per text and reused.
pub struct Checked {
    pub document: ExecutableDocument,
    /// Where the document's field arguments begin, for errors that give only that.
    arguments: Vec<(Pos, Name)>,
    /// With introspection off, the names the client's text holds (for [`Limits::explain`]).
    written: HashSet<String>,
    /// The document compiled for the read path that writes rows straight into JSON.
    pub direct: super::direct::Slot,
}

impl Limits {
    /// The deepest bracket nesting (`{`, `[`, `(`) the text of an acceptable query can have:
    /// selection sets, an argument list, an input value and a little slack for variable
    /// types. Anything deeper is refused before the parser (which recurses on values) sees it.
    fn max_text_nesting(&self) -> usize {
        PARSER_SELECTION_DEPTH + self.max_input_depth + 4
    }

    /// Checks a query's text, parses it and checks the document: the only way a text reaches
    /// the parser.
    pub fn parse(&self, query: &str) -> Result<Checked, ServerError> {
        self.check_text(query)?;
        let document = async_graphql::parser::parse_query(query).map_err(|e| {
            let e = ServerError::from(e);
            // The parser checks its own recursion limit.
            let code = if e.message.contains("recursion") {
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
        let mut counts = Counts::default();
        counts.document(&document);
        for (what, count, cap) in [
            ("aliases", counts.aliases, self.max_aliases),
            ("directives", counts.directives, self.max_directives),
        ] {
            if count > cap {
                return Err(error(
                    format!("The query uses {count} {what}; at most {cap} are allowed."),
                    "QUERY_TOO_COMPLEX",
                ));
            }
        }
        Ok(Checked {
            arguments: input::argument_positions(&document),
            written: if self.introspection {
                HashSet::new()
            } else {
                written_names(query)
            },
            document,
            direct: super::direct::Slot::default(),
        })
    }

    /// The checks of the raw text, which bound what parsing it can cost.
    pub fn check_text(&self, query: &str) -> Result<(), ServerError> {
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
        Ok(())
    }

    /// The nesting and the text of every variable's value.
    pub fn check_variables(&self, variables: &Variables) -> Result<(), ServerError> {
        for (name, value) in variables.iter() {
            if let Some(flaw) = input::variable_flaw(value, self.max_input_depth) {
                return Err(self.input_error(&format!("${name}"), "variable", &flaw));
            }
        }
        Ok(())
    }

    /// Gives codes to the errors async-graphql raised for `checked`: before execution (its
    /// validation and limits) when `executed` is false, otherwise arguments that did not
    /// coerce; with introspection off their messages reveal nothing the client did not write.
    pub fn explain(&self, checked: &Checked, response: &mut Response, executed: bool) {
        if !executed {
            for err in &mut response.errors {
                // async-graphql's own limit messages (validation/mod.rs, schema.rs).
                let code = if err.message.contains("too complex")
                    || err.message.contains("nested too deep")
                    || err.message.contains("number of directives")
                    || err.message.contains("recursion")
                {
                    "QUERY_TOO_COMPLEX"
                } else {
                    "GRAPHQL_VALIDATION_FAILED"
                };
                self.reveal(checked, err);
                let extensions = err.extensions.get_or_insert_with(Default::default);
                if extensions.get("code").is_none() {
                    extensions.set("code", code);
                }
            }
            return;
        }
        for err in response.errors.iter_mut().filter(|e| is_coercion_error(e)) {
            // The position is the argument's value; the message names its type, not its name.
            let argument = err
                .locations
                .first()
                .and_then(|at| checked.arguments.iter().find(|(pos, _)| pos == at))
                .map(|(_, name)| name.to_string());
            // A value of the wrong shape (an object argument given a number) is one validation
            // should have refused; a value its type's own rules refuse is the user's input.
            let code = if err.message.starts_with("Expected input type \"") {
                "GRAPHQL_VALIDATION_FAILED"
            } else {
                "BAD_USER_INPUT"
            };
            self.reveal(checked, err);
            let extensions = err.extensions.get_or_insert_with(Default::default);
            extensions.set("code", code);
            if let Some(argument) = argument {
                err.message = format!("The argument `{argument}` is not valid: {}", err.message);
                err.extensions
                    .get_or_insert_with(Default::default)
                    .set("field", argument);
            }
        }
    }

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
    fn reveal(&self, checked: &Checked, err: &mut ServerError) {
        if self.introspection {
            return;
        }
        let written = &checked.written;
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
