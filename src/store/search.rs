//! Full-text search across organizations, agreements, projects, events and instruments.
//!
//! PostgreSQL: each table carries a weighted `search_vector` the database generates from the
//! record's text, accents folded (migration `m20261127_000002_search`), with a GIN index. The
//! query is read with `websearch_to_tsquery` (words, `"quoted phrases"`, `or`, `-excluded`)
//! and words ending in `*` become prefix matches; hits are ranked with `ts_rank_cd` (names,
//! titles and acronyms weigh most) and the page's hits get a `ts_headline` snippet.
//!
//! SQLite (the embedded default): an FTS5 index over the same text with the same weights
//! (`search_index`, kept by triggers; stems, case and accents folded), ranked with `bm25`,
//! snippets from `snippet()`. The query is rebuilt from its words so that nothing a client
//! types can be an FTS5 syntax error: every word, phrase and prefix must match, `-word`
//! excludes, and `or` is not supported there (it is ignored). Same API, never an error.
//!
//! Hits are ordered by rank, then kind, then id. A cursor is the offset of the next hit, bound
//! to the query: a cursor of another search is refused.

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use super::{
    RecordKind,
    page::{Key, Position},
    params::Params,
};
use crate::error::{AppError, AppResult};

/// Weights of the A, B and C fields, as `ts_rank_cd` applies them by default (and `bm25` on
/// SQLite, scaled).
const WEIGHT_A: f64 = 1.0;
const WEIGHT_B: f64 = 0.4;
const WEIGHT_C: f64 = 0.2;

impl RecordKind {
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

