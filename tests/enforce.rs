//! Issue 6: the inspection plan, as properties over random counties. Every quota is met or a
//! `quota_deficit` is raised; the mandatory set is always on the list; the same seed gives the
//! same list; no enterprise is visited twice, nor within 7 days of its last visit unless it is
//! mandatory; the capacity holds unless the mandatory set alone exceeds it; hot-work checks
//! fall while their permits are active. Plus the CLI end to end on a replay's snapshot.

use chrono::NaiveDate;
use proptest::prelude::*;
use vigil::config::Config;
use vigil::enforce::facts::{EnterpriseFacts, HotWorkFacts, MandatoryReason, SelfInspectionFacts};
use vigil::enforce::plan::{plan, PlanRequest};
use vigil::enforce::task::{Plan, Pool};
use vigil::model::{EpidemicLevel, EventTime, HotGrade};
use vigil::risk::snapshot::{EnterpriseView, Snapshot};
use vigil::risk::RiskRecord;
use vigil::rules::Color;

const DAY_MS: i64 = 24 * 3_600_000;
const REGION: &str = "330102";

/// The planned day, 2026-03-10, starts at 2026-03-09T16:00Z (+08:00).
fn day_start() -> EventTime {
    EventTime::parse_rfc3339("2026-03-09T16:00:00Z").unwrap()
}

#[derive(Clone, Debug)]
struct Spec {
    color: usize,
    eri: f64,
    resumed: bool,
    hazchem: bool,
    self_inspection: bool,
    /// (grade special?, start hour, length hours) of hot-work permits, relative to the day.
    permits: Vec<(bool, i64, i64)>,
    last_visit_days_ago: Option<i64>,
    mandatory: bool,
    other_region: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..4usize,
        0.0..100.0f64,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec((any::<bool>(), -30..40i64, 1..30i64), 0..3),
        prop::option::of(0..120i64),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(color, eri, resumed, hazchem, self_inspection, permits, last, mandatory, other)| {
                Spec {
                    color,
                    eri: (eri * 10.0).round() / 10.0,
                    resumed,
                    hazchem,
                    self_inspection,
                    permits,
                    last_visit_days_ago: last,
                    mandatory,
                    other_region: other,
                }
            },
        )
}

fn view(i: usize, s: &Spec, high_epidemic: bool) -> EnterpriseView {
    let id = format!("330102{:05}", i + 1);
    let at = |hours: i64| day_start().saturating_add_ms(hours * 3_600_000);
    let hot_work = s
        .permits
        .iter()
        .enumerate()
        .map(|(k, (special, start, len))| HotWorkFacts {
            permit_id: format!("{id}-HW{k}"),
            grade: if *special {
                HotGrade::Special
            } else {
                HotGrade::L1
            },
            phase: "issued".into(),
            planned_start: Some(at(*start)),
            planned_end: Some(at(start + len)),
            contractor: k % 2 == 0,
            video_stream: *special,
            night_or_holiday: false,
            open_violations: 0,
        })
        .collect();
    let risk: RiskRecord = serde_json::from_value(serde_json::json!({
        "enterprise_id": id, "name": id, "region_id": if s.other_region { "330110" } else { REGION },
        "city_id": "330100", "park_id": format!("P{}", i % 3), "at": "2026-03-09T16:00:00Z",
        "eri": s.eri, "color": Color::ALL[s.color], "band": Color::ALL[s.color],
        "color_since": "2026-03-01T00:00:00Z", "weights_version": "test",
        "terms": {}, "inputs": {}
    }))
    .unwrap();
    EnterpriseView {
        risk,
        facts: EnterpriseFacts {
            is_hazchem_producer: s.hazchem,
            resumed: s.resumed,
            self_inspection: s.self_inspection.then(|| SelfInspectionFacts {
                report_id: Some(format!("SI-{id}")),
                submitted_at: Some(day_start()),
                passed: true,
            }),
            hot_work,
            last_inspected_at: s
                .last_visit_days_ago
                .map(|d| day_start().saturating_sub_ms(d * DAY_MS)),
            mandatory: if s.mandatory {
                vec![MandatoryReason {
                    code: "red_warning_r02".into(),
                    refs: vec![format!("W-{id}")],
                }]
            } else {
                Vec::new()
            },
            epidemic: high_epidemic.then_some(EpidemicLevel::High),
            ..EnterpriseFacts::default()
        },
    }
}

/// A snapshot of the county these specs describe, at the start of the planned day.
fn snapshot_of(specs: &[Spec], high_epidemic: bool) -> Snapshot {
    Snapshot {
        at: day_start(),
        enterprises: specs
            .iter()
            .enumerate()
            .map(|(i, s)| view(i, s, high_epidemic))
            .collect(),
        counties: Vec::new(),
    }
}

