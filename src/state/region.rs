//! Regional context shared by every partition: the epidemic level of each county over time.

use dashmap::DashMap;

use crate::model::{EpidemicLevel, EventTime, RegionEpidemic};

use super::log::TimedLog;

/// Epidemic level changes kept per region.
const LEVELS_PER_REGION: usize = 64;
/// A level change stays in the log for a year (it may still be in force).
const LEVEL_RETENTION_MS: i64 = 366 * 24 * 3600 * 1000;

#[derive(Debug, Default)]
pub struct RegionTable {
    levels: DashMap<Box<str>, TimedLog<EpidemicLevel>>,
}

/// The table already holds the configured number of regions.
#[derive(Debug)]
pub struct RegionTableFull;

impl RegionTable {
    pub fn apply(&self, event: &RegionEpidemic, max_regions: usize) -> Result<(), RegionTableFull> {
        if let Some(mut log) = self.levels.get_mut(event.region_id.as_str()) {
            log.push(event.effective_from, event.level);
            return Ok(());
        }
        if self.levels.len() >= max_regions {
            return Err(RegionTableFull);
        }
        let mut log = TimedLog::new(LEVELS_PER_REGION, LEVEL_RETENTION_MS);
        log.push(event.effective_from, event.level);
        self.levels.insert(event.region_id.as_str().into(), log);
        Ok(())
    }

    /// The level in force in `region` at event time `at`.
    pub fn level_at(&self, region: &str, at: EventTime) -> Option<EpidemicLevel> {
        self.levels.get(region).and_then(|log| log.at(at).copied())
    }

    /// Every region with the level in force at `at` and since when: `(region, level, since)`.
    pub fn levels_at(&self, at: EventTime) -> Vec<(String, EpidemicLevel, EventTime)> {
        self.levels
            .iter()
            .filter_map(|entry| {
                let (since, level) = entry.value().entry_at(at)?;
                Some((entry.key().to_string(), *level, *since))
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }
}
