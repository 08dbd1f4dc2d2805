//! The confirmation pipeline: an unverified notice (or a poll) → Pocket's word → the state and
//! amount rules → at most one run of the merchant's handler.

use std::sync::Arc;
use std::time::Duration;

use pocket_core::{InvoiceId, InvoiceState, InvoiceStatus, MerchantApi, TerminalId, WebhookNotice};

use crate::checks::{Asker, Checked, Checker, Gateway, Prefer};
use crate::claim::{OnAbandon, Run, run_once};
use crate::counted::{Backend, Journal, Store};
use crate::guard::{Abnormal, guarded};
use crate::handler::{Handler, Job};
use crate::journal::{WatchJournal, Watched};
use crate::reconciler::Reconciler;
use crate::settings::{MissingAmount, ProcessedState, Settings};
use crate::telemetry::{Callback, Meters, Ran, Started};
use crate::watching::{Pending, Poller, Watcher};
use crate::{Expected, FailedPayment, OrderCheck, Outcome, Refusal, Source, Unresolved, VerifiedPayment};

// Payments are keyed on `InvoiceId::key`: the number a `Long` path variable reads from the id
// (so `4242`, `04242`, `+4242` and `٤٢٤٢` are one invoice), or the id's exact text when it is
// no number.

fn paid_key(key: &str) -> String {
    ["paid:", key].concat()
}

fn failed_key(key: &str) -> String {
    ["failed:", key].concat()
}

/// The payment confirmation pipeline: give it every webhook notice ([`receive`](Self::receive))
/// and the invoices you create ([`reconciler`](Self::reconciler)), and it calls your
/// [`PaymentHandler`](crate::PaymentHandler) once for each payment Pocket really received.
///
/// Cheap to clone; clones share everything (the store, the reconciler's list, the limits).
///
/// ```no_run
/// # async fn run(merchant: impl pocket_core::MerchantApi + 'static, notice: pocket_core::WebhookNotice) {
/// use pocket_payments::{Payments, handler_fn};
///
/// let payments = Payments::builder(merchant, handler_fn(|payment| async move {
///     println!("invoice {} is paid: {:?}", payment.invoice_id(), payment.amount());
///     Ok(())
/// }))
/// .build();
/// let outcome = payments.receive(notice).await; // from your web framework's route
/// let status = outcome.http_status(); // answer the sender with this
/// # let _ = status; }
/// ```
#[derive(Clone)]
pub struct Payments {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    checker: Checker,
    pub(crate) store: Store,
    handler: Handler,
    order: Option<Arc<dyn OrderCheck>>,
    pub(crate) settings: Settings,
    pub(crate) watcher: Arc<Watcher>,
    pub(crate) meters: Arc<Meters>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments").field("watched", &self.inner.watcher.census().0).finish_non_exhaustive()
    }
}

/// What the pipeline learned about one invoice, on its way to a verdict.
struct Seen {
    asked: InvoiceId,
    key: String,
    status: InvoiceStatus,
    notice: Option<WebhookNotice>,
    expected: Option<Expected>,
    source: Source,
}

impl Payments {
    /// Takes a webhook notice — unverified, from anyone — and returns what became of it. The
    /// notice only names an invoice to ask Pocket about; see the crate docs for every rule.
    pub async fn receive(&self, notice: WebhookNotice) -> Outcome {
        let outcome = self.confirm_notice(notice).await;
        self.inner.meters.delivered(Source::Webhook, &outcome);
        outcome
    }

    async fn confirm_notice(&self, notice: WebhookNotice) -> Outcome {
        // A gateway invoice's notice names its order and hold: ask the gateway first then.
        let from_gateway = notice.order_number.is_some() || notice.held_id.is_some();
        let prefer = if from_gateway { Prefer::Gateway(None) } else { Prefer::Merchant };
        let (key, status) = match self.ask_pocket(&notice.invoice_id, Asker::Notice, prefer).await {
            Ok(answer) => answer,
            Err(outcome) => return outcome,
        };
        let asked = notice.invoice_id.clone();
        self.decide(Seen { asked, key, status, notice: Some(notice), expected: None, source: Source::Webhook }).await
    }

