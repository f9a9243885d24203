//! Logging setup (`tracing`, text or JSON) and a rate limit for per-record error logs, so a
//! poison topic cannot flood the log (the records themselves are counted and dead-lettered).

use std::time::{Duration, Instant};

use crate::config::LogFormat;

/// Installs the global subscriber; `RUST_LOG` filters (default `info`).
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Allows at most `n` events per second; counts what it suppressed.
#[derive(Debug)]
pub struct RateLimit {
    per_second: u32,
    window: Instant,
    used: u32,
    pub suppressed: u64,
}

impl RateLimit {
    pub fn per_second(per_second: u32) -> Self {
        RateLimit {
            per_second,
            window: Instant::now(),
            used: 0,
            suppressed: 0,
        }
    }

    pub fn allow(&mut self) -> bool {
        if self.window.elapsed() >= Duration::from_secs(1) {
            if self.suppressed > 0 {
                tracing::warn!(suppressed = self.suppressed, "similar log lines suppressed");
            }
            self.window = Instant::now();
            self.used = 0;
            self.suppressed = 0;
        }
        if self.used < self.per_second {
            self.used += 1;
            true
        } else {
            self.suppressed += 1;
            false
        }
    }
}
