//! Full-text search across organizations, agreements, projects, events and instruments.
//!
//! PostgreSQL: each table carries a weighted `search_vector` the database generates from the
//! record's text, accents folded (migration `m20261127_000002_search`), with a GIN index. The
//! query is read with `websearch_to_tsquery` (words, `"quoted phrases"`, `or`, `-excluded`)
//! and words ending in `*` become prefix matches; hits are ranked with `ts_rank_cd` (names,
//! titles and acronyms weigh most) and the page's hits get a `ts_headline` snippet.
//!
//! SQLite (the embedded default) has no such index: every word or quoted phrase must occur in
//! the record's text (`LIKE`, ASCII case ignored, accents not), ranked by where it occurs, with
//! the same weights. Same API, simpler matching, never an error.
//!
//! Hits are ordered by rank, then kind, then id. A cursor is the offset of the next hit, bound
//! to the query: a cursor of another search is refused.

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};

use super::page::{Key, Position};
use crate::error::{AppError, AppResult};

/// The kinds of record a search covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HitKind {
    Organization,
    Agreement,
    Project,
    Event,
    Instrument,
}

/// Weights of the fields, as `ts_rank_cd` applies them by default to A, B and C.
const WEIGHT_A: f64 = 1.0;
const WEIGHT_B: f64 = 0.4;
const WEIGHT_C: f64 = 0.2;

impl HitKind {
    pub const ALL: [HitKind; 5] = [
        HitKind::Organization,
        HitKind::Agreement,
        HitKind::Project,
        HitKind::Event,
        HitKind::Instrument,
    ];

    fn code(self) -> i32 {
        match self {
            Self::Organization => 1,
            Self::Agreement => 2,
            Self::Project => 3,
            Self::Event => 4,
            Self::Instrument => 5,
        }
    }

    fn from_code(code: i32) -> AppResult<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown hit kind {code}")))
    }

    /// The table and its text fields with their weights; the first field is never null.
    fn fields(self) -> (&'static str, &'static [(&'static str, f64)]) {
        match self {
            Self::Organization => (
                "organizations",
                &[
                    ("name", WEIGHT_A),
                    ("acronym", WEIGHT_A),
                    ("description", WEIGHT_C),
                ],
            ),
            Self::Agreement => ("agreements", &[("title", WEIGHT_A), ("summary", WEIGHT_C)]),
            Self::Project => ("projects", &[("name", WEIGHT_A), ("summary", WEIGHT_C)]),
            Self::Event => (
                "events",
                &[
                    ("name", WEIGHT_A),
                    ("location", WEIGHT_B),
                    ("summary", WEIGHT_C),
                ],
            ),
            Self::Instrument => (
                "instruments",
                &[
                    ("name", WEIGHT_A),
                    ("acronym", WEIGHT_A),
                    ("description", WEIGHT_C),
                ],
            ),
        }
    }
}

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// How deep into the ranked hits paging may go.
pub const MAX_SEARCH_DEPTH: u64 = 1_000;

/// A search: the query as the client wrote it, read once.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    text: String,
    /// For `websearch_to_tsquery`: everything but the prefix words.
    websearch: String,
    /// Words that ended in `*`, letters and digits only.
    prefixes: Vec<String>,
    /// For SQLite: words and phrases that must all occur (lowercase).
    terms: Vec<String>,
    kinds: Vec<HitKind>,
}

impl SearchQuery {
    /// Reads `text`: words, `"quoted phrases"`, `word*` prefixes, `or`, `-excluded`. Refuses a
    /// query with nothing to search for or longer than [`MAX_QUERY_CHARS`].
    pub fn parse(text: &str, kinds: Option<Vec<HitKind>>) -> AppResult<Self> {
        let text = text.trim();
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::bad_field(
                "query",
                format!("the query is longer than {MAX_QUERY_CHARS} characters"),
            ));
        }
        let mut websearch = Vec::new();
        let mut prefixes = Vec::new();
        let mut terms = Vec::new();
        for (i, part) in text.split('"').enumerate() {
            if i % 2 == 1 {
                // Inside quotes: a phrase.
                let phrase = part.split_whitespace().collect::<Vec<_>>().join(" ");
                if !phrase.is_empty() {
                    websearch.push(format!("\"{phrase}\""));
                    terms.push(phrase.to_ascii_lowercase());
                }
                continue;
            }
            for word in part.split_whitespace() {
                if let Some(stem) = word.strip_suffix('*') {
                    let stem: String = stem.chars().filter(|c| c.is_alphanumeric()).collect();
                    if !stem.is_empty() {
                        terms.push(stem.to_ascii_lowercase());
                        prefixes.push(stem);
                    }
                    continue;
                }
                websearch.push(word.to_owned());
                let negated = word.starts_with('-');
                let term: String = word
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '\'')
                    .collect::<String>()
                    .trim_matches('-')
                    .to_owned();
                // SQLite ignores `or` and exclusions: every other word must occur.
                if !negated && !term.is_empty() && !term.eq_ignore_ascii_case("or") {
                    terms.push(term.to_ascii_lowercase());
                }
            }
        }
        if terms.is_empty() {
            return Err(AppError::bad_field(
                "query",
                "the query has no word to search for",
            ));
        }
        let mut kinds = kinds.unwrap_or_default();
        kinds.sort();
        kinds.dedup();
        if kinds.is_empty() {
            kinds = HitKind::ALL.to_vec();
        }
        Ok(Self {
            text: text.to_owned(),
            websearch: websearch.join(" "),
            prefixes,
            terms,
            kinds,
        })
    }

    /// What a cursor is bound to.
    fn ordering(&self) -> String {
        let kinds: Vec<String> = self.kinds.iter().map(|k| k.code().to_string()).collect();
        format!("search:{}:{}", kinds.join(","), self.text)
    }

    /// The offset a cursor stands for (the hit after it); refused when the cursor is another
    /// search's.
    pub fn offset_after(&self, after: Option<&Position>) -> AppResult<u64> {
        let Some(position) = after else {
            return Ok(0);
        };
        match position.keys.as_slice() {
            [Key::Int(offset)] if position.ordering == self.ordering() && *offset >= 0 => {
                Ok(*offset as u64 + 1)
            }
            _ => Err(AppError::bad_field(
                "after",
                "the cursor belongs to another search",
            )),
        }
    }
}

