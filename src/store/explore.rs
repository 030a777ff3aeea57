//! The partnership graph: organizations are connected by the records they share (agreements
//! they are party to, projects and events they take part in). Partners, shortest paths and
//! neighbourhoods are read from the three link tables, a batch of organizations per statement;
//! walks go one hop per statement (a batched breadth-first search) under hard caps on hops,
//! visited organizations and links read, so no request can walk the whole graph.
//!
//! Organization ids are written into the SQL as integers (they are `i64`s, so nothing a client
//! types reaches the text); kinds come from a fixed list.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::{ConnectionTrait, Statement};

use crate::error::{AppError, AppResult};

/// The kinds of record that connect organizations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SharedKind {
    Agreement,
    Project,
    Event,
}

impl SharedKind {
    pub const ALL: [SharedKind; 3] = [
        SharedKind::Agreement,
        SharedKind::Project,
        SharedKind::Event,
    ];

    fn code(self) -> i32 {
        match self {
            Self::Agreement => 1,
            Self::Project => 2,
            Self::Event => 3,
        }
    }

    fn from_code(code: i32) -> AppResult<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown link kind {code}")))
    }

    /// The link table, and its column naming the shared record.
    fn link_table(self) -> (&'static str, &'static str) {
        match self {
            Self::Agreement => ("agreement_parties", "agreement_id"),
            Self::Project => ("project_participants", "project_id"),
            Self::Event => ("event_participants", "event_id"),
        }
    }
}

/// One shared record between two organizations (seen from `org`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Link {
    pub org: i64,
    pub partner: i64,
    pub kind: SharedKind,
    pub record: i64,
}

/// The kinds asked for: all three when the list is missing or empty; sorted, no duplicates.
pub fn kinds_or_all(kinds: Option<Vec<SharedKind>>) -> Vec<SharedKind> {
    let set: BTreeSet<SharedKind> = kinds.unwrap_or_default().into_iter().collect();
    if set.is_empty() {
        SharedKind::ALL.to_vec()
    } else {
        set.into_iter().collect()
    }
}

fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    ids.into_iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// `SELECT org, partner, kind, record` for every shared record of `orgs` (distinct rows), and
/// optionally only towards `partners`.
fn links_sql(orgs: &[i64], partners: Option<&[i64]>, kinds: &[SharedKind]) -> String {
    let orgs = id_list(orgs.iter().copied());
    let partners = partners.map(|p| id_list(p.iter().copied()));
    kinds
        .iter()
        .map(|kind| {
            let (table, record) = kind.link_table();
            let towards = partners
                .as_ref()
                .map(|p| format!(" AND b.organization_id IN ({p})"))
                .unwrap_or_default();
            format!(
                "SELECT a.organization_id AS org, b.organization_id AS partner, \
                 {code} AS kind, a.{record} AS record \
                 FROM {table} a JOIN {table} b ON b.{record} = a.{record} \
                 AND b.organization_id <> a.organization_id \
                 WHERE a.organization_id IN ({orgs}){towards}",
                code = kind.code()
            )
        })
        .collect::<Vec<_>>()
        // UNION (not ALL): an organization holding two roles in one record counts it once.
        .join(" UNION ")
}

fn link_of(row: &sea_orm::QueryResult) -> AppResult<Link> {
    Ok(Link {
        org: row.try_get("", "org")?,
        partner: row.try_get("", "partner")?,
        kind: SharedKind::from_code(row.try_get::<i32>("", "kind")?)?,
        record: row.try_get("", "record")?,
    })
}

/// Every shared record of `orgs` (towards `partners` only, when given), sorted. With a
/// `budget`, at most that many rows are read: past it the answer is `None` (the caller refuses
/// the walk) and nothing more is held in memory.
pub async fn links(
    db: &impl ConnectionTrait,
    orgs: &[i64],
    partners: Option<&[i64]>,
    kinds: &[SharedKind],
    budget: Option<usize>,
) -> AppResult<Option<Vec<Link>>> {
    if orgs.is_empty() || kinds.is_empty() || partners.is_some_and(<[i64]>::is_empty) {
        return Ok(Some(Vec::new()));
    }
    let limit = budget
        .map(|b| format!(" LIMIT {}", b.saturating_add(1)))
        .unwrap_or_default();
    let sql = format!(
        "SELECT org, partner, kind, record FROM ({}) l ORDER BY org, partner, kind, record{limit}",
        links_sql(orgs, partners, kinds)
    );
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    if budget.is_some_and(|b| rows.len() > b) {
        return Ok(None);
    }
    rows.iter().map(link_of).collect::<AppResult<_>>().map(Some)
}

/// One partner of an organization and what they share.
#[derive(Debug, Clone, Default)]
pub struct Partner {
    pub organization: i64,
    /// How many records the two share.
    pub strength: usize,
    /// Shared records by kind, by id: at most [`MAX_SHARED_LISTED`] of each kind.
    pub shared: BTreeMap<SharedKind, Vec<i64>>,
}

