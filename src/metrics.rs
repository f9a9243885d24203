//! Every metric vigil exports, in one place. Labels are bounded: topic names (input topics
//! plus `unknown`), reason codes, partitions, outputs, stages. Never an enterprise id.

use prometheus::{
    Encoder, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::ingest::ReasonCode;
use crate::model::Topic;
use crate::state::StateSize;

/// Label value for records of a topic vigil does not consume.
pub const UNKNOWN_TOPIC: &str = "unknown";

pub struct Metrics {
    pub registry: Registry,
    /// Per topic, resolved once so the hot path only does an atomic add.
    pub by_topic: Vec<TopicCounters>,
    pub rejected: IntCounterVec,
    pub pending: IntGauge,
    pub watermark: IntGaugeVec,
    pub watermark_delay: prometheus::Gauge,
    /// Partitions by their part in the engine clock: active, idle, behind.
    pub clock_partitions: IntGaugeVec,
    pub state_enterprises: IntGauge,
    pub state_indicators: IntGauge,
    pub state_buckets: IntGauge,
    pub state_permits: IntGauge,
    pub state_bytes: IntGauge,
    pub monitor_units: IntGaugeVec,
    pub unmonitored_enterprises: IntGauge,
    pub outputs_produced: IntCounterVec,
    pub output_errors: IntCounterVec,
    pub outputs_refused: IntCounterVec,
    pub channel_depth: IntGaugeVec,
    pub offsets_committed: IntCounter,
    pub commit_errors: IntCounter,
    pub dedup_evicted: IntCounter,
    /// Accepted records waiting for the engine's tick before their event time.
    pub deferred: IntGauge,
    pub consumer_lag: IntGaugeVec,
    pub event_lag: prometheus::Histogram,
    pub rules: RuleMetrics,
    pub checkpoint: CheckpointMetrics,
    pub warnings: IntCounterVec,
    pub warnings_firing: IntGauge,
    /// Warnings tracked (pending, firing, resolving), at most `warnings.max_open`.
    pub warnings_tracked: IntGauge,
    pub warnings_refused: IntCounter,
    /// Silences held (at most `warnings::silence::MAX_SILENCES`).
    pub silences: IntGauge,
    pub warnings_suppressed: IntCounterVec,
    pub warnings_chattering: IntGauge,
    pub warning_floods: IntGauge,
    pub enterprises_by_color: IntGaugeVec,
    pub risk_records: IntCounter,
    pub regions_by_color: IntGaugeVec,
}

/// The rules engine's metrics. The `rule` label is a rule id: bounded by the files in the
/// rules directory, which operators control.
pub struct RuleMetrics {
    pub loaded: IntGauge,
    pub plans_built: IntCounter,
    pub reloads: IntCounter,
    pub reload_failures: IntCounter,
    pub ticks: IntCounter,
    pub evaluations: IntCounterVec,
    pub hits: IntCounterVec,
    pub errors: IntCounterVec,
    /// The same failures by kind alone: always exposed (zero before the first), for alerts.
    pub failures: IntCounterVec,
    pub tick_seconds: prometheus::HistogramVec,
    pub eval_seconds: prometheus::HistogramVec,
}

impl RuleMetrics {
    fn new(r: &Registry) -> Self {
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            let opts = prometheus::HistogramOpts::new(name, help).buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]);
            let h = prometheus::HistogramVec::new(opts, labels).expect("valid metric");
            r.register(Box::new(h.clone()))
                .expect("metric registered once");
            h
        };
        RuleMetrics {
            loaded: gauge(r, "vigil_rules_loaded", "Rules currently running."),
            plans_built: counter(
                r,
                "vigil_rules_plans_built_total",
                "Query plans built: once per rule load or change, never per tick.",
            ),
            reloads: counter(
                r,
                "vigil_rules_reloads_total",
                "Rule files (re)loaded successfully.",
            ),
            reload_failures: counter(
                r,
                "vigil_rules_reload_failures_total",
                "Rule files rejected on (re)load; the previous version keeps running.",
            ),
            ticks: counter(r, "vigil_rules_ticks_total", "Evaluation ticks run."),
            evaluations: counter_vec(
                r,
                "vigil_rule_evaluations_total",
                "Evaluations per rule.",
                &["rule"],
            ),
            hits: counter_vec(
                r,
                "vigil_rule_hits_total",
                "Result rows (rule hits) per rule.",
                &["rule"],
            ),
            errors: counter_vec(
                r,
                "vigil_rule_errors_total",
                "Failed evaluations per rule and kind (timeout, execution, contract, overflow).",
                &["rule", "kind"],
            ),
            failures: counter_vec(
                r,
                "vigil_rule_failures_total",
                "Failed rule evaluations by kind (timeout, execution, contract, overflow), all rules together.",
                &["kind"],
            ),
            tick_seconds: histogram(
                "vigil_rules_tick_seconds",
                "Time per tick, by phase (tables, execute).",
                &["phase"],
            ),
            eval_seconds: histogram(
                "vigil_rule_eval_seconds",
                "Execution time per rule evaluation.",
                &["rule"],
            ),
        }
    }
}

