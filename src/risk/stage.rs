//! The risk step of a tick, shared by replay and the live service: fold the tick's warning
//! records in, recompute the enterprises that are due, and every `refresh` the region indices:
//! from the whole book when one instance holds every enterprise, or from the counties' parts
//! shared on the board when the enterprises are spread over a group (`region_share`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::model::EventTime;
use crate::state::StateStore;
use crate::warnings::WarningRecord;

use super::region::{cities, CityIndex, RegionHistory, RegionIndex};
use super::region_part::CountyPart;
use super::region_share::{owner_partition, part_key, BoardRecord, CountyRecord, RegionBoard};
use super::{RiskBook, RiskConfig, RiskRecord};

/// What one tick changed.
#[derive(Default)]
pub struct RiskTick {
    pub now: EventTime,
    pub records: Vec<RiskRecord>,
    /// Recomputed region indices (every county and city known), when the refresh came round.
    pub regions: Option<(Vec<RegionIndex>, Vec<CityIndex>)>,
    /// Shared across a group: what this instance tells the others and owns.
    pub shared: Option<SharedRegions>,
}

/// What an instance of a group publishes at a region refresh.
#[derive(Default)]
pub struct SharedRegions {
    /// Its partitions' parts of every county, then the county records it owns, for the board.
    pub board: Vec<BoardRecord>,
    /// Board keys of parts that no longer exist (a county left one of its partitions).
    pub retired: Vec<String>,
    /// The counties and cities it owns, for `vigil.regions`.
    pub counties: Vec<RegionIndex>,
    pub cities: Vec<CityIndex>,
}

/// Where the counties' other parts come from when the enterprises are spread over a group.
struct Shared {
    board: Arc<RegionBoard>,
    /// The input partitions this instance owns now.
    owned: BTreeSet<i32>,
    /// Parts published last refresh, to retire those that are gone.
    published: BTreeSet<(String, i32)>,
}

pub struct RiskStage {
    pub book: RiskBook,
    history: RegionHistory,
    regions_at: Option<EventTime>,
    refresh_ms: i64,
    shared: Option<Shared>,
}

impl RiskStage {
    pub fn new(config: &RiskConfig, utc_offset_minutes: i32) -> Self {
        RiskStage {
            book: RiskBook::new(config, utc_offset_minutes),
            history: RegionHistory::default(),
            regions_at: None,
            refresh_ms: config.refresh.as_millis() as i64,
            shared: None,
        }
    }

    /// Computes the region indices with the other instances of a group, through `board`.
    pub fn share_regions(mut self, board: Arc<RegionBoard>) -> Self {
        self.shared = Some(Shared {
            board,
            owned: BTreeSet::new(),
            published: BTreeSet::new(),
        });
        self
    }

    /// The input partitions this instance owns (after a rebalance).
    pub fn set_owned(&mut self, partitions: &BTreeSet<i32>) {
        if let Some(shared) = self.shared.as_mut() {
            shared.owned.clone_from(partitions);
        }
    }

    pub fn tick(
        &mut self,
        now: EventTime,
        warnings: &[WarningRecord],
        store: &StateStore,
    ) -> RiskTick {
        self.book.observe(warnings);
        let records = self.book.update(now, store);
        let due = self
            .regions_at
            .is_none_or(|at| now.millis() - at.millis() >= self.refresh_ms);
        let mut tick = RiskTick {
            now,
            records,
            ..RiskTick::default()
        };
        if due {
            self.regions_at = Some(now);
            // Until the group's partition count is known, what this instance holds is all it has.
            if self
                .shared
                .as_ref()
                .is_some_and(|s| s.board.partitions() > 0)
            {
                self.shared_regions(now, store, &mut tick);
            } else {
                tick.regions = Some(self.history.compute(&self.book, now));
            }
        }
        tick
    }

