//! The pipeline's metrics, through the `metrics` facade (feature `metrics`): what operators
//! graph and alert on. Every label takes one of a few fixed words — never an invoice id, a user
//! or a URL — so a flood of notices cannot grow the number of series.
//!
//! Because the words are fixed, every series is registered once, when the pipeline is built,
//! with the recorder installed then: recording is an atomic add on a handle, not a lookup by
//! name (the budget: the metrics may not cost what they measure). Without the feature `Meters`
//! is empty and every method does nothing.
//!
//! The names, types and labels are listed in docs/operations.md; a test keeps the two equal.

// Without the feature only the call sites remain: the names and labels are unused.
#![cfg_attr(not(feature = "metrics"), allow(dead_code))]

use crate::{Outcome, Refusal, Source};

/// Every metric this crate records: its name, its Prometheus type (`counter`, `gauge` or
/// `histogram`) and what it counts. docs/operations.md lists the same, with their labels.
pub const METRICS: &[(&str, &str, &str)] = &[
    (DELIVERIES, "counter", "Notices and polls the pipeline answered, by source and outcome."),
    (REFUSALS, "counter", "Notices Pocket's word did not confirm, by reason (forgeries and mistakes)."),
    (HANDLER_RUNS, "counter", "Runs of the merchant's callbacks, by callback and result."),
    (HANDLER_DURATION, "histogram", "How long the merchant's callbacks ran, by callback."),
    (CHECKS, "counter", "Questions to Pocket about an invoice, by API and result."),
    (CHECK_DURATION, "histogram", "How long Pocket took to answer a question about an invoice, by API."),
    (WATCHED, "gauge", "Invoices the reconciler watches in this process."),
    (OLDEST_WATCHED, "gauge", "Age of the oldest invoice the reconciler watches in this process."),
    (UNRESOLVED, "counter", "Invoices the reconciler gave up on and reported as unresolved, by reason."),
    (POLLS, "counter", "The reconciler's polls, by result."),
    (STORE_OPERATIONS, "counter", "Operations on the payment store and watch journal, by operation and result."),
];

const DELIVERIES: &str = "pocket_payments_deliveries_total";
const REFUSALS: &str = "pocket_payments_refusals_total";
const HANDLER_RUNS: &str = "pocket_payments_handler_runs_total";
const HANDLER_DURATION: &str = "pocket_payments_handler_duration_seconds";
const CHECKS: &str = "pocket_payments_checks_total";
const CHECK_DURATION: &str = "pocket_payments_check_duration_seconds";
const WATCHED: &str = "pocket_payments_watched_invoices";
const OLDEST_WATCHED: &str = "pocket_payments_oldest_watched_seconds";
const UNRESOLVED: &str = "pocket_payments_unresolved_total";
const POLLS: &str = "pocket_payments_reconciler_polls_total";
const STORE_OPERATIONS: &str = "pocket_payments_store_operations_total";

/// Each label's words, in the order of the enums below (an enum's value is its index).
const SOURCES: [&str; 2] = ["webhook", "poll"];
const OUTCOMES: [&str; 12] = [
    "handled",
    "already_handled",
    "not_paid",
    "not_final",
    "refused",
    "amount_unconfirmed",
    "not_yet_known",
    "in_progress",
    "pocket_unavailable",
    "store_unavailable",
    "overloaded",
    "handler_failed",
];
const REASONS: [&str; 4] = ["unknown_invoice", "other_invoice", "amount_mismatch", "order_mismatch"];
const CALLBACKS: [&str; 4] = ["paid", "failed", "order_check", "unresolved"];
const RANS: [&str; 4] = ["ok", "error", "panicked", "timed_out"];
const APIS: [&str; 2] = ["merchant", "gateway"];
const ANSWERS: [&str; 4] = ["found", "unknown", "error", "rate_limited"];
const GIVE_UPS: [&str; 5] = ["deadline", "unknown_invoice", "other_invoice", "amount_mismatch", "order_mismatch"];
const POLL_RESULTS: [&str; 5] = ["settled", "again", "gave_up", "skipped", "failed"];
const STORE_OPS: [&str; 10] =
    ["claim", "complete", "release", "is_done", "save", "forget", "load", "find", "try_poll", "give_up"];
const STORE_RESULTS: [&str; 2] = ["ok", "error"];

/// The index of an outcome's word in [`OUTCOMES`].
fn outcome_index(outcome: &Outcome) -> usize {
    match outcome {
        Outcome::Handled => 0,
        Outcome::AlreadyHandled => 1,
        Outcome::NotPaid(_) => 2,
        Outcome::NotFinal(_) => 3,
        Outcome::Refused(_) => 4,
        Outcome::AmountUnconfirmed => 5,
        Outcome::NotYetKnown => 6,
        Outcome::InProgress => 7,
        Outcome::PocketUnavailable => 8,
        Outcome::StoreUnavailable => 9,
        Outcome::Overloaded => 10,
        Outcome::HandlerFailed => 11,
    }
}