/// Shared records listed per partner and kind (the strength counts them all).
pub const MAX_SHARED_LISTED: usize = 100;

/// The partners of each organization, strongest first (ties by name), at most `first` each, and
/// how many partners each has in all. One statement for any number of organizations.
pub async fn partners(
    db: &impl ConnectionTrait,
    orgs: &[i64],
    kinds: &[SharedKind],
    first: u64,
) -> AppResult<HashMap<i64, (Vec<Partner>, u64)>> {
    if orgs.is_empty() || kinds.is_empty() {
        return Ok(HashMap::new());
    }
    // `first: 0` still reads one partner each, for the totals; none is listed.
    let fetch = first.max(1);
    let sql = format!(
        "WITH links AS ({links}), \
         strength AS (SELECT org, partner, COUNT(*) AS n FROM links GROUP BY org, partner), \
         ranked AS (SELECT s.org, s.partner, s.n, \
           ROW_NUMBER() OVER (PARTITION BY s.org ORDER BY s.n DESC, o.name, s.partner) AS rn, \
           COUNT(*) OVER (PARTITION BY s.org) AS total \
           FROM strength s JOIN organizations o ON o.id = s.partner), \
         listed AS (SELECT org, partner, kind, record, \
           ROW_NUMBER() OVER (PARTITION BY org, partner, kind ORDER BY record) AS k FROM links) \
         SELECT r.org, r.partner, r.rn, r.total, r.n, l.kind, l.record \
         FROM ranked r JOIN listed l ON l.org = r.org AND l.partner = r.partner \
         WHERE r.rn <= {fetch} AND l.k <= {MAX_SHARED_LISTED} ORDER BY r.org, r.rn, l.kind, l.record",
        links = links_sql(orgs, None, kinds),
    );
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let mut out: HashMap<i64, (Vec<Partner>, u64)> = HashMap::new();
    for row in &rows {
        let link = link_of(row)?;
        let total: i64 = row.try_get("", "total")?;
        let strength: i64 = row.try_get("", "n")?;
        let (list, count) = out.entry(link.org).or_default();
        *count = u64::try_from(total).unwrap_or(0);
        if first == 0 {
            continue;
        }
        if list.last().is_none_or(|p| p.organization != link.partner) {
            list.push(Partner {
                organization: link.partner,
                strength: usize::try_from(strength).unwrap_or(0),
                ..Partner::default()
            });
        }
        if let Some(partner) = list.last_mut() {
            partner
                .shared
                .entry(link.kind)
                .or_default()
                .push(link.record);
        }
    }
    Ok(out)
}

/// Caps on a walk through the graph.
#[derive(Debug, Clone, Copy)]
pub struct WalkLimits {
    /// Organizations a walk may reach before it is refused.
    pub max_visited: usize,
    /// Link rows a walk may read before it is refused.
    pub max_links: usize,
}

impl Default for WalkLimits {
    fn default() -> Self {
        Self {
            max_visited: 2_000,
            max_links: 50_000,
        }
    }
}

/// One step of a path: from an organization to the next, through every record the two share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub from: i64,
    pub to: i64,
    /// By kind, then id; never empty.
    pub shared: Vec<(SharedKind, i64)>,
}

fn too_much(limits: &WalkLimits) -> AppError {
    AppError::bad_field(
        "maxHops",
        format!(
            "the walk reached more than {} organizations or {} links before it ended; ask for fewer hops",
            limits.max_visited, limits.max_links
        ),
    )
}

