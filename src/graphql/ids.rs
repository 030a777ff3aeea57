//! Opaque global IDs (Relay): `base64url("Organization:42")`. Clients must not parse them; the
//! server decodes them and answers BAD_USER_INPUT when one is malformed or of another type.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::AppError;

/// The types that have global IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    Organization,
    Agreement,
    Project,
    Event,
    Instrument,
}

impl NodeType {
    /// The type's name after "a" or "an", for messages.
    pub fn with_article(self) -> &'static str {
        match self {
            Self::Organization => "an Organization",
            Self::Agreement => "an Agreement",
            Self::Project => "a Project",
            Self::Event => "an Event",
            Self::Instrument => "an Instrument",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Organization => "Organization",
            Self::Agreement => "Agreement",
            Self::Project => "Project",
            Self::Event => "Event",
            Self::Instrument => "Instrument",
        }
    }

    const ALL: [NodeType; 5] = [
        Self::Organization,
        Self::Agreement,
        Self::Project,
        Self::Event,
        Self::Instrument,
    ];
}

pub fn encode(node: NodeType, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", node.name())))
}

/// Decodes any global ID into its type and database id.
pub fn decode(id: &ID) -> Result<(NodeType, i64), AppError> {
    let bad = || AppError::bad_field("id", format!("`{}` is not a valid ID", id.as_str()));
    let bytes = URL_SAFE_NO_PAD.decode(id.as_bytes()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (name, raw) = text.split_once(':').ok_or_else(bad)?;
    let node = NodeType::ALL
        .into_iter()
        .find(|n| n.name() == name)
        .ok_or_else(bad)?;
    let id = raw
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(bad)?;
    Ok((node, id))
}

/// Decodes a global ID that must be of type `expected`.
pub fn decode_as(id: &ID, expected: NodeType) -> Result<i64, AppError> {
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
        let id = encode(NodeType::Agreement, 42);
        assert_eq!(decode(&id).ok(), Some((NodeType::Agreement, 42)));
        assert!(decode_as(&id, NodeType::Organization).is_err());
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