    /// Asks Pocket about `invoice` now and acts on the answer exactly as for a notice (the
    /// reconciler does this on its schedule). `expected` is the app's own order, if it has one.
    pub async fn poll(&self, invoice: &InvoiceId, expected: Option<Expected>) -> Outcome {
        self.poll_preferring(invoice, expected, Prefer::Merchant).await
    }

    /// Like [`poll`](Self::poll), for a gateway invoice on `terminal` (asked through the
    /// gateway's detail lookup first).
    pub async fn poll_gateway(&self, terminal: TerminalId, invoice: &InvoiceId, expected: Option<Expected>) -> Outcome {
        self.poll_preferring(invoice, expected, Prefer::Gateway(Some(terminal))).await
    }

    pub(crate) async fn poll_preferring(
        &self,
        invoice: &InvoiceId,
        expected: Option<Expected>,
        prefer: Prefer,
    ) -> Outcome {
        let outcome = match self.ask_pocket(invoice, Asker::Reconciler, prefer).await {
            Ok((key, status)) => {
                let asked = invoice.clone();
                self.decide(Seen { asked, key, status, notice: None, expected, source: Source::Poll }).await
            }
            Err(outcome) => outcome,
        };
        self.inner.meters.delivered(Source::Poll, &outcome);
        outcome
    }

    /// The invoice's key and Pocket's answer about it — or the outcome already, when the payment
    /// was handled before or Pocket could not (or need not) be asked.
    async fn ask_pocket(
        &self,
        invoice: &InvoiceId,
        asker: Asker,
        prefer: Prefer,
    ) -> Result<(String, InvoiceStatus), Outcome> {
        let key = invoice.key();
        if let Some(outcome) = self.already_done(&key).await {
            return Err(outcome);
        }
        let from_notice = asker == Asker::Notice;
        // An invoice the app watches is one it made: Pocket not knowing it is Pocket lagging.
        let watched = self.inner.watcher.is_watching(&key);
        match self.inner.checker.check(&key, invoice, asker, prefer, !watched).await {
            Checked::Status(status) => Ok((key, status)),
            Checked::Unknown if watched || !from_notice => {
                tracing::warn!(from_notice, "Pocket does not know an invoice the app watches (yet); it stays watched");
                Err(Outcome::NotYetKnown)
            }
            Checked::Unknown => {
                tracing::warn!("forged or mistaken notice: Pocket does not know the invoice");
                Err(Outcome::Refused(Refusal::UnknownInvoice))
            }
            Checked::RecentlyUnknown => Err(Outcome::NotYetKnown),
            Checked::Unavailable(error) => {
                tracing::warn!(%error, from_notice, "Pocket could not be asked about an invoice");
                Err(Outcome::PocketUnavailable)
            }
            Checked::Overloaded => {
                if from_notice {
                    tracing::warn!("too many notices at once: this one is asked to come again");
                }
                Err(Outcome::Overloaded)
            }
        }
    }

    /// The reconciler: watches invoices until Pocket settles them, for payments whose webhook
    /// never comes.
    pub fn reconciler(&self) -> Reconciler {
        let inner = &self.inner;
        Reconciler::new(inner.watcher.clone(), inner.clone(), inner.checker.gateway_api().cloned())
    }

    /// How long a sender should wait before delivering again, for outcomes answered 503.
    pub fn retry_after(&self, outcome: &Outcome) -> Option<Duration> {
        (outcome.http_status() == 503).then_some(self.inner.settings.retry_after)
    }

    /// How many spellings of invoices Pocket did not know the pipeline remembers now (bounded;
    /// for monitoring and tests).
    pub fn remembered_unknown_invoices(&self) -> usize {
        self.inner.checker.remembered_unknown()
    }