/// Checkpoints: how long they take, how big they are, how old the newest one is, restores.
pub struct CheckpointMetrics {
    pub written: IntCounter,
    pub failures: IntCounter,
    pub write_seconds: prometheus::Histogram,
    pub bytes: IntGaugeVec,
    pub last_written: IntGaugeVec,
    pub age_seconds: prometheus::Gauge,
    pub restores: IntCounterVec,
    pub restore_seconds: prometheus::Histogram,
    pub handoffs: IntCounterVec,
}

impl CheckpointMetrics {
    fn new(r: &Registry) -> Self {
        let seconds = |name: &str, help: &str| {
            let opts = prometheus::HistogramOpts::new(name, help).buckets(vec![
                0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]);
            let h = prometheus::Histogram::with_opts(opts).expect("valid metric");
            r.register(Box::new(h.clone()))
                .expect("metric registered once");
            h
        };
        let age_seconds = prometheus::Gauge::new(
            "vigil_checkpoint_age_seconds",
            "Wall time since the oldest of the owned partitions' newest checkpoints was taken.",
        )
        .expect("valid metric");
        r.register(Box::new(age_seconds.clone()))
            .expect("metric registered once");
        CheckpointMetrics {
            written: counter(r, "vigil_checkpoints_written_total", "Partition checkpoints written."),
            failures: counter(
                r,
                "vigil_checkpoint_failures_total",
                "Checkpoints not written (store error, or outputs undelivered); their offsets stay uncommitted.",
            ),
            write_seconds: seconds(
                "vigil_checkpoint_write_seconds",
                "From snapshot to checkpoint written: encode, output flush and store write.",
            ),
            bytes: gauge_vec(
                r,
                "vigil_checkpoint_bytes",
                "Size of each partition's newest checkpoint.",
                &["partition"],
            ),
            last_written: gauge_vec(
                r,
                "vigil_checkpoint_taken_timestamp_seconds",
                "When each partition's newest checkpoint was taken, as Unix seconds.",
                &["partition"],
            ),
            age_seconds,
            restores: counter_vec(
                r,
                "vigil_checkpoint_restores_total",
                "Partitions taken over, by where their state came from: checkpoint, kept (still held from before the rebalance), fresh (no checkpoint) or refused (checkpoints unusable: not consumed).",
                &["source"],
            ),
            restore_seconds: seconds(
                "vigil_checkpoint_restore_seconds",
                "Time to load and decode one partition's checkpoint.",
            ),
            handoffs: counter_vec(
                r,
                "vigil_checkpoint_handoffs_total",
                "Partitions taken over, by how their lease was found: free (never held), released (by its holder, after its last checkpoint), own, stale (its holder died), timed_out (renewed but not released in time) or unreadable. With stale, timed_out or unreadable the newest checkpoint may be older than what its holder last published.",
                &["outcome"],
            ),
        }
    }

    pub fn record_write(
        &self,
        partition: i32,
        bytes: usize,
        took: std::time::Duration,
        taken_at_ms: i64,
    ) {
        let label = partition.to_string();
        self.written.inc();
        self.write_seconds.observe(took.as_secs_f64());
        self.bytes.with_label_values(&[&label]).set(bytes as i64);
        self.last_written
            .with_label_values(&[&label])
            .set(taken_at_ms / 1000);
    }
}

/// The counters of one topic label.
pub struct TopicCounters {
    pub records: IntCounter,
    pub bytes: IntCounter,
    pub applied: IntCounter,
    pub late: IntCounter,
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let vec = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry
        .register(Box::new(vec.clone()))
        .expect("metric registered once");
    vec
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let counter = IntCounter::new(name, help).expect("valid metric");
    registry
        .register(Box::new(counter.clone()))
        .expect("metric registered once");
    counter
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let gauge = IntGauge::new(name, help).expect("valid metric");
    registry
        .register(Box::new(gauge.clone()))
        .expect("metric registered once");
    gauge
}

fn gauge_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let vec = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry
        .register(Box::new(vec.clone()))
        .expect("metric registered once");
    vec
}

