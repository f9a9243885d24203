//! Evaluating a local rule (`locality`) over the shards that changed: what it found per shard
//! at its last evaluation, which shards need it again (their rows' stamps differ, the clock
//! reached one of their deadlines, or a new calendar period began), and the merge of a new
//! evaluation of those shards with the others' carried hits.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::model::EventTime;

use super::hit::RuleHit;
use super::tables::ShardKey;

/// How a due rule runs at this tick.
pub enum Scope {
    /// Over everything, and nothing is kept (the rule is not local).
    Whole,
    /// Over everything, keeping what each shard found (a local rule with nothing carried).
    Fresh(HashMap<ShardKey, u64>),
    /// Over the `dirty` shards only; the others' hits carry over.
    Delta {
        dirty: Arc<HashSet<ShardKey>>,
        stamps: HashMap<ShardKey, u64>,
    },
}

impl Scope {
    /// The shards the rule's scans read (`None`: all).
    pub fn only(&self) -> Option<Arc<HashSet<ShardKey>>> {
        match self {
            Scope::Delta { dirty, .. } => Some(Arc::clone(dirty)),
            _ => None,
        }
    }

    /// Shards evaluated, when not everything was.
    pub fn shards(&self) -> Option<usize> {
        match self {
            Scope::Delta { dirty, .. } => Some(dirty.len()),
            _ => None,
        }
    }
}

/// One shard's findings: its hits, settled, and how many rows the rule returned for it
/// (before settling, as the hits bound counts them).
#[derive(Clone, Default)]
struct Found {
    hits: Vec<RuleHit>,
    rows: usize,
}

/// When an evaluation's answers stop holding with nothing but the clock moving.
#[derive(Default)]
pub struct Until {
    /// The calendar period it was made in (for a rule reading the calendar).
    pub period: Option<i64>,
    /// Per shard evaluated: the next deadline of its rows (none: the clock alone never
    /// changes its answer).
    pub due: HashMap<ShardKey, EventTime>,
}

/// What a local rule found at its last evaluation, per shard, for one version of the rule.
pub struct Carried {
    version: String,
    stamps: HashMap<ShardKey, u64>,
    found: HashMap<ShardKey, Found>,
    period: Option<i64>,
    due: HashMap<ShardKey, EventTime>,
}

impl Carried {
    /// What is carried for `version` of the rule, if anything.
    pub fn for_version<'c>(carried: Option<&'c Carried>, version: &str) -> Option<&'c Carried> {
        carried.filter(|c| c.version == version)
    }

    /// The shards to evaluate again at `now`, in calendar `period`: those whose rows
    /// changed (new shards included) or whose deadline came, and (`values` follow the
    /// clock) those with hits; all of them in a new period.
    pub fn dirty(
        &self,
        stamps: &HashMap<ShardKey, u64>,
        now: EventTime,
        period: Option<i64>,
        values: bool,
    ) -> HashSet<ShardKey> {
        let new_period = period != self.period;
        let has_hits = |key: &ShardKey| self.found.get(key).is_some_and(|f| !f.hits.is_empty());
        stamps
            .iter()
            .filter(|(key, stamp)| {
                new_period
                    || self.stamps.get(*key) != Some(*stamp)
                    || self.due.get(*key).is_some_and(|due| *due <= now)
                    || (values && has_hits(key))
            })
            .map(|(key, _)| *key)
            .collect()
    }

    /// A whole evaluation's rows (one hit each), split by shard.
    pub fn from_rows(
        version: &str,
        stamps: HashMap<ShardKey, u64>,
        rows: Vec<(ShardKey, RuleHit)>,
        until: Until,
    ) -> Self {
        let mut carried = Carried {
            version: version.to_owned(),
            stamps,
            found: HashMap::new(),
            period: until.period,
            due: until.due,
        };
        carried.absorb(rows);
        carried
    }

    /// Replaces the dirty shards' findings with a new evaluation's rows, and forgets shards
    /// that are gone.
    pub fn update(
        &mut self,
        stamps: HashMap<ShardKey, u64>,
        dirty: &HashSet<ShardKey>,
        rows: Vec<(ShardKey, RuleHit)>,
        until: Until,
    ) {
        let kept = |key: &ShardKey| stamps.contains_key(key) && !dirty.contains(key);
        self.found.retain(|key, _| kept(key));
        self.due.retain(|key, _| kept(key));
        self.due.extend(until.due);
        self.period = until.period;
        self.stamps = stamps;
        self.absorb(rows);
    }

    fn absorb(&mut self, rows: Vec<(ShardKey, RuleHit)>) {
        let mut fresh: HashMap<ShardKey, Vec<RuleHit>> = HashMap::new();
        for (key, hit) in rows {
            fresh.entry(key).or_default().push(hit);
        }
        for (key, hits) in fresh {
            let rows = hits.len();
            self.found.insert(
                key,
                Found {
                    hits: settle(hits),
                    rows,
                },
            );
        }
    }

    /// Rows the rule returned over every shard (as a whole evaluation would count them).
    pub fn rows(&self) -> usize {
        self.found.values().map(|f| f.rows).sum()
    }

    /// Every shard's hits, in the order a whole evaluation gives them.
    pub fn hits(&self) -> Vec<RuleHit> {
        let mut hits: Vec<RuleHit> = self
            .found
            .values()
            .flat_map(|f| f.hits.iter().cloned())
            .collect();
        sort(&mut hits);
        hits
    }
}

/// One hit per subject, the most urgent colour winning, ordered by enterprise and subject.
pub fn settle(mut hits: Vec<RuleHit>) -> Vec<RuleHit> {
    sort(&mut hits);
    hits.dedup_by(|later, kept| {
        let same = later.enterprise_id == kept.enterprise_id && later.subject == kept.subject;
        if same && later.color > kept.color {
            std::mem::swap(later, kept);
        }
        same
    });
    hits
}

fn sort(hits: &mut [RuleHit]) {
    hits.sort_by(|a, b| (&a.enterprise_id, &a.subject).cmp(&(&b.enterprise_id, &b.subject)));
}
