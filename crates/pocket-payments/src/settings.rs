//! The pipeline's choices where Pocket is silent, and its limits.

use std::time::Duration;

/// How the pipeline treats Pocket's `processed` state, whose meaning Pocket has not published.
///
/// It is seen beside `paid` in third-party code. If it means "paid and settled" (a state after
/// `paid`), an invoice that passes through `paid` too quickly may only ever be seen as
/// `processed`, and [`NotFinal`](Self::NotFinal) leaves it to the reconciler's deadline and the
/// `unresolved` callback. If it means "still being processed", [`Paid`](Self::Paid) ships goods
/// for money that may never arrive. Losing time is recoverable; shipping unpaid goods is not:
/// the default is `NotFinal`. Switch once Pocket (or your own observation) says what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProcessedState {
    /// Not final: retry later, watch it (the default).
    #[default]
    NotFinal,
    /// Paid: run the handler.
    Paid,
}

/// What to do when Pocket confirms a payment but its answer carries no amount.
///
/// The handler is promised the amount Pocket reports. Without one, the only other witness is the
/// app's own order ([`OrderCheck`](crate::OrderCheck), or the `expected` given to the
/// reconciler) — the notice's amount is the sender's claim and never counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MissingAmount {
    /// Do not confirm it: log an error, ask for redelivery, and let the reconciler watch it until
    /// its deadline (then `unresolved`). The default.
    #[default]
    Refuse,
    /// Confirm it when the app's order for the invoice is known (the state is Pocket's; the
    /// amount is the order's); refuse as above when there is no order.
    AgainstOrder,
}

/// Limits and timings; the defaults suit a production shop.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub processed: ProcessedState,
    pub missing_amount: MissingAmount,
    pub lease: Duration,
    pub handler_timeout: Duration,
    pub retry_after: Duration,
    pub check_concurrency: usize,
    pub check_queue_wait: Duration,
    pub checks_per_second: Option<f64>,
    pub check_burst: f64,
    pub unknown_ttl: Duration,
    pub unknown_capacity: usize,
    pub poll: PollSettings,
}

/// How the reconciler polls.
#[derive(Debug, Clone)]
pub(crate) struct PollSettings {
    pub first: Duration,
    pub max: Duration,
    pub deadline: Duration,
    pub concurrency: usize,
    pub capacity: usize,
}

impl PollSettings {
    /// How long a replica keeps an invoice's polling to itself: long enough to cover its longest
    /// wait between polls.
    pub(crate) fn polling_lease(&self) -> Duration {
        self.max * 2
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            processed: ProcessedState::default(),
            missing_amount: MissingAmount::default(),
            lease: Duration::from_secs(300),
            handler_timeout: Duration::from_secs(60),
            retry_after: Duration::from_secs(5),
            check_concurrency: 8,
            check_queue_wait: Duration::from_secs(2),
            checks_per_second: Some(50.0),
            check_burst: 100.0,
            unknown_ttl: Duration::from_secs(30),
            unknown_capacity: 10_000,
            poll: PollSettings {
                first: Duration::from_secs(2),
                max: Duration::from_secs(60),
                deadline: Duration::from_secs(30 * 60),
                concurrency: 4,
                capacity: 100_000,
            },
        }
    }
}

impl Settings {
    /// The lease must outlast the handler's timeout, or a slow handler's claim could lapse while
    /// it still runs and a second delivery could run it again: by half the timeout, at most 10 s.
    pub fn lease_margin(&self) -> Duration {
        (self.handler_timeout / 2).min(Duration::from_secs(10))
    }

    pub fn settle(mut self) -> Settings {
        let floor = self.handler_timeout + self.lease_margin();
        if self.lease < floor {
            self.lease = floor;
        }
        self.check_concurrency = self.check_concurrency.max(1);
        self.poll.concurrency = self.poll.concurrency.max(1);
        self.poll.capacity = self.poll.capacity.max(1);
        self.poll.max = self.poll.max.max(self.poll.first);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A duration as the docs write it: `5 min`, `60 s`, `24 h`.
    fn written(duration: Duration) -> String {
        let seconds = duration.as_secs();
        match seconds {
            s if s >= 3600 && s.is_multiple_of(3600) => format!("{} h", s / 3600),
            s if s >= 120 && s.is_multiple_of(60) => format!("{} min", s / 60),
            s => format!("{s} s"),
        }
    }

    /// A count as the docs write it: `10 000`.
    fn count(n: usize) -> String {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }

    /// Text with every run of whitespace as one space, so that line breaks do not matter.
    fn flat(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Every figure the docs give for a default is the code's default.
    #[test]
    fn the_docs_state_the_defaults() {
        let d = Settings::default();
        let store = crate::InMemoryStore::default();
        let store = format!("{store:?}");
        assert!(store.contains("capacity: 100000") && store.contains("retention: 86400s"), "{store}");
        let readme = flat(include_str!("../README.md"));
        for figure in [
            format!("remembers {} payments for {} by default", count(100_000), written(Duration::from_secs(86_400))),
            format!(
                "without asking again for {} (at most {} remembered",
                written(d.unknown_ttl),
                count(d.unknown_capacity)
            ),
            format!(
                "at most {} checks at once and {} calls to Pocket a second (burst {})",
                d.check_concurrency,
                d.checks_per_second.unwrap_or(0.0),
                d.check_burst
            ),
            format!("({} doubling to {})", written(d.poll.first), written(d.poll.max)),
            format!("at the deadline ({} by default)", written(d.poll.deadline)),
            format!("leases ({} each by default)", written(d.poll.max * 2)),
        ] {
            assert!(readme.contains(&flat(&figure)), "pocket-payments' README should say {figure:?}");
        }
        // The workspace's docs, when this crate is built inside it (not from a published copy).
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
        if !docs.is_dir() {
            return;
        }
        let read = |name: &str| flat(&std::fs::read_to_string(docs.join(name)).expect("a doc"));
        let (operations, security, decisions) = (read("operations.md"), read("security.md"), read("decisions.md"));
        let expected = [
            (&operations, format!("after its lease ({} by default", written(d.lease))),
            (&operations, format!("every polling lease ({} by default)", written(d.poll.max * 2))),
            (&operations, format!("longer than the {} handler timeout", written(d.handler_timeout))),
            (&security, format!("remembered for {} ({} at most)", written(d.unknown_ttl), count(d.unknown_capacity))),
            (
                &security,
                format!(
                    "at most {} checks at once and {} calls to Pocket",
                    d.check_concurrency,
                    d.checks_per_second.unwrap_or(0.0)
                ),
            ),
            (&security, format!("per second (burst {})", d.check_burst)),
            (&decisions, format!("The timeout ({}) stays at least", written(d.handler_timeout))),
            (&decisions, format!("claim's lease ({})", written(d.lease))),
        ];
        for (doc, figure) in expected {
            assert!(doc.contains(&flat(&figure)), "the docs should say {figure:?}");
        }
        assert!(!operations.contains("70 s by default"), "the old, wrong lease figure");
    }
}
