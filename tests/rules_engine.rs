//! The rules engine (issue 4): plans built once, hot reload, the sandbox, the result
//! contract, per-rule time and memory bounds, and reload in a running service.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Float64Type;
use vigil::config::{Config, RulesConfig};
use vigil::metrics::Metrics;
use vigil::model::{EventTime, Quality, ReadingSource, SensorReading};
use vigil::rules::{RuleEngine, TickReport};
use vigil::state::StateStore;

const ENTERPRISE: &str = "33010200001";

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rules")
        .join(path)
}

/// The world with a gas leak on AT001 (level 1 from minute 2) loaded into a store.
fn leaking_world() -> Arc<StateStore> {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [
        fixture("world.ndjson"),
        fixture("r02_gas_leak/fires.ndjson"),
    ];
    common::replay_files(&inputs, dir.path(), &Config::default()).store
}

/// 2020-03-02T00:02:30Z: AT001 is at level 1.
fn during_leak() -> EventTime {
    EventTime::parse_rfc3339("2020-03-02T00:02:30Z").unwrap()
}

fn rules_config(dir: &Path) -> RulesConfig {
    RulesConfig {
        dir: dir.to_owned(),
        ..Config::default().rules
    }
}

fn engine(dir: &Path) -> (RuleEngine, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    (
        RuleEngine::new(rules_config(dir), Arc::clone(&metrics)),
        metrics,
    )
}

const GAS_RULE: &str = "-- id: r02_test_gas\n-- title: gas\n-- severity: orange\n-- basis: test\n\
    SELECT enterprise_id, target_code AS subject, max_value AS value FROM sensor_windows\n\
    WHERE \"window\" = '1m' AND kind = 'flammable_gas' AND max_value >= l1_hi\n";

const LEVEL_RULE: &str =
    "-- id: r01_test_level\n-- title: level\n-- severity: yellow\n-- basis: test\n\
    SELECT enterprise_id, target_code AS subject FROM indicators WHERE kind = 'flammable_gas'\n";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A world with a gas leak and an engine loaded with `rules` (file name, text).
