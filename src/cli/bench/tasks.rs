//! Spawned tasks whose results are taken as they finish. A `JoinSet` keeps
//! every finished task (its whole future, ~2 KiB for a send) until it is
//! joined, so joining only at the end made the load generator's memory grow
//! with every envelope, and the growth was read as the hub's.

use tokio::task::JoinSet;

pub(super) struct Tasks<T> {
    running: JoinSet<T>,
    done: Vec<T>,
}

impl<T: Send + 'static> Tasks<T> {
    pub(super) fn new() -> Self {
        Self {
            running: JoinSet::new(),
            done: Vec::new(),
        }
    }

    /// Spawn `task`, first taking the results of those already finished.
    pub(super) fn spawn<F>(&mut self, task: F) -> anyhow::Result<()>
    where
        F: Future<Output = T> + Send + 'static,
    {
        while let Some(finished) = self.running.try_join_next() {
            self.done.push(finished?);
        }
        self.running.spawn(task);
        Ok(())
    }

    /// Every result, once all have finished (in the order they finished).
    pub(super) async fn finish(mut self) -> anyhow::Result<Vec<T>> {
        while let Some(finished) = self.running.join_next().await {
            self.done.push(finished?);
        }
        Ok(self.done)
    }
}
