//! The confirmation pipeline: an unverified notice (or a poll) → Pocket's word → the state and
//! amount rules → at most one run of the merchant's handler.

use std::sync::Arc;
use std::time::Duration;

use pocket_core::{GatewayApi, InvoiceId, InvoiceState, InvoiceStatus, MerchantApi, TerminalId, WebhookNotice};

use crate::builder::PaymentsBuilder;
use crate::checks::{Asker, Checked, Checker, Gateway, Prefer};
use crate::claim::{Abnormal, OnAbandon, Run, guarded, run_once};
use crate::counted::{Journal, Store};
use crate::handler::{Handler, Job};
use crate::reconciler::Reconciler;
use crate::settings::{MissingAmount, ProcessedState, Settings};
use crate::store::PaymentStore;
use crate::telemetry::{Callback, Meters, Ran, Started};
use crate::watch_list::{WatchJournal, WatchList};
use crate::{Expected, FailedPayment, OrderCheck, Outcome, PaymentHandler, Refusal, Source, VerifiedPayment};

/// The key of an invoice as Pocket identifies it: the number a `Long` path variable reads from
/// the id (so `4242`, `04242`, `+4242` and `٤٢٤٢` are one invoice), or the id's exact text when
/// it is no number. No text that is no number can equal a number's key: a number's key is its
/// plain decimal form, which reads as that number.
pub(crate) fn invoice_key(id: &InvoiceId) -> String {
    id.key()
}

fn paid_key(key: &str) -> String {
    format!("paid:{key}")
}

fn failed_key(key: &str) -> String {
    format!("failed:{key}")
}

/// The payment confirmation pipeline: give it every webhook notice ([`receive`](Self::receive))
/// and the invoices you create ([`reconciler`](Self::reconciler)), and it calls your
/// [`PaymentHandler`] once for each payment Pocket really received.
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
    pub(crate) watching: WatchList,
    pub(crate) journal: Option<Journal>,
    pub(crate) meters: Arc<Meters>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments").field("watching", &self.inner.watching.len()).finish_non_exhaustive()
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
    /// A pipeline that asks `merchant` (Pocket's merchant API) about invoices and calls `handler`.
    pub fn builder(merchant: impl MerchantApi + 'static, handler: impl PaymentHandler) -> PaymentsBuilder {
        PaymentsBuilder::new(Arc::new(merchant), Handler::Plain(Arc::new(handler)))
    }

    /// A pipeline whose handler runs inside a PostgreSQL transaction of `store`'s database, in
    /// which the payment is recorded too: the handler's writes and "this payment is done"
    /// commit together or not at all (see [`TransactionalHandler`](crate::TransactionalHandler)).
    /// `store` is the pipeline's payment store and, unless set otherwise, its watch journal.
    #[cfg(feature = "postgres")]
    pub fn transactional(
        merchant: impl MerchantApi + 'static,
        store: crate::PgStore,
        handler: impl crate::TransactionalHandler,
    ) -> PaymentsBuilder {
        PaymentsBuilder::new(Arc::new(merchant), Handler::InTransaction { handler: Arc::new(handler), store })
    }

    /// Like [`builder`](Self::builder), with a merchant API and handler the app already shares.
    pub fn builder_shared(merchant: Arc<dyn MerchantApi>, handler: Arc<dyn PaymentHandler>) -> PaymentsBuilder {
        PaymentsBuilder::new(merchant, Handler::Plain(handler))
    }

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
    /// was processed before or Pocket could not (or need not) be asked.
    async fn ask_pocket(
        &self,
        invoice: &InvoiceId,
        asker: Asker,
        prefer: Prefer,
    ) -> Result<(String, InvoiceStatus), Outcome> {
        let key = invoice_key(invoice);
        if let Some(outcome) = self.already_done(&key).await {
            return Err(outcome);
        }
        let from_notice = asker == Asker::Notice;
        // An invoice the app watches is one it made: Pocket not knowing it is Pocket lagging.
        let watched = self.inner.watching.contains(&key);
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
        Reconciler::new(self.clone())
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
            Ok(true) => Some(Outcome::AlreadyProcessed),
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
            Some(pockets) if invoice_key(pockets) != seen.key => {
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
            self.reconciler().watch_quietly(invoice_id, seen.expected);
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
        let outcome = self.execute(paid_key(&key), Job::Paid(payment), Outcome::Processed, on_abandon).await;
        if outcome == Outcome::Processed {
            tracing::info!("payment confirmed by Pocket and processed");
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
                    "Pocket's paid invoice does not match the app's order; not processed"
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
            self.reconciler().watch_quietly(invoice_id.clone(), expected);
            return Err(Outcome::AmountUnconfirmed);
        }
        Ok(expected)
    }

    /// The order the app gave when it watched this invoice — here, or on another replica (the
    /// shared journal) — if it gave one.
    async fn watched_order(&self, key: &str) -> Result<Option<Expected>, Outcome> {
        if let Some(expected) = self.inner.watching.expected(key) {
            return Ok(Some(expected));
        }
        let Some(journal) = &self.inner.journal else { return Ok(None) };
        match journal.find(key).await {
            Ok(found) => Ok(found.and_then(|watched| watched.expected)),
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
        let (reconciler, invoice) = (self.reconciler(), invoice.clone());
        Box::new(move || {
            tracing::warn!(invoice_id = %invoice, "a delivery ended without knowing its handler's outcome; the reconciler takes the invoice over");
            reconciler.watch_quietly(invoice, expected);
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
            Outcome::AlreadyProcessed => Outcome::NotPaid(state),
            other => other,
        }
    }
}

impl Inner {
    pub(crate) fn handler(&self) -> &Handler {
        &self.handler
    }

    pub(crate) fn checker_last_answer(&self) -> Option<std::time::SystemTime> {
        self.checker.last_answer()
    }

    pub(crate) fn gateway(&self) -> Option<&Arc<dyn GatewayApi>> {
        self.checker.gateway_api()
    }
}

impl Payments {
    pub(crate) fn from_parts(
        merchant: Arc<dyn MerchantApi>,
        gateway: Option<Gateway>,
        store: Arc<dyn PaymentStore>,
        handler: Handler,
        order: Option<Arc<dyn OrderCheck>>,
        journal: Option<Arc<dyn WatchJournal>>,
        settings: Settings,
    ) -> Payments {
        let meters = Arc::new(Meters::register());
        let (store, journal) = (Store::new(store, &meters), journal.map(|journal| Journal::new(journal, &meters)));
        Payments {
            inner: Arc::new(Inner {
                checker: Checker::new(merchant, gateway, &settings, meters.clone()),
                store,
                handler,
                order,
                watching: WatchList::new(settings.poll.concurrency),
                journal,
                settings,
                meters,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_number_share_a_key() {
        let key = |id: &str| invoice_key(&InvoiceId::new(id).unwrap());
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