    fn shared_regions(&mut self, now: EventTime, store: &StateStore, tick: &mut RiskTick) {
        let Some(shared) = self.shared.as_mut() else {
            return;
        };
        let partition_of = enterprise_partitions(store, &shared.owned);
        let local = CountyPart::of_book(&self.book, now, |e| partition_of.get(e).copied());
        let known = shared.board.counties();
        let w = &self.book.config().region;
        let n = shared.board.partitions();
        let mut picture: BTreeMap<String, RegionIndex> = known
            .iter()
            .map(|(id, c)| (id.clone(), c.index.clone()))
            .collect();
        let mut board: Vec<BoardRecord> = local.iter().cloned().map(BoardRecord::Part).collect();
        let mut owned_counties = Vec::new();
        for (county, parts) in counties_of(shared, &local) {
            if !shared.owned.contains(&owner_partition(&county, n)) {
                continue;
            }
            let Some(merged) = CountyPart::merged(&parts) else {
                continue;
            };
            if let Some(before) = known.get(&county) {
                self.history.seed(&county, &before.outcomes);
            }
            let index = self.history.county(&merged, w, now);
            board.push(BoardRecord::County(CountyRecord {
                index: index.clone(),
                outcomes: self.history.outcomes(&county),
            }));
            picture.insert(county, index.clone());
            owned_counties.push(index);
        }
        let counties: Vec<RegionIndex> = picture.into_values().collect();
        let all_cities = cities(&counties, w, now);
        let owned_cities = all_cities
            .iter()
            .filter(|c| shared.owned.contains(&owner_partition(&c.city_id, n)))
            .cloned()
            .collect();
        tick.shared = Some(SharedRegions {
            board,
            retired: retire_parts(shared, &local),
            counties: owned_counties,
            cities: owned_cities,
        });
        tick.regions = Some((counties, all_cities));
    }

    /// Every enterprise's latest record and facts, and the counties' indices, for the planner.
    pub fn snapshot(&mut self, at: EventTime) -> crate::risk::snapshot::Snapshot {
        crate::risk::snapshot::Snapshot {
            at,
            counties: self.regions(at).0,
            enterprises: self
                .book
                .snapshot()
                .map(|(risk, facts)| super::snapshot::EnterpriseView {
                    risk: risk.clone(),
                    facts: facts.clone(),
                })
                .collect(),
        }
    }

    /// The region indices now, whatever the refresh.
    pub fn regions(&mut self, now: EventTime) -> (Vec<RegionIndex>, Vec<CityIndex>) {
        self.history.compute(&self.book, now)
    }
}

/// Every county's parts: this instance's, fresh, and the board's of the partitions it does
/// not own.
fn counties_of(shared: &Shared, local: &[CountyPart]) -> BTreeMap<String, Vec<CountyPart>> {
    let mut by_county: BTreeMap<String, Vec<CountyPart>> = BTreeMap::new();
    let others = shared.board.parts_except(&shared.owned);
    for part in others.into_iter().chain(local.iter().cloned()) {
        by_county
            .entry(part.region_id.clone())
            .or_default()
            .push(part);
    }
    by_county
}

/// Board keys of the parts published last time and gone now; remembers this time's.
fn retire_parts(shared: &mut Shared, local: &[CountyPart]) -> Vec<String> {
    let now_published: BTreeSet<(String, i32)> = local
        .iter()
        .map(|p| (p.region_id.clone(), p.partition))
        .collect();
    let retired = shared
        .published
        .difference(&now_published)
        // A partition that moved is the new owner's to overwrite, not this one's to clear.
        .filter(|(_, p)| shared.owned.contains(p))
        .map(|(region, p)| part_key(region, *p))
        .collect();
    shared.published = now_published;
    retired
}

/// The partition of every enterprise of the `owned` partitions.
fn enterprise_partitions(store: &StateStore, owned: &BTreeSet<i32>) -> HashMap<String, i32> {
    store
        .partitions()
        .iter()
        .filter(|p| owned.contains(&p.id))
        .flat_map(|p| {
            p.enterprises
                .iter()
                .map(|e| (e.key().to_string(), p.id))
                .collect::<Vec<_>>()
        })
        .collect()
}
