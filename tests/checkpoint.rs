//! Checkpoints (issue 13): a partition's state written and read back is the state it was, a
//! pipeline restored from it continues exactly as the one that never stopped, and the store
//! keeps the newest readable checkpoints.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use vigil::checkpoint::{copy_enterprises, CheckpointConfig, CheckpointStore, PartitionCheckpoint};
use vigil::config::Config;
use vigil::error::CheckpointError;
use vigil::ingest::{Disposition, Pipeline, Position, RecordRef};
use vigil::metrics::Metrics;
use vigil::model::EventTime;
use vigil::sim::span::Span;
use vigil::sim::stream::ProvinceStream;
use vigil::sim::{Province, SimRecord};
use vigil::state::StateStore;

const PARTITIONS: i32 = 3;

/// Two hours of a province's whole stream (registry first), as Kafka would hold it: keyed by
/// enterprise, spread over `PARTITIONS` partitions by key.
fn stream(province: &Province) -> Vec<SimRecord> {
    let start = common::T0.saturating_add_ms(8 * 3_600_000);
    let span = Span {
        province,
        seed: 5,
        start,
        end: start.saturating_add_ms(2 * 3_600_000),
        injections: &[],
    };
    let mut records = province.registry_records();
    records.extend(ProvinceStream::new(span).map(|item| item.into_record()));
    records
}

fn partition_of(key: &str) -> i32 {
    (key.bytes().map(i32::from).sum::<i32>()) % PARTITIONS
}

struct Fed {
    pipeline: Pipeline,
    store: Arc<StateStore>,
    offsets: BTreeMap<(String, i32), i64>,
}

impl Fed {
    fn new() -> Self {
        let store = Arc::new(StateStore::new(Default::default()));
        let pipeline = Pipeline::new(
            Arc::clone(&store),
            Config::default().ingest,
            Arc::new(Metrics::new()),
        );
        Fed {
            pipeline,
            store,
            offsets: BTreeMap::new(),
        }
    }

    /// Feeds records (replay semantics: no wall clock) and returns their dispositions.
    fn feed(&mut self, records: &[SimRecord]) -> Vec<Disposition> {
        let mut out = Vec::new();
        for record in records {
            let partition = partition_of(&record.key);
            let offset = self
                .offsets
                .entry((record.topic.to_owned(), partition))
                .or_default();
            let payload = record.value.to_string();
            self.pipeline.process(
                RecordRef {
                    topic: record.topic,
                    partition,
                    position: Position::Offset(*offset),
                    key: Some(record.key.as_bytes()),
                    payload: payload.as_bytes(),
                },
                None,
                &mut out,
            );
            *offset += 1;
        }
        out
    }

    fn offsets_of(&self, partition: i32) -> BTreeMap<String, i64> {
        self.offsets
            .iter()
            .filter(|((_, p), _)| *p == partition)
            .map(|((topic, _), next)| (topic.clone(), *next))
            .collect()
    }

    fn checkpoint(&self, partition: i32) -> Vec<u8> {
        self.checkpoint_at(partition, None)
    }

    /// A checkpoint taken when the engine's last tick was `tick`.
    fn checkpoint_at(&self, partition: i32, tick: Option<EventTime>) -> Vec<u8> {
        PartitionCheckpoint {
            partition,
            offsets: self.offsets_of(partition),
            taken_at_ms: 1,
            tick,
            ingest: self.pipeline.snapshot(partition),
            enterprises: copy_enterprises(&self.store.partition(partition)),
            engine: b"engine".to_vec(),
        }
        .encode(0)
        .expect("a checkpoint encodes")
    }

    fn restore(&mut self, bytes: &[u8]) {
        let checkpoint = PartitionCheckpoint::decode(bytes).expect("a checkpoint decodes");
        assert_eq!(checkpoint.engine, b"engine");
        for (topic, next) in &checkpoint.offsets {
            self.offsets
                .insert((topic.clone(), checkpoint.partition), *next);
        }
        self.pipeline.restore(
            checkpoint.partition,
            checkpoint.ingest,
            checkpoint.enterprises,
            0,
        );
    }

    fn state_of(&self, partition: i32) -> BTreeMap<String, vigil::state::EnterpriseState> {
        let state = self.store.partition(partition);
        let map = state
            .enterprises
            .iter()
            .map(|e| (e.key().to_string(), e.value().clone()))
            .collect();
        map
    }
}

