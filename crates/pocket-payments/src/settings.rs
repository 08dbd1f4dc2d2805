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
