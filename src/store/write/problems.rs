//! The rule book of inputs: every problem found with one input, each with its field path,
//! and the checks that need no database (slugs, lengths, URLs, spans).

use crate::{
    dates::PartialDate,
    error::{AppError, AppResult, FieldProblem},
};

/// Longest name or title.
pub const MAX_NAME_CHARS: usize = 300;
/// Longest acronym or location.
pub const MAX_SHORT_CHARS: usize = 100;
/// Longest description or summary.
pub const MAX_TEXT_CHARS: usize = 5_000;

/// Every problem found with one input.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<FieldProblem>);

impl Problems {
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldProblem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// BAD_USER_INPUT listing every problem, or Ok when there is none.
    pub fn into_result(self) -> AppResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.0))
        }
    }

    pub fn slug(&mut self, path: &str, slug: &str) {
        if !is_valid_slug(slug) {
            self.push(
                path,
                format!(
                    "`{slug}` is not a slug: 1 to 100 lowercase letters or digits in words joined by single hyphens"
                ),
            );
        }
    }

    pub fn text(&mut self, path: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.push(path, "must not be empty");
        } else if value.contains('\0') {
            // PostgreSQL cannot store it in a text column; SQLite could, and the two must agree.
            self.push(path, "must not contain a NUL character");
        } else {
            self.length(path, value, max);
        }
    }

    pub fn optional_text(&mut self, path: &str, value: &Option<String>, max: usize) {
        if let Some(value) = value {
            self.text(path, value, max);
        }
    }

    fn length(&mut self, path: &str, value: &str, max: usize) {
        let n = value.chars().count();
        if n > max {
            self.push(path, format!("is {n} characters long; at most {max}"));
        }
    }

    pub fn url(&mut self, path: &str, value: &Option<String>) {
        if let Some(text) = value {
            match url::Url::parse(text) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && text.len() <= 2000 => {}
                _ => self.push(path, format!("`{text}` is not an http(s) URL")),
            }
        }
    }

    /// An end never before a start (the end's whole period counts: 2020-06 to 2020 is fine).
    pub fn span(&mut self, path: &str, start: Option<PartialDate>, end: Option<PartialDate>) {
        if let (Some(start), Some(end)) = (start, end)
            && end.last_day() < start.date
        {
            self.push(path, format!("ends ({end}) before it starts ({start})"));
        }
    }
}

/// True for lowercase letters and digits in runs joined by single hyphens, 1 to 100 characters
/// (`un-women`).
pub fn is_valid_slug(slug: &str) -> bool {
    (1..=100).contains(&slug.len())
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_words_joined_by_single_hyphens() {
        for good in [
            "ilo",
            "un-women",
            "ilo-undp-global-framework-of-action",
            "g7",
            "2020-games",
        ] {
            assert!(is_valid_slug(good), "{good} should be accepted");
        }
        for bad in [
            "",
            "ILO",
            "un women",
            "-ilo",
            "ilo-",
            "un--women",
            "ilo_undp",
            "é",
            &"a".repeat(101),
        ] {
            assert!(!is_valid_slug(bad), "{bad:?} should be refused");
        }
    }
}
