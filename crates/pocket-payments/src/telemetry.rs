//! The pipeline's metrics, through the `metrics` facade (feature `metrics`): what operators
//! graph and alert on. Every label takes one of a few fixed words — never an invoice id, a user
//! or a URL — so a flood of notices cannot grow the number of series. Without the feature each
//! function is empty and the timers hold nothing; without a recorder the facade does nothing.
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

pub(crate) const DELIVERIES: &str = "pocket_payments_deliveries_total";
pub(crate) const REFUSALS: &str = "pocket_payments_refusals_total";
pub(crate) const HANDLER_RUNS: &str = "pocket_payments_handler_runs_total";
pub(crate) const HANDLER_DURATION: &str = "pocket_payments_handler_duration_seconds";
pub(crate) const CHECKS: &str = "pocket_payments_checks_total";
pub(crate) const CHECK_DURATION: &str = "pocket_payments_check_duration_seconds";
pub(crate) const WATCHED: &str = "pocket_payments_watched_invoices";
pub(crate) const OLDEST_WATCHED: &str = "pocket_payments_oldest_watched_seconds";
pub(crate) const UNRESOLVED: &str = "pocket_payments_unresolved_total";
pub(crate) const POLLS: &str = "pocket_payments_reconciler_polls_total";
pub(crate) const STORE_OPERATIONS: &str = "pocket_payments_store_operations_total";

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

/// Registers every metric's help text with the recorder, and starts at zero the series that
/// alerts and the dashboard watch for an increase — so that the first unresolved invoice or forgery is an
/// increase from 0, not a series that appears from nowhere. Once per pipeline built: the
/// recorder may have changed since the last.
pub(crate) fn describe() {
    #[cfg(feature = "metrics")]
    {
        for (name, kind, help) in METRICS {
            match *kind {
                "counter" => metrics::describe_counter!(*name, *help),
                "gauge" => metrics::describe_gauge!(*name, *help),
                _ => metrics::describe_histogram!(*name, metrics::Unit::Seconds, *help),
            }
        }
        metrics::counter!(UNRESOLVED, "reason" => "deadline").increment(0);
        for refusal in [Refusal::UnknownInvoice, Refusal::OtherInvoice, Refusal::AmountMismatch, Refusal::OrderMismatch]
        {
            metrics::counter!(REFUSALS, "reason" => refusal_label(refusal)).increment(0);
        }
        for result in ["error", "panicked", "timed_out"] {
            metrics::counter!(HANDLER_RUNS, "callback" => "paid", "result" => result).increment(0);
        }
        for result in ["settled", "again", "gave_up", "skipped", "failed"] {
            metrics::counter!(POLLS, "result" => result).increment(0);
        }
    }
}

#[cfg(feature = "metrics")]
fn source_word(source: Source) -> &'static str {
    match source {
        Source::Webhook => "webhook",
        Source::Poll => "poll",
    }
}

/// A notice or poll ended with `outcome`.
pub(crate) fn delivered(source: Source, outcome: &Outcome) {
    #[cfg(feature = "metrics")]
    {
        metrics::counter!(DELIVERIES, "source" => source_word(source), "outcome" => outcome.word()).increment(1);
        if let Outcome::Refused(refusal) = outcome {
            metrics::counter!(REFUSALS, "reason" => refusal_label(*refusal)).increment(1);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (source, outcome);
}

/// A refusal as a metric label.
pub(crate) fn refusal_label(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::UnknownInvoice => "unknown_invoice",
        Refusal::OtherInvoice => "other_invoice",
        Refusal::AmountMismatch => "amount_mismatch",
        Refusal::OrderMismatch => "order_mismatch",
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
    pub(crate) fn of<T, E>(result: &Result<Result<T, E>, crate::claim::Abnormal>) -> Ran {
        match result {
            Ok(Ok(_)) => Ran::Ok,
            Ok(Err(_)) => Ran::Error,
            Err(crate::claim::Abnormal::Panicked) => Ran::Panicked,
            Err(crate::claim::Abnormal::TimedOut) => Ran::TimedOut,
        }
    }
}

/// A callback ran from `started` until now and ended as `ran`.
pub(crate) fn callback_ran(callback: Callback, ran: Ran, started: Started) {
    #[cfg(feature = "metrics")]
    {
        let callback = match callback {
            Callback::Paid => "paid",
            Callback::Failed => "failed",
            Callback::OrderCheck => "order_check",
            Callback::Unresolved => "unresolved",
        };
        let result = match ran {
            Ran::Ok => "ok",
            Ran::Error => "error",
            Ran::Panicked => "panicked",
            Ran::TimedOut => "timed_out",
        };
        metrics::counter!(HANDLER_RUNS, "callback" => callback, "result" => result).increment(1);
        metrics::histogram!(HANDLER_DURATION, "callback" => callback).record(started.seconds());
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (callback, ran, started);
}

/// Pocket was asked about an invoice through `api` (`merchant` or `gateway`); `result` is
/// `found`, `unknown`, `error` or `rate_limited` (not asked: the notices' rate limit).
pub(crate) fn checked(api: &'static str, result: &'static str, started: Started) {
    #[cfg(feature = "metrics")]
    {
        metrics::counter!(CHECKS, "api" => api, "result" => result).increment(1);
        if result != "rate_limited" {
            metrics::histogram!(CHECK_DURATION, "api" => api).record(started.seconds());
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (api, result, started);
}

/// How many invoices are watched now, and how long the oldest has been.
pub(crate) fn watching(count: usize, oldest: std::time::Duration) {
    #[cfg(feature = "metrics")]
    {
        metrics::gauge!(WATCHED).set(count as f64);
        metrics::gauge!(OLDEST_WATCHED).set(oldest.as_secs_f64());
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (count, oldest);
}

/// Why an invoice was reported unresolved, as a label.
pub(crate) fn unresolved(reason: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(UNRESOLVED, "reason" => reason).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

/// One poll of the reconciler ended: `settled`, `again`, `gave_up`, `skipped` (another replica
/// polls it) or `failed` (it panicked or ran out of time).
pub(crate) fn polled(result: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(POLLS, "result" => result).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = result;
}

/// One operation on the store or journal ended, well or not.
pub(crate) fn stored<T, E>(operation: &'static str, result: &Result<T, E>) {
    #[cfg(feature = "metrics")]
    {
        let result = if result.is_ok() { "ok" } else { "error" };
        metrics::counter!(STORE_OPERATIONS, "operation" => operation, "result" => result).increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (operation, result);
}
