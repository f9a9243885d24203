//! A real Kafka-protocol broker for end-to-end tests: Tansu, started through `.ci/tansu`.

use std::process::Command;
use std::time::{Duration, Instant};

/// A Tansu broker on a free loopback port, stopped on drop.
pub struct Tansu {
    pid: u32,
    pub brokers: String,
}

impl Tansu {
    pub fn start() -> Tansu {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/tansu");
        let output = Command::new("bash")
            .arg(script)
            .arg("start")
            .arg(port.to_string())
            .output()
            .expect("run .ci/tansu");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let pid = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .expect("a pid");
        let brokers = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&brokers).is_err() {
            assert!(Instant::now() < deadline, "tansu did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Tansu { pid, brokers }
    }

    /// An outage as clients see a network partition: the broker stops answering
    /// (`SIGSTOP`) until `resume` (its memory storage would not survive a restart).
    pub fn pause(&self) {
        let _ = Command::new("kill")
            .arg("-STOP")
            .arg(self.pid.to_string())
            .status();
    }

    pub fn resume(&self) {
        let _ = Command::new("kill")
            .arg("-CONT")
            .arg(self.pid.to_string())
            .status();
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.resume();
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}