struct Loaded {
    store: Arc<StateStore>,
    engine: RuleEngine,
    metrics: Arc<Metrics>,
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

fn loaded(rules: &[(&str, &str)]) -> Loaded {
    let store = leaking_world();
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in rules {
        write(dir.path(), name, text);
    }
    let (mut engine, metrics) = engine(dir.path());
    let rt = runtime();
    rt.block_on(engine.reload(dir.path()));
    Loaded {
        store,
        engine,
        metrics,
        rt,
        dir,
    }
}

fn subjects(tick: &TickReport, rule: &str) -> Vec<String> {
    tick.hits
        .iter()
        .filter(|h| h.rule_id == rule)
        .map(|h| h.subject.clone())
        .collect()
}

#[test]
fn rules_are_planned_once_and_re_executed_every_tick() {
    let Loaded {
        store,
        mut engine,
        metrics,
        rt,
        dir,
    } = loaded(&[("gas.sql", GAS_RULE), ("level.sql", LEVEL_RULE)]);
    assert_eq!(metrics.rules.plans_built.get(), 2);
    let quiet = EventTime::parse_rfc3339("2020-03-02T00:01:30Z").unwrap();
    let before = rt.block_on(engine.tick(&store, quiet));
    let during = rt.block_on(engine.tick(&store, during_leak()));
    for _ in 0..20 {
        rt.block_on(engine.tick(&store, during_leak()));
    }
    rt.block_on(engine.reload(dir.path()));
    assert_eq!(
        metrics.rules.plans_built.get(),
        2,
        "ticks and unchanged reloads build no plan"
    );
    // The same plan saw different data: fresh batches were swapped in.
    assert!(subjects(&before, "r02_test_gas").is_empty());
    assert_eq!(
        subjects(&during, "r02_test_gas"),
        [format!("{ENTERPRISE}-AT001")]
    );
    assert_eq!(metrics.rules.ticks.get(), 22);
}

#[test]
fn a_tick_with_no_rule_due_builds_no_table_and_the_next_rule_sees_fresh_data() {
    let Loaded {
        store,
        mut engine,
        metrics: _,
        rt,
        dir,
    } = loaded(&[]);
    let idle = rt.block_on(engine.tick(&store, during_leak()));
    assert_eq!(
        (idle.tables.shards, idle.tables.shards_rebuilt),
        (0, 0),
        "no rule, no table built"
    );
    write(dir.path(), "gas.sql", GAS_RULE);
    rt.block_on(engine.reload(dir.path()));
    let tick = rt.block_on(engine.tick(&store, during_leak()));
    assert!(tick.tables.shards_rebuilt > 0);
    assert_eq!(
        subjects(&tick, "r02_test_gas"),
        [format!("{ENTERPRISE}-AT001")]
    );
}

/// A reading of `value` on AT001 at `at`, applied to the store as ingest would.
fn apply_reading(store: &StateStore, at: EventTime, value: f64) {
    let reading = SensorReading {
        ts: at,
        enterprise_id: ENTERPRISE.into(),
        target_code: format!("{ENTERPRISE}-AT001").into(),
        value,
        quality: Quality::Good,
        source: ReadingSource::Edge,
    };
    let partition = store
        .partitions()
        .into_iter()
        .find(|p| p.enterprises.contains_key(ENTERPRISE))
        .unwrap();
    partition
        .enterprises
        .get_mut(ENTERPRISE)
        .unwrap()
        .apply_reading(&reading, &Config::default().state)
        .unwrap();
}

const PERMIT_RULE: &str =
    "-- id: r10_test_permit\n-- title: permit\n-- severity: yellow\n-- basis: test\n\
    SELECT enterprise_id, permit_id AS subject FROM permits WHERE phase = 'active'\n";

#[test]
fn a_reading_rebuilds_its_shards_sensor_tables_only() {
    let Loaded {
        store,
        mut engine,
        rt,
        ..
    } = loaded(&[("level.sql", LEVEL_RULE), ("permit.sql", PERMIT_RULE)]);
    let first = rt.block_on(engine.tick(&store, during_leak()));
    assert_eq!(
        first.tables.batches_rebuilt, 2,
        "indicators and permits, built once"
    );
    let unchanged = rt.block_on(engine.tick(&store, during_leak().saturating_add_ms(1000)));
    assert_eq!(unchanged.tables.batches_rebuilt, 0, "nothing changed");
    // After the fixture's last reading, so it becomes the latest.
    let at = EventTime::parse_rfc3339("2020-03-02T01:00:00Z").unwrap();
    apply_reading(&store, at, 3.0);
    let tick = rt.block_on(engine.tick(&store, at));
    assert_eq!(
        (tick.tables.shards_rebuilt, tick.tables.batches_rebuilt),
        (1, 1),
        "the reading's shard rebuilds `indicators`, not `permits`"
    );
    let target = format!("{ENTERPRISE}-AT001");
    let shown: Vec<Option<f64>> = engine
        .table("indicators")
        .unwrap()
        .iter()
        .flat_map(|batch| {
            let codes = batch
                .column_by_name("target_code")
                .unwrap()
                .as_string::<i32>();
            let values = batch
                .column_by_name("last_value")
                .unwrap()
                .as_primitive::<Float64Type>();
            (0..batch.num_rows())
                .filter(|i| codes.value(*i) == target)
                .map(|i| values.is_valid(i).then(|| values.value(i)))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(shown, [Some(3.0)], "the table shows the new value");
}

#[test]
fn a_local_rule_runs_over_the_changed_shard_only_and_keeps_the_others_hits() {
    let Loaded {
        store,
        mut engine,
        rt,
        ..
    } = loaded(&[("level.sql", LEVEL_RULE)]);
    let run = |tick: &TickReport| {
        tick.runs
            .iter()
            .find(|r| r.rule_id == "r01_test_level")
            .unwrap()
            .shards
    };
    let first = rt.block_on(engine.tick(&store, during_leak()));
    assert_eq!(run(&first), None, "the first run is whole");
    let hits = subjects(&first, "r01_test_level");
    assert!(!hits.is_empty());
    let idle = rt.block_on(engine.tick(&store, during_leak().saturating_add_ms(1000)));
    assert_eq!(run(&idle), Some(0), "nothing changed, nothing runs");
    assert_eq!(
        subjects(&idle, "r01_test_level"),
        hits,
        "the hits carry over"
    );
    let at = EventTime::parse_rfc3339("2020-03-02T01:00:00Z").unwrap();
    apply_reading(&store, at, 3.0);
    let changed = rt.block_on(engine.tick(&store, at));
    assert_eq!(run(&changed), Some(1), "the reading's shard runs");
    assert_eq!(subjects(&changed, "r01_test_level"), hits);
}

/// Past 10 to start, back under 5 to stop: a rule that reads its own open episodes.
const HELD_RULE: &str = "-- id: r01_test_held\n-- title: held\n-- severity: yellow\n-- basis: test\n\
    SELECT i.enterprise_id, i.target_code AS subject FROM indicators i\n\
    LEFT JOIN active_warnings a ON a.rule_id = 'r01_test_held'\n\
      AND a.enterprise_id = i.enterprise_id AND a.subject = i.target_code\n\
    WHERE i.target_code LIKE '%-AT001' AND (i.last_value >= 10 OR (a.id IS NOT NULL AND i.last_value >= 5))\n";

#[test]
fn a_local_rule_reading_its_open_episodes_sees_them_open_and_close() {
    let Loaded {
        store,
        mut engine,
        rt,
        ..
    } = loaded(&[("held.sql", HELD_RULE)]);
    assert!(engine.rule("r01_test_held").unwrap().locality.is_local());
    let start = EventTime::parse_rfc3339("2020-03-02T01:00:00Z").unwrap();
    let held: Vec<bool> = [12.0, 7.0, 7.0, 3.0, 7.0, 11.0, 6.0]
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let at = start.saturating_add_ms(i as i64 * 1000);
            apply_reading(&store, at, *value);
            let tick = rt.block_on(engine.tick(&store, at));
            !subjects(&tick, "r01_test_held").is_empty()
        })
        .collect();
    assert_eq!(held, [true, true, true, false, false, true, true]);
}

const LAST_EVENT_RULE: &str =
    "-- id: r17_test_last_event\n-- title: last event\n-- severity: blue\n-- basis: test\n\
    SELECT enterprise_id, enterprise_id AS subject, CAST(last_event_ts AS VARCHAR) AS message\n\
    FROM enterprises\n";

const NAME_RULE: &str = "-- id: r17_test_name\n-- title: name\n-- severity: blue\n-- basis: test\n\
    SELECT enterprise_id, name AS subject FROM enterprises\n";

/// `enterprises.last_event_ts` moves with every reading: a rule reading it runs again, a
/// rule reading only the reference data does not.
#[test]
fn only_a_rule_reading_a_volatile_column_runs_again_when_only_it_changed() {
    let Loaded {
        store,
        mut engine,
        rt,
        ..
    } = loaded(&[("last_event.sql", LAST_EVENT_RULE), ("name.sql", NAME_RULE)]);
    rt.block_on(engine.tick(&store, during_leak()));
    let at = EventTime::parse_rfc3339("2020-03-02T01:00:00Z").unwrap();
    apply_reading(&store, at, 3.0);
    let tick = rt.block_on(engine.tick(&store, at));
    let shards = |id: &str| tick.runs.iter().find(|r| r.rule_id == id).unwrap().shards;
    assert_eq!(shards("r17_test_last_event"), Some(1));
    assert_eq!(shards("r17_test_name"), Some(0));
    let shown: Vec<&str> = (tick.hits.iter())
        .filter(|h| h.rule_id == "r17_test_last_event" && h.enterprise_id == ENTERPRISE)
        .filter_map(|h| h.message.as_deref())
        .collect();
    assert_eq!(shown, ["2020-03-02T01:00:00Z"]);
}

#[test]
fn a_hash_join_builds_its_table_from_the_smaller_kind_of_table() {
    // R1 looks its open warnings up for every indicator in range: DataFusion alone hashes the
    // indicators (their size estimate is lost after the clock and window joins).
    let store = leaking_world();
    let dir = tempfile::tempdir().unwrap();
    let shipped =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/process/r01_process_limit.sql");
    std::fs::copy(shipped, dir.path().join("r01_process_limit.sql")).unwrap();
    let (mut engine, _metrics) = engine(dir.path());
    let rt = runtime();
    rt.block_on(engine.reload(dir.path()));
    rt.block_on(engine.tick(&store, during_leak()));
    let plan = rt
        .block_on(engine.explain_analyze("r01_process_limit"))
        .unwrap();
    let warnings_join = plan
        .lines()
        .find(|l| l.contains("HashJoinExec") && l.contains("subject"))
        .unwrap_or_else(|| panic!("{plan}"));
    assert!(
        warnings_join.contains("join_type=Right"),
        "active_warnings is the build side: {warnings_join}"
    );
}

#[test]
fn hot_reload_changes_adds_removes_and_rejects() {
    let Loaded {
        store,
        dir,
        mut engine,
        metrics,
        rt,
    } = loaded(&[("gas.sql", GAS_RULE)]);
    let first_version = engine.rule("r02_test_gas").unwrap().version.clone();
    let tick = rt.block_on(engine.tick(&store, during_leak()));
    assert_eq!(tick.opened.len(), 1);

    // Changed: the new version runs (red now).
    write(dir.path(), "gas.sql", &GAS_RULE.replace("orange", "red"));
    let report = rt.block_on(engine.reload(dir.path()));
    assert_eq!(report.loaded, ["r02_test_gas"]);
    assert_ne!(engine.rule("r02_test_gas").unwrap().version, first_version);
    let tick = rt.block_on(engine.tick(&store, during_leak()));
    assert_eq!(tick.hits[0].color.as_str(), "red");

    // Broken: rejected with its line, counted, the previous version keeps running.
    let running = engine.rule("r02_test_gas").unwrap().version.clone();
    write(
        dir.path(),
        "gas.sql",
        &GAS_RULE.replace("max_value >= l1_hi", "no_such_column > 1"),
    );
    let report = rt.block_on(engine.reload(dir.path()));
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert!(
        report.problems[0].to_string().contains("gas.sql:5"),
        "{}",
        report.problems[0]
    );
    assert_eq!(metrics.rules.reload_failures.get(), 1);
    assert_eq!(engine.rule("r02_test_gas").unwrap().version, running);
    let tick = rt.block_on(engine.tick(&store, during_leak()));
    assert_eq!(
        subjects(&tick, "r02_test_gas").len(),
        1,
        "old version still runs"
    );

    // Added.
    write(dir.path(), "level.sql", LEVEL_RULE);
    let report = rt.block_on(engine.reload(dir.path()));
    assert_eq!(report.loaded, ["r01_test_level"]);
    let tick = rt.block_on(engine.tick(&store, during_leak()));
    assert_eq!(subjects(&tick, "r01_test_level").len(), 2);

    // Removed: it stops, and its open episodes close (their warnings resolve: rule_removed).
    std::fs::remove_file(dir.path().join("level.sql")).unwrap();
    let report = rt.block_on(engine.reload(dir.path()));
    assert_eq!(report.removed, ["r01_test_level"]);
    assert!(engine.rule("r01_test_level").is_none());
    assert!(engine
        .active_warnings()
        .iter()
        .all(|w| w.rule_id != "r01_test_level"));
    let tick = rt.block_on(engine.tick(&store, during_leak()));
    assert!(subjects(&tick, "r01_test_level").is_empty());
    assert_eq!(metrics.rules.loaded.get(), 1);
}

/// Every kind of statement a rule may not be: each is rejected before planning.
#[test]
fn the_sandbox_rejects_everything_but_one_read_only_select() {
    let header = "-- id: r01_bad\n-- title: t\n-- severity: red\n-- basis: b\n";
    let forbidden = [
        ("CREATE TABLE x (a INT)", "not allowed"),
        ("CREATE VIEW v AS SELECT * FROM clock", "not allowed"),
        ("DROP TABLE indicators", "not allowed"),
        ("INSERT INTO clock VALUES (1)", "not allowed"),
        ("UPDATE indicators SET kind = 'x'", "not allowed"),
        ("DELETE FROM indicators", "not allowed"),
        ("COPY indicators TO '/tmp/x.csv'", "COPY"),
        ("CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'", "CREATE EXTERNAL TABLE"),
        ("SET datafusion.execution.batch_size = 1", "not allowed"),
        ("EXPLAIN SELECT * FROM clock", "EXPLAIN"),
        ("SELECT 1 AS a; SELECT 2 AS b", "exactly one"),
        ("SELECT * INTO copy FROM clock", "SELECT INTO"),
        ("SELECT * FROM read_csv('/etc/passwd')", "table function"),
        ("SELECT * FROM '/etc/passwd'", "relation"),
        ("SELECT * FROM information_schema.tables", "relation"),
        ("SELECT * FROM datafusion.public.clock", "relation"),
        ("SELECT enterprise_id, enterprise_id AS subject FROM enterprises WHERE now() > last_event_ts", "now()"),
        ("SELECT enterprise_id, enterprise_id AS subject FROM enterprises WHERE random() > 0.5", "random()"),
        ("SELECT * FROM generate_series(1, 10)", "table function"),
    ];
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (engine, metrics) = engine(dir.path());
    for (sql, reason) in forbidden {
        let result = rt.block_on(engine.compile(Path::new("bad.sql"), &format!("{header}{sql}\n")));
        let err = result.expect_err(sql);
        assert!(err.message.contains(reason), "{sql}: {err}");
    }
    assert_eq!(metrics.rules.plans_built.get(), 0);
}

#[test]
fn the_result_contract_is_checked_at_load() {
    let header = "-- id: r01_bad\n-- title: t\n-- severity: red\n-- basis: b\n";
    let broken = [
        ("SELECT enterprise_id FROM enterprises", "`subject`"),
        (
            "SELECT enterprise_id, 1 AS subject FROM enterprises",
            "`subject` must be a string",
        ),
        (
            "SELECT target_code AS subject FROM indicators",
            "`enterprise_id`",
        ),
        (
            "SELECT enterprise_id, enterprise_id AS subject, 3 AS color FROM enterprises",
            "`color`",
        ),
        (
            "SELECT enterprise_id, enterprise_id AS subject, name AS value FROM enterprises",
            "`value`",
        ),
    ];
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = engine(dir.path());
    for (sql, reason) in broken {
        let err = rt
            .block_on(engine.compile(Path::new("bad.sql"), &format!("{header}{sql}\n")))
            .expect_err(sql);
        assert!(err.message.contains(reason), "{sql}: {err}");
        assert_eq!(err.line, 5, "{sql}");
    }
}

#[test]
fn a_bad_colour_at_run_time_is_a_contract_error_of_that_rule_only() {
    let store = leaking_world();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "gas.sql", GAS_RULE);
    write(
        dir.path(),
        "purple.sql",
        "-- id: r01_purple\n-- title: t\n-- severity: red\n-- basis: b\n\
         SELECT enterprise_id, enterprise_id AS subject, 'purple' AS color FROM enterprises\n",
    );
    let (mut engine, metrics) = engine(dir.path());
    let rt = runtime();
    rt.block_on(engine.reload(dir.path()));
    let tick = rt.block_on(engine.tick(&store, during_leak()));
    let purple = tick
        .runs
        .iter()
        .find(|r| r.rule_id == "r01_purple")
        .unwrap();
    assert!(purple.error.as_ref().unwrap().message.contains("purple"));
    assert_eq!(
        metrics
            .rules
            .errors
            .with_label_values(&["r01_purple", "contract"])
            .get(),
        1
    );
    assert_eq!(subjects(&tick, "r02_test_gas").len(), 1);
}

