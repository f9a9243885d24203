//! Named incidents injected into the simulated readings, each with its ground truth: which
//! rule should fire, for which enterprise and subject, from when until when. Tests score
//! detection against the truth. This first part of the catalogue covers the sensor-stream
//! incidents; the business-stream incidents (permits, resumption, staffing, ...) need the
//! simulator's business streams (issue 3).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::model::{EventTime, IndicatorKind};

use super::Province;

/// The incidents the simulator can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// A flammable-gas detector climbs past level 1, then level 2 (R2).
    GasLeak,
    /// A toxic-gas detector holds above its exposure limit (R2).
    ToxicLeak,
    /// A tank level rises past its HH limit (R1).
    TankOverfill,
    /// A point stops reporting (R3).
    SensorOffline,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::GasLeak,
        Scenario::ToxicLeak,
        Scenario::TankOverfill,
        Scenario::SensorOffline,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::GasLeak => "gas_leak",
            Scenario::ToxicLeak => "toxic_leak",
            Scenario::TankOverfill => "tank_overfill",
            Scenario::SensorOffline => "sensor_offline",
        }
    }

    /// The rule that must detect it.
    pub fn rule_id(self) -> &'static str {
        match self {
            Scenario::GasLeak | Scenario::ToxicLeak => "r02_gas_leak",
            Scenario::TankOverfill => "r01_process_limit",
            Scenario::SensorOffline => "r03_point_offline",
        }
    }

    fn kind(self) -> IndicatorKind {
        match self {
            Scenario::GasLeak | Scenario::SensorOffline => IndicatorKind::FlammableGas,
            Scenario::ToxicLeak => IndicatorKind::ToxicGas,
            Scenario::TankOverfill => IndicatorKind::Level,
        }
    }

    /// How long the incident lasts once injected.
    fn duration_ms(self) -> i64 {
        15 * 60_000
    }
}

/// One injected incident on one indicator.
#[derive(Clone, Debug, PartialEq)]
pub struct Injection {
    pub scenario: Scenario,
    pub enterprise: usize,
    pub indicator: usize,
    pub from: EventTime,
    pub until: EventTime,
}

/// What the rule should report: one line of `--truth-out`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroundTruth {
    pub scenario: &'static str,
    pub rule_id: &'static str,
    pub enterprise_id: String,
    pub subject: String,
    pub from: EventTime,
    pub until: EventTime,
}

impl Injection {
    /// The value the indicator reports at `ts` instead of `normal`; `None`: no reading.
    pub fn value_at(&self, ts: i64, normal: f64, l1: f64, l2: f64) -> Option<f64> {
        let progress = (ts - self.from.millis()) as f64 / self.scenario.duration_ms() as f64;
        match self.scenario {
            Scenario::SensorOffline => None,
            // Level 1 for the first third, level 2 after it.
            Scenario::GasLeak => Some(if progress < 0.34 { l1 + 5.0 } else { l2 + 5.0 }),
            Scenario::ToxicLeak => Some(l1 + 2.0),
            Scenario::TankOverfill => Some((l2 + 2.0).max(normal)),
        }
    }

    pub fn covers(&self, ts: i64) -> bool {
        ts >= self.from.millis() && ts < self.until.millis()
    }

    pub fn truth(&self, province: &Province) -> GroundTruth {
        let ent = &province.enterprises[self.enterprise];
        GroundTruth {
            scenario: self.scenario.name(),
            rule_id: self.scenario.rule_id(),
            enterprise_id: ent.enterprise_id.clone(),
            subject: ent.indicators[self.indicator].target_code.clone(),
            from: self.from,
            until: self.until,
        }
    }
}

/// Schedules `scenarios` (each once, in order) across `[start, start + duration)`: the n-th
/// starts at (n + 1) / (count + 1) of the run, on an enterprise and indicator chosen by the
/// seed. Injections share an enterprise only once every enterprise has had one.
pub fn schedule(
    province: &Province,
    scenarios: &[Scenario],
    seed: u64,
    start: EventTime,
    duration_ms: i64,
) -> Vec<Injection> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5ce7_a210);
    let count = scenarios.len() as i64;
    let mut used = Vec::new();
    scenarios
        .iter()
        .enumerate()
        .filter_map(|(n, &scenario)| {
            let from = start.millis() + duration_ms * (n as i64 + 1) / (count + 1);
            let enterprise = pick_enterprise(province, &mut rng, &used)?;
            used.push(enterprise);
            let candidates: Vec<usize> = province.enterprises[enterprise]
                .indicators
                .iter()
                .enumerate()
                .filter(|(_, i)| i.kind == scenario.kind())
                .map(|(index, _)| index)
                .collect();
            let indicator = *candidates.get(rng.random_range(0..candidates.len().max(1)))?;
            Some(Injection {
                scenario,
                enterprise,
                indicator,
                from: EventTime::from_millis(from),
                until: EventTime::from_millis(from + scenario.duration_ms()),
            })
        })
        .collect()
}

/// An enterprise no earlier injection used; once all have been, any (the injections are
/// sequential in time, so they still do not overlap).
fn pick_enterprise(province: &Province, rng: &mut ChaCha8Rng, used: &[usize]) -> Option<usize> {
    let all = province.enterprises.len();
    let free: Vec<usize> = (0..all).filter(|e| !used.contains(e)).collect();
    if free.is_empty() {
        return (all > 0).then(|| rng.random_range(0..all));
    }
    Some(free[rng.random_range(0..free.len())])
}
