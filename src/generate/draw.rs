//! The random draws the generator makes (ranks from a Zipf distribution, pools of ids to draw
//! from, geometric counts, partial dates) and the small helpers that turn them into column values.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate};
use entity::DatePrecision;
use rand::{Rng, seq::IndexedRandom};
use sea_orm::{ActiveEnum, Value};

/// Draws indexes `0..n` with probability proportional to `1 / (rank + 1)^s`.
pub(super) struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub(super) fn new(n: usize, s: f64) -> Self {
        let mut total = 0.0;
        let cdf = (0..n.max(1))
            .map(|k| {
                total += 1.0 / ((k + 1) as f64).powf(s);
                total
            })
            .collect();
        Self { cdf }
    }

    pub(super) fn sample(&self, rng: &mut impl Rng) -> usize {
        let last = self.cdf.last().copied().unwrap_or(1.0);
        let u = rng.random::<f64>() * last;
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

/// Ids to draw from, the first ones the most often.
pub(super) struct Pool {
    ids: Vec<i64>,
    zipf: Zipf,
}

impl Pool {
    pub(super) fn new(ids: Vec<i64>) -> Self {
        let zipf = Zipf::new(ids.len(), 1.0);
        Self { ids, zipf }
    }

    pub(super) fn draw(&self, rng: &mut impl Rng) -> Option<i64> {
        self.ids.get(self.zipf.sample(rng)).copied()
    }

    /// Up to `k` distinct ids (fewer when the pool is small or the draws keep colliding).
    pub(super) fn draw_distinct(&self, rng: &mut impl Rng, k: usize) -> Vec<i64> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::with_capacity(k);
        for _ in 0..k * 4 {
            if out.len() == k {
                break;
            }
            if let Some(id) = self.draw(rng)
                && seen.insert(id)
            {
                out.push(id);
            }
        }
        out
    }
}

/// One more than `extra` with probability `1 - p` each time, `cap` at most: a geometric count.
pub(super) fn geometric(rng: &mut impl Rng, p: f64, cap: usize) -> usize {
    let mut k = 0;
    while k < cap && !rng.random_bool(p) {
        k += 1;
    }
    k
}

pub(super) fn pick<'t, T>(rng: &mut impl Rng, items: &'t [T]) -> &'t T {
    // The lists are constants or enum variants: never empty.
    items.choose(rng).unwrap_or(&items[0])
}

pub(super) fn enum_value<E: ActiveEnum<Value = String>>(e: &E) -> Value {
    e.to_value().into()
}

/// `Andean Labour Council` → `andean-labour-council-1234` (the id keeps it unique).
pub(super) fn slug(name: &str, id: i64) -> String {
    let mut s = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.truncate(80);
    let s = s.trim_end_matches('-');
    format!("{s}-{id}")
}

/// The first day of the period of `precision` containing `date`.
pub(super) fn truncate(date: NaiveDate, precision: DatePrecision) -> NaiveDate {
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(date);
    match precision {
        DatePrecision::Year => ymd(date.year(), 1, 1),
        DatePrecision::Month => ymd(date.year(), date.month(), 1),
        DatePrecision::Day => date,
    }
}

/// A date between 1990 and 2027 at a precision drawn with the weights (year, month, day).
pub(super) fn partial_date(rng: &mut impl Rng, weights: (f64, f64)) -> (NaiveDate, DatePrecision) {
    let epoch = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default();
    let date = epoch + Days::new(rng.random_range(0..37 * 365));
    let u = rng.random::<f64>();
    let precision = if u < weights.0 {
        DatePrecision::Year
    } else if u < weights.0 + weights.1 {
        DatePrecision::Month
    } else {
        DatePrecision::Day
    };
    (truncate(date, precision), precision)
}

/// An end at the start's precision, `0..max_days` later: never before the start.
pub(super) fn end_after(
    rng: &mut impl Rng,
    start: (NaiveDate, DatePrecision),
    max_days: u64,
) -> (NaiveDate, DatePrecision) {
    let end = start.0 + Days::new(rng.random_range(0..max_days));
    (truncate(end, start.1), start.1)
}

pub(super) fn date_values(date: Option<(NaiveDate, DatePrecision)>) -> [Value; 2] {
    match date {
        Some((d, p)) => [Some(d).into(), Some(p.to_value()).into()],
        None => [
            Option::<NaiveDate>::None.into(),
            Option::<String>::None.into(),
        ],
    }
}
