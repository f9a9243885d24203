//! The region control index, CPI (DOMAIN.md (d)): per county over a rolling window, from its
//! enterprises' risk records, warnings, inspections and quotas; rolled up to the city by an
//! enterprise-weighted mean. Higher is better control. Every component keeps its inputs.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::model::EventTime;
use crate::rules::Color;

use super::config::RegionWeights;
use super::region_part::CountyPart;
use super::score::round1;
use super::RiskBook;

const DAY_MS: i64 = 24 * 3_600_000;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    /// What the quota counts over (self-inspections submitted, hot-work permits, red
    /// enterprises), how many checks it requires, and how many were done in the window.
    pub eligible: u32,
    pub required: u32,
    pub done: u32,
}

impl Quota {
    fn new(eligible: u32, share: f64, done: u32) -> Self {
        Quota {
            eligible,
            required: (share * f64::from(eligible)).ceil() as u32,
            done,
        }
    }

    /// min(1, done / required); a quota that requires nothing is met.
    pub fn fulfilment(&self) -> f64 {
        if self.required == 0 {
            1.0
        } else {
            (f64::from(self.done) / f64::from(self.required)).min(1.0)
        }
    }

    pub fn deficit(&self) -> u32 {
        self.required.saturating_sub(self.done)
    }
}

/// The quota ledger of a region over the window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaLedger {
    pub self_check: Quota,
    pub hot_work: Quota,
    pub red_onsite: Quota,
}

