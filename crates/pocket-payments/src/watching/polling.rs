//! Polling the watched invoices: each due invoice is asked about in a task of its own, with its
//! panics caught and its time bounded, and the callbacks it leads to (`unresolved`) run apart
//! from it — a poll or a callback that panics or hangs harms only its own invoice, and any poll
//! that ends abnormally is scheduled again. With a journal, one replica at a time polls each
//! invoice, and the one that crosses it out at its deadline is the one that reports it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::{Poller, Watcher};
use crate::backoff::nth_step;
use crate::guard::{Abnormal, guarded};
use crate::journal::Watched;
use crate::telemetry::{Callback, GiveUpReason, Poll, Ran, Started};
use crate::{Outcome, Refusal, Unresolved};

/// The pipeline, as the worker and its polls hold it: strongly, while anything is watched.
type Pipeline = Arc<dyn Poller>;

/// Takes the invoices due now (marking them as being polled), as many as there are free polls,
/// and says when the next one is due. Brings the watched-invoices gauges up to date on the way
/// (the same pass over the list).
fn due(watcher: &Watcher) -> (Vec<(String, Watched, tokio::sync::OwnedSemaphorePermit)>, Option<Instant>) {
    let now = Instant::now();
    let list = &watcher.list;
    let mut slots = list.lock();
    let mut taken = Vec::new();
    let mut next = None::<Instant>;
    let mut oldest = None::<SystemTime>;
    for (key, slot) in slots.iter_mut() {
        if let Some(since) = slot.watched.since {
            oldest = Some(oldest.map_or(since, |oldest| oldest.min(since)));
        }
        if slot.polling {
            continue;
        }
        if slot.next_poll <= now {
            let Ok(permit) = list.polls.clone().try_acquire_owned() else {
                // Every poll is busy: look again when one ends (its end wakes the worker).
                continue;
            };
            slot.polling = true;
            taken.push((key.clone(), slot.watched.clone(), permit));
        } else {
            next = Some(next.map_or(slot.next_poll, |next| next.min(slot.next_poll)));
        }
    }
    let age = oldest.map(|since| SystemTime::now().duration_since(since).unwrap_or_default());
    watcher.meters.watching(slots.len(), age.unwrap_or_default());
    (taken, next)
}

/// Clears the worker's running flag if it dies of a panic, so that health reports it and the
/// next watch starts a new one.
struct Worker<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(false, Ordering::Release);
        }
    }
}

/// The worker: polls what is due, each in a task of its own, while anything is watched.
pub(super) async fn work(watcher: Arc<Watcher>, pipeline: Pipeline) {
    let list = &watcher.list;
    let _worker = Worker(&list.running);
    loop {
        let wake = list.wake.notified();
        let (batch, next) = due(&watcher);
        for (key, watched, permit) in batch {
            tokio::spawn(poll_one(watcher.clone(), pipeline.clone(), key, watched, permit));
        }
        if list.lock().is_empty() {
            list.running.store(false, Ordering::Release);
            // A watch added between the check and the store above found `running` set and
            // spawned nothing: take the work back if so.
            if list.lock().is_empty() || list.running.swap(true, Ordering::AcqRel) {
                return;
            }
            continue;
        }
        match next {
            // Woken by the next due time, a new watch or a finished poll, whichever comes first.
            Some(next) => {
                let _ = tokio::time::timeout_at(next, wake).await;
            }
            None => wake.await,
        }
    }
}

/// Marks a slot as no longer being polled when a poll ends in any way — a panic or a timeout
/// included — and schedules the invoice again unless its outcome did (`scheduled`). Only here,
/// at the very end: while a poll still writes its outcome down (the journal's answer awaited),
/// the slot stays marked, so no second poll of the invoice starts and finds it crossed out
/// behind it (it would watch it again, with a new deadline, after it was reported unresolved).
struct PollingMark {
    watcher: Arc<Watcher>,
    key: String,
    scheduled: bool,
}

impl Drop for PollingMark {
    fn drop(&mut self) {
        let settings = &self.watcher.settings;
        let list = &self.watcher.list;
        if let Some(slot) = list.lock().get_mut(&self.key)
            && slot.polling
        {
            slot.polling = false;
            if !self.scheduled {
                slot.next_poll = Instant::now() + nth_step(settings.first, settings.max, slot.watched.polls.max(1));
            }
        }
        list.wake.notify_one();
    }
}

