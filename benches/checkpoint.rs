//! Checkpoints of a partition holding 100 000 indicators with 60 minutes of one-minute
//! buckets (issue 13's benchmark): the copy (the pause the ingest loop takes), the encode,
//! bytes, decode, restore (decode + install into a fresh pipeline) and the atomic write to a
//! local directory. Run: `cargo bench --bench checkpoint`.
//!
//! The ingest loop pays only the copy, once per `checkpoint.interval` (10 s): the encode, the
//! flush barrier and the write run beside it. The overhead on ingest printed at the end is
//! that copy time over the interval.

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use vigil::checkpoint::{copy_enterprises, CheckpointConfig, CheckpointStore, PartitionCheckpoint};
use vigil::config::Config;
use vigil::ingest::Pipeline;
use vigil::metrics::Metrics;
use vigil::model::EventTime;
use vigil::state::StateStore;

/// 2020-03-01T00:00:00Z.
const T0: EventTime = EventTime::from_millis(1_583_020_800_000);
/// 1 000 enterprises × 17 points of each of the 6 kinds = 102 000 indicators.
const ENTERPRISES: usize = 1_000;
const POINTS_PER_KIND: usize = 17;

/// The ingest loop's part: a copy of the partition's state.
fn copy(
    pipeline: &Pipeline,
    store: &StateStore,
    offsets: &BTreeMap<String, i64>,
) -> PartitionCheckpoint {
    PartitionCheckpoint {
        partition: 0,
        offsets: offsets.clone(),
        taken_at_ms: 0,
        tick: None,
        ingest: pipeline.snapshot(0),
        enterprises: copy_enterprises(&store.partition(0)),
        engine: Vec::new(),
    }
}

/// Copy and encode, as a checkpoint does (the encode on a blocking thread).
fn encode(
    pipeline: &Pipeline,
    store: &StateStore,
    offsets: &BTreeMap<String, i64>,
    size_hint: usize,
) -> Vec<u8> {
    copy(pipeline, store, offsets)
        .encode(size_hint)
        .expect("encodes")
}

fn fresh_pipeline(config: &Config) -> Pipeline {
    let store = Arc::new(StateStore::new(config.state.clone()));
    Pipeline::new(store, config.ingest.clone(), Arc::new(Metrics::new()))
}

fn checkpoint(c: &mut Criterion) {
    let config = Config::default();
    let (_, store, _) = common::build_world(ENTERPRISES, POINTS_PER_KIND, 60, T0, &config);
    let pipeline = Pipeline::new(
        Arc::clone(&store),
        config.ingest.clone(),
        Arc::new(Metrics::new()),
    );
    let offsets = BTreeMap::from([("registry".to_owned(), 1), ("sensor.reading".to_owned(), 1)]);
    let size = store.size();
    let started = Instant::now();
    let bytes = encode(&pipeline, &store, &offsets, 0);
    let first_encode = started.elapsed();
    println!(
        "checkpoint of {} indicators, {} buckets: {:.1} MB ({:.0} bytes per bucket), first encode {:.0} ms",
        size.indicators,
        size.buckets,
        bytes.len() as f64 / 1e6,
        bytes.len() as f64 / size.buckets.max(1) as f64,
        first_encode.as_secs_f64() * 1000.0
    );

    let mut group = c.benchmark_group("checkpoint");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    // The copy is dropped on the encoding thread, not the loop: drops stay out of the timing.
    group.bench_function("copy (the ingest loop's pause)", |b| {
        b.iter_with_large_drop(|| copy(&pipeline, &store, &offsets))
    });
    let copied = copy(&pipeline, &store, &offsets);
    group.bench_function("encode (off the ingest loop)", |b| {
        b.iter(|| black_box(copied.encode(bytes.len()).expect("encodes")))
    });
    drop(copied);
    group.bench_function("decode", |b| {
        b.iter(|| black_box(PartitionCheckpoint::decode(&bytes).expect("decodes")))
    });
    group.bench_function("restore (decode + install)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut target = fresh_pipeline(&config);
                let start = Instant::now();
                let checkpoint = PartitionCheckpoint::decode(&bytes).expect("decodes");
                target.restore(0, checkpoint.ingest, checkpoint.enterprises, 0);
                total += start.elapsed();
                black_box(&target);
            }
            total
        })
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let checkpoints = CheckpointStore::open(
        &CheckpointConfig {
            url: dir.path().display().to_string(),
            interval: Duration::from_secs(10),
            keep: 2,
            on_unreadable: Default::default(),
        },
        "bench",
    )
    .expect("store");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut progress = 0;
    group.bench_function("write to a local directory (atomic put + prune)", |b| {
        b.iter(|| {
            progress += 1;
            runtime
                .block_on(checkpoints.write(0, progress, progress, bytes.clone()))
                .expect("written")
        })
    });
    group.finish();

    let pause = {
        let runs = 5;
        let mut total = Duration::ZERO;
        for _ in 0..runs {
            let start = Instant::now();
            let copied = black_box(copy(&pipeline, &store, &offsets));
            total += start.elapsed();
            drop(copied);
        }
        total / runs
    };
    let interval = config.checkpoint.interval;
    println!(
        "ingest overhead at checkpoint.interval = {interval:?}: {:.1} ms of copy per interval = {:.2} %",
        pause.as_secs_f64() * 1000.0,
        100.0 * pause.as_secs_f64() / interval.as_secs_f64()
    );
}

criterion_group!(benches, checkpoint);
criterion_main!(benches);