/// A cross join of the indicators eight times over: millions of rows.
const HEAVY_RULE: &str = "-- id: r01_heavy\n-- title: t\n-- severity: red\n-- basis: b\n\
    SELECT a.enterprise_id, a.target_code AS subject, count(*) AS n\n\
    FROM indicators a, indicators b, indicators c, indicators d, indicators e, indicators f, indicators g, indicators h\n\
    GROUP BY a.enterprise_id, a.target_code, b.target_code, c.target_code, d.target_code\n";

/// Runs the heavy rule next to the gas rule under `bound`; checks that the heavy one failed
/// with `kind` and a message containing `message`, and that the gas rule still hit.
fn heavy_rule_fails_alone(
    bound: impl FnOnce(RulesConfig) -> RulesConfig,
    kind: &str,
    message: &str,
) {
    let store = leaking_world();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "gas.sql", GAS_RULE);
    write(dir.path(), "heavy.sql", HEAVY_RULE);
    let metrics = Arc::new(Metrics::new());
    let mut engine = RuleEngine::new(bound(rules_config(dir.path())), Arc::clone(&metrics));
    let rt = runtime();
    rt.block_on(engine.reload(dir.path()));
    let tick = rt.block_on(engine.tick(&store, during_leak()));
    let heavy = tick.runs.iter().find(|r| r.rule_id == "r01_heavy").unwrap();
    let error = heavy.error.as_ref().map_or("", |e| e.message.as_str());
    assert!(error.contains(message), "{heavy:?}");
    let failures = metrics.rules.errors.with_label_values(&["r01_heavy", kind]);
    assert_eq!(failures.get(), 1);
    assert_eq!(subjects(&tick, "r02_test_gas").len(), 1);
}