/// One hit: what and where it is, how well it matches, and its text with the matches marked.
#[derive(Debug, Clone)]
pub struct Hit {
    pub kind: HitKind,
    pub id: i64,
    pub rank: f64,
    /// HTML-escaped text with each match inside `<mark>…</mark>`.
    pub snippet: String,
    pub position: Position,
}

/// Placeholders in the dialect of the connection.
struct Params {
    backend: DatabaseBackend,
    values: Vec<Value>,
}

impl Params {
    fn push(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }
}

/// Markers `ts_headline` and the SQLite highlighter put around matches, made HTML afterwards.
const START: char = '⟦';
const STOP: char = '⟧';

/// The hits: a union over the tables, ranked, without the window. Selects kind, id, rank, body.
fn hits_sql(query: &SearchQuery, params: &mut Params) -> String {
    let postgres = params.backend == DatabaseBackend::Postgres;
    let mut parts = Vec::new();
    for kind in &query.kinds {
        let (table, fields) = kind.fields();
        let body = body_sql(fields, postgres);
        if postgres {
            parts.push(format!(
                "SELECT {code} AS kind, t.id AS id, \
                 CAST(ts_rank_cd(t.search_vector, q.q) AS DOUBLE PRECISION) AS rank, {body} AS body \
                 FROM {table} t, q WHERE t.search_vector @@ q.q",
                code = kind.code()
            ));
        } else {
            let mut all = Vec::new();
            let mut score = Vec::new();
            for term in &query.terms {
                let pattern = format!("%{}%", like_literal(term));
                let mut any = Vec::new();
                for (field, weight) in fields {
                    let p = params.push(pattern.clone());
                    any.push(format!("lower(t.{field}) LIKE {p} ESCAPE '\\'"));
                    let p = params.push(pattern.clone());
                    score.push(format!(
                        "CASE WHEN lower(t.{field}) LIKE {p} ESCAPE '\\' THEN {weight:.1} ELSE 0.0 END"
                    ));
                }
                all.push(format!("({})", any.join(" OR ")));
            }
            parts.push(format!(
                "SELECT {code} AS kind, t.id AS id, ({score}) AS rank, {body} AS body \
                 FROM {table} t WHERE {all}",
                code = kind.code(),
                score = score.join(" + "),
                all = all.join(" AND ")
            ));
        }
    }
    parts.join(" UNION ALL ")
}

/// The record's text fields joined with ` · ` (the first is never null).
fn body_sql(fields: &[(&str, f64)], postgres: bool) -> String {
    let names: Vec<String> = fields.iter().map(|(f, _)| format!("t.{f}")).collect();
    if postgres {
        format!("concat_ws(' · ', {})", names.join(", "))
    } else {
        let mut body = names[0].clone();
        for name in &names[1..] {
            body.push_str(&format!(" || coalesce(' · ' || {name}, '')"));
        }
        body
    }
}

/// `WITH q AS (…)`: the query as a `tsquery` (PostgreSQL only).
fn tsquery_sql(query: &SearchQuery, params: &mut Params) -> String {
    let mut parts = Vec::new();
    if !query.websearch.is_empty() {
        let p = params.push(query.websearch.clone());
        parts.push(format!("websearch_to_tsquery('english', search_fold({p}))"));
    }
    if !query.prefixes.is_empty() {
        // Letters and digits only, so the text is valid `to_tsquery` syntax.
        let prefix = query
            .prefixes
            .iter()
            .map(|p| format!("{p}:*"))
            .collect::<Vec<_>>()
            .join(" & ");
        let p = params.push(prefix);
        parts.push(format!("to_tsquery('english', search_fold({p}))"));
    }
    format!("WITH q AS (SELECT {} AS q) ", parts.join(" && "))
}

