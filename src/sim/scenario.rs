//! Named incidents injected into the simulated streams, each with its ground truth: which
//! rule should fire, for which enterprise and subject, from when until when. Tests score
//! detection against the truth. The catalogue covers sensor incidents (readings), business
//! incidents (commitments, inventory, staffing) and special work (hot-work permits).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::model::{EventTime, IndicatorKind};

use super::calendar::{local_day_start, STAFFING_AT_MS};
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
    /// The enterprise files no daily commitment for one local day (R17).
    MissingCommitment,
    /// The tank is filled past its approved capacity for two hours (R13).
    OverCapacity,
    /// The day's staffing snapshot lists uncertified special-work operators (R15).
    UncertifiedStaff,
    /// Level-1 hot work starts with no gas analysis before it (R8).
    HotWorkWithoutAnalysis,
    /// Hot work goes on past its permit's planned end (R10).
    PermitExpired,
    /// Level-1 hot work declared in the tank dike, where it must be special grade (R11).
    HotWorkGradeMismatch,
    /// Raw material for 1.5 days while running at 96 % of design for an hour (R16).
    SupplyImbalance,
    /// Shut down, then starting up again without a self-inspection or approval (R14).
    ResumptionWithoutSelfInspection,
    /// A pressure transmitter freezes at its last value for over two hours (R4).
    FlatLine,
    /// A temperature climbs past its level-1 limit and the enterprise DCS raises nothing:
    /// vigil's own check fires (R1), and so does under-reporting (R5).
    UnderReporting,
    /// A setpoint left too tight floods a console with nuisance alarms (R6).
    AlarmFlood,
    /// One point raises, clears and raises again, three times in a minute (R6).
    ChatteringAlarm,
    /// The gas analysis before a hot-work job fails; a second one, after ventilation, passes
    /// (R9).
    GasAnalysisFail,
    /// Four level-1 hot-work jobs at once in one process area (R12).
    HotWorkConcentration,
    /// Shut down, self-inspected and approved, started up again, and no commitment filed
    /// that day: R14 (within 14 days of resuming) and R17.
    ResumedWithoutCommitment,
    /// A level-1 hot-work job the day's commitment does not declare (R17).
    UndeclaredHotWork,
    /// Running at 104 % of design for 26 hours (R16).
    RushProduction,
    /// Started up again properly, with a level-1 hot-work job during start-up not upgraded
    /// to special grade: R14, and R11 by nature.
    StartupHotWorkNotUpgraded,
    /// An inspection finds a major hidden hazard the day's commitment does not declare (R17).
    MajorHazardNotDeclared,
    /// Hot work planned and analysed, started without the permit being issued (R10).
    WorkWithoutPermit,
    /// A toxic leak (R2) at an enterprise whose duty officers answer nothing for 45 minutes:
    /// its warning is not acknowledged within 30 minutes (R7). Needs a live engine: only the
    /// demo's simulated officers answer warnings (see `app::demo`).
    UnansweredWarnings,
}