impl Metrics {
    pub fn new() -> Self {
        let r = Registry::new();
        #[cfg(target_os = "linux")]
        r.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))
        .expect("process collector registered once");
        let records = counter_vec(
            &r,
            "vigil_ingest_records_total",
            "Records read, per input topic.",
            &["topic"],
        );
        let bytes = counter_vec(
            &r,
            "vigil_ingest_bytes_total",
            "Payload bytes read, per input topic.",
            &["topic"],
        );
        let applied = counter_vec(
            &r,
            "vigil_ingest_applied_total",
            "Records applied to state, per input topic.",
            &["topic"],
        );
        let late = counter_vec(
            &r,
            "vigil_ingest_late_total",
            "Records older than their partition's watermark, routed to the late output.",
            &["topic"],
        );
        let by_topic = topic_labels()
            .map(|t| TopicCounters {
                records: records.with_label_values(&[t]),
                bytes: bytes.with_label_values(&[t]),
                applied: applied.with_label_values(&[t]),
                late: late.with_label_values(&[t]),
            })
            .collect();
        let watermark_delay = prometheus::Gauge::new(
            "vigil_watermark_delay_seconds",
            "Wall clock minus the engine's event-time watermark.",
        )
        .expect("valid metric");
        r.register(Box::new(watermark_delay.clone()))
            .expect("metric registered once");
        Metrics {
            by_topic,
            rejected: counter_vec(
                &r,
                "vigil_ingest_rejected_total",
                "Records dead-lettered, per input topic and reason code.",
                &["topic", "reason"],
            ),
            pending: gauge(
                &r,
                "vigil_ingest_pending_records",
                "Records waiting for their indicator's registry entry.",
            ),
            watermark: gauge_vec(
                &r,
                "vigil_watermark_timestamp_seconds",
                "Event-time watermark per input partition, as Unix seconds.",
                &["partition"],
            ),
            watermark_delay,
            clock_partitions: gauge_vec(
                &r,
                "vigil_clock_partitions",
                "Input partitions by their part in the engine clock: active (the clock is their minimum), idle (no accepted record for ingest.idle_timeout), waiting (assigned, no record yet) or paused (more than ingest.max_drift ahead of the clock).",
                &["state"],
            ),
            state_enterprises: gauge(&r, "vigil_state_enterprises", "Enterprises held in state."),
            state_indicators: gauge(&r, "vigil_state_indicators", "Indicators held in state."),
            state_buckets: gauge(
                &r,
                "vigil_state_buckets",
                "One-minute buckets held in state.",
            ),
            state_permits: gauge(&r, "vigil_state_permits", "Permits held in state."),
            state_bytes: gauge(
                &r,
                "vigil_state_estimated_bytes",
                "Estimated heap bytes of the state.",
            ),
            monitor_units: gauge_vec(
                &r,
                "vigil_monitor_units",
                "Units with a learned model of normal operation (monitor_model records), by status: scoring, or silent (the enterprise's readings went on for more than two sample periods past the unit's newest sample: an indicator of the model stopped, was renamed or removed).",
                &["status"],
            ),
            unmonitored_enterprises: gauge(
                &r,
                "vigil_monitor_unmonitored_enterprises",
                "Enterprises with indicators but no learned model of normal operation.",
            ),
            outputs_produced: counter_vec(
                &r,
                "vigil_output_records_total",
                "Records delivered to an output (dlq, late, warnings, risk, regions).",
                &["output"],
            ),
            output_errors: counter_vec(
                &r,
                "vigil_output_errors_total",
                "Failed deliveries to an output, each retried.",
                &["output"],
            ),
            outputs_refused: counter_vec(
                &r,
                "vigil_output_refused_total",
                "Output records the broker refused for good (too large, invalid, not authorised), dead-lettered `output_refused`.",
                &["output"],
            ),
            channel_depth: gauge_vec(
                &r,
                "vigil_channel_depth",
                "Items queued between two stages.",
                &["stage"],
            ),
            offsets_committed: counter(
                &r,
                "vigil_offset_commits_total",
                "Offset commits sent to Kafka.",
            ),
            commit_errors: counter(
                &r,
                "vigil_offset_commit_errors_total",
                "Offset commits that failed (retried at the next interval).",
            ),
            consumer_lag: gauge_vec(
                &r,
                "vigil_kafka_consumer_lag",
                "Messages behind the partition's high watermark (librdkafka statistics).",
                &["topic", "partition"],
            ),
            event_lag: {
                let opts = prometheus::HistogramOpts::new(
                    "vigil_ingest_event_lag_seconds",
                    "Wall clock minus event time of readings, point statuses and alarms when applied (live sources only).",
                )
                .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0]);
                let histogram = prometheus::Histogram::with_opts(opts).expect("valid metric");
                r.register(Box::new(histogram.clone()))
                    .expect("metric registered once");
                histogram
            },
            dedup_evicted: counter(
                &r,
                "vigil_dedup_evicted_total",
                "Event identities forgotten early because the duplicate filter was full.",
            ),
            deferred: gauge(
                &r,
                "vigil_records_deferred",
                "Accepted records waiting for the engine's tick before their event time (bounded by ingest.max_drift).",
            ),
            rules: RuleMetrics::new(&r),
            checkpoint: CheckpointMetrics::new(&r),
            warnings: counter_vec(
                &r,
                "vigil_warnings_total",
                "Warning records by state (firing, escalated, updated, resolved) and colour.",
                &["state", "color"],
            ),
            warnings_firing: gauge(&r, "vigil_warnings_firing", "Warnings firing now."),
            warnings_tracked: gauge(
                &r,
                "vigil_warnings_tracked",
                "Warnings tracked (pending, firing, resolving), bounded by warnings.max_open.",
            ),
            warnings_refused: counter(
                &r,
                "vigil_warnings_refused_total",
                "New warnings refused because warnings.max_open were tracked (raised as r00_warnings_capacity).",
            ),
            silences: gauge(
                &r,
                "vigil_silences",
                "Silences held (configured, posted and shared), bounded by 10000.",
            ),
            warnings_suppressed: counter_vec(
                &r,
                "vigil_warnings_suppressed_total",
                "Warnings fired while suppressed, by what suppressed them (silence, inhibition, flood); still recorded.",
                &["by"],
            ),
            warnings_chattering: gauge(
                &r,
                "vigil_warnings_chattering",
                "Firing warnings that chatter (ISA-18.2: repeated activations within the chatter window).",
            ),
            warning_floods: gauge(
                &r,
                "vigil_warning_floods",
                "Enterprises in a warning flood now.",
            ),
            enterprises_by_color: gauge_vec(
                &r,
                "vigil_enterprises_by_color",
                "Enterprises by the colour of their risk code (red, orange, yellow, blue).",
                &["color"],
            ),
            risk_records: counter(
                &r,
                "vigil_risk_records_total",
                "Risk records published (an enterprise's index, colour or breakdown changed).",
            ),
            regions_by_color: gauge_vec(
                &r,
                "vigil_regions_by_color",
                "Counties by the colour of their control index (CPI; blue is best).",
                &["color"],
            ),
            registry: r,
        }
        .with_known_labels()
    }

    /// Exports the known label values at zero, so dashboards and `rate()` see the series
    /// before the first event.
    fn with_known_labels(self) -> Self {
        for output in ["dlq", "late", "warnings", "risk", "regions"] {
            self.outputs_produced.with_label_values(&[output]);
            self.output_errors.with_label_values(&[output]);
            self.outputs_refused.with_label_values(&[output]);
        }
        for source in ["checkpoint", "kept", "fresh", "refused"] {
            self.checkpoint.restores.with_label_values(&[source]);
        }
        for kind in ["timeout", "execution", "contract", "overflow"] {
            self.rules.failures.with_label_values(&[kind]);
        }
        for state in ["active", "idle", "waiting", "paused"] {
            self.clock_partitions.with_label_values(&[state]);
        }
        self.channel_depth.with_label_values(&["outputs"]);
        for by in ["silence", "inhibition", "flood"] {
            self.warnings_suppressed.with_label_values(&[by]);
        }
        for color in ["red", "orange", "yellow", "blue"] {
            self.enterprises_by_color.with_label_values(&[color]);
            self.regions_by_color.with_label_values(&[color]);
        }
        self
    }

    /// The counters of a topic (`None`: not a topic vigil consumes).
    pub fn topic(&self, topic: Option<Topic>) -> &TopicCounters {
        let index = topic.map_or(Topic::ALL.len(), |t| t as usize);
        &self.by_topic[index]
    }

    pub fn reject(&self, topic: Option<Topic>, reason: ReasonCode) {
        let label = topic.map_or(UNKNOWN_TOPIC, Topic::name);
        self.rejected
            .with_label_values(&[label, reason.as_str()])
            .inc();
    }

    pub fn set_state_size(&self, size: &StateSize) {
        let set = |g: &IntGauge, v: usize| g.set(i64::try_from(v).unwrap_or(i64::MAX));
        set(&self.state_enterprises, size.enterprises);
        set(&self.state_indicators, size.indicators);
        set(&self.state_buckets, size.buckets);
        set(&self.state_permits, size.permits);
        set(&self.state_bytes, size.estimated_bytes);
        let silent = size.silent_monitor_units;
        let scoring = size.monitor_units.saturating_sub(silent);
        set(&self.monitor_units.with_label_values(&["scoring"]), scoring);
        set(&self.monitor_units.with_label_values(&["silent"]), silent);
        set(&self.unmonitored_enterprises, size.unmonitored_enterprises);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let encoder = TextEncoder::new();
        if let Err(e) = encoder.encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Topic labels in `Topic as usize` order, then `unknown`.
fn topic_labels() -> impl Iterator<Item = &'static str> {
    Topic::ALL.iter().map(|t| t.name()).chain([UNKNOWN_TOPIC])
}
