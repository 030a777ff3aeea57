//! Scans of a query's raw text that run before the parser and bound what parsing costs: its
//! tokens and its bracket nesting, and the names the client wrote.

use std::collections::HashSet;

/// Where the comment or string starting at `i` (at `#` or `"`) ends: the index just past it,
/// which may be past the text. A comment runs to the line's end; a string to its closing `"`
/// or the line's end (the parser refuses the rest); a block string `"""…"""` to its closing
/// `"""`, a backslash taking the next character with it (so `\"""` does not close it). The
/// three scans below skip comments and strings alike through this one function.
fn past_ignored(bytes: &[u8], mut i: usize) -> usize {
    if bytes[i] == b'#' {
        while i < bytes.len() && bytes[i] != b'\n' {
            i += 1;
        }
        return i;
    }
    let block = bytes[i..].starts_with(b"\"\"\"");
    i += if block { 3 } else { 1 };
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' if block && bytes[i..].starts_with(b"\"\"\"") => return i + 3,
            b'"' if !block => return i + 1,
            b'\n' if !block => return i,
            _ => i += 1,
        }
    }
    i
}

/// The names (and variables, without `$`) a query's text holds outside strings and comments:
/// what the client wrote. Runs after [`count_tokens`] bounded the text.
pub(super) fn written_names(query: &str) -> HashSet<String> {
    let bytes = query.as_bytes();
    let (mut i, mut names) = (0, HashSet::new());
    while i < bytes.len() {
        match bytes[i] {
            b'#' | b'"' => i = past_ignored(bytes, i),
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

/// The deepest nesting of `{`, `[` and `(` outside strings and comments, stopping past `limit`.
/// Like [`count_tokens`], it runs before the parser and allocates nothing.
pub(super) fn text_nesting(query: &str, limit: usize) -> usize {
    let bytes = query.as_bytes();
    let (mut i, mut depth, mut deepest) = (0, 0usize, 0);
    while i < bytes.len() && deepest <= limit {
        match bytes[i] {
            b'#' | b'"' => i = past_ignored(bytes, i),
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
pub(super) fn count_tokens(query: &str, limit: usize) -> usize {
    let bytes = query.as_bytes();
    let (mut i, mut count) = (0, 0);
    while i < bytes.len() && count <= limit {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => i = past_ignored(bytes, i),
            b'"' => {
                count += 1;
                i = past_ignored(bytes, i);
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
    fn comments_and_strings_end_where_graphql_ends_them() {
        let end = |text: &str| past_ignored(text.as_bytes(), 0);
        assert_eq!(end("# note { [\n{"), 10);
        assert_eq!(end(r#""a \" { b" }"#), 10);
        assert_eq!(end("\"open\n{ }"), 5);
        assert_eq!(end(r#""""a \""" { """ }"#), 15);
        assert_eq!(end(r#""""never closed {"#), 17);
    }

    #[test]
    fn the_three_scans_skip_comments_and_strings_alike() {
        let query = "{ a(s: \"x { [ ( name\", t: \"\"\"b \\\"\"\" }} other\"\"\") # c { d\n }";
        assert_eq!(text_nesting(query, 100), 2);
        let names = written_names(query);
        assert!(names.contains("a") && names.contains("s") && names.contains("t"));
        assert!(!names.contains("name") && !names.contains("other") && !names.contains("d"));
        // `{` `a` `(` `s` `:` string `,` is skipped, `t` `:` string `)` `}`
        assert_eq!(count_tokens(query, 100), 11);
    }
}