#[test]
fn a_pipeline_restored_from_its_checkpoints_goes_on_as_if_it_never_stopped() {
    let province = Province::generate(11, 12, 1);
    let records = stream(&province);
    let cut = records.len() * 3 / 5;
    assert!(records.len() > 10_000, "{} records", records.len());

    let mut survivor = Fed::new();
    survivor.feed(&records[..cut]);
    let checkpoints: Vec<Vec<u8>> = (0..PARTITIONS).map(|p| survivor.checkpoint(p)).collect();

    let mut restarted = Fed::new();
    for bytes in &checkpoints {
        restarted.restore(bytes);
    }
    for p in 0..PARTITIONS {
        assert_eq!(
            restarted.state_of(p),
            survivor.state_of(p),
            "partition {p} read back"
        );
        assert_eq!(
            restarted.pipeline.partition_watermark(p),
            survivor.pipeline.partition_watermark(p)
        );
    }

    let after_survivor = survivor.feed(&records[cut..]);
    let after_restart = restarted.feed(&records[cut..]);
    assert_eq!(
        after_restart, after_survivor,
        "the same dispositions after the cut"
    );
    for p in 0..PARTITIONS {
        assert!(!survivor.state_of(p).is_empty());
        assert_eq!(
            restarted.state_of(p),
            survivor.state_of(p),
            "partition {p} at the end"
        );
    }
    assert_eq!(
        restarted.pipeline.clock_report(0).now,
        survivor.pipeline.clock_report(0).now,
        "the same engine clock"
    );
}

#[test]
fn a_record_applied_before_the_checkpoint_is_a_duplicate_after_it() {
    let province = Province::generate(3, 2, 1);
    let records = stream(&province);
    let mut fed = Fed::new();
    fed.feed(&records[..2_000]);
    let bytes = fed.checkpoint(partition_of(&records[1_999].key));
    let mut restarted = Fed::new();
    restarted.restore(&bytes);
    restarted.offsets.clear();
    let again = restarted.feed(&records[1_999..2_000]);
    match &again[0].outcome {
        vigil::ingest::Outcome::Dead(letter) => assert_eq!(letter.reason_code, "duplicate"),
        other => panic!("{other:?}: the restored dedup filter should know the record"),
    }
}

fn store(dir: &std::path::Path, keep: usize) -> CheckpointStore {
    let config = CheckpointConfig {
        url: dir.display().to_string(),
        interval: std::time::Duration::from_secs(10),
        keep,
        on_unreadable: Default::default(),
    };
    CheckpointStore::open(&config, "group-a").expect("a local store opens")
}

#[tokio::test]
async fn the_store_keeps_the_newest_and_passes_over_an_unreadable_one() {
    let dir = tempfile::tempdir().unwrap();
    let fed = {
        let mut fed = Fed::new();
        let province = Province::generate(3, 2, 1);
        fed.feed(&stream(&province)[..500]);
        fed
    };
    let store = store(dir.path(), 2);
    assert!(store.latest(0).await.unwrap().is_none());
    for progress in [10, 30, 20] {
        store
            .write(0, progress, progress * 1000, fed.checkpoint(0))
            .await
            .unwrap();
    }
    let files = std::fs::read_dir(dir.path().join("group-a/partition-00000"))
        .unwrap()
        .count();
    assert_eq!(files, 2, "older checkpoints are pruned");
    let latest = store.latest(0).await.unwrap().expect("a checkpoint");
    assert!(
        latest.location.as_ref().contains("00000000000000000030-"),
        "{}",
        latest.location
    );

    store
        .write(0, 40, 40_000, b"VIGILC\x01\0\0\0garbage".to_vec())
        .await
        .unwrap();
    let latest = store
        .latest(0)
        .await
        .unwrap()
        .expect("an older one still reads");
    assert!(latest.location.as_ref().contains("00000000000000000030-"));
    assert!(
        store.latest(1).await.unwrap().is_none(),
        "partitions are apart"
    );
}

/// A real checkpoint, its header saying schema 99.
fn of_schema_99() -> Vec<u8> {
    let mut bytes = Fed::new().checkpoint(0);
    bytes[6..10].copy_from_slice(&99u32.to_le_bytes());
    bytes
}