/// A page of hits from `offset`, best first, and whether more follow.
pub async fn search(
    db: &impl ConnectionTrait,
    query: &SearchQuery,
    first: u64,
    offset: u64,
) -> AppResult<(Vec<Hit>, bool)> {
    if offset + first > MAX_SEARCH_DEPTH {
        return Err(AppError::bad_field(
            "after",
            format!("search pages stop after the best {MAX_SEARCH_DEPTH} hits; refine the query"),
        ));
    }
    let backend = db.get_database_backend();
    let mut params = Params {
        backend,
        values: Vec::new(),
    };
    let postgres = backend == DatabaseBackend::Postgres;
    let with = if postgres {
        tsquery_sql(query, &mut params)
    } else {
        String::new()
    };
    let hits = hits_sql(query, &mut params);
    let window = format!(
        "SELECT kind, id, rank, body FROM ({hits}) h ORDER BY rank DESC, kind, id LIMIT {} OFFSET {offset}",
        first + 1
    );
    let sql = if postgres {
        let options = params.push(format!(
            "StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \""
        ));
        // The headline is computed for the page's hits only.
        format!(
            "{with}SELECT kind, id, rank, ts_headline('english', body, (SELECT q FROM q), {options}) AS body \
             FROM ({window}) page ORDER BY rank DESC, kind, id"
        )
    } else {
        window
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, params.values))
        .await?;
    let ordering = query.ordering();
    let mut hits = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let body: String = row.try_get("", "body")?;
        let marked = if postgres {
            body
        } else {
            highlight(&body, &query.terms)
        };
        hits.push(Hit {
            kind: HitKind::from_code(row.try_get::<i32>("", "kind")?)?,
            id: row.try_get("", "id")?,
            rank: row.try_get("", "rank")?,
            snippet: to_html(&marked),
            position: Position {
                ordering: ordering.clone(),
                keys: vec![Key::Int((offset + i as u64) as i64)],
            },
        });
    }
    let has_next = hits.len() as u64 > first;
    hits.truncate(first as usize);
    Ok((hits, has_next))
}

/// How many records match.
pub async fn count(db: &impl ConnectionTrait, query: &SearchQuery) -> AppResult<u64> {
    let backend = db.get_database_backend();
    let mut params = Params {
        backend,
        values: Vec::new(),
    };
    let with = if backend == DatabaseBackend::Postgres {
        tsquery_sql(query, &mut params)
    } else {
        String::new()
    };
    let sql = format!(
        "{with}SELECT COUNT(*) AS n FROM ({}) h",
        hits_sql(query, &mut params)
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, params.values))
        .await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Escapes LIKE wildcards so the text matches literally (`\` is the escape character).
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// About 30 words around the first match, each match marked (SQLite's snippet).
fn highlight(text: &str, terms: &[String]) -> String {
    const BEFORE: usize = 60;
    const LENGTH: usize = 220;
    let lower = text.to_ascii_lowercase(); // same byte offsets as `text`
    let first = terms
        .iter()
        .filter_map(|t| lower.find(t.as_str()))
        .min()
        .unwrap_or(0);
    let floor = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let mut start = floor(first.saturating_sub(BEFORE));
    if start > 0 {
        // Start at a word.
        start = text[start..]
            .find(' ')
            .map(|i| start + i + 1)
            .filter(|s| *s <= first)
            .unwrap_or(start);
    }
    let end = floor((start + LENGTH).min(text.len()));
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut i = start;
    while i < end {
        let hit = terms
            .iter()
            .filter(|t| !t.is_empty() && lower[i..end].starts_with(t.as_str()))
            .map(String::len)
            .max();
        match hit {
            Some(len) => {
                out.push(START);
                out.push_str(&text[i..i + len]);
                out.push(STOP);
                i += len;
            }
            None => {
                let c = text[i..].chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    if end < text.len() {
        out.push('…');
    }
    out
}

/// Escapes the text for HTML and turns the markers into `<mark>` elements.
fn to_html(marked: &str) -> String {
    let mut out = String::with_capacity(marked.len() + 16);
    for c in marked.chars() {
        match c {
            START => out.push_str("<mark>"),
            STOP => out.push_str("</mark>"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_read_into_words_phrases_and_prefixes() {
        let q = SearchQuery::parse(r#""supply chains" supp* -asia or work"#, None)
            .expect("a valid query");
        assert_eq!(q.websearch, r#""supply chains" -asia or work"#);
        assert_eq!(q.prefixes, ["supp"]);
        assert_eq!(q.terms, ["supply chains", "supp", "work"]);
        assert_eq!(q.kinds, HitKind::ALL);
    }

    #[test]
    fn empty_and_overlong_queries_are_refused() {
        for text in ["", "   ", "\"\"", "* -", &"a".repeat(201)] {
            assert!(
                SearchQuery::parse(text, None).is_err(),
                "{text:?} is refused"
            );
        }
    }

    #[test]
    fn snippets_mark_matches_and_escape_the_rest() {
        let marked = highlight("Supply <chains> & more", &["supply".into()]);
        assert_eq!(
            to_html(&marked),
            "<mark>Supply</mark> &lt;chains&gt; &amp; more"
        );
    }
}