    /// The table and its text fields (weighted by the migration's `search_vector`).
    fn fields(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Self::Organization => ("organizations", &["name", "acronym", "description"]),
            Self::Agreement => ("agreements", &["title", "summary"]),
            Self::Project => ("projects", &["name", "summary"]),
            Self::Event => ("events", &["name", "location", "summary"]),
            Self::Instrument => ("instruments", &["name", "acronym", "description"]),
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
    /// Words that ended in `*`, letters and digits only (`true`: excluded, `-word*`).
    prefixes: Vec<(String, bool)>,
    /// For SQLite: words and phrases that must all match (`true`: as a prefix).
    terms: Vec<(String, bool)>,
    /// For SQLite: words and phrases that must not match (`true`: as a prefix).
    excluded: Vec<(String, bool)>,
    kinds: Vec<RecordKind>,
}

impl SearchQuery {
    /// Reads `text`: words, `"quoted phrases"`, `word*` prefixes, `or`, `-excluded`. Refuses a
    /// query with nothing to search for or longer than [`MAX_QUERY_CHARS`].
    pub fn parse(text: &str, kinds: Option<Vec<RecordKind>>) -> AppResult<Self> {
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
        let mut excluded = Vec::new();
        // A `-` right before a quote negates the phrase.
        let mut negate_phrase = false;
        for (i, part) in text.split('"').enumerate() {
            if i % 2 == 1 {
                // Inside quotes: a phrase.
                let phrase = part.split_whitespace().collect::<Vec<_>>().join(" ");
                if phrase.chars().any(char::is_alphanumeric) {
                    if negate_phrase {
                        websearch.push(format!("-\"{phrase}\""));
                        excluded.push((phrase, false));
                    } else {
                        websearch.push(format!("\"{phrase}\""));
                        terms.push((phrase, false));
                    }
                }
                continue;
            }
            negate_phrase = part.ends_with('-')
                && part[..part.len() - 1]
                    .chars()
                    .last()
                    .is_none_or(char::is_whitespace);
            for word in part.split_whitespace() {
                let negated = word.starts_with('-');
                if let Some(stem) = word.strip_suffix('*') {
                    let stem: String = stem.chars().filter(|c| c.is_alphanumeric()).collect();
                    if !stem.is_empty() {
                        if negated {
                            excluded.push((stem.clone(), true));
                        } else {
                            terms.push((stem.clone(), true));
                        }
                        prefixes.push((stem, negated));
                    }
                    continue;
                }
                let term: String = word
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '\'')
                    .collect::<String>()
                    .trim_matches('-')
                    .to_owned();
                if !term.chars().any(char::is_alphanumeric) {
                    continue;
                }
                websearch.push(word.to_owned());
                // SQLite ignores `or`: every other word must match.
                if term.eq_ignore_ascii_case("or") {
                    continue;
                }
                if negated {
                    excluded.push((term, false));
                } else {
                    terms.push((term, false));
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
            kinds = RecordKind::ALL.to_vec();
        }
        Ok(Self {
            text: text.to_owned(),
            websearch: websearch.join(" "),
            prefixes,
            terms,
            excluded,
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
    pub kind: RecordKind,
    pub id: i64,
    pub rank: f64,
    /// HTML-escaped text with each match inside `<mark>…</mark>`.
    pub snippet: String,
    pub position: Position,
}

/// Markers `ts_headline` and the SQLite highlighter put around matches, made HTML afterwards.
const START: char = '⟦';
const STOP: char = '⟧';

/// The hits on PostgreSQL: a union over the tables, ranked, without the window. Selects kind,
/// id, rank and body (the text a snippet is cut from).
fn postgres_hits_sql(query: &SearchQuery) -> String {
    let mut parts = Vec::new();
    for kind in &query.kinds {
        let (table, fields) = kind.fields();
        let names: Vec<String> = fields.iter().map(|f| format!("t.{f}")).collect();
        parts.push(format!(
            "SELECT {code} AS kind, t.id AS id, \
             CAST(ts_rank_cd(t.search_vector, q.q) AS DOUBLE PRECISION) AS rank, \
             concat_ws(' · ', {body}) AS body \
             FROM {table} t, q WHERE t.search_vector @@ q.q",
            code = kind.code(),
            body = names.join(", ")
        ));
    }
    parts.join(" UNION ALL ")
}

/// The FTS5 query: every term quoted (so no text is FTS5 syntax), prefixes starred, exclusions
/// after NOT.
fn fts_query(query: &SearchQuery) -> String {
    let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
    let mut text = query
        .terms
        .iter()
        .map(|(t, prefix)| {
            if *prefix {
                format!("{}*", quote(t))
            } else {
                quote(t)
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ");
    for (word, prefix) in &query.excluded {
        let star = if *prefix { "*" } else { "" };
        text.push_str(&format!(" NOT {}{star}", quote(word)));
    }
    text
}

/// `FROM search_index WHERE …`: the rows of the SQLite index that match, of the kinds asked.
fn sqlite_matches_sql(query: &SearchQuery, params: &mut Params) -> String {
    let codes: Vec<String> = query.kinds.iter().map(|k| k.code().to_string()).collect();
    let matching = params.push(fts_query(query));
    format!(
        "FROM search_index WHERE search_index MATCH {matching} AND rowid % 8 IN ({})",
        codes.join(", ")
    )
}

/// The hits on SQLite, with the same columns; the snippet is cut here already.
fn sqlite_hits_sql(query: &SearchQuery, params: &mut Params) -> String {
    // bm25 is lower for better matches; its weights are per column (a, b, c).
    format!(
        "SELECT rowid % 8 AS kind, rowid / 8 AS id, \
         -bm25(search_index, {a}, {b}, {c}) AS rank, \
         snippet(search_index, -1, '{START}', '{STOP}', '…', 24) AS body {matches}",
        a = WEIGHT_A * 10.0,
        b = WEIGHT_B * 10.0,
        c = WEIGHT_C * 10.0,
        matches = sqlite_matches_sql(query, params),
    )
}

/// `WITH q AS (…)`: the query as a `tsquery` (PostgreSQL only).
fn tsquery_sql(query: &SearchQuery, params: &mut Params) -> String {
    let mut parts = Vec::new();
    if !query.websearch.is_empty() {
        let p = params.push(query.websearch.clone());
        parts.push(format!("websearch_to_tsquery('english', search_fold({p}))"));
    }
    for (stem, negated) in &query.prefixes {
        // Folded first, then quoted: folding can turn a letter into tsquery syntax (`½` into
        // ` 1/2`), and a quoted lexeme cannot be a syntax error.
        let p = params.push(stem.clone());
        let not = if *negated { "!!" } else { "" };
        parts.push(format!(
            "{not}to_tsquery('english', quote_literal(search_fold({p})) || ':*')"
        ));
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
    if offset >= MAX_SEARCH_DEPTH {
        return Err(AppError::bad_field(
            "after",
            format!("search pages stop after the best {MAX_SEARCH_DEPTH} hits; refine the query"),
        ));
    }
    // A page that would reach past the depth stops at it, and says nothing follows.
    let first = first.min(MAX_SEARCH_DEPTH - offset);
    let at_depth = offset + first == MAX_SEARCH_DEPTH;
    let backend = db.get_database_backend();
    let mut params = Params::new(backend);
    let postgres = backend == DatabaseBackend::Postgres;
    let with = if postgres {
        tsquery_sql(query, &mut params)
    } else {
        String::new()
    };
    let hits = if postgres {
        postgres_hits_sql(query)
    } else {
        sqlite_hits_sql(query, &mut params)
    };
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
        hits.push(Hit {
            kind: RecordKind::from_code(row.try_get::<i32>("", "kind")?)?,
            id: row.try_get("", "id")?,
            rank: row.try_get("", "rank")?,
            snippet: to_html(&body),
            position: Position {
                ordering: ordering.clone(),
                keys: vec![Key::Int((offset + i as u64) as i64)],
            },
        });
    }
    let has_next = hits.len() as u64 > first && !at_depth;
    hits.truncate(first as usize);
    Ok((hits, has_next))
}

/// How many records match.
pub async fn count(db: &impl ConnectionTrait, query: &SearchQuery) -> AppResult<u64> {
    let backend = db.get_database_backend();
    let mut params = Params::new(backend);
    let sql = if backend == DatabaseBackend::Postgres {
        let with = tsquery_sql(query, &mut params);
        format!(
            "{with}SELECT COUNT(*) AS n FROM ({}) h",
            postgres_hits_sql(query)
        )
    } else {
        // Counting needs neither ranks nor snippets.
        format!(
            "SELECT COUNT(*) AS n {}",
            sqlite_matches_sql(query, &mut params)
        )
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, params.values))
        .await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
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
        assert_eq!(q.prefixes, [("supp".to_owned(), false)]);
        let terms: Vec<(&str, bool)> = q.terms.iter().map(|(t, p)| (t.as_str(), *p)).collect();
        assert_eq!(
            terms,
            [("supply chains", false), ("supp", true), ("work", false)]
        );
        assert_eq!(q.excluded, [("asia".to_owned(), false)]);
        assert_eq!(
            fts_query(&q),
            r#""supply chains" AND "supp"* AND "work" NOT "asia""#
        );
        assert_eq!(q.kinds, RecordKind::ALL);
    }

    #[test]
    fn negation_applies_to_prefixes_and_phrases() {
        let q = SearchQuery::parse(r#"supply -asi* -"decent work""#, None).expect("valid");
        assert_eq!(q.prefixes, [("asi".to_owned(), true)]);
        assert_eq!(
            q.excluded,
            [("asi".to_owned(), true), ("decent work".to_owned(), false)]
        );
        assert_eq!(q.websearch, r#"supply -"decent work""#);
        assert_eq!(fts_query(&q), r#""supply" NOT "asi"* NOT "decent work""#);
    }

    #[test]
    fn empty_and_overlong_queries_are_refused() {
        for text in ["", "   ", "\"\"", "* -", "\" ' \"", &"a".repeat(201)] {
            assert!(
                SearchQuery::parse(text, None).is_err(),
                "{text:?} is refused"
            );
        }
    }

    #[test]
    fn snippets_mark_matches_and_escape_the_rest() {
        assert_eq!(
            to_html("⟦Supply⟧ <chains> & more"),
            "<mark>Supply</mark> &lt;chains&gt; &amp; more"
        );
    }
}