    /// How many checks of Pocket are under way or awaited now (bounded by the notices being
    /// answered; for monitoring and tests).
    pub fn checks_in_flight(&self) -> usize {
        self.inner.checker.in_flight()
    }

    async fn already_done(&self, key: &str) -> Option<Outcome> {
        match self.inner.store.is_done(&paid_key(key)).await {
            Ok(true) => Some(Outcome::AlreadyHandled),
            Ok(false) => None,
            Err(error) => {
                tracing::error!(%error, "the payment store could not be used");
                Some(Outcome::StoreUnavailable)
            }
        }
    }

    async fn decide(&self, seen: Seen) -> Outcome {
        let settings = &self.inner.settings;
        let (invoice_id, key) = match &seen.status.id {
            // Pocket usually writes the id as it was asked: then it is the same key.
            Some(pockets) if pockets != &seen.asked && pockets.key() != seen.key => {
                tracing::warn!(pockets = %pockets, "Pocket's answer names another invoice than the one asked about");
                return Outcome::Refused(Refusal::OtherInvoice);
            }
            Some(pockets) => (pockets.clone(), seen.key.clone()),
            None => (seen.asked.clone(), seen.key.clone()),
        };
        let state = &seen.status.state;
        let paid = state.is_paid() || (*state == InvoiceState::Processed && settings.processed == ProcessedState::Paid);
        if !paid {
            if state.is_final() {
                return self.not_paid(invoice_id, key, seen).await;
            }
            tracing::info!(state = %state, "Pocket's state is not final yet; the reconciler watches the invoice");
            self.inner.watcher.watch_quietly(invoice_id, seen.expected);
            return Outcome::NotFinal(state.clone());
        }
        let expected = match self.amount_rule(&invoice_id, &seen).await {
            Ok(expected) => expected,
            Err(outcome) => return outcome,
        };
        let reported = seen.status.amount;
        let payment = VerifiedPayment {
            invoice_id,
            amount: reported,
            status: seen.status,
            expected,
            source: seen.source,
            notice: seen.notice,
        };
        let on_abandon = self.watch_if_abandoned(&payment.invoice_id, payment.expected.clone());
        let outcome = self.execute(paid_key(&key), Job::Paid(payment), Outcome::Handled, on_abandon).await;
        if outcome == Outcome::Handled {
            tracing::info!("payment confirmed by Pocket and handled");
        }
        outcome
    }

    /// The amount rule: a notice's amount must be Pocket's; the app's order (given, or from the
    /// order check) must match Pocket's invoice; without an amount from Pocket, only the order
    /// can stand in, and only when the app allows it. The order it was checked against, or why not.
    async fn amount_rule(&self, invoice_id: &InvoiceId, seen: &Seen) -> Result<Option<Expected>, Outcome> {
        let reported = seen.status.amount;
        if let (Some(claimed), Some(reported)) = (seen.notice.as_ref().and_then(|n| n.amount), reported)
            && claimed != reported
        {
            tracing::warn!(%claimed, %reported, "forged notice: its amount differs from Pocket's");
            return Err(Outcome::Refused(Refusal::AmountMismatch));
        }
        // What the app told the reconciler about its order holds for a notice too.
        let watched = match &seen.expected {
            Some(expected) => Some(expected.clone()),
            None => self.watched_order(&seen.key).await?,
        };
        let expected = match (watched, &self.inner.order) {
            (Some(expected), _) => Some(expected),
            (None, Some(order)) => self.order_check(order, invoice_id).await?,
            (None, None) => None,
        };
        if let Some(order) = &expected {
            let amount_ok = reported.is_none_or(|reported| reported == order.amount);
            let info_ok = order.info.as_deref().is_none_or(|info| seen.status.info.as_deref() == Some(info));
            if !(amount_ok && info_ok) {
                tracing::error!(
                    reported = ?reported.map(|a| a.to_string()),
                    expected = %order.amount,
                    "Pocket's paid invoice does not match the app's order; not handled"
                );
                return Err(Outcome::Refused(Refusal::OrderMismatch));
            }
        }
        let order_may_stand_in =
            self.inner.settings.missing_amount == MissingAmount::AgainstOrder && expected.is_some();
        if reported.is_none() && !order_may_stand_in {
            tracing::error!(
                "Pocket says the invoice is paid but reports no amount; not confirmed (see MissingAmount), the reconciler watches it"
            );
            self.inner.watcher.watch_quietly(invoice_id.clone(), expected);
            return Err(Outcome::AmountUnconfirmed);
        }
        Ok(expected)
    }