/// The longest one poll may take: the order check and the handler each within their timeout,
/// and Pocket's answer within a minute.
fn poll_budget(watcher: &Watcher) -> Duration {
    watcher.callback_timeout * 2 + Duration::from_secs(60)
}

async fn poll_one(
    watcher: Arc<Watcher>,
    pipeline: Pipeline,
    key: String,
    watched: Watched,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let _permit = permit;
    let mut mark = PollingMark { watcher: watcher.clone(), key: key.clone(), scheduled: false };
    let budget = poll_budget(&watcher);
    let outcome = match guarded(budget, ask(&watcher, pipeline.clone(), &key, &watched)).await {
        Ok(outcome) => outcome,
        Err(Abnormal::Panicked) => {
            tracing::error!(invoice_id = %watched.invoice_id, "a poll panicked (in the merchant's code?); polling the invoice again later");
            watcher.meters.polled(Poll::Failed);
            return;
        }
        Err(Abnormal::TimedOut) => {
            tracing::error!(invoice_id = %watched.invoice_id, ?budget, "a poll ran out of time; polling the invoice again later");
            watcher.meters.polled(Poll::Failed);
            return;
        }
    };
    match outcome {
        Some(outcome) => {
            after_poll(&watcher, &pipeline, &key, outcome).await;
            mark.scheduled = true;
        }
        None => skipped(&watcher, &key).await,
    }
}

/// Polls the invoice if this replica may (`None` when another replica polls it now).
async fn ask(watcher: &Watcher, pipeline: Pipeline, key: &str, watched: &Watched) -> Option<Outcome> {
    if let Some(journal) = &watcher.journal {
        match journal.try_poll(key, watcher.settings.polling_lease()).await {
            Ok(true) => {}
            // Another replica polls it now: it decides; this one looks again later.
            Ok(false) => return None,
            Err(error) => {
                tracing::warn!(%error, "the watch journal could not be asked; polling later");
                return Some(Outcome::StoreUnavailable);
            }
        }
    }
    Some(pipeline.poll(watched.clone()).await)
}

/// Another replica polls this invoice now: look again later. Past the deadline, the verdict
/// (and the `unresolved` callback) is that replica's — unless it goes away first, so the invoice
/// stays here until the journal no longer holds it.
async fn skipped(watcher: &Watcher, key: &str) {
    watcher.meters.polled(Poll::Skipped);
    let past_deadline = watcher.list.lock().get(key).is_some_and(|slot| SystemTime::now() >= slot.watched.deadline);
    if past_deadline
        && let Some(journal) = &watcher.journal
        && let Ok(None) = journal.find(key).await
    {
        watcher.list.lock().remove(key);
    }
    // The polling mark schedules the next look.
}

/// What one poll's outcome means for the invoice.
enum Verdict {
    /// Settled: it leaves the list.
    Settled,
    /// It can never be confirmed, or its deadline passed: someone should look at it. The reason
    /// in words, and for the metrics.
    GiveUp(String, GiveUpReason),
    /// Poll again later.
    Again,
}

fn verdict(outcome: &Outcome, watched: &Watched) -> Verdict {
    match outcome {
        Outcome::Handled | Outcome::AlreadyHandled | Outcome::NotPaid(_) => Verdict::Settled,
        Outcome::Refused(refusal @ (Refusal::OtherInvoice | Refusal::AmountMismatch | Refusal::OrderMismatch)) => {
            Verdict::GiveUp(refusal.describe().to_owned(), GiveUpReason::Refused(*refusal))
        }
        _ if SystemTime::now() >= watched.deadline => Verdict::GiveUp(
            format!("still {} at its deadline after {} polls", outcome.word(), watched.polls),
            GiveUpReason::Deadline,
        ),
        _ => Verdict::Again,
    }
}

