//! Ingest: one test per kind of bad input (each dead-lettered with its stable reason code),
//! the pending buffer, state bounds, and replay accounting and determinism.

mod common;

use common::*;
use vigil::config::Config;
use vigil::ingest::ReasonCode;
use vigil::sim::corrupt::{self, Case};
use vigil::sim::ReadingStream;

fn find_case(name: &str) -> Case {
    let province = province();
    corrupt::catalogue(&case_context(&province, T0))
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no corruption case {name:?}"))
}

/// Replays the registry, the case's setup and its bad record; the bad record alone must be
/// dead-lettered (or routed late) with the case's reason, everything else applied.
fn assert_case(name: &str) {
    let province = province();
    let case = find_case(name);
    let mut lines = registry_lines(&province);
    lines.extend(case.setup.iter().map(|r| r.to_line()));
    lines.push(case.bad.to_line());
    let bad_line = lines.len();
    let run = replay_lines(&lines, &Config::default());
    assert_eq!(run.summary.read, lines.len() as u64, "every line is read");
    assert_eq!(
        run.summary.applied,
        lines.len() as u64 - 1,
        "everything but the bad record is applied: {:?}",
        run.dead
    );
    match case.reason {
        Some(reason) => {
            let letter = run
                .dead_at(bad_line)
                .unwrap_or_else(|| panic!("line {bad_line} dead-lettered; got {:?}", run.dead));
            assert_eq!(letter["reason_code"], reason.as_str(), "{letter}");
            assert_eq!(run.summary.dead[reason.as_str()], 1);
            assert!(letter["reason"].as_str().is_some_and(|r| !r.is_empty()));
            assert!(letter["raw"].is_string());
        }
        None => {
            assert_eq!(run.late.len(), 1);
            assert_eq!(run.late[0]["line"], bad_line);
            assert!(run.late[0]["watermark"].is_string());
        }
    }
}