fn make_plan(snapshot: &Snapshot, capacity: u32, seed: u64) -> Plan {
    let config = Config::default();
    let request = PlanRequest {
        region: REGION.into(),
        date: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
        capacity,
        teams: 2,
        seed,
    };
    plan(snapshot, &request, &vigil::app::enforce::rules(&config))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn plans_keep_their_promises(
        specs in prop::collection::vec(spec(), 0..60),
        capacity in 0..40u32,
        seed in any::<u64>(),
        high_epidemic in any::<bool>(),
    ) {
        let snapshot = snapshot_of(&specs, high_epidemic);
        let made = make_plan(&snapshot, capacity, seed);

        // Same seed, same list.
        prop_assert_eq!(&made, &make_plan(&snapshot, capacity, seed));

        let in_region: Vec<&EnterpriseView> =
            snapshot.enterprises.iter().filter(|v| v.risk.region_id == REGION).collect();
        let task_of = |id: &str| made.tasks.iter().filter(|t| t.enterprise_id == id).collect::<Vec<_>>();

        // The mandatory set, always, on site.
        for v in in_region.iter().filter(|v| !v.facts.mandatory.is_empty()) {
            let tasks = task_of(&v.risk.enterprise_id);
            prop_assert_eq!(tasks.len(), 1);
            prop_assert_eq!(tasks[0].pool, Pool::Mandatory);
            prop_assert_eq!(tasks[0].mode, vigil::enforce::task::Mode::Onsite);
        }
        let mandatory = in_region.iter().filter(|v| !v.facts.mandatory.is_empty()).count();

        // Once per enterprise; never within 7 days of the last visit unless mandatory; only
        // enterprises of the region.
        let mut seen = std::collections::BTreeSet::new();
        for t in &made.tasks {
            prop_assert!(seen.insert(t.enterprise_id.clone()), "{} twice", t.enterprise_id);
            prop_assert_eq!(&t.region_id, REGION);
            let v = in_region.iter().find(|v| v.risk.enterprise_id == t.enterprise_id).unwrap();
            let recent = v.facts.last_inspected_at
                .is_some_and(|at| day_start().millis() - at.millis() < 7 * DAY_MS);
            prop_assert!(!recent || t.pool == Pool::Mandatory, "{} revisited", t.enterprise_id);
            prop_assert!(t.not_before <= t.due_by);
            // A hot-work permit a visit checks is active during the visit's window.
            for permit in v.facts.hot_work.iter().filter(|p| t.target_refs.contains(&p.permit_id)) {
                prop_assert!(permit.planned_start.unwrap() <= t.due_by);
                prop_assert!(permit.planned_end.unwrap() >= t.not_before);
            }
        }

        // The capacity holds, unless the mandatory set alone exceeds it.
        prop_assert!(made.tasks.len() <= (capacity as usize).max(mandatory));
        prop_assert_eq!(made.over_capacity, mandatory > capacity as usize);

        // Every quota met, or a deficit raised for exactly the shortfall.
        for pool in [Pool::SelfCheck, Pool::HotWork] {
            let ledger = made.ledger.iter().find(|l| l.pool == pool).unwrap();
            let covered = ledger.done_before + ledger.planned;
            let deficit = made.deficits.iter().find(|d| d.pool == pool);
            if covered >= ledger.required {
                prop_assert!(deficit.is_none());
            } else {
                let d = deficit.expect("a quota_deficit for an unmet quota");
                prop_assert_eq!(d.shortfall, ledger.required - covered);
                prop_assert_eq!(&d.kind, "quota_deficit");
            }
        }
        // HOT_WORK planned counts exactly the permits the visits list.
        let hot_ledger = made.ledger.iter().find(|l| l.pool == Pool::HotWork).unwrap();
        let listed = made.tasks.iter().flat_map(|t| &t.target_refs).filter(|r| r.contains("-HW")).count();
        prop_assert_eq!(hot_ledger.planned as usize, listed);
        // SELF_CHECK: required is half of the submitted self-inspections of resumed enterprises.
        let submitted = in_region.iter().filter(|v| v.facts.resumed && v.facts.self_inspection.is_some()).count();
        let ledger = made.ledger.iter().find(|l| l.pool == Pool::SelfCheck).unwrap();
        prop_assert_eq!(ledger.required as usize, submitted.div_ceil(2));
    }
}

#[test]
fn a_quota_is_filled_before_the_risk_pool_and_30_percent_is_drawn() {
    // 20 resumed enterprises with self-inspections: 10 required; capacity 12 leaves 2 for RISK.
    let specs: Vec<Spec> = (0..20)
        .map(|i| Spec {
            color: 3,
            eri: 10.0 + i as f64,
            resumed: true,
            hazchem: false,
            self_inspection: true,
            permits: Vec::new(),
            last_visit_days_ago: Some(30),
            mandatory: false,
            other_region: false,
        })
        .collect();
    let snapshot = snapshot_of(&specs, false);
    let made = make_plan(&snapshot, 12, 7);
    let pool = |p: Pool| {
        made.tasks
            .iter()
            .filter(|t| t.pool == p)
            .collect::<Vec<_>>()
    };
    let self_check = pool(Pool::SelfCheck);
    assert_eq!(self_check.len(), 10);
    assert_eq!(pool(Pool::Risk).len(), 2);
    let ranked = self_check
        .iter()
        .filter(|t| t.selection == vigil::enforce::task::Selection::Ranked)
        .count();
    assert_eq!(ranked, 7, "70 % by rank");
    assert!(made.deficits.is_empty());
    for t in &self_check {
        assert_eq!(t.target_refs, vec![format!("SI-{}", t.enterprise_id)]);
        assert!(t
            .reason_codes
            .contains(&"self_inspection_submitted".to_owned()));
    }
    // With capacity 5 the quota cannot be met: a deficit, and nothing for RISK.
    let short = make_plan(&snapshot, 5, 7);
    assert_eq!(short.deficits.len(), 1);
    assert_eq!(short.deficits[0].shortfall, 5);
    assert_eq!(short.deficits[0].reason, "capacity");
    assert!(short.tasks.iter().all(|t| t.pool == Pool::SelfCheck));
}

