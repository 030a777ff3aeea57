//! Writing a response's JSON straight into its body, byte for byte as serde_json writes
//! async-graphql's `Value` (the differential test in `tests/api/direct.rs` holds them equal).

use std::io::Write;

use async_graphql::resolver_utils::EnumType;

use crate::{
    dates::PartialDate,
    graphql::ids::{self, RecordKind},
};

/// A JSON string, escaped as serde_json escapes it.
pub fn string(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail, and a &str always serializes.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// A string, or null.
pub fn optional_string(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => string(out, text),
        None => null(out),
    }
}

pub fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"null");
}

pub fn int(out: &mut Vec<u8>, n: i32) {
    let _ = write!(out, "{n}");
}

/// An object's key and its colon.
pub fn key(out: &mut Vec<u8>, name: &str) {
    string(out, name);
    out.push(b':');
}

/// An enum value by its GraphQL name.
pub fn enumeration<E: EnumType>(out: &mut Vec<u8>, value: E) {
    match E::items().iter().find(|item| item.value == value) {
        Some(item) => string(out, item.name),
        None => null(out), // every value of a derived enum is among its items: not reached
    }
}

/// A date as the `PartialDate` scalar prints it, or null.
pub fn date(out: &mut Vec<u8>, date: Option<PartialDate>) {
    match date {
        Some(date) => string(out, &date.to_string()),
        None => null(out),
    }
}

/// A record's global ID.
pub fn id(out: &mut Vec<u8>, kind: RecordKind, id: i64) {
    string(out, &ids::encode(kind, id).0);
}

/// Writes `items` as a JSON array, each with `each`.
pub fn array<T>(
    out: &mut Vec<u8>,
    items: impl IntoIterator<Item = T>,
    mut each: impl FnMut(T, &mut Vec<u8>),
) {
    out.push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(item, out);
    }
    out.push(b']');
}

/// Writes `fields` as a JSON object: each one's key, then its value with `each`.
pub fn object<'a, T: 'a>(
    out: &mut Vec<u8>,
    fields: impl IntoIterator<Item = &'a (async_graphql::Name, T)>,
    mut each: impl FnMut(&'a T, &mut Vec<u8>),
) {
    out.push(b'{');
    for (i, (name, field)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        key(out, name);
        each(field, out);
    }
    out.push(b'}');
}
