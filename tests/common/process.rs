//! A child process the test owns: killed and reaped when dropped, so a failing assertion
//! leaves nothing running to slow the tests after it.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Running(pub Child);

/// The `vigil` binary with `--config <config> run`, logging at `RUST_LOG=warn` to the test's
/// stderr.
pub fn vigil_run(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vigil"));
    command
        .arg("--config")
        .arg(config)
        .arg("run")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

/// Starts `command`, owned by the test.
pub fn start(command: &mut Command) -> Running {
    Running(command.spawn().expect("vigil starts"))
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}
