//! Which rules run over the changed shards only (issue 21): a rule is local when its hits for
//! an enterprise can only come from that enterprise's rows. Checked when a rule is compiled;
//! anything not provably local runs whole.

use std::path::Path;
use std::sync::Arc;

use vigil::config::Config;
use vigil::metrics::Metrics;
use vigil::rules::locality::Locality;
use vigil::rules::RuleEngine;

fn locality_of(body: &str) -> Locality {
    let engine = RuleEngine::new(Config::default().rules, Arc::new(Metrics::new()));
    let text =
        format!("-- id: r01_test\n-- title: test\n-- severity: yellow\n-- basis: test\n{body}\n");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rule = runtime
        .block_on(engine.compile(Path::new("r01_test.sql"), &text))
        .unwrap_or_else(|e| panic!("{body}: {e:?}"));
    rule.locality
}

fn assert_local(body: &str) {
    assert_eq!(locality_of(body), Locality::Local, "{body}");
}

fn assert_whole(body: &str, why: &str) {
    match locality_of(body) {
        Locality::Whole(reason) => assert!(reason.contains(why), "{body}: {reason}"),
        Locality::Local => panic!("{body} was taken for local"),
    }
}

#[test]
fn rules_over_one_enterprise_at_a_time_are_local() {
    assert_local(
        "SELECT enterprise_id, target_code AS subject FROM indicators WHERE last_value > l1_hi",
    );
    assert_local(
        "SELECT i.enterprise_id, i.target_code AS subject, w.max_value AS value \
         FROM indicators i JOIN sensor_windows w \
           ON w.enterprise_id = i.enterprise_id AND w.target_code = i.target_code \
         WHERE w.\"window\" = '5m' AND w.max_value > i.l1_hi",
    );
    assert_local(
        "SELECT enterprise_id, kind AS subject, count(*) AS value FROM indicators \
         GROUP BY enterprise_id, kind HAVING count(*) > 3",
    );
    assert_local(
        "SELECT e AS enterprise_id, subject FROM (SELECT enterprise_id AS e, target_code AS subject, \
           row_number() OVER (PARTITION BY enterprise_id ORDER BY last_ts DESC) AS n FROM indicators) \
         WHERE n = 1",
    );
    assert_local(
        "SELECT p.enterprise_id, p.permit_id AS subject FROM permits p \
         WHERE NOT EXISTS (SELECT 1 FROM gas_analyses g \
           WHERE g.enterprise_id = p.enterprise_id AND g.permit_id = p.permit_id)",
    );
    assert_local(
        "SELECT enterprise_id, target_code AS subject FROM indicators WHERE last_value > l2_hi \
         UNION ALL SELECT enterprise_id, alarm_id AS subject FROM alarms",
    );
}

#[test]
fn rules_mixing_enterprises_or_reading_the_clock_run_whole() {
    assert_whole(
        "SELECT i.enterprise_id, i.target_code AS subject FROM indicators i CROSS JOIN clock c \
         WHERE i.offline_at <= c.now",
        "clock",
    );
    assert_whole(
        "SELECT i.enterprise_id, i.target_code AS subject FROM indicators i JOIN alarms a \
         ON a.target_code = i.target_code",
        "join",
    );
    assert_whole(
        "SELECT min(enterprise_id) AS enterprise_id, kind AS subject FROM indicators GROUP BY kind",
        "aggregate",
    );
    assert_whole(
        "SELECT enterprise_id, target_code AS subject, \
           rank() OVER (PARTITION BY kind ORDER BY last_value) AS r FROM indicators",
        "window",
    );
    assert_whole(
        "SELECT target_code AS enterprise_id, kind AS subject FROM indicators",
        "enterprise_id",
    );
    assert_whole(
        "SELECT enterprise_id, target_code AS subject FROM indicators ORDER BY last_value DESC LIMIT 5",
        "",
    );
    assert_whole(
        "SELECT enterprise_id, target_code AS subject FROM indicators \
         WHERE last_value > (SELECT avg(last_value) FROM indicators)",
        "",
    );
}

#[test]
fn the_shipped_rules_without_the_clock_are_local() {
    let engine = RuleEngine::new(Config::default().rules, Arc::new(Metrics::new()));
    let mut engine = engine;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let report = runtime.block_on(engine.reload(&dir));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    for rule in engine.rules() {
        let global = ["clock", "regions", "active_warnings", "open_warnings"];
        let reads_global = rule.reads.iter().any(|t| global.contains(&t.as_str()));
        match (&rule.locality, reads_global) {
            (Locality::Local, false) => {}
            (Locality::Whole(why), true) => assert!(why.contains("not per enterprise"), "{why}"),
            (locality, _) => panic!("{}: {locality:?}, reads {:?}", rule.header.id, rule.reads),
        }
    }
}
