//! librdkafka's in-process mock cluster, for `vigil demo` and fast tests. `MockCluster` is not
//! `Send`, so it lives on a thread of its own until the returned guard is dropped.

use std::sync::mpsc;
use std::thread::JoinHandle;

use rdkafka::error::KafkaError;
use rdkafka::mocking::MockCluster;

/// Keeps the mock cluster running; dropping it stops the cluster.
pub struct MockKafka {
    pub bootstrap_servers: String,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MockKafka {
    /// Starts a one-broker cluster with `topics`, each with `partitions` partitions.
    pub fn start(topics: &[String], partitions: i32) -> Result<MockKafka, KafkaError> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let topics = topics.to_vec();
        let thread = std::thread::Builder::new()
            .name("mock-kafka".into())
            .spawn(move || {
                let cluster = match create(&topics, partitions) {
                    Ok(cluster) => cluster,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                let _ = stop_rx.recv();
            })
            .map_err(|e| KafkaError::ClientCreation(e.to_string()))?;
        let bootstrap_servers = ready_rx
            .recv()
            .map_err(|_| KafkaError::ClientCreation("mock cluster thread died".into()))??;
        Ok(MockKafka {
            bootstrap_servers,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

fn create(
    topics: &[String],
    partitions: i32,
) -> Result<MockCluster<'static, rdkafka::producer::DefaultProducerContext>, KafkaError> {
    let cluster = MockCluster::new(1)?;
    for topic in topics {
        cluster.create_topic(topic, partitions, 1)?;
    }
    Ok(cluster)
}

impl Drop for MockKafka {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