/// The shortest chains of organizations from `from` to `to`, each step with the records the
/// two share, at most `max_hops` steps long and at most `max_paths` of them (in a stable
/// order); empty when none is that short. One statement per hop.
pub async fn shortest_paths(
    db: &impl ConnectionTrait,
    from: i64,
    to: i64,
    kinds: &[SharedKind],
    max_hops: u32,
    max_paths: usize,
    limits: WalkLimits,
) -> AppResult<Vec<Vec<Step>>> {
    // For each organization reached, how far it is, and for each organization one step nearer
    // that reaches it, the records they share.
    let mut distance: HashMap<i64, u32> = HashMap::from([(from, 0)]);
    let mut arrivals: HashMap<i64, BTreeMap<i64, Vec<(SharedKind, i64)>>> = HashMap::new();
    let mut frontier = vec![from];
    let mut read = 0usize;
    for hop in 1..=max_hops {
        if frontier.is_empty() {
            break;
        }
        let budget = limits.max_links.saturating_sub(read);
        let Some(found) = links(db, &frontier, None, kinds, Some(budget)).await? else {
            return Err(too_much(&limits));
        };
        read += found.len();
        let mut next = Vec::new();
        for link in found {
            match distance.get(&link.partner) {
                Some(d) if *d < hop => continue,
                Some(_) => {}
                None => {
                    distance.insert(link.partner, hop);
                    next.push(link.partner);
                }
            }
            arrivals
                .entry(link.partner)
                .or_default()
                .entry(link.org)
                .or_default()
                .push((link.kind, link.record));
        }
        if distance.len() > limits.max_visited || read > limits.max_links {
            return Err(too_much(&limits));
        }
        if distance.contains_key(&to) {
            break;
        }
        frontier = next;
    }
    if !distance.contains_key(&to) {
        return Ok(Vec::new());
    }
    // Back from `to` along the arrivals, depth first, nearest organizations by id.
    let mut paths = Vec::new();
    let mut stack: Vec<(i64, Vec<Step>)> = vec![(to, Vec::new())];
    while let Some((at, tail)) = stack.pop() {
        if paths.len() >= max_paths {
            break;
        }
        if at == from {
            let mut path = tail;
            path.reverse();
            paths.push(path);
            continue;
        }
        let Some(ins) = arrivals.get(&at) else {
            continue;
        };
        // Reversed so that the smallest id is explored first.
        for (prev, shared) in ins.iter().rev() {
            let mut steps = tail.clone();
            steps.push(Step {
                from: *prev,
                to: at,
                shared: shared.clone(),
            });
            stack.push((*prev, steps));
        }
    }
    Ok(paths)
}

/// A link of a neighbourhood: two organizations and the records they share, by kind.
#[derive(Debug, Clone)]
pub struct NetworkLink {
    pub source: i64,
    pub target: i64,
    pub counts: BTreeMap<SharedKind, usize>,
}

/// An organization's neighbourhood up to `depth` hops: each organization reached with its
/// distance (the centre at 0), and every link among them. Refused when more than `max_nodes`
/// organizations are reached. One statement per hop, plus one for the links among the last ring.
pub async fn network(
    db: &impl ConnectionTrait,
    centre: i64,
    depth: u32,
    kinds: &[SharedKind],
    max_nodes: usize,
) -> AppResult<(Vec<(i64, u32)>, Vec<NetworkLink>)> {
    let mut distance: BTreeMap<i64, u32> = BTreeMap::from([(centre, 0)]);
    let mut frontier = vec![centre];
    let mut read = 0usize;
    let mut pairs: BTreeMap<(i64, i64), BTreeSet<(SharedKind, i64)>> = BTreeMap::new();
    let mut add = |link: &Link| {
        let pair = (link.org.min(link.partner), link.org.max(link.partner));
        pairs
            .entry(pair)
            .or_default()
            .insert((link.kind, link.record));
    };
    for hop in 1..=depth {
        if frontier.is_empty() {
            break;
        }
        let mut next = Vec::new();
        let budget = MAX_NETWORK_LINKS.saturating_sub(read);
        let Some(found) = links(db, &frontier, None, kinds, Some(budget)).await? else {
            return Err(network_too_large(max_nodes));
        };
        read += found.len();
        for link in found {
            if let std::collections::btree_map::Entry::Vacant(e) = distance.entry(link.partner) {
                e.insert(hop);
                next.push(link.partner);
            }
            add(&link);
        }
        if distance.len() > max_nodes {
            return Err(network_too_large(max_nodes));
        }
        frontier = next;
    }
    // Links among the outermost ring (and from it to inner rings) are not read by the walk.
    if !frontier.is_empty() {
        let members: Vec<i64> = distance.keys().copied().collect();
        let budget = MAX_NETWORK_LINKS.saturating_sub(read);
        let Some(found) = links(db, &frontier, Some(&members), kinds, Some(budget)).await? else {
            return Err(network_too_large(max_nodes));
        };
        for link in found {
            add(&link);
        }
    }
    let links = pairs
        .into_iter()
        .map(|((source, target), shared)| {
            let mut counts = BTreeMap::new();
            for (kind, _) in shared {
                *counts.entry(kind).or_insert(0) += 1;
            }
            NetworkLink {
                source,
                target,
                counts,
            }
        })
        .collect();
    let mut nodes: Vec<(i64, u32)> = distance.into_iter().collect();
    nodes.sort_by_key(|(id, d)| (*d, *id));
    Ok((nodes, links))
}

/// The largest neighbourhood a request may ask for.
pub const MAX_NETWORK_NODES: usize = 500;

/// Link rows a neighbourhood may read before it is refused (the links among at most
/// [`MAX_NETWORK_NODES`] organizations through records with many participants can be many).
pub const MAX_NETWORK_LINKS: usize = 50_000;

fn network_too_large(max_nodes: usize) -> AppError {
    AppError::bad_field(
        "depth",
        format!(
            "the neighbourhood holds more than {max_nodes} organizations or {MAX_NETWORK_LINKS} \
             shared records at this depth; ask for a smaller depth or a larger `maxNodes` (at \
             most {MAX_NETWORK_NODES})"
        ),
    )
}
