//! The API's own runtime. Its threads serve HTTP and the event streams, so a flood of
//! requests or subscribers competes with the ingest loop for CPU time only, never for the
//! workers the loop, its producers and its rules run on (`api.worker_threads`).

use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::IoError;

pub struct ApiRuntime {
    /// Always `Some` until dropped.
    runtime: Option<Runtime>,
}

impl ApiRuntime {
    pub fn start(workers: usize) -> Result<Self, IoError> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .thread_name("vigil-api")
            .enable_all()
            .build()
            .map_err(IoError::Http)?;
        Ok(ApiRuntime {
            runtime: Some(runtime),
        })
    }

    pub fn handle(&self) -> &Handle {
        self.runtime
            .as_ref()
            .expect("the runtime lives until drop")
            .handle()
    }
}

impl Drop for ApiRuntime {
    /// The engine is dropped inside the main runtime, where waiting for another runtime's
    /// threads is not allowed; the server has shut down gracefully by then.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