    /// The order the app gave when it watched this invoice — here, or on another replica (the
    /// shared journal) — if it gave one.
    async fn watched_order(&self, key: &str) -> Result<Option<Expected>, Outcome> {
        match self.inner.watcher.expected(key).await {
            Ok(expected) => Ok(expected),
            Err(error) => {
                tracing::error!(%error, "the watch journal could not be read; the app's order is not known");
                Err(Outcome::StoreUnavailable)
            }
        }
    }

    /// The app's order check, with its panics caught and its time bounded like the handler's.
    async fn order_check(
        &self,
        order: &Arc<dyn OrderCheck>,
        invoice_id: &InvoiceId,
    ) -> Result<Option<Expected>, Outcome> {
        let timeout = self.inner.settings.handler_timeout;
        let started = Started::now();
        let ran = guarded(timeout, order.expected(invoice_id)).await;
        self.inner.meters.callback_ran(Callback::OrderCheck, Ran::of(&ran), started);
        match ran {
            Ok(Ok(expected)) => Ok(expected),
            Ok(Err(error)) => {
                tracing::error!(%error, "the order check failed; the payment will be tried again");
                Err(Outcome::HandlerFailed)
            }
            Err(Abnormal::Panicked) => {
                tracing::error!("the order check panicked; the payment will be tried again");
                Err(Outcome::HandlerFailed)
            }
            Err(Abnormal::TimedOut) => {
                tracing::error!(?timeout, "the order check ran out of time; the payment will be tried again");
                Err(Outcome::HandlerFailed)
            }
        }
    }

    /// Runs the merchant's code for `job` once: under a claim on `key` in the payment store, or
    /// inside a transaction that records `key` done. `done` is the outcome when it succeeds.
    async fn execute(&self, key: String, job: Job, done: Outcome, on_abandon: OnAbandon) -> Outcome {
        let settings = &self.inner.settings;
        match &self.inner.handler {
            Handler::Plain(handler) => {
                let callback = match job {
                    Job::Paid(_) => Callback::Paid,
                    Job::Failed(_) => Callback::Failed,
                };
                let run = Run {
                    store: &self.inner.store,
                    meters: &self.inner.meters,
                    callback,
                    key,
                    lease: settings.lease,
                    timeout: settings.handler_timeout,
                    margin: settings.lease_margin(),
                    done,
                    on_abandon,
                };
                match job {
                    Job::Paid(payment) => run_once(run, || handler.paid(payment)).await,
                    Job::Failed(payment) => run_once(run, || handler.failed(payment)).await,
                }
            }
            #[cfg(feature = "postgres")]
            Handler::InTransaction { handler, store } => {
                let run = crate::postgres::InTransaction {
                    key,
                    job,
                    timeout: settings.handler_timeout,
                    done,
                    on_abandon,
                    meters: self.inner.meters.clone(),
                };
                crate::postgres::run_in_transaction(store, handler.as_ref(), run).await
            }
        }
    }

