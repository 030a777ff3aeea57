//! What the limits look for in input values (arguments, directive arguments, variable defaults
//! and variables) before anything that recurses over them runs: nesting deeper than the limit,
//! and strings holding U+0000, which neither store keeps as text (PostgreSQL refuses it as an
//! internal error; SQLite stores it, and `contains: "\u0000"` then matched every row).
//!
//! One walk serves a query's values and the request's variables alike; it looks at most one
//! level past the limit, so measuring a value cannot itself recurse without bound.

use async_graphql::{
    Name, Pos, Positioned,
    parser::types::{Directive, ExecutableDocument, Selection, SelectionSet},
};
use async_graphql_value::{ConstValue, Value};

/// What is wrong with an input value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flaw {
    /// Objects and lists nest deeper than the limit.
    TooDeep,
    /// A string holds U+0000; the path leads to it from the argument or variable (`name.eq`,
    /// `ids[2]`), empty when the value itself is the string.
    Nul(String),
}

/// A value as the walk sees it: a string, or a list or object of values, or anything else.
trait Input {
    fn text(&self) -> Option<&str>;
    /// The items of a list or the fields of an object, each with its path segment.
    fn children(&self) -> Option<Vec<(Segment<'_>, &Self)>>;
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

macro_rules! input {
    ($ty:ty) => {
        impl Input for $ty {
            fn text(&self) -> Option<&str> {
                match self {
                    Self::String(text) => Some(text),
                    _ => None,
                }
            }

            fn children(&self) -> Option<Vec<(Segment<'_>, &Self)>> {
                match self {
                    Self::List(items) => Some(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (Segment::Index(i), v))
                            .collect(),
                    ),
                    Self::Object(fields) => Some(
                        fields
                            .iter()
                            .map(|(k, v)| (Segment::Key(k.as_str()), v))
                            .collect(),
                    ),
                    _ => None,
                }
            }
        }
    };
}
input!(Value);
input!(ConstValue);

/// The first flaw of a value allowed `limit` levels of nesting.
fn flaw<V: Input>(value: &V, limit: usize) -> Option<Flaw> {
    if let Some(text) = value.text() {
        return text.contains('\0').then(|| Flaw::Nul(String::new()));
    }
    let children = value.children()?;
    if limit == 0 {
        return Some(Flaw::TooDeep);
    }
    children.into_iter().find_map(|(segment, child)| {
        flaw(child, limit - 1).map(|found| match found {
            Flaw::TooDeep => Flaw::TooDeep,
            Flaw::Nul(rest) => Flaw::Nul(match segment {
                Segment::Key(key) if rest.is_empty() || rest.starts_with('[') => {
                    format!("{key}{rest}")
                }
                Segment::Key(key) => format!("{key}.{rest}"),
                Segment::Index(i) if rest.is_empty() || rest.starts_with('[') => {
                    format!("[{i}]{rest}")
                }
                Segment::Index(i) => format!("[{i}].{rest}"),
            }),
        })
    })
}

/// The first flaw of a request variable's value.
pub fn variable_flaw(value: &ConstValue, limit: usize) -> Option<Flaw> {
    flaw(value, limit)
}

/// Where a flaw is: `filter` or `filter.name.contains` for an argument, `$name` or `$name.eq`
/// for a variable.
pub fn path(name: &str, flaw: &Flaw) -> String {
    match flaw {
        Flaw::Nul(rest) if rest.starts_with('[') => format!("{name}{rest}"),
        Flaw::Nul(rest) if !rest.is_empty() => format!("{name}.{rest}"),
        _ => name.to_owned(),
    }
}

/// The first argument (of a field or a directive) or variable default with a flaw, named
/// (`$name` for a default), with the flaw. Selection sets recurse as deep as the parser
/// allowed them.
pub fn document_flaw(document: &ExecutableDocument, limit: usize) -> Option<(String, Flaw)> {
    fn directives(list: &[Positioned<Directive>], limit: usize) -> Option<(String, Flaw)> {
        list.iter()
            .find_map(|d| arguments(&d.node.arguments, limit))
    }
    fn arguments(
        list: &[(Positioned<Name>, Positioned<Value>)],
        limit: usize,
    ) -> Option<(String, Flaw)> {
        list.iter()
            .find_map(|(name, v)| flaw(&v.node, limit).map(|f| (name.node.to_string(), f)))
    }
    fn selections(set: &SelectionSet, limit: usize) -> Option<(String, Flaw)> {
        set.items.iter().find_map(|item| match &item.node {
            Selection::Field(field) => arguments(&field.node.arguments, limit)
                .or_else(|| directives(&field.node.directives, limit))
                .or_else(|| selections(&field.node.selection_set.node, limit)),
            Selection::FragmentSpread(spread) => directives(&spread.node.directives, limit),
            Selection::InlineFragment(inline) => directives(&inline.node.directives, limit)
                .or_else(|| selections(&inline.node.selection_set.node, limit)),
        })
    }
    let operations = document.operations.iter().map(|(_, op)| &op.node);
    for op in operations {
        let defaults = op.variable_definitions.iter().find_map(|v| {
            let default = v.node.default_value.as_ref()?;
            flaw(&default.node, limit).map(|f| (format!("${}", v.node.name.node), f))
        });
        let found = defaults
            .or_else(|| directives(&op.directives, limit))
            .or_else(|| selections(&op.selection_set.node, limit));
        if found.is_some() {
            return found;
        }
    }
    document.fragments.values().find_map(|fragment| {
        directives(&fragment.node.directives, limit)
            .or_else(|| selections(&fragment.node.selection_set.node, limit))
    })
}

/// Where each field argument's value begins, with the argument's name: async-graphql reports a
/// value that does not coerce at execution by that position alone.
pub fn argument_positions(document: &ExecutableDocument) -> Vec<(Pos, Name)> {
    fn selections(set: &SelectionSet, out: &mut Vec<(Pos, Name)>) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    for (name, value) in &field.node.arguments {
                        out.push((value.pos, name.node.clone()));
                    }
                    selections(&field.node.selection_set.node, out);
                }
                Selection::InlineFragment(inline) => {
                    selections(&inline.node.selection_set.node, out)
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    let mut out = Vec::new();
    for (_, op) in document.operations.iter() {
        selections(&op.node.selection_set.node, &mut out);
    }
    for fragment in document.fragments.values() {
        selections(&fragment.node.selection_set.node, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> ConstValue {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn depth_counts_lists_and_objects_and_stops_past_the_limit() {
        assert_eq!(flaw(&value(r#"{"a": [1, {"b": 2}]}"#), 3), None);
        assert_eq!(
            flaw(&value(r#"{"a": [1, {"b": 2}]}"#), 2),
            Some(Flaw::TooDeep)
        );
        assert_eq!(flaw(&value("1"), 0), None, "a scalar has no depth");
        let deep = format!("{}{}", "[".repeat(120), "]".repeat(120));
        assert_eq!(flaw(&value(&deep), 16), Some(Flaw::TooDeep));
    }

    #[test]
    fn a_nul_is_found_with_its_path() {
        let found = flaw(&value(r#"{"name": {"in": ["a", "b\u0000"]}}"#), 16);
        assert_eq!(found, Some(Flaw::Nul("name.in[1]".into())));
        assert_eq!(
            path("filter", &found.unwrap_or(Flaw::TooDeep)),
            "filter.name.in[1]"
        );
        let top = flaw(&value(r#""a\u0000""#), 16).unwrap_or(Flaw::TooDeep);
        assert_eq!(path("$q", &top), "$q");
        assert_eq!(flaw(&value(r#"["\u0001 fine"]"#), 16), None);
    }
}
