//! Custom scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

use crate::dates::PartialDate;

/// A calendar date at the precision the source gives: a year (`2020`), a month (`2020-06`) or a
/// day (`2020-06-15`), in ISO 8601. Sorting and filtering treat it as the first day of its period.
#[Scalar(
    name = "PartialDate",
    specified_by_url = "https://www.iso.org/iso-8601-date-and-time-format.html"
)]
impl ScalarType for PartialDate {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => text.parse().map_err(InputValueError::custom),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.to_string())
    }
}
