//! Partial dates: the sources often give only a year ("signed in 2020"), sometimes a month.
//!
//! A partial date is stored as the first day of its period plus its precision, so it sorts and
//! filters like a date, and is shown as reduced-precision ISO 8601 (`2020`, `2020-06`,
//! `2020-06-15`) so that no month or day is invented.

use std::{fmt, str::FromStr};

use chrono::{Datelike, NaiveDate};
use entity::DatePrecision;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialDate {
    /// The first day of the period.
    pub date: NaiveDate,
    pub precision: DatePrecision,
}

impl PartialDate {
    /// Joins the two stored columns; `None` unless both are set.
    pub fn from_parts(date: Option<NaiveDate>, precision: Option<DatePrecision>) -> Option<Self> {
        Some(Self {
            date: date?,
            precision: precision?,
        })
    }

    /// The last day of the period (the year's 31 December for a year).
    pub fn last_day(&self) -> NaiveDate {
        let d = self.date;
        match self.precision {
            DatePrecision::Year => NaiveDate::from_ymd_opt(d.year(), 12, 31).unwrap_or(d),
            DatePrecision::Month => {
                let (y, m) = if d.month() == 12 {
                    (d.year() + 1, 1)
                } else {
                    (d.year(), d.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1)
                    .and_then(|n| n.pred_opt())
                    .unwrap_or(d)
            }
            DatePrecision::Day => d,
        }
    }

    /// The two stored columns.
    pub fn into_parts(this: Option<Self>) -> (Option<NaiveDate>, Option<DatePrecision>) {
        match this {
            Some(p) => (Some(p.date), Some(p.precision)),
            None => (None, None),
        }
    }
}

/// Why a string is not a partial date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date: expected YYYY, YYYY-MM or YYYY-MM-DD")]
pub struct ParsePartialDateError(String);

impl FromStr for PartialDate {
    type Err = ParsePartialDateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParsePartialDateError(s.to_owned());
        let digits = |part: &str, len: usize| -> Result<u32, ParsePartialDateError> {
            if part.len() == len && part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().map_err(|_| err())
            } else {
                Err(err())
            }
        };
        let mut parts = s.split('-');
        let year = digits(parts.next().ok_or_else(err)?, 4)? as i32;
        let month = parts.next().map(|m| digits(m, 2)).transpose()?;
        let day = parts.next().map(|d| digits(d, 2)).transpose()?;
        if parts.next().is_some() {
            return Err(err());
        }
        let (precision, month, day) = match (month, day) {
            (None, _) => (DatePrecision::Year, 1, 1),
            (Some(m), None) => (DatePrecision::Month, m, 1),
            (Some(m), Some(d)) => (DatePrecision::Day, m, d),
        };
        let date = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(err)?;
        Ok(Self { date, precision })
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.date;
        match self.precision {
            DatePrecision::Year => write!(f, "{:04}", d.year()),
            DatePrecision::Month => write!(f, "{:04}-{:02}", d.year(), d.month()),
            DatePrecision::Day => write!(f, "{}", d.format("%Y-%m-%d")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduced_precision_dates_round_trip() {
        for text in ["2020", "2014-10", "2024-03-28"] {
            let parsed: PartialDate = text.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(parsed.to_string(), text);
        }
        let year: PartialDate = "2020".parse().expect("a year parses");
        assert_eq!(
            year.date,
            NaiveDate::from_ymd_opt(2020, 1, 1).expect("valid")
        );
        assert_eq!(year.precision, DatePrecision::Year);
    }

    #[test]
    fn the_last_day_of_a_period_follows_its_precision() {
        let last = |s: &str| {
            s.parse::<PartialDate>()
                .map(|d| d.last_day().to_string())
                .unwrap_or_default()
        };
        assert_eq!(last("2015"), "2015-12-31");
        assert_eq!(last("2016-02"), "2016-02-29");
        assert_eq!(last("2015-12"), "2015-12-31");
        assert_eq!(last("2015-06-03"), "2015-06-03");
    }

    #[test]
    fn malformed_dates_are_refused() {
        for text in [
            "",
            "20",
            "2020-1",
            "2020-13",
            "2020-02-30",
            "2020-01-01-01",
            "year",
            "2020/01",
            " 2020",
        ] {
            assert!(
                text.parse::<PartialDate>().is_err(),
                "{text:?} should be refused"
            );
        }
    }
}