    /// When a delivery is cancelled mid-handler (the sender hung up), or its end is unknown (a
    /// commit whose reply was lost), the reconciler takes the invoice over, so the payment is
    /// finished — or found finished — by a poll that no sender can cut short.
    fn watch_if_abandoned(&self, invoice: &InvoiceId, expected: Option<Expected>) -> OnAbandon {
        let (watcher, invoice) = (self.inner.watcher.clone(), invoice.clone());
        Box::new(move || {
            tracing::warn!(invoice_id = %invoice, "a delivery ended without knowing its handler's outcome; the reconciler takes the invoice over");
            watcher.watch_quietly(invoice, expected);
        })
    }

    async fn not_paid(&self, invoice_id: InvoiceId, key: String, seen: Seen) -> Outcome {
        let state = seen.status.state.clone();
        tracing::info!(state = %state, "Pocket says the invoice will not be paid");
        let on_abandon = self.watch_if_abandoned(&invoice_id, None);
        let failed = FailedPayment { invoice_id, status: seen.status, source: seen.source };
        let done = Outcome::NotPaid(state.clone());
        let outcome = self.execute(failed_key(&key), Job::Failed(failed), done, on_abandon).await;
        match outcome {
            Outcome::AlreadyHandled => Outcome::NotPaid(state),
            other => other,
        }
    }
}

impl Inner {
    pub(crate) fn checker_last_answer(&self) -> Option<std::time::SystemTime> {
        self.checker.last_answer()
    }
}

/// Everything a pipeline is made of, as the builder settled it.
pub(crate) struct Parts {
    pub merchant: Arc<dyn MerchantApi>,
    pub gateway: Option<Gateway>,
    pub store: Backend,
    pub handler: Handler,
    pub order: Option<Arc<dyn OrderCheck>>,
    pub journal: Option<Arc<dyn WatchJournal>>,
    pub settings: Settings,
}

impl Payments {
    pub(crate) fn new(parts: Parts) -> Payments {
        let Parts { merchant, gateway, store, handler, order, journal, settings } = parts;
        let meters = Arc::new(Meters::register());
        let store = Store::new(store, &meters);
        let journal = journal.map(|journal| Journal::new(journal, &meters));
        let inner = Arc::new_cyclic(|pipeline: &std::sync::Weak<Inner>| {
            let pipeline: std::sync::Weak<dyn Poller> = pipeline.clone();
            let watcher =
                Watcher::new(settings.poll.clone(), journal, settings.handler_timeout, meters.clone(), pipeline);
            Inner {
                checker: Checker::new(merchant, gateway, &settings, meters.clone()),
                store,
                handler,
                order,
                watcher: Arc::new(watcher),
                settings,
                meters,
            }
        });
        Payments { inner }
    }
}

/// The watcher polls through the pipeline, exactly as a notice is confirmed.
impl Poller for Inner {
    fn poll(self: Arc<Self>, watched: Watched) -> Pending<Outcome> {
        Box::pin(async move {
            let payments = Payments { inner: self };
            match watched.terminal {
                Some(terminal) => payments.poll_gateway(terminal, &watched.invoice_id, watched.expected).await,
                None => payments.poll(&watched.invoice_id, watched.expected).await,
            }
        })
    }

    fn unresolved(self: Arc<Self>, unresolved: Unresolved) -> Pending<()> {
        Box::pin(async move { self.handler.unresolved(unresolved).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_number_share_a_key() {
        let key = |id: &str| InvoiceId::new(id).unwrap().key();
        for spelling in ["4242", "04242", "+4242", " 4242 ", "0x1092", "٤٢٤٢"] {
            assert_eq!(key(spelling), "4242", "{spelling}");
        }
        for other in ["4242\u{a0}", "+0x1092", "4242\u{202f}"] {
            assert_ne!(key(other), "4242", "{other:?} is no number to Pocket, so not invoice 4242");
        }
        assert_eq!(key(" INV-7 "), " INV-7 ", "a text id is kept exactly");
        assert_ne!(key("INV-7"), key("inv-7"), "text ids are compared as Pocket wrote them");
    }
}