/// Records a poll's outcome: settled invoices leave the list, others are polled again later, and
/// those past their deadline (or that can never be confirmed) go to the `unresolved` callback —
/// once across replicas: with a journal, only the replica that crosses the invoice out reports it.
async fn after_poll(watcher: &Watcher, pipeline: &Pipeline, key: &str, outcome: Outcome) {
    let settings = &watcher.settings;
    let (watched, verdict) = {
        let mut slots = watcher.list.lock();
        let Some(slot) = slots.get_mut(key) else { return };
        slot.watched.polls += 1;
        if let Outcome::NotFinal(state) = &outcome {
            slot.watched.last_state = Some(state.clone());
        }
        let verdict = verdict(&outcome, &slot.watched);
        if let Verdict::Again = verdict {
            let wait = nth_step(settings.first, settings.max, slot.watched.polls);
            let until_deadline = slot.watched.deadline.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
            let wait = wait.min(until_deadline);
            slot.next_poll = Instant::now() + wait;
            slot.watched.next_poll = Some(SystemTime::now() + wait);
            tracing::debug!(invoice_id = %slot.watched.invoice_id, outcome = outcome.word(), ?wait, "polled; polling again later");
        }
        (slot.watched.clone(), verdict)
    };
    if let Verdict::Again = verdict {
        watcher.meters.polled(Poll::Again);
        note_poll(watcher, key, &watched).await;
        return;
    }
    let invoice_id = watched.invoice_id.clone();
    let unresolved = match verdict {
        Verdict::GiveUp(reason, why) => {
            watcher.meters.polled(Poll::GaveUp);
            let at = SystemTime::now();
            Some((
                Unresolved { invoice_id: invoice_id.clone(), last_state: watched.last_state.clone(), reason, at },
                why,
            ))
        }
        _ => {
            watcher.meters.polled(Poll::Settled);
            None
        }
    };
    let Some(journal) = &watcher.journal else {
        watcher.list.lock().remove(key);
        tracing::info!(%invoice_id, outcome = outcome.word(), "the reconciler is done with an invoice");
        if let Some((unresolved, why)) = unresolved {
            report(watcher, pipeline, unresolved, why);
        }
        return;
    };
    let crossing_out = match &unresolved {
        Some((unresolved, _)) => journal.give_up(key, unresolved, &watched).await,
        None => journal.forget(key).await,
    };
    match crossing_out {
        Ok(crossed_out) => {
            watcher.list.lock().remove(key);
            tracing::info!(%invoice_id, outcome = outcome.word(), "the reconciler is done with an invoice");
            // Another replica crossed it out first: the report was its to make.
            if let Some((unresolved, why)) = unresolved.filter(|_| crossed_out) {
                report(watcher, pipeline, unresolved, why);
            }
        }
        Err(error) => {
            // Kept, and polled again: it leaves the list once the journal has crossed it out.
            tracing::warn!(%error, %invoice_id, "could not cross an invoice out of the watch journal; trying again later");
            if let Some(slot) = watcher.list.lock().get_mut(key) {
                slot.next_poll = Instant::now() + nth_step(settings.first, settings.max, slot.watched.polls);
            }
        }
    }
}

/// Hands an invoice to the `unresolved` callback in a task of its own, with its panics caught
/// and its time bounded, so that it cannot stall or kill the reconciler.
fn report(watcher: &Watcher, pipeline: &Pipeline, unresolved: Unresolved, why: GiveUpReason) {
    watcher.meters.unresolved(why);
    let (pipeline, timeout) = (pipeline.clone(), watcher.callback_timeout);
    let invoice_id = unresolved.invoice_id.clone();
    let meters = watcher.meters.clone();
    tokio::spawn(async move {
        let started = Started::now();
        let ran = guarded(timeout, async {
            pipeline.unresolved(unresolved).await;
            Ok::<(), ()>(())
        })
        .await;
        meters.callback_ran(Callback::Unresolved, Ran::of(&ran), started);
        match ran {
            Ok(_) => {}
            Err(Abnormal::Panicked) => tracing::error!(%invoice_id, "the unresolved callback panicked"),
            Err(Abnormal::TimedOut) => {
                tracing::error!(%invoice_id, ?timeout, "the unresolved callback ran out of time")
            }
        }
    });
}

/// Writes the invoice's latest poll (its count, state and next poll) down in the journal, for
/// operators; a failure only leaves what they see a poll behind.
async fn note_poll(watcher: &Watcher, key: &str, watched: &Watched) {
    let Some(journal) = &watcher.journal else { return };
    if let Err(error) = journal.save(key, watched).await {
        tracing::debug!(%error, "could not write a poll down in the watch journal");
    }
}
