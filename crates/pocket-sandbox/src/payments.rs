//! The wallet user's side of an invoice: paying it or rejecting it.

use std::sync::Arc;
use std::time::SystemTime;

use pocket_core::{InvoiceId, InvoiceState};

use crate::SandboxError;
use crate::delivery::deliver_payment;
use crate::state::{SandboxInvoice, Shared};

/// Moves a pending invoice to paid (and sends its webhook) or to rejected. A payment over the
/// wallet's limits fails instead (`unsuccess`, with the reason as its description), and its
/// notice is sent too, as Pocket would.
pub(crate) fn settle(shared: &Arc<Shared>, id: &InvoiceId, pay: bool) -> Result<SandboxInvoice, SandboxError> {
    let unknown = || SandboxError::UnknownInvoice(id.to_string());
    let number: u64 = id.as_str().parse().map_err(|_| unknown())?;
    let settled = {
        let mut invoices = shared.invoices();
        let invoice = invoices.get(&number).ok_or_else(unknown)?;
        if invoice.state != InvoiceState::Pending {
            return Err(SandboxError::NotPending { id: id.to_string(), state: invoice.state.to_string() });
        }
        let user = &shared.config().wallet_user;
        let payer = if invoice.is_scannable() { &user.subject } else { &invoice.payer };
        // Only paid invoices count toward the day's limit, so this one (pending) does not.
        let over_limit = pay.then(|| crate::limits::refusal(user.tier, payer, invoice, invoices.values())).flatten();
        let invoice = invoices.get_mut(&number).ok_or_else(unknown)?;
        if let Some(reason) = over_limit {
            invoice.state = InvoiceState::Failed;
            invoice.failure = Some(reason);
        } else if pay {
            invoice.state = InvoiceState::Paid;
            invoice.paid_at = Some(SystemTime::now());
            invoice.transaction_id = Some(shared.next_transaction_id());
            if invoice.is_gateway() {
                invoice.held_id = Some(shared.next_held_id());
            }
            if invoice.is_scannable() {
                // Anyone may scan a QR code: the payer is whoever pays — the wallet's user here.
                invoice.payer = user.subject.clone();
                invoice.payer_phone = Some(user.phone_number.clone());
                invoice.payer_name = Some(format!("{} {}", user.given_name, user.family_name));
            }
        } else {
            invoice.state = InvoiceState::Rejected;
        }
        invoice.clone()
    };
    tracing::info!(invoice_id = %id, state = %settled.state, "the wallet user settled an invoice");
    if settled.state != InvoiceState::Rejected {
        deliver_payment(shared, settled.clone());
    }
    Ok(settled)
}
