//! Warning lifecycle (issue 5): property tests of pending → firing → resolved on event time,
//! and replays: the gas-leak fixture gives one firing warning per detector (not a storm), an
//! escalation when it worsens, a resolution when it clears, and the same records every time.

mod common;

use std::path::Path;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::Value;
use vigil::config::Config;
use vigil::model::EventTime;
use vigil::rules::Color;
use vigil::warnings::{Timing, Tracked, Transition};

/// Runs the lifecycle over `ticks` (time in seconds, hit or not) and returns its records as
/// (time, transition, episode start).
fn drive(ticks: &[(i64, bool)], timing: &Timing) -> Vec<(i64, Transition, i64)> {
    let mut tracked: Option<Tracked> = None;
    let mut out = Vec::new();
    for &(t, hit) in ticks {
        let now = EventTime::from_millis(t * 1000);
        match (&mut tracked, hit) {
            (None, false) => {}
            (None, true) => {
                let mut fresh = Tracked::new(now, Color::Orange);
                if let Some(tr) = fresh.hit(now, Color::Orange, timing) {
                    out.push((t, tr, t));
                }
                tracked = Some(fresh);
            }
            (Some(w), true) => {
                if let Some(tr) = w.hit(now, Color::Orange, timing) {
                    out.push((t, tr, w.first_seen.millis() / 1000));
                }
            }
            (Some(w), false) => {
                let (tr, keep) = w.miss(now, timing);
                if let Some(tr) = tr {
                    out.push((t, tr, w.first_seen.millis() / 1000));
                }
                if !keep {
                    tracked = None;
                }
            }
        }
    }
    out
}