#[test]
fn a_rule_over_its_time_is_abandoned_and_the_others_run() {
    heavy_rule_fails_alone(
        |c| RulesConfig {
            rule_timeout: Duration::from_millis(5),
            ..c
        },
        "timeout",
        "timed out",
    );
}

#[test]
fn a_rule_over_its_memory_fails_and_the_others_run() {
    heavy_rule_fails_alone(
        |c| RulesConfig {
            memory_limit: 64 * 1024,
            ..c
        },
        "execution",
        "Resources exhausted",
    );
}

/// In a running service a broken file dropped into the rules directory is rejected and the
/// rules already running keep running (the watcher path, end to end).
#[test]
fn a_broken_file_dropped_into_a_running_engine_is_rejected() {
    use vigil::ingest::kafka::ClockHook;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "gas.sql", GAS_RULE);
    let metrics = Arc::new(Metrics::new());
    let store = leaking_world();
    let rt = runtime();
    let mut live = rt
        .block_on(vigil::app::live_rules::LiveRules::start(
            &rules_config(dir.path()),
            store,
            Arc::clone(&metrics),
            vigil::app::live_rules::WarningOutputs {
                book: vigil::warnings::WarningBook::new(
                    &Config::default().warnings,
                    Default::default(),
                ),
                view: Arc::new(vigil::warnings::view::WarningView::new(100)),
                sender: None,
            },
        ))
        .unwrap();
    let mut wait_for = |what: &str, done: &dyn Fn() -> bool| {
        for _ in 0..100 {
            rt.block_on(async {
                live.maintain().await;
                if let Some(at) = live.due(during_leak(), None) {
                    live.tick(at).await;
                }
            });
            if done() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("timed out waiting for {what}");
    };
    wait_for("the first tick", &|| metrics.rules.ticks.get() == 1);
    assert_eq!(metrics.rules.loaded.get(), 1);
    write(
        dir.path(),
        "broken.sql",
        "-- id: r03_broken\n-- title: t\n-- severity: red\n-- basis: b\nSELEC nonsense\n",
    );
    wait_for("the rejection", &|| {
        metrics.rules.reload_failures.get() == 1
    });
    assert_eq!(metrics.rules.loaded.get(), 1);
    write(dir.path(), "level.sql", LEVEL_RULE);
    wait_for("the new rule", &|| metrics.rules.loaded.get() == 2);
}

