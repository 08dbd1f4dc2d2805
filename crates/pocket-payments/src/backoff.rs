//! Waits that grow: from `first`, doubled after each try, at most `max`. Retries wait a jittered
//! share of the step, so replicas retrying at once spread out; schedules use the plain steps.

use std::time::Duration;

/// The waits of one retry loop.
pub(crate) struct Backoff {
    step: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(first: Duration, max: Duration) -> Backoff {
        Backoff { step: first.min(max), max }
    }

    /// The current step, before jitter: no wait of this loop is longer.
    pub(crate) fn step(&self) -> Duration {
        self.step
    }

    /// The wait before the next try — between half of the step and all of it — and the step
    /// doubles (up to `max`).
    pub(crate) fn next_wait(&mut self) -> Duration {
        let wait = self.step.mul_f64(0.5 + fastrand::f64() / 2.0);
        self.step = self.step.saturating_mul(2).min(self.max);
        wait
    }
}

/// The `n`th step (from 1) of a schedule: `first`, doubled `n - 1` times, at most `max`.
pub(crate) fn nth_step(first: Duration, max: Duration, n: u32) -> Duration {
    first.saturating_mul(1u32 << n.saturating_sub(1).min(20)).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_start_fast_then_slow_down_to_the_cap() {
        let (first, max) = (Duration::from_secs(2), Duration::from_secs(60));
        let steps: Vec<u64> = (1..=8).map(|n| nth_step(first, max, n).as_secs()).collect();
        assert_eq!(steps, [2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(nth_step(first, max, u32::MAX), max);
        assert_eq!(nth_step(first, max, 0), first);
    }

    #[test]
    fn retry_waits_are_jittered_within_each_doubling_step() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(350));
        for step in [100, 200, 350, 350] {
            let step = Duration::from_millis(step);
            assert_eq!(backoff.step(), step);
            let wait = backoff.next_wait();
            assert!(wait >= step / 2 && wait <= step, "{wait:?} outside [{:?}, {step:?}]", step / 2);
        }
        let spread: std::collections::HashSet<Duration> =
            (0..20).map(|_| Backoff::new(Duration::from_secs(1), Duration::from_secs(1)).next_wait()).collect();
        assert!(spread.len() > 1, "no jitter");
    }
}