fn ticks() -> impl Strategy<Value = Vec<(i64, bool)>> {
    prop::collection::vec((1i64..30, any::<bool>()), 1..200).prop_map(|steps| {
        let mut t = 0;
        steps
            .into_iter()
            .map(|(dt, hit)| {
                t += dt;
                (t, hit)
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn lifecycle_fires_once_per_episode_after_for_and_resolves_after_clear_after(
        ticks in ticks(),
        hold in 0u64..120,
        clear in 0u64..120,
        keep in 0u64..60,
    ) {
        let timing = Timing {
            hold_for: Duration::from_secs(hold),
            clear_after: Duration::from_secs(clear),
            keep_firing_for: Duration::from_secs(keep),
        };
        let records = drive(&ticks, &timing);
        // Same input, same records (ids derive from the episode start).
        prop_assert_eq!(&records, &drive(&ticks, &timing));
        let mut open: Option<(i64, i64)> = None; // (episode start, fired at)
        for &(t, transition, start) in &records {
            match transition {
                Transition::Firing => {
                    prop_assert!(open.is_none(), "a second firing inside one episode");
                    prop_assert!(t - start >= hold as i64, "fired before `for`");
                    open = Some((start, t));
                }
                Transition::Resolved => {
                    let (episode, fired) = open.take().expect("resolved without firing");
                    prop_assert_eq!(episode, start);
                    prop_assert!(t - fired >= keep as i64, "resolved inside keep_firing_for");
                    let last_hit = ticks.iter().filter(|(at, hit)| *hit && *at <= t).map(|(at, _)| *at).max().unwrap();
                    prop_assert!(last_hit < t - clear as i64 || clear == 0 && last_hit < t,
                        "resolved at {} with a hit at {} inside clear_after {}", t, last_hit, clear);
                }
                Transition::Escalated => prop_assert!(false, "one colour never escalates"),
                Transition::Updated => prop_assert!(false, "only feedback updates"),
            }
        }
    }
}

#[test]
fn a_rising_colour_escalates_under_the_same_episode() {
    let timing = Timing::default();
    let now = |s: i64| EventTime::from_millis(s * 1000);
    let mut w = Tracked::new(now(0), Color::Orange);
    assert_eq!(
        w.hit(now(0), Color::Orange, &timing),
        Some(Transition::Firing)
    );
    assert_eq!(w.hit(now(10), Color::Orange, &timing), None);
    assert_eq!(
        w.hit(now(20), Color::Red, &timing),
        Some(Transition::Escalated)
    );
    assert_eq!(
        w.hit(now(30), Color::Orange, &timing),
        None,
        "falling back is not news"
    );
    assert_eq!(w.color, Color::Red);
}

fn fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rules")
        .join(path)
}

fn replay_gas_leak() -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let rules = common::shipped_rules(dir.path(), &["gas/r02_gas_leak.sql"]);
    let inputs = vec![
        fixture("world.ndjson"),
        fixture("r02_gas_leak/fires.ndjson"),
    ];
    common::replay_warnings(&Config::default(), inputs, rules, dir.path())
}

#[test]
fn a_gas_leak_gives_one_warning_an_escalation_and_a_resolution() {
    let records = replay_gas_leak();
    let at001: Vec<&Value> = records
        .iter()
        .filter(|r| r["subject"] == "33010200001-AT001")
        .collect();
    let states: Vec<&str> = at001.iter().map(|r| r["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["firing", "escalated", "resolved"], "{at001:#?}");
    assert!(at001.iter().all(|r| r["id"] == at001[0]["id"]));
    assert_eq!(at001[0]["color"], "orange");
    assert_eq!(at001[1]["color"], "red");
    assert_eq!(at001[0]["region_id"], "330102");
    assert_eq!(at001[0]["evidence"]["area_id"], "A-02");
    // `for: 30s`: the level-1 reading at 00:02:00 fires 30 s of event time later.
    assert_eq!(at001[0]["first_seen"], "2020-03-02T00:02:00.000Z");
    assert_eq!(at001[0]["fired_at"], "2020-03-02T00:02:30.000Z");
    // `clear_after: 60s`: back to normal at 00:05:00, resolved a minute later.
    assert_eq!(at001[2]["resolved_at"], "2020-03-02T00:06:00.000Z");
    // The toxic detector fired and resolved once too; nothing else.
    assert_eq!(records.len(), 5, "{records:#?}");
    assert_eq!(records, replay_gas_leak(), "replays give the same records");
}

/// A rule returning every indicator of the fixture's enterprise (six).
fn replay_every_indicator(config: &Config) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("r01_every_indicator.sql"),
        "-- id: r01_every_indicator\n-- title: every indicator\n-- severity: yellow\n-- basis: test\n\
         SELECT enterprise_id, target_code AS subject FROM indicators\n",
    )
    .unwrap();
    let inputs = vec![
        fixture("world.ndjson"),
        fixture("r02_gas_leak/fires.ndjson"),
    ];
    common::replay_warnings(config, inputs, rules, dir.path())
}

/// Issue 19: a rule over `rules.max_hits_per_tick` is raised as one warning naming it, for
/// the whole run, not as a failure only the metrics see.
#[test]
fn a_rule_over_max_hits_is_one_service_warning() {
    let mut config = Config::default();
    config.rules.max_hits_per_tick = 2;
    let records = replay_every_indicator(&config);
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = &records[0];
    assert_eq!(r["rule_id"], "r00_rule_overflow");
    assert_eq!(r["subject"], "r01_every_indicator");
    assert_eq!(r["state"], "firing");
    assert_eq!(r["enterprise_id"], "");
    assert_eq!(r["color"], "yellow");
    assert!(
        r["message"].as_str().unwrap().contains("more than 2 hits"),
        "{r}"
    );
    // Without the bound the rule warns per indicator, and no service warning.
    let normal = replay_every_indicator(&Config::default());
    assert_eq!(normal.len(), 6, "{normal:#?}");
}

/// Issue 19: the book tracks at most `warnings.max_open`; the rest are refused and raised
/// as one warning with the count.
#[test]
fn warnings_past_max_open_are_refused_and_raised_once() {
    let mut config = Config::default();
    config.warnings.max_open = 2;
    let records = replay_every_indicator(&config);
    let (service, rule): (Vec<&Value>, Vec<&Value>) = records
        .iter()
        .partition(|r| r["rule_id"] == "r00_warnings_capacity");
    assert_eq!(rule.len(), 2, "{records:#?}");
    assert!(rule.iter().all(|r| r["state"] == "firing"));
    assert_eq!(service.len(), 1, "{records:#?}");
    assert_eq!(service[0]["state"], "firing");
    assert_eq!(service[0]["value"], 4.0);
    assert_eq!(service[0]["color"], "red");
}