#[test]
fn a_rule_returning_more_than_its_hits_bound_fails_and_the_others_run() {
    // The heavy rule's cross join without a filter: rows, not memory, are the danger.
    heavy_rule_fails_alone(
        |c| RulesConfig {
            max_hits_per_tick: 3,
            ..c
        },
        "overflow",
        "more than 3 hits",
    );
}

/// Issue 19, item 10: rule files that once aborted the process at load (DataFusion folds
/// constants while planning, outside any memory pool) or could run without end. Each has a
/// valid header, so only the sandbox stands between it and the service.
fn hostile_rules() -> Vec<(&'static str, String)> {
    let header = "-- id: r02_test_gas\n-- title: hostile\n-- severity: red\n-- basis: none\n";
    let deep = format!(
        "SELECT enterprise_id, enterprise_id AS subject FROM enterprises WHERE {}1 = 1{}",
        "(".repeat(5_000),
        ")".repeat(5_000)
    );
    let bodies = [
        ("range", "SELECT e.enterprise_id, e.enterprise_id AS subject, t.v AS value FROM enterprises e CROSS JOIN (SELECT unnest(range(1, 300000000)) AS v) t WHERE t.v < 0".to_owned()),
        ("generate_series", "SELECT enterprise_id, enterprise_id AS subject FROM enterprises WHERE cardinality(generate_series(1, 300000000)) < 0".to_owned()),
        ("repeat", "SELECT enterprise_id, enterprise_id AS subject FROM enterprises WHERE length(repeat('x', 2000000000)) < 0".to_owned()),
        ("lpad", "SELECT enterprise_id, lpad(enterprise_id, 2000000000) AS subject FROM enterprises".to_owned()),
        ("recursive", "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT enterprise_id, enterprise_id AS subject FROM enterprises, t".to_owned()),
        ("deep", deep),
        ("literal", format!("SELECT enterprise_id, '{}' AS subject FROM enterprises", "x".repeat(20_000))),
        ("relations", format!("SELECT a.enterprise_id, a.enterprise_id AS subject FROM enterprises a{}", (0..20).map(|i| format!(", enterprises t{i}")).collect::<String>())),
        ("size", format!("SELECT enterprise_id, enterprise_id AS subject FROM enterprises\n{}", "-- padding\n".repeat(10_000))),
    ];
    bodies
        .into_iter()
        .map(|(name, body)| (name, format!("{header}{body}\n")))
        .collect()
}