fn reason_index(refusal: Refusal) -> usize {
    match refusal {
        Refusal::UnknownInvoice => 0,
        Refusal::OtherInvoice => 1,
        Refusal::AmountMismatch => 2,
        Refusal::OrderMismatch => 3,
    }
}

/// Which of the merchant's callbacks ran.
#[derive(Clone, Copy)]
pub(crate) enum Callback {
    Paid,
    Failed,
    OrderCheck,
    Unresolved,
}

/// How one of the merchant's callbacks ended.
#[derive(Clone, Copy)]
pub(crate) enum Ran {
    Ok,
    Error,
    Panicked,
    TimedOut,
}

impl Ran {
    pub(crate) fn of<T, E>(result: &Result<Result<T, E>, crate::guard::Abnormal>) -> Ran {
        match result {
            Ok(Ok(_)) => Ran::Ok,
            Ok(Err(_)) => Ran::Error,
            Err(crate::guard::Abnormal::Panicked) => Ran::Panicked,
            Err(crate::guard::Abnormal::TimedOut) => Ran::TimedOut,
        }
    }
}

/// Which of Pocket's APIs was asked about an invoice.
#[derive(Clone, Copy)]
pub(crate) enum Api {
    Merchant,
    Gateway,
}

/// What Pocket answered (`RateLimited`: it was not asked, the notices' rate limit).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Found,
    Unknown,
    Error,
    RateLimited,
}

/// Why the reconciler gave an invoice up.
#[derive(Clone, Copy)]
pub(crate) enum GiveUpReason {
    Deadline,
    Refused(Refusal),
}

/// How one of the reconciler's polls ended (`Skipped`: another replica polls the invoice;
/// `Failed`: the poll panicked or ran out of time).
#[derive(Clone, Copy)]
pub(crate) enum Poll {
    Settled,
    Again,
    GaveUp,
    Skipped,
    Failed,
}

/// An operation on the payment store or the watch journal.
#[derive(Clone, Copy)]
pub(crate) enum StoreOp {
    Claim,
    Complete,
    Release,
    IsDone,
    Save,
    Forget,
    Load,
    Find,
    TryPoll,
    GiveUp,
}

/// When something began, for a duration metric (nothing at all without the feature).
#[derive(Clone, Copy)]
pub(crate) struct Started {
    #[cfg(feature = "metrics")]
    at: std::time::Instant,
}

impl Started {
    pub(crate) fn now() -> Started {
        Started {
            #[cfg(feature = "metrics")]
            at: std::time::Instant::now(),
        }
    }

    #[cfg(feature = "metrics")]
    fn seconds(self) -> f64 {
        self.at.elapsed().as_secs_f64()
    }
}

/// Every series of one pipeline, registered when it was built.
pub(crate) struct Meters {
    #[cfg(feature = "metrics")]
    handles: handles::Handles,
}

impl Meters {
    /// Describes every metric to the recorder installed now and registers every series with it.
    /// A series starts at 0 (the counters of rare events too, so that the first one is an
    /// increase an alert sees, not a series appearing from nowhere); one already recorded keeps
    /// its value.
    pub(crate) fn register() -> Meters {
        Meters {
            #[cfg(feature = "metrics")]
            handles: handles::Handles::register(),
        }
    }

