//! Background tasks that run now and then at a fixed interval until the server closes (the
//! escalation sweeper, the photo clean-up). A late tick is delayed, never bunched up.

use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// Spawns a task that calls `run` at once and then every `every`, until `closing` turns true
/// (or its sender is gone).
pub fn spawn_every<F, Fut>(
    mut closing: watch::Receiver<bool>,
    every: Duration,
    mut run: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                changed = closing.changed() => {
                    if changed.is_err() || *closing.borrow() {
                        return;
                    }
                    continue;
                }
            }
            run().await;
        }
    })
}
