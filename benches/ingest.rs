//! Ingest throughput on one core: decode + validate + state update of `sensor.reading` JSON
//! (the Kafka path: topic, key and value bytes), next to a bare serde_json parse of the same
//! bytes. Run: `cargo bench --bench ingest`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigil::app::Engine;
use vigil::config::Config;
use vigil::ingest::{Disposition, Outcome, Pipeline, Position, RecordRef};
use vigil::model::{EventTime, SensorReading};
use vigil::sim::{Province, ReadingStream, SimRecord};

const BATCH: usize = 10_000;
const ENTERPRISES: usize = 1_000;
/// 2020-03-01T00:00:00Z.
const T0: EventTime = EventTime::from_millis(1_583_020_800_000);

fn feed(
    pipeline: &mut Pipeline,
    out: &mut Vec<Disposition>,
    topic: &str,
    key: &[u8],
    payload: &[u8],
    offset: i64,
) -> Outcome {
    let record = RecordRef {
        topic,
        partition: 0,
        position: Position::Offset(offset),
        key: Some(key),
        payload,
    };
    pipeline.process(record, None, out);
    out.pop().map_or(Outcome::Held, |d| d.outcome)
}

fn payloads(stream: &mut ReadingStream<'_>, n: usize) -> Vec<(String, Vec<u8>)> {
    stream
        .take(n)
        .map(|r: SimRecord| (r.key, r.value.to_string().into_bytes()))
        .collect()
}

fn ingest(c: &mut Criterion) {
    let province = Province::generate(1, ENTERPRISES, 1);
    let config = Config::default();
    let engine = Engine::new(&config);
    let mut pipeline = engine.pipeline(&config);
    // Reused like the Kafka loop reuses its own.
    let mut out = Vec::with_capacity(4);
    for (i, record) in province.registry_records().iter().enumerate() {
        let payload = record.value.to_string();
        let outcome = feed(
            &mut pipeline,
            &mut out,
            "registry",
            record.key.as_bytes(),
            payload.as_bytes(),
            i as i64,
        );
        assert_eq!(outcome, Outcome::Applied);
    }
    let mut stream = ReadingStream::new(&province, 1, T0);
    let sample = payloads(&mut stream, BATCH);
    let bytes: usize = sample.iter().map(|(_, p)| p.len()).sum();
    println!(
        "{} indicators; mean payload {} bytes",
        province.indicator_count(),
        bytes / BATCH
    );

    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("bare serde_json parse (typed)", |b| {
        b.iter(|| {
            for (_, payload) in &sample {
                black_box(serde_json::from_slice::<SensorReading<'_>>(payload).expect("valid"));
            }
        })
    });
    group.bench_function("bare serde_json parse (Value)", |b| {
        b.iter(|| {
            for (_, payload) in &sample {
                black_box(serde_json::from_slice::<serde_json::Value>(payload).expect("valid"));
            }
        })
    });
    let mut offset = 0i64;
    group.bench_function("decode + validate + state update", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // Fresh, later readings every batch: replaying old ones would be late.
                let batch = payloads(&mut stream, BATCH);
                let start = Instant::now();
                for (key, payload) in &batch {
                    offset += 1;
                    let outcome = feed(
                        &mut pipeline,
                        &mut out,
                        "sensor.reading",
                        key.as_bytes(),
                        payload,
                        offset,
                    );
                    debug_assert_eq!(outcome, Outcome::Applied);
                    black_box(outcome);
                }
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