    /// A notice or poll ended with `outcome`.
    pub(crate) fn delivered(&self, source: Source, outcome: &Outcome) {
        #[cfg(feature = "metrics")]
        {
            let source = match source {
                Source::Webhook => 0,
                Source::Poll => 1,
            };
            self.handles.deliveries[source][outcome_index(outcome)].increment(1);
            if let Outcome::Refused(refusal) = outcome {
                self.handles.refusals[reason_index(*refusal)].increment(1);
            }
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (source, outcome);
    }

    /// A callback ran from `started` until now and ended as `ran`.
    pub(crate) fn callback_ran(&self, callback: Callback, ran: Ran, started: Started) {
        #[cfg(feature = "metrics")]
        {
            self.handles.runs[callback as usize][ran as usize].increment(1);
            self.handles.run_durations[callback as usize].record(started.seconds());
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (callback, ran, started);
    }

    /// Pocket was asked about an invoice through `api` from `started` until now.
    pub(crate) fn checked(&self, api: Api, answer: Answer, started: Started) {
        #[cfg(feature = "metrics")]
        {
            self.handles.checks[api as usize][answer as usize].increment(1);
            if answer != Answer::RateLimited {
                self.handles.check_durations[api as usize].record(started.seconds());
            }
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (api, answer, started);
    }

    /// How many invoices are watched now, and how long the oldest has been.
    pub(crate) fn watching(&self, count: usize, oldest: std::time::Duration) {
        #[cfg(feature = "metrics")]
        {
            self.handles.watched.set(count as f64);
            self.handles.oldest_watched.set(oldest.as_secs_f64());
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (count, oldest);
    }

    /// An invoice was reported unresolved.
    pub(crate) fn unresolved(&self, why: GiveUpReason) {
        #[cfg(feature = "metrics")]
        {
            let index = match why {
                GiveUpReason::Deadline => 0,
                GiveUpReason::Refused(refusal) => 1 + reason_index(refusal),
            };
            self.handles.unresolved[index].increment(1);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = why;
    }

    /// One poll of the reconciler ended.
    pub(crate) fn polled(&self, poll: Poll) {
        #[cfg(feature = "metrics")]
        self.handles.polls[poll as usize].increment(1);
        #[cfg(not(feature = "metrics"))]
        let _ = poll;
    }

    /// One operation on the store or journal ended, well or not.
    pub(crate) fn stored<T, E>(&self, operation: StoreOp, result: &Result<T, E>) {
        #[cfg(feature = "metrics")]
        self.handles.store[operation as usize][usize::from(result.is_err())].increment(1);
        #[cfg(not(feature = "metrics"))]
        let _ = (operation, result);
    }
}

#[cfg(feature = "metrics")]
mod handles {
    use metrics::{Counter, Gauge, Histogram, Label};

    use super::*;

    pub(super) struct Handles {
        pub deliveries: [[Counter; 12]; 2],
        pub refusals: [Counter; 4],
        pub runs: [[Counter; 4]; 4],
        pub run_durations: [Histogram; 4],
        pub checks: [[Counter; 4]; 2],
        pub check_durations: [Histogram; 2],
        pub watched: Gauge,
        pub oldest_watched: Gauge,
        pub unresolved: [Counter; 5],
        pub polls: [Counter; 5],
        pub store: [[Counter; 2]; 10],
    }

    fn counter(name: &'static str, labels: &[(&'static str, &'static str)]) -> Counter {
        let labels: Vec<Label> = labels.iter().map(|(key, value)| Label::from_static_parts(key, value)).collect();
        let counter = metrics::counter!(name, labels);
        counter.increment(0);
        counter
    }

    fn histogram(name: &'static str, key: &'static str, value: &'static str) -> Histogram {
        metrics::histogram!(name, vec![Label::from_static_parts(key, value)])
    }

    impl Handles {
        pub(super) fn register() -> Handles {
            for (name, kind, help) in METRICS {
                match *kind {
                    "counter" => metrics::describe_counter!(*name, *help),
                    "gauge" => metrics::describe_gauge!(*name, *help),
                    _ => metrics::describe_histogram!(*name, metrics::Unit::Seconds, *help),
                }
            }
            Handles {
                deliveries: SOURCES.map(|source| {
                    OUTCOMES.map(|outcome| counter(DELIVERIES, &[("source", source), ("outcome", outcome)]))
                }),
                refusals: REASONS.map(|reason| counter(REFUSALS, &[("reason", reason)])),
                runs: CALLBACKS.map(|callback| {
                    RANS.map(|result| counter(HANDLER_RUNS, &[("callback", callback), ("result", result)]))
                }),
                run_durations: CALLBACKS.map(|callback| histogram(HANDLER_DURATION, "callback", callback)),
                checks: APIS.map(|api| ANSWERS.map(|answer| counter(CHECKS, &[("api", api), ("result", answer)]))),
                check_durations: APIS.map(|api| histogram(CHECK_DURATION, "api", api)),
                watched: metrics::gauge!(WATCHED),
                oldest_watched: metrics::gauge!(OLDEST_WATCHED),
                unresolved: GIVE_UPS.map(|reason| counter(UNRESOLVED, &[("reason", reason)])),
                polls: POLL_RESULTS.map(|result| counter(POLLS, &[("result", result)])),
                store: STORE_OPS.map(|operation| {
                    STORE_RESULTS
                        .map(|result| counter(STORE_OPERATIONS, &[("operation", operation), ("result", result)]))
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_where_its_enum_says() {
        for outcome in [
            Outcome::Handled,
            Outcome::AlreadyHandled,
            Outcome::NotPaid(pocket_core::InvoiceState::Cancelled),
            Outcome::NotFinal(pocket_core::InvoiceState::Pending),
            Outcome::Refused(Refusal::OrderMismatch),
            Outcome::AmountUnconfirmed,
            Outcome::NotYetKnown,
            Outcome::InProgress,
            Outcome::PocketUnavailable,
            Outcome::StoreUnavailable,
            Outcome::Overloaded,
            Outcome::HandlerFailed,
        ] {
            assert_eq!(OUTCOMES[outcome_index(&outcome)], outcome.word());
        }
        assert_eq!(GIVE_UPS[1..], REASONS, "a refusal's word is the same where the reconciler gives up");
        assert_eq!(REASONS[reason_index(Refusal::AmountMismatch)], "amount_mismatch");
        assert_eq!(
            (CALLBACKS[Callback::Unresolved as usize], RANS[Ran::TimedOut as usize]),
            ("unresolved", "timed_out")
        );
        assert_eq!(
            (ANSWERS[Answer::RateLimited as usize], POLL_RESULTS[Poll::Failed as usize]),
            ("rate_limited", "failed")
        );
        assert_eq!((STORE_OPS[StoreOp::GiveUp as usize], STORE_OPS[StoreOp::IsDone as usize]), ("give_up", "is_done"));
        assert_eq!(APIS[Api::Gateway as usize], "gateway");
    }
}