#[test]
fn another_schema_version_is_refused_with_its_number() {
    let bytes = of_schema_99();
    match PartitionCheckpoint::decode(&bytes) {
        Err(CheckpointError::Schema { found: 99, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        PartitionCheckpoint::decode(b"nope"),
        Err(CheckpointError::Magic)
    ));
}

#[test]
fn event_times_survive_the_encoding() {
    let at = EventTime::from_millis(1_583_020_800_123);
    let bytes = rmp_serde::to_vec_named(&at).unwrap();
    assert_eq!(rmp_serde::from_slice::<EventTime>(&bytes).unwrap(), at);
}

/// Issue 19, item 7: after a rollback, the newest checkpoints are of a schema this vigil
/// cannot read; the one it writes next must survive pruning, however few are kept.
#[tokio::test]
async fn pruning_never_deletes_the_checkpoint_just_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 1);
    store.write(0, 50, 50_000, of_schema_99()).await.unwrap();
    store
        .write(0, 20, 60_000, Fed::new().checkpoint(0))
        .await
        .unwrap();
    let latest = store
        .latest(0)
        .await
        .unwrap()
        .expect("the one just written");
    assert!(latest.location.as_ref().contains("00000000000000000020-"));
}

/// A crash between two partitions' writes of one checkpoint cycle: the partitions restart at
/// one tick, the one written last at its previous checkpoint.
#[tokio::test]
async fn a_partition_is_found_at_the_tick_the_others_restart_at() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 3);
    let fed = Fed::new();
    let tick = |s: i64| Some(EventTime::from_millis(s * 1000));
    for (progress, at) in [(10, None), (20, tick(60)), (30, tick(61))] {
        let bytes = fed.checkpoint_at(0, at);
        store
            .write(0, progress, progress * 1000, bytes)
            .await
            .unwrap();
    }
    let at = |t| {
        let store = &store;
        async move {
            let loaded = store.newest_at_or_before(0, t).await.unwrap();
            loaded.map(|l| l.checkpoint.tick)
        }
    };
    assert_eq!(at(tick(61)).await, Some(tick(61)));
    assert_eq!(at(tick(60)).await, Some(tick(60)));
    assert_eq!(
        at(tick(60).map(|t| t.saturating_add_ms(500))).await,
        Some(tick(60))
    );
    assert_eq!(at(None).await, Some(None), "before the first tick");
    assert_eq!(at(Some(EventTime::from_millis(0))).await, Some(None));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]

    /// A learned model (issue 22) and an indicator's baseline reach the state through the
    /// registry topic as `vigil learn` writes them, and come back from a checkpoint,
    /// unchanged to the last bit.
    #[test]
    fn a_model_round_trips_through_the_registry_topic_and_a_checkpoint(
        columns in 2usize..6,
        seed in 0u64..1_000_000,
        scale in -6i32..6,
    ) {
        use vigil::monitor::fit::{fit, Unit};
        let noise = |i: usize, j: usize| {
            let x = (seed as f64 + 1.0) * (i as f64 * 0.618 + j as f64 * 1.414 + 0.5);
            (x.sin() * 43_758.545).fract()
        };
        let rows: Vec<Vec<f64>> = (0..80)
            .map(|i| {
                (0..columns)
                    .map(|j| 10f64.powi(scale) * (noise(i, 0) + 0.3 * noise(i, j + 1) + j as f64))
                    .collect()
            })
            .collect();
        let enterprise = "33010200001";
        let unit = Unit {
            enterprise_id: enterprise.into(),
            unit: "plant".into(),
            indicators: (0..columns).map(|j| format!("{enterprise}-P{j:03}")).collect(),
            sample_period_s: 60,
        };
        let model = fit(&unit, &rows, &vigil::monitor::FitOptions::default()).unwrap().model;
        let mut first_column: Vec<f64> = rows.iter().map(|r| r[0]).collect();
        let baseline =
            vigil::monitor::IndicatorBaseline::learn(enterprise, &unit.indicators[0], &mut first_column);
        let records: Vec<SimRecord> = [model.registry_line(), baseline.registry_line()]
            .into_iter()
            .map(|line| SimRecord {
                topic: "registry",
                key: enterprise.into(),
                value: line["value"].clone(),
            })
            .collect();
        let mut fed = Fed::new();
        for out in fed.feed(&records) {
            proptest::prop_assert!(
                matches!(out.outcome, vigil::ingest::Outcome::Applied),
                "{:?}", out.outcome
            );
        }
        let partition = partition_of(enterprise);
        let mut restored = Fed::new();
        restored.restore(&fed.checkpoint(partition));
        for state in [fed.state_of(partition), restored.state_of(partition)] {
            let kept = &state[enterprise].monitors[&model.model_id].model;
            proptest::prop_assert_eq!(kept, &model);
            proptest::prop_assert_eq!(&state[enterprise].baselines[&baseline.target_code], &baseline);
        }
    }
}
