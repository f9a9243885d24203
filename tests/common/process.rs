//! A child process the test owns: killed and reaped when dropped, so a failing assertion
//! leaves nothing running to slow the tests after it.

use std::ops::{Deref, DerefMut};
use std::process::Child;

pub struct Running(pub Child);

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