#[test]
fn vigil_enforce_writes_the_plan_as_csv_parquet_and_json() {
    let work = tempfile::tempdir().unwrap();
    let specs: Vec<Spec> = (0..8)
        .map(|i| Spec {
            color: i % 4,
            eri: 20.0 + 5.0 * i as f64,
            resumed: true,
            hazchem: true,
            self_inspection: i % 2 == 0,
            permits: vec![(i % 3 == 0, 2, 6)],
            last_visit_days_ago: None,
            mandatory: i == 5,
            other_region: false,
        })
        .collect();
    let snapshot = snapshot_of(&specs, false);
    let snapshot_path = work.path().join("snapshot.json");
    std::fs::write(&snapshot_path, serde_json::to_vec(&snapshot).unwrap()).unwrap();
    for ext in ["csv", "parquet", "json"] {
        let out = work.path().join(format!("plan.{ext}"));
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args([
                "enforce",
                "--region",
                REGION,
                "--date",
                "2026-03-10",
                "--capacity",
                "6",
            ])
            .args(["--seed", "11", "--snapshot"])
            .arg(&snapshot_path)
            .arg("--out")
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "{ext}");
        assert!(std::fs::metadata(&out).unwrap().len() > 100, "{ext}");
    }
    let csv = std::fs::read_to_string(work.path().join("plan.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("task_id,region_id,enterprise_id"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 6);
    assert!(rows[0].contains(",MANDATORY,") && rows[0].contains("mandatory_red_warning_r02"));
    let json: Plan =
        serde_json::from_slice(&std::fs::read(work.path().join("plan.json")).unwrap()).unwrap();
    assert_eq!(json.seed, 11);
    assert_eq!(json.tasks.len(), 6);
    let bytes = std::fs::read(work.path().join("plan.parquet")).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
}

/// Issue 19, item 1: whatever the parameters of `GET /api/enforcement/plan`, the request is
/// either refused naming a parameter or planned, never a panic, an abort or minutes of work,
/// over a county of 3 000 enterprises (the RISK pool's draws were once quadratic).
mod hostile_parameters {
    use super::*;
    use proptest::strategy::ValueTree;
    use std::sync::OnceLock;
    use vigil::enforce::request::{PlanQuery, MAX_CAPACITY, MAX_TEAMS};

    fn county() -> &'static Snapshot {
        static COUNTY: OnceLock<Snapshot> = OnceLock::new();
        COUNTY.get_or_init(|| {
            let mut runner = proptest::test_runner::TestRunner::deterministic();
            let specs: Vec<Spec> = (0..3_000)
                .map(|_| spec().new_tree(&mut runner).unwrap().current())
                .collect();
            snapshot_of(&specs, false)
        })
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<u64>().prop_map(|n| n.to_string()),
            (0..20_000u64).prop_map(|n| n.to_string()),
            Just(u32::MAX.to_string()),
            Just("-1".to_string()),
            Just("1e9".to_string()),
            "[ -~]{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn no_parameter_crashes_or_stalls_the_planner(
            region in prop_oneof![Just(REGION.to_string()), "[ -~]{0,80}"],
            date in prop_oneof![Just("2026-03-10".to_string()), "[0-9]{4}-[0-9]{2}-[0-9]{2}", "[ -~]{0,12}"],
            capacity in number(),
            teams in prop::option::of(number()),
            seed in prop::option::of(number()),
        ) {
            let query = PlanQuery {
                region: Some(region),
                date: Some(date),
                capacity: Some(capacity),
                teams,
                seed,
            };
            let Ok(request) = query.validate(b"test key") else { return Ok(()) };
            prop_assert!(request.capacity <= MAX_CAPACITY);
            prop_assert!((1..=MAX_TEAMS).contains(&request.teams));
            let started = std::time::Instant::now();
            let config = Config::default();
            let made = plan(county(), &request, &vigil::app::enforce::rules(&config));
            // A hang detector, not a speed target (benches/risk.rs measures the planner).
            prop_assert!(started.elapsed() < std::time::Duration::from_secs(20));
            prop_assert!(made.tasks.len() <= county().enterprises.len());
        }
    }
}
