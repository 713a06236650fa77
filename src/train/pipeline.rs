//! Two-stage pipelines over the steps of a window: a producer loop (one region) and a consumer
//! loop (the other region) that reads the producer's per-step output as soon as it is written.
//!
//! The two loops run as the two halves of one `rayon::join`, so a pool of one thread runs the
//! producer to the end and then the consumer, and a pool with a free second thread overlaps
//! them. Each loop does the same arithmetic in the same order either way, so the bytes do not
//! depend on the thread count. The producer never waits for the consumer. It must not enter
//! rayon before its last step is published, because a rayon thread that waits inside the
//! producer could pick up the queued consumer and spin in it forever.
//! `linalg::SequentialScope` keeps it out of rayon.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::Result;

/// Runs `producer` and `consumer`, as the two halves of one `rayon::join` when `parallel`, else
/// one after the other. Returns the producer's error first.
pub(crate) fn run(parallel: bool, producer: impl FnOnce() -> Result<()> + Send, consumer: impl FnOnce() -> Result<()> + Send) -> Result<()> {
    if parallel {
        let (produced, consumed) = rayon::join(producer, consumer);
        produced?;
        consumed
    } else {
        producer()?;
        consumer()
    }
}

/// Progress of the producer, in finished steps, with `ABORTED` once it stopped early (an error
/// or a panic) and will publish nothing more.
pub(crate) struct Progress {
    done: AtomicUsize,
}

const ABORTED: usize = usize::MAX;

/// Spin iterations before a waiting consumer starts yielding its core.
const SPINS_BEFORE_YIELD: u32 = 1 << 10;

impl Progress {
    pub(crate) fn new() -> Self {
        Progress { done: AtomicUsize::new(0) }
    }

    /// Records that the producer's first `steps` steps are written. Writes made before this
    /// call are visible to a consumer whose [`wait_for`](Self::wait_for) returned true.
    pub(crate) fn publish(&self, steps: usize) {
        self.done.store(steps, Ordering::Release);
    }

    /// Waits until the producer has published at least `steps` steps. Returns false when the
    /// producer aborted first, in which case the consumer must stop.
    pub(crate) fn wait_for(&self, steps: usize) -> bool {
        let mut spins = 0u32;
        loop {
            let done = self.done.load(Ordering::Acquire);
            if done == ABORTED {
                return false;
            }
            if done >= steps {
                return true;
            }
            if spins < SPINS_BEFORE_YIELD {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    /// Returns a guard that marks the producer as aborted when dropped before
    /// [`ProducerGuard::finish`], so that an error return or a panic in the producer releases
    /// a waiting consumer.
    pub(crate) fn guard(&self) -> ProducerGuard<'_> {
        ProducerGuard { progress: self, finished: false }
    }
}

pub(crate) struct ProducerGuard<'a> {
    progress: &'a Progress,
    finished: bool,
}

impl ProducerGuard<'_> {
    pub(crate) fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for ProducerGuard<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.progress.done.store(ABORTED, Ordering::Release);
        }
    }
}

/// A buffer that the producer writes and the consumer reads, one step's rows at a time.
///
/// Each step owns the rows `[t · width, (t + 1) · width)`. The producer writes a step's rows
/// before it publishes the step and never touches them again. The consumer reads them only
/// after [`Progress::wait_for`] confirmed the step. That protocol, not the borrow checker,
/// keeps the two loops from touching the same rows at the same time.
#[derive(Clone, Copy)]
pub(crate) struct StepRows<T> {
    ptr: *mut T,
    len: usize,
    width: usize,
}

// SAFETY: the producer and consumer access disjoint rows, ordered by `Progress`'s
// release–acquire pair (see the type's documentation).
unsafe impl<T: Send> Send for StepRows<T> {}
unsafe impl<T: Send> Sync for StepRows<T> {}

impl<T> StepRows<T> {
    /// Shares `buffer`, of steps of `width` values each, for the duration of its borrow.
    pub(crate) fn new(buffer: &mut [T], width: usize) -> Self {
        StepRows { ptr: buffer.as_mut_ptr(), len: buffer.len(), width }
    }

    /// Returns the rows of step `t`, for the producer to write.
    ///
    /// # Safety
    /// Only the producer may call this, for a step it has not published, while the buffer's
    /// borrow is alive, and no other reference to these rows may exist.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn step_mut(&self, t: usize) -> &mut [T] {
        assert!((t + 1) * self.width <= self.len, "step {t} is outside the shared buffer");
        std::slice::from_raw_parts_mut(self.ptr.add(t * self.width), self.width)
    }

    /// Returns the rows of step `t`, for the consumer to read.
    ///
    /// # Safety
    /// The producer must have published step `t` (so it writes these rows no more), and the
    /// buffer's borrow must be alive.
    pub(crate) unsafe fn step(&self, t: usize) -> &[T] {
        assert!((t + 1) * self.width <= self.len, "step {t} is outside the shared buffer");
        std::slice::from_raw_parts(self.ptr.add(t * self.width), self.width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_sees_every_published_step() {
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut buffer = vec![0u64; 1000 * 3];
            let rows = StepRows::new(&mut buffer, 3);
            let progress = Progress::new();
            let mut sums = vec![0u64; 1000];
            pool.install(|| {
                rayon::join(
                    || {
                        let guard = progress.guard();
                        for t in 0..1000 {
                            // SAFETY: step t is not published yet.
                            let row = unsafe { rows.step_mut(t) };
                            row.copy_from_slice(&[t as u64, 2 * t as u64, 3 * t as u64]);
                            progress.publish(t + 1);
                        }
                        guard.finish();
                    },
                    || {
                        for (t, sum) in sums.iter_mut().enumerate() {
                            assert!(progress.wait_for(t + 1));
                            // SAFETY: step t is published.
                            *sum = unsafe { rows.step(t) }.iter().sum();
                        }
                    },
                )
            });
            for (t, &sum) in sums.iter().enumerate() {
                assert_eq!(sum, 6 * t as u64, "step {t} with {threads} threads");
            }
        }
    }

    #[test]
    fn aborted_producer_releases_consumer() {
        let progress = Progress::new();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let (_, reached) = pool.install(|| {
            rayon::join(
                || {
                    let _guard = progress.guard();
                    progress.publish(3);
                },
                || progress.wait_for(10),
            )
        });
        assert!(!reached);
        assert!(!progress.wait_for(0));
    }
}