impl Scenario {
    /// The catalogue, the slow incidents first (rush production takes a day to show, a flat
    /// line two hours, over-capacity holds an hour before R13 fires), the permits' before the
    /// quick ones.
    pub const ALL: [Scenario; 25] = [
        // First, so the demo shows R7 early; the 3-hour test leaves it out (live only).
        Scenario::UnansweredWarnings,
        Scenario::RushProduction,
        Scenario::FlatLine,
        Scenario::OverCapacity,
        Scenario::GasLeak,
        Scenario::ToxicLeak,
        Scenario::TankOverfill,
        Scenario::SensorOffline,
        Scenario::MissingCommitment,
        Scenario::ResumedWithoutCommitment,
        Scenario::MajorHazardNotDeclared,
        Scenario::UncertifiedStaff,
        Scenario::HotWorkWithoutAnalysis,
        Scenario::PermitExpired,
        Scenario::WorkWithoutPermit,
        Scenario::HotWorkGradeMismatch,
        Scenario::GasAnalysisFail,
        Scenario::HotWorkConcentration,
        Scenario::UndeclaredHotWork,
        Scenario::StartupHotWorkNotUpgraded,
        Scenario::SupplyImbalance,
        Scenario::ResumptionWithoutSelfInspection,
        Scenario::UnderReporting,
        Scenario::AlarmFlood,
        Scenario::ChatteringAlarm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::GasLeak => "gas_leak",
            Scenario::ToxicLeak => "toxic_leak",
            Scenario::TankOverfill => "tank_overfill",
            Scenario::SensorOffline => "sensor_offline",
            Scenario::MissingCommitment => "missing_commitment",
            Scenario::OverCapacity => "over_capacity",
            Scenario::UncertifiedStaff => "uncertified_staff",
            Scenario::HotWorkWithoutAnalysis => "hot_work_without_analysis",
            Scenario::PermitExpired => "permit_expired",
            Scenario::HotWorkGradeMismatch => "hot_work_grade_mismatch",
            Scenario::SupplyImbalance => "supply_imbalance",
            Scenario::ResumptionWithoutSelfInspection => "resumption_without_self_inspection",
            Scenario::FlatLine => "flat_line",
            Scenario::UnderReporting => "under_reporting",
            Scenario::AlarmFlood => "alarm_flood",
            Scenario::ChatteringAlarm => "chattering_alarm",
            Scenario::GasAnalysisFail => "gas_analysis_fail",
            Scenario::HotWorkConcentration => "hot_work_concentration",
            Scenario::ResumedWithoutCommitment => "resumed_without_commitment",
            Scenario::UndeclaredHotWork => "undeclared_hot_work",
            Scenario::RushProduction => "rush_production",
            Scenario::StartupHotWorkNotUpgraded => "startup_hot_work_not_upgraded",
            Scenario::MajorHazardNotDeclared => "major_hazard_not_declared",
            Scenario::WorkWithoutPermit => "work_without_permit",
            Scenario::UnansweredWarnings => "unanswered_warnings",
        }
    }

    /// The rule that must detect it.
    pub fn rule_id(self) -> &'static str {
        match self {
            Scenario::GasLeak | Scenario::ToxicLeak => "r02_gas_leak",
            Scenario::TankOverfill => "r01_process_limit",
            Scenario::SensorOffline => "r03_point_offline",
            Scenario::MissingCommitment => "r17_commitment_missing",
            Scenario::OverCapacity => "r13_inventory_over_capacity",
            Scenario::UncertifiedStaff => "r15_staffing_training",
            Scenario::HotWorkWithoutAnalysis => "r08_hot_work_analysis_gap",
            Scenario::PermitExpired => "r10_permit_expired",
            Scenario::HotWorkGradeMismatch => "r11_hot_work_grade_mismatch",
            Scenario::SupplyImbalance => "r16_supply_chain_imbalance",
            Scenario::ResumptionWithoutSelfInspection => "r14_resumption_without_self_inspection",
            Scenario::FlatLine => "r04_sensor_quality",
            Scenario::UnderReporting => "r05_under_reporting",
            Scenario::AlarmFlood => "r06_alarm_flood",
            Scenario::ChatteringAlarm => "r06_alarm_chattering",
            Scenario::GasAnalysisFail => "r09_gas_analysis_fail",
            Scenario::HotWorkConcentration => "r12_simops_hot_work_concentration",
            Scenario::ResumedWithoutCommitment => "r14_resumption_commitment_missing",
            Scenario::UndeclaredHotWork => "r17_commitment_mismatch",
            Scenario::RushProduction => "r16_rush_production",
            Scenario::StartupHotWorkNotUpgraded => "r14_startup_work_not_upgraded",
            Scenario::MajorHazardNotDeclared => "r17_major_hazard_not_declared",
            Scenario::WorkWithoutPermit => "r10_work_without_permit",
            Scenario::UnansweredWarnings => "r07_warning_not_handled",
        }
    }

    /// Rules that fire with it by nature: vigil's own limit check sees what the DCS did not
    /// report; a missing commitment is missing whenever the enterprise resumed.
    pub(super) fn also_fires(self) -> Option<&'static str> {
        match self {
            Scenario::UnderReporting => Some("r01_process_limit"),
            Scenario::ResumedWithoutCommitment => Some("r17_commitment_missing"),
            Scenario::StartupHotWorkNotUpgraded => Some("r11_hot_work_grade_mismatch"),
            Scenario::UnansweredWarnings => Some("r02_gas_leak"),
            _ => None,
        }
    }

    /// A scenario carried by a hot-work job (see `permits`).
    pub fn is_permit(self) -> bool {
        matches!(
            self,
            Scenario::HotWorkWithoutAnalysis
                | Scenario::PermitExpired
                | Scenario::HotWorkGradeMismatch
                | Scenario::GasAnalysisFail
                | Scenario::HotWorkConcentration
                | Scenario::UndeclaredHotWork
                | Scenario::StartupHotWorkNotUpgraded
                | Scenario::WorkWithoutPermit
        )
    }

    /// Only a live engine can show it: someone has to answer the other warnings.
    pub fn needs_live_engine(self) -> bool {
        self == Scenario::UnansweredWarnings
    }

    /// The enterprise shuts down and starts up again (see `resumption`).
    pub fn restarts(self) -> bool {
        matches!(
            self,
            Scenario::ResumptionWithoutSelfInspection
                | Scenario::ResumedWithoutCommitment
                | Scenario::StartupHotWorkNotUpgraded
        )
    }

    /// The kind of indicator it happens on; `None`: the enterprise as a whole.
    fn kind(self) -> Option<IndicatorKind> {
        match self {
            Scenario::GasLeak | Scenario::SensorOffline => Some(IndicatorKind::FlammableGas),
            Scenario::ToxicLeak | Scenario::UnansweredWarnings => Some(IndicatorKind::ToxicGas),
            Scenario::TankOverfill => Some(IndicatorKind::Level),
            Scenario::FlatLine => Some(IndicatorKind::Press),
            Scenario::UnderReporting | Scenario::ChatteringAlarm => Some(IndicatorKind::Temp),
            _ => None,
        }
    }

    /// How long the incident lasts once injected.
    pub fn duration_ms(self) -> i64 {
        match self {
            Scenario::RushProduction => RUSH_MS + 2 * 3_600_000,
            Scenario::UnansweredWarnings => 45 * 60_000,
            // R13 holds for an hour before it fires; R4 waits two for a flat line.
            Scenario::OverCapacity => 2 * 3_600_000,
            Scenario::FlatLine => FLAT_LINE_MS + 15 * 60_000,
            // The injected job runs an hour; the supply shortage spans two ops samples.
            s if s.is_permit() => 60 * 60_000,
            Scenario::SupplyImbalance
            | Scenario::ResumptionWithoutSelfInspection
            | Scenario::ResumedWithoutCommitment => 60 * 60_000,
            _ => 15 * 60_000,
        }
    }

    /// When the rule should report it, for an injection at `at`: a sensor incident from then
    /// for its duration; a missing commitment from 10:00 local of that day to the day's end.
    fn window(self, at: i64) -> (EventTime, EventTime) {
        if self == Scenario::UncertifiedStaff {
            // The day's snapshot says so, until the next day's.
            let day = local_day_start(EventTime::from_millis(at));
            let filed = day.saturating_add_ms(STAFFING_AT_MS);
            return (filed, filed.saturating_add_ms(86_400_000));
        }
        if self == Scenario::MissingCommitment {
            return commitment_window(EventTime::from_millis(at));
        }
        (
            EventTime::from_millis(at),
            EventTime::from_millis(at + self.duration_ms()),
        )
    }
}

