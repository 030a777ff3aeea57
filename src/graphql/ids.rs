//! Opaque global IDs (Relay): `base64url("Organization:42")`. Clients must not parse them; the
//! server decodes them and answers BAD_USER_INPUT when one is malformed or of another type.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::AppError;

/// The types that have global IDs: the five kinds of record.
pub use crate::store::RecordKind;

pub fn encode(node: RecordKind, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", node.name())))
}

/// Decodes any global ID into its type and database id.
pub fn decode(id: &ID) -> Result<(RecordKind, i64), AppError> {
    let bad = || AppError::bad_field("id", format!("`{}` is not a valid ID", id.as_str()));
    let bytes = URL_SAFE_NO_PAD.decode(id.as_bytes()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (name, raw) = text.split_once(':').ok_or_else(bad)?;
    let node = RecordKind::named(name).ok_or_else(bad)?;
    let id = raw
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(bad)?;
    Ok((node, id))
}

/// Decodes a global ID that must be of type `expected`.
pub fn decode_as(id: &ID, expected: RecordKind) -> Result<i64, AppError> {
    match decode(id)? {
        (node, raw) if node == expected => Ok(raw),
        _ => Err(AppError::bad_field(
            "id",
            format!(
                "`{}` is not the ID of {}",
                id.as_str(),
                expected.with_article()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_bad_ones_are_refused() {
        let id = encode(RecordKind::Agreement, 42);
        assert_eq!(decode(&id).ok(), Some((RecordKind::Agreement, 42)));
        assert!(decode_as(&id, RecordKind::Organization).is_err());
        for bad in [
            "",
            "!!",
            "T3JnYW5pemF0aW9u",
            &URL_SAFE_NO_PAD.encode("Galaxy:1"),
            &URL_SAFE_NO_PAD.encode("Organization:-1"),
        ] {
            assert!(
                decode(&ID(bad.to_owned())).is_err(),
                "{bad:?} should be refused"
            );
        }
    }
}