#[test]
fn hostile_rule_files_fail_rules_check() {
    let rt = runtime();
    for (name, text) in hostile_rules() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "hostile.sql", &text);
        let report = rt.block_on(vigil::app::rules::check(&Config::default(), dir.path()));
        assert!(!report.ok, "{name}: {}", report.text);
        assert!(report.text.contains("FAIL"), "{name}: {}", report.text);
    }
}

#[test]
fn a_hostile_file_replacing_a_running_rule_is_rejected_and_the_old_version_keeps_running() {
    let Loaded {
        store,
        dir,
        mut engine,
        metrics,
        rt,
    } = loaded(&[("gas.sql", GAS_RULE)]);
    let version = engine.rule("r02_test_gas").unwrap().version.clone();
    for (name, text) in hostile_rules() {
        write(dir.path(), "gas.sql", &text);
        let report = rt.block_on(engine.reload(dir.path()));
        assert_eq!(report.problems.len(), 1, "{name}");
        assert_eq!(
            engine.rule("r02_test_gas").unwrap().version,
            version,
            "{name}"
        );
        let tick = rt.block_on(engine.tick(&store, during_leak()));
        assert_eq!(subjects(&tick, "r02_test_gas").len(), 1, "{name}");
    }
    assert_eq!(
        metrics.rules.reload_failures.get(),
        hostile_rules().len() as u64
    );
}

#[test]
fn a_missing_rules_directory_is_an_error_and_dot_folders_are_skipped() {
    let missing = Path::new("/nonexistent/vigil/queries");
    assert!(vigil::rules::loader::rule_files(missing).is_err());
    // A ConfigMap mount: the files are symlinks into ..data, which holds them again.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("..2026_12_06_00_00_00.1");
    std::fs::create_dir(&data).unwrap();
    write(&data, "gas.sql", GAS_RULE);
    std::os::unix::fs::symlink(&data, dir.path().join("..data")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("..data/gas.sql"),
        dir.path().join("gas.sql"),
    )
    .unwrap();
    let files = vigil::rules::loader::rule_files(dir.path()).unwrap();
    assert_eq!(files, vec![dir.path().join("gas.sql")]);
    let (mut engine, _) = engine(dir.path());
    let report = runtime().block_on(engine.reload(dir.path()));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.loaded, vec!["r02_test_gas".to_owned()]);
}
