//! Silences: matchers (rule, enterprise, subject, region) and an event-time window. A warning
//! that fires under a silence is still recorded, marked as silenced, so nothing is lost; the
//! teams that push warnings skip it. From config, and from `POST /api/silences`.
//!
//! Posted silences are read back from their topic as a table (`ingest::table_topic`): a
//! record that is not a silence is counted and dead-lettered with the reason; an empty value
//! (a tombstone) lifts the silence of its key.

use std::sync::{OnceLock, RwLock};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::EventTime;

use crate::ingest::table_topic::{Refusal, Table};
use crate::ingest::ReasonCode;

use super::record::WarningRecord;
use super::silence_topic::SilenceJournal;

/// A silence as configured or posted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    pub starts_at: EventTime,
    pub ends_at: EventTime,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SilenceError {
    #[error("a silence needs at least one matcher: rule_id, enterprise_id, subject or region_id")]
    NoMatcher,
    #[error("a silence must end after it starts")]
    EmptyWindow,
    /// Every warning is matched against every silence: their number is bounded.
    #[error("{MAX_SILENCES} silences are held already; lift some first")]
    Full,
}

/// Silences held at most (configured, posted and read from the silences topic together).
pub const MAX_SILENCES: usize = 10_000;

impl SilenceSpec {
    pub fn check(&self) -> Result<(), SilenceError> {
        let matchers = [
            &self.rule_id,
            &self.enterprise_id,
            &self.subject,
            &self.region_id,
        ];
        if matchers.iter().all(|m| m.is_none()) {
            return Err(SilenceError::NoMatcher);
        }
        if self.ends_at <= self.starts_at {
            return Err(SilenceError::EmptyWindow);
        }
        Ok(())
    }

    fn matches(&self, record: &WarningRecord, now: EventTime) -> bool {
        let is = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| have == Some(w))
        };
        now >= self.starts_at
            && now < self.ends_at
            && is(&self.rule_id, Some(&record.rule_id))
            && is(&self.enterprise_id, Some(&record.enterprise_id))
            && is(&self.subject, Some(&record.subject))
            && is(&self.region_id, record.region_id.as_deref())
    }
}

/// A silence with its id (a hash of its content, so the same silence posted twice is one).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Silence {
    pub id: String,
    #[serde(flatten)]
    pub spec: SilenceSpec,
}

impl Silence {
    /// Checks a silence and names it.
    pub fn new(spec: SilenceSpec) -> Result<Self, SilenceError> {
        spec.check()?;
        let json = serde_json::to_vec(&spec).expect("a silence serialises");
        let id: String = Sha256::digest(&json)[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Silence { id, spec })
    }
}

/// The silences in force or scheduled; shared by the warnings stage and the API.
#[derive(Debug, Default)]
pub struct Silences {
    list: RwLock<Vec<Silence>>,
    /// Where posted silences are kept (the silences topic), when vigil runs on Kafka.
    journal: OnceLock<SilenceJournal>,
}

impl Silences {
    /// The silences of the config (checked when it was loaded).
    pub fn from_config(specs: &[SilenceSpec]) -> Self {
        let silences = Silences::default();
        for spec in specs {
            if let Err(e) = silences.add(spec.clone()) {
                tracing::warn!(error = %e, "configured silence ignored");
            }
        }
        silences
    }

    /// Adds a silence (once: the same content gives the same id).
    pub fn add(&self, spec: SilenceSpec) -> Result<Silence, SilenceError> {
        let silence = Silence::new(spec)?;
        self.insert(silence.clone())?;
        Ok(silence)
    }

    /// Holds a silence, unless `MAX_SILENCES` other ones are held.
    pub fn insert(&self, silence: Silence) -> Result<(), SilenceError> {
        let mut list = self.list.write().unwrap_or_else(|e| e.into_inner());
        if list.iter().any(|s| s.id == silence.id) {
            return Ok(());
        }
        if list.len() >= MAX_SILENCES {
            return Err(SilenceError::Full);
        }
        list.push(silence);
        Ok(())
    }

    /// Whether a new silence would be refused.
    pub fn is_full(&self) -> bool {
        self.len() >= MAX_SILENCES
    }

    pub fn len(&self) -> usize {
        self.list.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lifts a silence before its end.
    pub fn remove(&self, id: &str) {
        let mut list = self.list.write().unwrap_or_else(|e| e.into_inner());
        list.retain(|s| s.id != id);
    }

    /// Keeps posted silences in `journal` from now on (set once, when Kafka is there).
    pub fn keep_in(&self, journal: SilenceJournal) {
        let _ = self.journal.set(journal);
    }

    pub fn journal(&self) -> Option<&SilenceJournal> {
        self.journal.get()
    }

    /// The id of a silence covering `record` at `now`; expired silences are dropped.
    pub fn matching(&self, record: &WarningRecord, now: EventTime) -> Option<String> {
        let mut list = self.list.write().unwrap_or_else(|e| e.into_inner());
        list.retain(|s| s.spec.ends_at > now);
        list.iter()
            .find(|s| s.spec.matches(record, now))
            .map(|s| s.id.clone())
    }

    pub fn list(&self) -> Vec<Silence> {
        self.list.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The silences topic's records: a silence, or a tombstone lifting one.
impl Table for Silences {
    fn apply(&self, key: Option<&[u8]>, payload: Option<&[u8]>) -> Result<(), Refusal> {
        let Some(payload) = payload.filter(|p| !p.is_empty()) else {
            let key = key.ok_or((
                ReasonCode::MissingKey,
                "a tombstone without a key".to_owned(),
            ))?;
            self.remove(&String::from_utf8_lossy(key));
            return Ok(());
        };
        let spec: SilenceSpec = serde_json::from_slice(payload)
            .map_err(|e| (ReasonCode::WrongType, format!("not a silence: {e}")))?;
        self.add(spec)
            .map(|_| ())
            .map_err(|e| (ReasonCode::InconsistentFields, e.to_string()))
    }
}