macro_rules! bad_input_tests {
    ($($test:ident => $name:literal),+ $(,)?) => {
        $(#[test] fn $test() { assert_case($name); })+
        const TESTED_CASES: &[&str] = &[$($name),+];
    };
}

bad_input_tests! {
    not_json => "truncated line",
    not_utf8 => "not utf-8",
    not_object => "array instead of object",
    bad_envelope => "envelope without value",
    unknown_topic => "unknown topic",
    missing_key => "no key",
    key_mismatch => "key of another enterprise",
    oversized => "oversized",
    missing_field => "missing value",
    wrong_type => "value is a string",
    unknown_enum => "unknown quality",
    non_finite_number => "infinite value",
    not_physical => "oxygen above 100 %",
    out_of_domain => "diagnostic score 140",
    inconsistent_fields => "planned end before start",
    bad_identifier => "malformed enterprise id",
    bad_timestamp => "unparseable time",
    timestamp_too_old => "time before 2000",
    timestamp_in_future => "time two days ahead",
    duplicate => "same reading twice",
    impossible_transition => "started after closed",
    unknown_indicator => "indicator never registered",
    late_event => "older than the watermark",
}

#[test]
fn every_reason_code_has_a_test() {
    let province = province();
    let cases = corrupt::catalogue(&case_context(&province, T0));
    for case in &cases {
        assert!(
            TESTED_CASES.contains(&case.name),
            "case {:?} has no test",
            case.name
        );
    }
    let covered: Vec<ReasonCode> = cases.iter().filter_map(|c| c.reason).collect();
    // output_refused: tests/delivery.rs (an output record, not an input).
    let tested_elsewhere = [
        ReasonCode::PendingOverflow,
        ReasonCode::CapacityExceeded,
        ReasonCode::OutputRefused,
    ];
    for code in ReasonCode::ALL {
        assert!(
            covered.contains(&code) || tested_elsewhere.contains(&code),
            "{code} has no test"
        );
    }
    assert!(ReasonCode::ALL.len() >= 20);
}

fn reading_line(enterprise: &str, target: &str, seconds: i64, value: f64) -> Vec<u8> {
    let ts = T0.saturating_add_ms(seconds * 1000).to_rfc3339();
    format!(r#"{{"topic":"sensor.reading","key":"{enterprise}","value":{{"ts":"{ts}","enterprise_id":"{enterprise}","target_code":"{target}","value":{value}}}}}"#).into_bytes()
}

#[test]
fn reading_before_its_registry_entry_waits_and_is_applied() {
    let province = province();
    let ent = &province.enterprises[0];
    let registry = registry_lines(&province);
    let mut lines = vec![reading_line(
        &ent.enterprise_id,
        &ent.indicators[0].target_code,
        1,
        42.0,
    )];
    lines.extend(registry);
    let run = replay_lines(&lines, &Config::default());
    assert_eq!(run.summary.applied, lines.len() as u64, "{:?}", run.dead);
    let partition = run.store.partition(0);
    let state = partition
        .enterprises
        .get(ent.enterprise_id.as_str())
        .unwrap();
    let indicator = &state.indicators[ent.indicators[0].target_code.as_str()];
    assert_eq!(indicator.last.as_ref().map(|l| l.value), Some(42.0));
}

#[test]
fn pending_overflow_dead_letters_the_oldest() {
    let config = Config::from_toml("[ingest]\npending_capacity = 2\n").unwrap();
    let lines: Vec<Vec<u8>> = (0..3)
        .map(|i| reading_line("33010200001", &format!("X{i}"), i, 1.0))
        .collect();
    let run = replay_lines(&lines, &config);
    assert_eq!(run.dead_at(1).unwrap()["reason_code"], "pending_overflow");
    assert_eq!(run.summary.dead["pending_overflow"], 1);
    assert_eq!(
        run.summary.dead["unknown_indicator"], 2,
        "the rest never got a registry entry"
    );
}

#[test]
fn pending_record_expires_once_the_watermark_passes_its_timeout() {
    let province = province();
    let ent = &province.enterprises[0];
    let mut lines = registry_lines(&province);
    lines.push(reading_line(&ent.enterprise_id, "NEVER", 0, 1.0));
    let level = &ent.indicators[0].target_code;
    lines.push(reading_line(&ent.enterprise_id, level, 11 * 60, 1.0));
    let run = replay_lines(&lines, &Config::default());
    let letter = run.dead_at(lines.len() - 1).expect("expired");
    assert!(
        letter["reason"]
            .as_str()
            .unwrap()
            .contains("pending_timeout"),
        "{letter}"
    );
}

#[test]
fn enterprise_table_bound_is_enforced() {
    let config = Config::from_toml("[state]\nmax_enterprises_per_partition = 1\n").unwrap();
    let status = |e: &str| {
        format!(r#"{{"topic":"enterprise.state","key":"{e}","value":{{"ts":"2020-03-01T00:00:00Z","enterprise_id":"{e}","production_state":"running"}}}}"#).into_bytes()
    };
    let run = replay_lines(&[status("33010200001"), status("33010200002")], &config);
    assert_eq!(run.summary.applied, 1);
    assert_eq!(run.dead_at(2).unwrap()["reason_code"], "capacity_exceeded");
}

/// A realistic stream with every kind of corruption mixed in.
fn mixed_input() -> Vec<Vec<u8>> {
    common::mixed_input(&province(), 3, 3_000)
}

#[test]
fn replay_accounts_for_every_line() {
    let lines = mixed_input();
    let run = replay_lines(&lines, &Config::default());
    let s = &run.summary;
    assert_eq!(s.read, lines.len() as u64);
    assert_eq!(s.read, s.applied + s.dead_total() + s.late, "{s:?}");
    assert_eq!(run.dead.len() as u64, s.dead_total());
    assert_eq!(run.late.len() as u64, s.late);
    assert!(
        s.dead.len() >= 20,
        "kinds of corruption seen: {:?}",
        s.dead.keys()
    );
    let province = province();
    let indicators: usize = run
        .store
        .partition(0)
        .enterprises
        .iter()
        .map(|e| e.indicators.len())
        .sum();
    assert_eq!(indicators, province.indicator_count());
}

#[test]
fn replay_is_deterministic() {
    let lines = mixed_input();
    let first = replay_lines(&lines, &Config::default());
    let second = replay_lines(&lines, &Config::default());
    assert_eq!(first.summary, second.summary);
    assert_eq!(first.dlq_bytes, second.dlq_bytes);
    assert_eq!(first.late_bytes, second.late_bytes);
    assert!(!first.dlq_bytes.is_empty());
}

#[test]
fn every_good_reading_is_reflected_in_state() {
    let province = province();
    let mut lines = registry_lines(&province);
    let readings: Vec<_> = ReadingStream::new(&province, 5, T0).take(2_000).collect();
    lines.extend(readings.iter().map(|r| r.to_ndjson().into_bytes()));
    let run = replay_lines(&lines, &Config::default());
    run.assert_all_applied(lines.len());
    for ent in &province.enterprises {
        for indicator in &ent.indicators {
            let sent = sent_values(&readings, &indicator.target_code);
            let (counted, last) =
                indicator_readings(&run.store, &ent.enterprise_id, &indicator.target_code);
            assert_eq!(counted, sent.len(), "{}", indicator.target_code);
            assert_eq!(last, sent.last().copied());
        }
    }
}

fn line(topic: &str, key: &str, value: &str) -> Vec<u8> {
    format!(r#"{{"topic":"{topic}","key":"{key}","value":{value}}}"#).into_bytes()
}

#[test]
fn a_gas_analysis_behind_the_watermark_is_still_applied() {
    let province = province();
    let ent = &province.enterprises[0];
    let e = ent.enterprise_id.as_str();
    let mut lines = registry_lines(&province);
    lines.push(reading_line(e, &ent.indicators[0].target_code, 3_600, 50.0));
    let sampled = T0.to_rfc3339();
    lines.push(line("gas.analysis", e, &format!(r#"{{"ts_sample":"{sampled}","enterprise_id":"{e}","permit_id":"HW-1","point_id":"P1","method":"lab","gas_lel_vol_pct":5.0,"conc_vol_pct":0.1}}"#)));
    let run = replay_lines(&lines, &Config::default());
    run.assert_all_applied(lines.len());
    let partition = run.store.partition(0);
    assert_eq!(
        partition.enterprises.get(e).unwrap().analyses["HW-1"].len(),
        1
    );
}

#[test]
fn a_staffing_date_neither_moves_the_watermark_nor_is_late() {
    let province = province();
    let ent = &province.enterprises[0];
    let e = ent.enterprise_id.as_str();
    let staffing = |date: &str| {
        line(
            "staffing.snapshot",
            e,
            &format!(
                r#"{{"date":"{date}","enterprise_id":"{e}","key_posts_required":10,"key_posts_filled":9,"new_or_transferred_n":1,"on_post_untrained_n":0,"special_ops_uncertified_n":0,"headcount_vs_normal_pct":90}}"#
            ),
        )
    };
    let target = &ent.indicators[0].target_code;
    let mut lines = registry_lines(&province);
    lines.push(reading_line(e, target, 0, 50.0));
    lines.push(staffing("2020-03-06"));
    lines.push(staffing("2020-02-01"));
    lines.push(reading_line(e, target, 1, 50.0));
    let run = replay_lines(&lines, &Config::default());
    run.assert_all_applied(lines.len());
}

#[test]
fn a_duplicate_business_record_is_caught_behind_the_watermark() {
    let province = province();
    let ent = &province.enterprises[0];
    let e = ent.enterprise_id.as_str();
    let permit = line(
        "permit.event",
        e,
        &format!(
            r#"{{"ts":"{}","permit_id":"HW-2","enterprise_id":"{e}","type":"hot","hot_grade":"l2","transition":"issued"}}"#,
            T0.to_rfc3339()
        ),
    );
    let mut lines = registry_lines(&province);
    lines.push(permit.clone());
    lines.push(reading_line(e, &ent.indicators[0].target_code, 3_600, 50.0));
    lines.push(permit);
    let run = replay_lines(&lines, &Config::default());
    assert_eq!(
        run.dead_at(lines.len()).unwrap()["reason_code"],
        "duplicate"
    );
}

/// `/metrics` and `/api/status` read the state's size from counters kept by every write, not
/// from a walk: after a stream of every topic, the corruption catalogue, an indicator and an
/// enterprise deleted, the counters equal what a walk of the state finds.
#[test]
fn the_counted_state_size_equals_a_walk_of_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all.ndjson");
    vigil::app::sim::run(&vigil::app::sim::SimOptions {
        out: out.clone(),
        truth_out: None,
        seed: 11,
        enterprises: 12,
        duration_s: 2 * 3600,
        start: vigil::model::EventTime::parse_rfc3339("2026-01-05T00:00:00Z").unwrap(),
        scenarios: vigil::sim::Scenario::ALL.to_vec(),
    })
    .unwrap();
    let mut lines: Vec<Vec<u8>> = std::fs::read(&out)
        .unwrap()
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let province = province();
    lines.extend(common::mixed_input(&province, 5, 2_000));
    // A tombstone's key names the enterprise it belongs to.
    let tombstone = |entity: &str, key: &str, id: &str| {
        line(
            "registry",
            key,
            &format!(r#"{{"entity":"{entity}","id":"{id}","deleted":true}}"#),
        )
    };
    let (kept, deleted) = (&province.enterprises[0], &province.enterprises[1]);
    let indicator = &kept.indicators[0].target_code;
    lines.push(tombstone("indicator", &kept.enterprise_id, indicator));
    lines.push(tombstone(
        "enterprise",
        &deleted.enterprise_id,
        &deleted.enterprise_id,
    ));
    let run = replay_lines(&lines, &Config::default());

    let (counted, walked) = (run.store.size(), run.store.walk_size());
    assert_eq!(counted, walked);
    assert!(walked.permits > 0 && walked.buckets > 1_000, "{walked:?}");
    let gone = |id: &str| run.store.with_enterprise(id, |_| ()).is_none();
    assert!(gone(&deleted.enterprise_id));
    let has_indicator = |e| run.store.with_enterprise(&kept.enterprise_id, e).unwrap();
    assert!(!has_indicator(
        |e: &vigil::state::EnterpriseState| e.has_indicator(indicator)
    ));
}
