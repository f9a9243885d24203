//! Which rules run over the changed shards only (issue 21): a rule is local when its hits for
//! an enterprise can only come from that enterprise's rows and the clock, read through
//! deadlines. Checked when a rule is compiled; anything not provably local runs whole.

use std::path::Path;
use std::sync::Arc;

use vigil::config::Config;
use vigil::metrics::Metrics;
use vigil::rules::locality::{ClockReads, Deadline, Locality, Step};
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
    assert_eq!(
        locality_of(body),
        Locality::Local(ClockReads::default()),
        "{body}"
    );
}

fn assert_whole(body: &str, why: &str) {
    match locality_of(body) {
        Locality::Whole(reason) => assert!(reason.contains(why), "{body}: {reason}"),
        Locality::Local(_) => panic!("{body} was taken for local"),
    }
}

/// What a local rule reads of the clock.
fn clock_reads(body: &str) -> ClockReads {
    match locality_of(body) {
        Locality::Local(clock) => clock,
        Locality::Whole(why) => panic!("{body} runs whole: {why}"),
    }
}

fn deadline(table: &str, column: &str, offset_ms: i64) -> Deadline {
    Deadline {
        table: table.into(),
        column: column.into(),
        offset_ms,
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
fn comparing_a_column_with_the_clock_sets_a_deadline() {
    let offline = clock_reads(
        "SELECT i.enterprise_id, i.target_code AS subject FROM indicators i CROSS JOIN clock c \
         WHERE i.offline_at <= c.now - INTERVAL '60 minutes' AND c.now < i.last_ts + INTERVAL '1 day'",
    );
    assert_eq!(
        offline.deadlines.into_iter().collect::<Vec<_>>(),
        vec![
            deadline("indicators", "last_ts", 86_400_000),
            deadline("indicators", "offline_at", 3_600_000),
        ]
    );
    assert_eq!(offline.calendar, None);
    // In a CASE, an aggregate's argument, a CTE forwarding the clock, a maximum's HAVING.
    let nested = clock_reads(
        "WITH x AS (SELECT i.*, c.now FROM indicators i CROSS JOIN clock c) \
         SELECT enterprise_id, enterprise_id AS subject, \
           sum(CASE WHEN status_ts > now - INTERVAL '8 hours' THEN 1 ELSE 0 END) AS value \
         FROM x GROUP BY enterprise_id, now HAVING max(last_ts) < now - INTERVAL '5 minutes'",
    );
    assert_eq!(
        nested.deadlines.into_iter().collect::<Vec<_>>(),
        vec![
            deadline("indicators", "last_ts", 300_000),
            deadline("indicators", "status_ts", 28_800_000),
        ]
    );
    let calendar = clock_reads(
        "SELECT m.enterprise_id, m.enterprise_id AS subject FROM commitments m CROSS JOIN clock c \
         WHERE m.date = c.local_date AND c.local_minute_of_day >= 600",
    );
    assert_eq!(calendar.calendar, Some(Step::Minute));
    assert!(calendar.deadlines.is_empty());
}

#[test]
fn rules_mixing_enterprises_or_reading_the_clock_otherwise_run_whole() {
    assert_whole(
        "SELECT i.enterprise_id, i.target_code AS subject FROM indicators i CROSS JOIN clock c \
         WHERE i.last_value > CAST(c.now AS BIGINT)",
        "`now`",
    );
    assert_whole(
        "SELECT i.enterprise_id, i.target_code AS subject FROM indicators i JOIN regions r \
         ON r.region_id = i.target_code",
        "regions",
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
fn values_that_follow_the_clock_keep_a_rule_local_while_they_do_not_decide_its_rows() {
    let offline = clock_reads(
        "SELECT i.enterprise_id, i.target_code AS subject, \
           CAST(CAST(c.now AS BIGINT) - CAST(i.offline_at AS BIGINT) AS DOUBLE) AS value \
         FROM indicators i CROSS JOIN clock c WHERE i.offline_at <= c.now",
    );
    assert!(offline.values);
    assert_eq!(
        offline.deadlines.into_iter().collect::<Vec<_>>(),
        vec![deadline("indicators", "offline_at", 0)]
    );
    let forwarded = clock_reads(
        "SELECT i.enterprise_id, i.target_code AS subject, c.now FROM indicators i CROSS JOIN clock c",
    );
    assert!(forwarded.values, "the clock's now returned as it is");
    // Through a CTE, an aggregate and a union.
    let summed = clock_reads(
        "WITH ages AS (SELECT i.enterprise_id, CAST(c.now AS BIGINT) - CAST(i.last_ts AS BIGINT) AS age \
           FROM indicators i CROSS JOIN clock c) \
         SELECT enterprise_id, enterprise_id AS subject, CAST(max(age) AS DOUBLE) AS value FROM ages \
         GROUP BY enterprise_id \
         UNION ALL SELECT enterprise_id, enterprise_id AS subject, 0.0 AS value FROM permits",
    );
    assert!(summed.values);
    assert!(!clock_reads("SELECT enterprise_id, target_code AS subject FROM indicators").values);

    assert_whole(
        "WITH x AS (SELECT i.*, CAST(c.now AS BIGINT) - CAST(i.last_ts AS BIGINT) AS age \
           FROM indicators i CROSS JOIN clock c) \
         SELECT enterprise_id, target_code AS subject FROM x WHERE age > 60000",
        "`now`",
    );
    assert_whole(
        "SELECT i.enterprise_id, CAST(c.now AS VARCHAR) AS subject FROM indicators i CROSS JOIN clock c",
        "subject",
    );
    assert_whole(
        "SELECT i.enterprise_id, i.enterprise_id AS subject, count(*) AS value \
         FROM indicators i CROSS JOIN clock c \
         GROUP BY i.enterprise_id, (CAST(c.now AS BIGINT) - CAST(i.last_ts AS BIGINT)) / 60000",
        "grouped by a value that follows the clock",
    );
    assert_whole(
        "SELECT DISTINCT i.enterprise_id, i.target_code AS subject, \
           (CAST(c.now AS BIGINT) - CAST(i.last_ts AS BIGINT)) / 60000 AS value \
         FROM indicators i CROSS JOIN clock c",
        // The optimiser makes it an aggregate.
        "follows the clock",
    );
}

#[test]
fn the_shipped_rules_are_local_unless_they_read_published_warnings_or_regions_or_decide_by_elapsed_time(
) {
    let engine = RuleEngine::new(Config::default().rules, Arc::new(Metrics::new()));
    let mut engine = engine;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let report = runtime.block_on(engine.reload(&dir));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let mut local = Vec::new();
    for rule in engine.rules() {
        let global = ["regions", "open_warnings"];
        let reads_global = rule.reads.iter().any(|t| global.contains(&t.as_str()));
        match (&rule.locality, reads_global) {
            (Locality::Local(_), false) => local.push(rule.header.id.as_str()),
            (Locality::Whole(why), true) => assert!(why.contains("not per enterprise"), "{why}"),
            // Rows decided by elapsed time against a per-row limit (R10: hours since issue).
            (Locality::Whole(why), false) => assert!(why.contains("`now`"), "{why}"),
            (locality, _) => panic!("{}: {locality:?}, reads {:?}", rule.header.id, rule.reads),
        }
    }
    // Hours overdue, minutes offline, hours active: values that follow the clock.
    for id in [
        "r03_point_offline",
        "r06_alarm_stale",
        "r07_rectification_overdue",
    ] {
        let rule = engine.rule(id).unwrap();
        assert!(
            matches!(&rule.locality, Locality::Local(clock) if clock.values),
            "{id}: {:?}",
            rule.locality
        );
    }
    // The rules over every indicator are the costly ones.
    for id in [
        "r03_enterprise_offline",
        "r04_sensor_quality",
        "r05_under_reporting",
    ] {
        assert!(local.contains(&id), "{id} is not local: {local:?}");
    }
}
