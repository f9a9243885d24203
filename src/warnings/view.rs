//! The warnings as the API serves them: every record of every open warning and of the most
//! recent resolved ones, the alarm-rate KPIs, and a broadcast of new records for the
//! server-sent-event stream. Written by the rules task after each tick, read by the API.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};

use serde::Deserialize;
use tokio::sync::broadcast;

use crate::model::EventTime;

use super::hygiene::AlarmKpi;
use super::lifecycle::Transition;
use super::record::WarningRecord;

/// Records kept per warning (its firing, escalations, updates and resolution).
const MAX_RECORDS_PER_WARNING: usize = 100;
/// Records the event stream buffers for a slow subscriber before it skips.
const STREAM_BUFFER: usize = 4_096;

/// `GET /api/warnings` filters; every one optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarningQuery {
    /// `open` (not resolved), or a record state: firing, escalated, updated, resolved.
    pub state: Option<String>,
    pub color: Option<String>,
    pub rule: Option<String>,
    pub region: Option<String>,
    pub enterprise: Option<String>,
    /// Warnings active at some point in [from, to] (event time).
    pub from: Option<EventTime>,
    pub to: Option<EventTime>,
    pub limit: Option<usize>,
}

impl WarningQuery {
    fn matches(&self, latest: &WarningRecord, fired_at: EventTime) -> bool {
        let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let state_ok = match self.state.as_deref() {
            Some("open") => latest.state != Transition::Resolved,
            other => other.is_none_or(|s| s == latest.state.as_str()),
        };
        let ended = (latest.state == Transition::Resolved)
            .then(|| parse_time(&latest.at))
            .flatten();
        state_ok
            && is(&self.color, latest.color.as_str())
            && is(&self.rule, &latest.rule_id)
            && is(&self.enterprise, &latest.enterprise_id)
            && is(&self.region, latest.region_id.as_deref().unwrap_or(""))
            && self.to.is_none_or(|to| fired_at <= to)
            && self
                .from
                .is_none_or(|from| ended.is_none_or(|end| end >= from))
    }
}

fn parse_time(s: &str) -> Option<EventTime> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<String, Vec<WarningRecord>>,
    resolved: VecDeque<String>,
    kpis: Vec<AlarmKpi>,
}

pub struct WarningView {
    inner: RwLock<Inner>,
    stream: broadcast::Sender<Arc<WarningRecord>>,
    history: usize,
}

impl WarningView {
    /// Keeps every open warning and the last `history` resolved ones.
    pub fn new(history: usize) -> Self {
        WarningView {
            inner: RwLock::default(),
            stream: broadcast::channel(STREAM_BUFFER).0,
            history,
        }
    }

    pub fn publish(&self, records: &[WarningRecord]) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        for record in records {
            let all = inner.by_id.entry(record.id.clone()).or_default();
            if all.len() >= MAX_RECORDS_PER_WARNING {
                all.remove(1);
            }
            all.push(record.clone());
            if record.state == Transition::Resolved {
                inner.resolved.push_back(record.id.clone());
            }
            // No subscriber is fine: the stream is best effort, the list is the truth.
            let _ = self.stream.send(Arc::new(record.clone()));
        }
        while inner.resolved.len() > self.history {
            let Some(id) = inner.resolved.pop_front() else {
                break;
            };
            let reopened = inner
                .by_id
                .get(&id)
                .and_then(|r| r.last())
                .is_some_and(|r| r.state != Transition::Resolved);
            if !reopened {
                inner.by_id.remove(&id);
            }
        }
    }

    pub fn set_kpis(&self, kpis: Vec<AlarmKpi>) {
        self.inner.write().unwrap_or_else(|e| e.into_inner()).kpis = kpis;
    }

    /// The latest record of each matching warning, newest first.
    pub fn list(&self, query: &WarningQuery) -> Vec<WarningRecord> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<WarningRecord> = inner
            .by_id
            .values()
            .filter_map(|records| {
                let latest = records.last()?;
                let fired = parse_time(&latest.fired_at)?;
                query.matches(latest, fired).then(|| latest.clone())
            })
            .collect();
        out.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));
        out.truncate(query.limit.unwrap_or(1_000));
        out
    }

    /// Every record of one warning, oldest first.
    pub fn get(&self, id: &str) -> Option<Vec<WarningRecord>> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.by_id.get(id).cloned()
    }

    pub fn kpis(&self) -> Vec<AlarmKpi> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .kpis
            .clone()
    }

    /// Open event streams.
    pub fn subscribers(&self) -> usize {
        self.stream.receiver_count()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<WarningRecord>> {
        self.stream.subscribe()
    }
}
