//! Page sizes and opaque cursors shared by every connection.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::AppError;

/// Items per page when the client does not say.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Most items one page may ask for; asking more is an error, never a silent truncation.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Checks a `first` argument and turns it into a row limit.
pub fn page_size(first: Option<i32>) -> Result<u64, AppError> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if n < 0 => Err(AppError::bad_field("first", "`first` must not be negative")),
        Some(n) if n as u64 > MAX_PAGE_SIZE => Err(AppError::bad_field(
            "first",
            format!("`first` is {n}, above the maximum page size of {MAX_PAGE_SIZE}"),
        )),
        Some(n) => Ok(n as u64),
    }
}

/// An opaque cursor for a position in id order.
pub fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("id:{id}"))
}

/// Decodes a cursor made by [`encode_cursor`]; anything else is BAD_USER_INPUT.
pub fn decode_cursor(field: &str, cursor: &str) -> Result<i64, AppError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("id:")?.parse::<i64>().ok())
        .ok_or_else(|| AppError::bad_field(field, format!("`{cursor}` is not a valid cursor")))
}