/// Each component in points (out of its weight), and what it was computed from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CpiComponents {
    pub timeliness: f64,
    pub containment: f64,
    pub data_quality: f64,
    pub quota: f64,
    pub rectification: f64,
    pub outcome: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CpiInputs {
    /// Warnings fired in the window whose deadline has passed, weighted RED 4 .. BLUE 1, and
    /// the weight of those acknowledged (or cleared) in time.
    pub warnings_due_weight: f64,
    pub warnings_timely_weight: f64,
    pub warnings: u32,
    pub escalated_beyond_county: u32,
    pub online_rate: f64,
    pub under_reporting_share: f64,
    /// Findings due in the window, weighted MAJOR_HIDDEN 3 : GENERAL 1, and closed by the date.
    pub findings_due_weight: f64,
    pub findings_closed_weight: f64,
    pub red_share: f64,
    pub orange_share: f64,
    /// The outcome share one window ago, if known, and the trend bonus it gave.
    pub previous_outcome: Option<f64>,
    pub trend: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionIndex {
    pub region_id: String,
    pub city_id: String,
    pub at: String,
    pub cpi: f64,
    /// Inverse sense: blue is good control, red poor.
    pub color: Color,
    pub enterprises: u32,
    pub enterprises_by_color: BTreeMap<String, u32>,
    pub components: CpiComponents,
    pub inputs: CpiInputs,
    pub quotas: QuotaLedger,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CityIndex {
    pub city_id: String,
    pub at: String,
    pub cpi: f64,
    pub color: Color,
    pub enterprises: u32,
    pub regions: Vec<String>,
}

/// Remembers each region's outcome share per day, for the trend.
#[derive(Debug, Default)]
pub struct RegionHistory {
    outcomes: BTreeMap<String, VecDeque<(i64, f64)>>,
}

impl RegionHistory {
    /// Computes every county's index and the cities' from the whole book at `now` (one
    /// instance holds every enterprise: replay, the demo).
    pub fn compute(
        &mut self,
        book: &RiskBook,
        now: EventTime,
    ) -> (Vec<RegionIndex>, Vec<CityIndex>) {
        let w = &book.config().region;
        let parts = CountyPart::of_book(book, now, |_| Some(0));
        let counties: Vec<RegionIndex> =
            parts.iter().map(|part| self.county(part, w, now)).collect();
        let cities = cities(&counties, w, now);
        (counties, cities)
    }

    /// A county's index from the sums over all its enterprises (`part`, merged over every
    /// partition that holds some of them).
    pub fn county(&mut self, part: &CountyPart, w: &RegionWeights, now: EventTime) -> RegionIndex {
        let mut inputs = CpiInputs {
            warnings_due_weight: part.warnings_due_weight,
            warnings_timely_weight: part.warnings_timely_weight,
            warnings: part.warnings,
            escalated_beyond_county: part.escalated_beyond_county,
            findings_due_weight: part.findings_due_weight,
            findings_closed_weight: part.findings_closed_weight,
            ..CpiInputs::default()
        };
        let n = part.enterprises.max(1) as f64;
        inputs.online_rate = part.online_sum / n;
        inputs.under_reporting_share = f64::from(part.under_reporting) / n;
        let quotas = QuotaLedger {
            self_check: Quota::new(
                part.self_check_eligible,
                w.self_check_share,
                part.self_check_done,
            ),
            hot_work: Quota::new(part.hot_work_eligible, w.hot_work_share, part.hot_work_done),
            red_onsite: Quota::new(part.count(Color::Red), 1.0, part.red_done),
        };
        inputs.red_share = f64::from(part.count(Color::Red)) / n;
        inputs.orange_share = f64::from(part.count(Color::Orange)) / n;
        let outcome_share = 1.0 - (inputs.red_share + 0.5 * inputs.orange_share);
        inputs.previous_outcome = self.remember(&part.region_id, now, outcome_share, w);
        inputs.trend = trend(outcome_share, inputs.previous_outcome, w);
        let components = components(&inputs, &quotas, outcome_share, w);
        let cpi = round1(
            components.timeliness
                + components.containment
                + components.data_quality
                + components.quota
                + components.rectification
                + components.outcome,
        );
        RegionIndex {
            region_id: part.region_id.clone(),
            city_id: part.city_id.clone(),
            at: now.to_rfc3339(),
            cpi,
            color: cpi_color(cpi, w),
            enterprises: part.enterprises,
            enterprises_by_color: part.by_color.clone(),
            components,
            inputs,
            quotas,
        }
    }

    /// The days remembered of a region, handed to the instance that computes it next.
    pub fn outcomes(&self, region: &str) -> Vec<(i64, f64)> {
        self.outcomes
            .get(region)
            .map(|days| days.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Takes over a region's days from the instance that computed it before, unless this
    /// one already remembers it.
    pub fn seed(&mut self, region: &str, days: &[(i64, f64)]) {
        self.outcomes
            .entry(region.to_owned())
            .or_insert_with(|| days.iter().copied().collect());
    }

    /// Stores today's outcome; returns the one from a window ago, if any.
    fn remember(
        &mut self,
        region: &str,
        now: EventTime,
        outcome: f64,
        w: &RegionWeights,
    ) -> Option<f64> {
        let window_ms = w.window.as_millis() as i64;
        let day = now.millis().div_euclid(DAY_MS) * DAY_MS;
        let days = self.outcomes.entry(region.to_owned()).or_default();
        match days.back_mut() {
            Some((d, value)) if *d == day => *value = outcome,
            _ => days.push_back((day, outcome)),
        }
        while days.len() > 1 && days.get(1).is_some_and(|(d, _)| *d <= day - window_ms) {
            days.pop_front();
        }
        days.front()
            .filter(|(d, _)| *d <= day - window_ms)
            .map(|(_, v)| *v)
    }
}

fn components(
    inputs: &CpiInputs,
    quotas: &QuotaLedger,
    outcome_share: f64,
    w: &RegionWeights,
) -> CpiComponents {
    let ratio = |part: f64, whole: f64| if whole > 0.0 { part / whole } else { 1.0 };
    CpiComponents {
        timeliness: round1(
            w.timeliness * ratio(inputs.warnings_timely_weight, inputs.warnings_due_weight),
        ),
        containment: round1(
            w.containment
                * (1.0
                    - ratio(
                        f64::from(inputs.escalated_beyond_county),
                        f64::from(inputs.warnings.max(1)),
                    )
                    .min(1.0)),
        ),
        data_quality: round1(
            w.data_quality * inputs.online_rate * (1.0 - inputs.under_reporting_share),
        ),
        quota: round1(
            w.quota
                * (quotas.self_check.fulfilment()
                    + quotas.hot_work.fulfilment()
                    + quotas.red_onsite.fulfilment())
                / 3.0,
        ),
        rectification: round1(
            w.rectification * ratio(inputs.findings_closed_weight, inputs.findings_due_weight),
        ),
        outcome: round1((w.outcome * outcome_share + inputs.trend).clamp(0.0, w.outcome)),
    }
}

/// The CPI's colour: blue is good control.
pub fn cpi_color(cpi: f64, w: &RegionWeights) -> Color {
    if cpi >= w.blue_from {
        Color::Blue
    } else if cpi >= w.yellow_from {
        Color::Yellow
    } else if cpi >= w.orange_from {
        Color::Orange
    } else {
        Color::Red
    }
}

fn trend(now: f64, previous: Option<f64>, w: &RegionWeights) -> f64 {
    match previous {
        Some(p) if now - p >= w.outcome_trend_min_change => w.outcome_trend,
        Some(p) if p - now >= w.outcome_trend_min_change => -w.outcome_trend,
        _ => 0.0,
    }
}

/// Each city's index: the enterprise-weighted mean of its counties'.
pub fn cities(counties: &[RegionIndex], w: &RegionWeights, now: EventTime) -> Vec<CityIndex> {
    let mut by_city: BTreeMap<&str, Vec<&RegionIndex>> = BTreeMap::new();
    for county in counties {
        by_city.entry(&county.city_id).or_default().push(county);
    }
    by_city
        .into_iter()
        .map(|(city, regions)| {
            let n: u32 = regions.iter().map(|r| r.enterprises).sum();
            let weighted: f64 = regions
                .iter()
                .map(|r| r.cpi * f64::from(r.enterprises))
                .sum();
            let cpi = round1(weighted / f64::from(n.max(1)));
            CityIndex {
                city_id: city.to_owned(),
                at: now.to_rfc3339(),
                cpi,
                color: cpi_color(cpi, w),
                enterprises: n,
                regions: regions.iter().map(|r| r.region_id.clone()).collect(),
            }
        })
        .collect()
}
