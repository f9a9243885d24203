//! What the benches share: a simulated province applied to an engine's state.

use std::sync::Arc;
use std::time::Instant;

use vigil::app::Engine;
use vigil::config::Config;
use vigil::ingest::{Disposition, Pipeline, Position, RecordRef};
use vigil::model::EventTime;
use vigil::sim::{Province, ReadingStream};
use vigil::state::StateStore;

pub fn feed(
    pipeline: &mut Pipeline,
    out: &mut Vec<Disposition>,
    topic: &str,
    key: &str,
    payload: &[u8],
    n: i64,
) {
    let record = RecordRef {
        topic,
        partition: 0,
        position: Position::Offset(n),
        key: Some(key.as_bytes()),
        payload,
    };
    pipeline.process(record, None, out);
    out.clear();
}

/// A simulated province applied to a fresh engine's state: its registry, then `history_min`
/// minutes of readings from `t0`.
pub fn build_world(
    enterprises: usize,
    points_per_kind: usize,
    history_min: i64,
    t0: EventTime,
    config: &Config,
) -> (Province, Arc<StateStore>, EventTime) {
    let started = Instant::now();
    let province = Province::generate(11, enterprises, points_per_kind);
    let engine = Engine::new(config);
    let mut pipeline = engine.pipeline(config);
    let mut out = Vec::new();
    let mut n = 0;
    for record in province.registry_records() {
        feed(
            &mut pipeline,
            &mut out,
            "registry",
            &record.key,
            record.value.to_string().as_bytes(),
            n,
        );
        n += 1;
    }
    let end = t0.saturating_add_ms(history_min * 60_000);
    let mut readings = 0u64;
    for record in ReadingStream::new(&province, 3, t0) {
        if record.value["ts"]
            .as_str()
            .and_then(EventTime::parse_rfc3339)
            .is_none_or(|t| t >= end)
        {
            break;
        }
        feed(
            &mut pipeline,
            &mut out,
            "sensor.reading",
            &record.key,
            record.value.to_string().as_bytes(),
            n,
        );
        n += 1;
        readings += 1;
    }
    println!(
        "world: {} enterprises, {} indicators, {readings} readings over {history_min} min, built in {:.1} s",
        province.enterprises.len(),
        province.indicator_count(),
        started.elapsed().as_secs_f64()
    );
    (province, Arc::clone(&engine.store), end)
}
