//! Every rule file in `queries/` against its fixtures (issue 4): it must fire on
//! `tests/fixtures/rules/<rule id>/fires.ndjson` (the hits are snapshot-tested) and stay
//! quiet on `quiet.ndjson`, both replayed after the shared `world.ndjson`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rstest::rstest;
use serde_json::Value;
use vigil::app::replay::{run, ReplayOptions};
use vigil::config::Config;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

/// Rules a fixture needs running alongside (listed in its `also` file): R7 watches the
/// warnings of other rules.
fn companions(fixture_dir: &Path) -> Vec<PathBuf> {
    let Ok(list) = std::fs::read_to_string(fixture_dir.join("also")) else {
        return Vec::new();
    };
    let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    list.lines()
        .filter(|id| !id.trim().is_empty())
        .map(|id| find_rule(&queries, id.trim()).unwrap_or_else(|| panic!("no rule {id}")))
        .collect()
}

fn find_rule(dir: &Path, id: &str) -> Option<PathBuf> {
    vigil::rules::loader::rule_files(dir)
        .unwrap()
        .into_iter()
        .find(|p| p.file_stem().is_some_and(|s| s == id))
}

/// Replays the world and `fixture` with `rule` (and its companions) loaded; returns the
/// hits of `rule`.
fn hits_of(rule: &Path, fixture: &Path) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let id = rule_id(rule);
    for file in std::iter::once(rule.to_owned()).chain(companions(fixture.parent().unwrap())) {
        std::fs::copy(&file, rules.join(file.file_name().unwrap())).unwrap();
    }
    let hits_out = dir.path().join("hits.ndjson");
    let options = ReplayOptions {
        inputs: vec![fixtures().join("world.ndjson"), fixture.to_owned()],
        rules: Some(rules),
        hits_out: Some(hits_out.clone()),
        ..ReplayOptions::default()
    };
    let result = run(&Config::default(), &options).expect("replay runs");
    assert_eq!(
        result.summary.dead_total(),
        0,
        "fixture {} has bad records: {:?}",
        fixture.display(),
        result.summary.dead
    );
    std::fs::read_to_string(hits_out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|hit| hit["rule_id"] == id.as_str())
        .collect()
}

/// The first hit of each (enterprise, subject, colour), in time order: what a reader of the
/// snapshot needs to see that the rule found the right thing.
fn first_hits(hits: &[Value]) -> Vec<&Value> {
    let mut seen = BTreeMap::new();
    for hit in hits {
        let key = (
            hit["enterprise_id"].to_string(),
            hit["subject"].to_string(),
            hit["color"].to_string(),
        );
        seen.entry(key).or_insert(hit);
    }
    let mut firsts: Vec<&Value> = seen.into_values().collect();
    firsts.sort_by_key(|h| (h["at"].to_string(), h["subject"].to_string()));
    firsts
}

fn rule_id(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    vigil::rules::header::parse(&text).unwrap().id
}

#[rstest]
fn rule_fires_on_its_fixture_and_not_on_normal_operation(
    #[files("queries/**/*.sql")] rule: PathBuf,
) {
    let id = rule_id(&rule);
    let dir = fixtures().join(&id);
    assert_eq!(
        rule.file_stem().unwrap().to_str().unwrap(),
        id,
        "a rule file is named after its id"
    );

    let fires = hits_of(&rule, &dir.join("fires.ndjson"));
    assert!(!fires.is_empty(), "{id} did not fire on its fixture");
    insta::assert_json_snapshot!(format!("hits_{id}"), first_hits(&fires));

    let quiet = hits_of(&rule, &dir.join("quiet.ndjson"));
    assert!(
        quiet.is_empty(),
        "{id} fired on normal operation: {quiet:#?}"
    );
}

#[test]
fn every_shipped_rule_file_checks_clean() {
    let config = Config::default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let report = runtime.block_on(vigil::app::rules::check(&config, &queries));
    assert!(report.ok, "{}", report.text);
    // R1-R17 are all covered.
    for n in 1..=17 {
        let prefix = format!("r{n:02}_");
        assert!(
            report.text.contains(&prefix),
            "no rule for R{n}:\n{}",
            report.text
        );
    }
}

/// The README lists the rule tables exactly as the code defines them.
#[test]
fn the_readme_documents_every_rule_table() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let tables = vigil::rules::tables::markdown();
    assert!(
        readme.contains(&tables),
        "README's table list is stale; paste `vigil rules tables`:\n{tables}"
    );
}

/// Normal simulated operation (the province's registry and two hours of readings around
/// their normal values) raises nothing from any shipped rule.
#[test]
fn the_shipped_rules_stay_quiet_on_normal_simulated_operation() {
    let province = vigil::sim::Province::generate(7, 20, 2);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("normal.ndjson");
    let mut text = String::new();
    for record in province.registry_records() {
        text.push_str(&record.to_ndjson());
        text.push('\n');
    }
    // 2020-03-01T00:00:00Z, 08:00 local: the day's commitments are not due yet.
    let start = vigil::model::EventTime::from_millis(1_583_020_800_000);
    let end = start.saturating_add_ms(2 * 3_600_000);
    for record in vigil::sim::ReadingStream::new(&province, 1, start) {
        let at = record.value["ts"]
            .as_str()
            .and_then(vigil::model::EventTime::parse_rfc3339);
        if at.is_none_or(|t| t >= end) {
            break;
        }
        text.push_str(&record.to_ndjson());
        text.push('\n');
    }
    std::fs::write(&input, text).unwrap();
    let hits_out = dir.path().join("hits.ndjson");
    let options = ReplayOptions {
        inputs: vec![input],
        rules: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("queries")),
        hits_out: Some(hits_out.clone()),
        ..ReplayOptions::default()
    };
    // A tick every 30 s of event time keeps the test quick in the debug profile.
    let mut config = Config::default();
    config.rules.tick = std::time::Duration::from_secs(30);
    let result = run(&config, &options).expect("replay runs");
    assert!(result.summary.applied > 10_000, "{:?}", result.summary);
    let backtest = result.backtest.unwrap();
    let shipped =
        vigil::rules::loader::rule_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("queries"))
            .unwrap()
            .len();
    assert_eq!(backtest.rules.len(), shipped, "every shipped rule ran");
    assert!(backtest
        .rules
        .values()
        .all(|r| r.evaluations > 0 && r.errors == 0));
    let hits = std::fs::read_to_string(hits_out).unwrap();
    assert!(hits.is_empty(), "{}", &hits[..hits.len().min(2000)]);
}