/// From the 10:00 local deadline of the day of `at` to the day's end: when a commitment of
/// that day that was not filed is missing.
pub fn commitment_window(at: EventTime) -> (EventTime, EventTime) {
    let day = local_day_start(at);
    (
        day.saturating_add_ms(10 * 3_600_000),
        day.saturating_add_ms(86_400_000),
    )
}

/// R4 calls a value unchanged this long a flat line.
pub(super) const FLAT_LINE_MS: i64 = 2 * 3_600_000;
/// R16 calls over design this long rush production.
pub(super) const RUSH_MS: i64 = 24 * 3_600_000;

/// One injected incident on one indicator.
#[derive(Clone, Debug, PartialEq)]
pub struct Injection {
    pub scenario: Scenario,
    pub enterprise: usize,
    /// The indicator it happens on; `None` for an enterprise-wide incident.
    pub indicator: Option<usize>,
    pub from: EventTime,
    pub until: EventTime,
}

impl Injection {
    /// The value the indicator reports at `ts` instead of `normal` (around `mean`); `None`:
    /// no reading.
    pub fn value_at(&self, ts: i64, normal: f64, mean: f64, l1: f64, l2: f64) -> Option<f64> {
        let progress = (ts - self.from.millis()) as f64 / self.scenario.duration_ms() as f64;
        match self.scenario {
            // Level 1 for the first third, level 2 after it.
            Scenario::GasLeak => Some(if progress < 0.34 { l1 + 5.0 } else { l2 + 5.0 }),
            Scenario::ToxicLeak | Scenario::UnansweredWarnings => Some(l1 + 2.0),
            Scenario::TankOverfill => Some((l2 + 2.0).max(normal)),
            // Frozen a little under the mean, as the transmitter last saw it.
            Scenario::FlatLine => Some(mean - 3.5),
            // Between the limits: a level-1 alarm.
            Scenario::UnderReporting => Some(l1 + (l2 - l1) / 4.0),
            Scenario::SensorOffline => None,
            // The other incidents are not in the readings.
            _ => Some(normal),
        }
    }

    pub fn covers(&self, ts: i64) -> bool {
        ts >= self.from.millis() && ts < self.until.millis()
    }

    /// The (enterprise, local day) whose commitment is withheld.
    pub fn withheld_commitment(&self) -> Option<(usize, EventTime)> {
        matches!(
            self.scenario,
            Scenario::MissingCommitment | Scenario::ResumedWithoutCommitment
        )
        .then(|| (self.enterprise, local_day_start(self.from)))
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
            // On a whole second, as the streams' clocks tick.
            let from = (start.millis() + duration_ms * (n as i64 + 1) / (count + 1)) / 1000 * 1000;
            let enterprise = pick_enterprise(province, &mut rng, &used)?;
            used.push(enterprise);
            let indicator = match scenario.kind() {
                None => None,
                Some(kind) => {
                    let candidates: Vec<usize> = province.enterprises[enterprise]
                        .indicators
                        .iter()
                        .enumerate()
                        .filter(|(_, i)| i.kind == kind)
                        .map(|(index, _)| index)
                        .collect();
                    Some(*candidates.get(rng.random_range(0..candidates.len().max(1)))?)
                }
            };
            let (from, until) = scenario.window(from);
            Some(Injection {
                scenario,
                enterprise,
                indicator,
                from,
                until,
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
