//! What the replica examples share: their output lines, and the commands they read on stdin.
//! - `<id> [handler milliseconds] [copies]` — webhook notices for the invoice arrive (`copies`
//!   of them at once, default 1);
//! - `watch <id>` — the app watches the invoice (the reconciler polls it);
//! - `recover` — take over the shared watch list.
//!
//! Each notice's outcome is printed as `outcome <id> <word>`, a recovery as `recovered <n>`.

use std::io::{BufRead, Write};
use std::time::Duration;

use pocket_core::{InvoiceId, WebhookNotice};
use pocket_payments::Payments;

/// Prints a line and flushes it at once (the test reads them as they come).
pub fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Reads the commands until stdin closes, then keeps polling what is watched until the test
/// ends the process.
pub async fn obey(payments: Payments) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (lines, mut incoming) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut deliveries = tokio::task::JoinSet::new();
    while let Some(line) = incoming.recv().await {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["recover"] => say(format!("recovered {}", payments.reconciler().recover().await?)),
            ["watch", id] => {
                let _ = payments.reconciler().watch(InvoiceId::new(*id)?, None);
            }
            [id, rest @ ..] => {
                let slow = rest.first().and_then(|ms| ms.parse::<u64>().ok());
                let copies = rest.get(1).and_then(|n| n.parse::<usize>().ok()).unwrap_or(1);
                for _ in 0..copies {
                    let mut notice = WebhookNotice::new(InvoiceId::new(*id)?);
                    if let Some(slow) = slow {
                        notice.extra.insert("slowMs".into(), slow.into());
                    }
                    let (payments, id) = (payments.clone(), (*id).to_owned());
                    deliveries.spawn(async move {
                        let outcome = payments.receive(notice).await;
                        say(format!("outcome {id} {}", outcome.word()));
                    });
                }
            }
            [] => {}
        }
    }
    while deliveries.join_next().await.is_some() {}
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

/// How long the notice asked the handler to take.
pub fn slowness(payment: &pocket_payments::VerifiedPayment) -> Duration {
    let slow = payment.unverified_notice().and_then(|n| n.extra.get("slowMs")).and_then(|v| v.as_u64());
    Duration::from_millis(slow.unwrap_or(0))
}
