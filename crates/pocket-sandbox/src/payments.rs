//! The wallet user's side of an invoice: paying it or rejecting it.

use std::sync::Arc;
use std::time::SystemTime;

use pocket_core::{InvoiceId, InvoiceState};

use crate::SandboxError;
use crate::state::{SandboxInvoice, Shared, lock};
use crate::webhook::deliver_payment;

/// Moves a pending invoice to paid (and sends its webhook) or to rejected.
pub(crate) fn settle(shared: &Arc<Shared>, id: &InvoiceId, pay: bool) -> Result<SandboxInvoice, SandboxError> {
    let unknown = || SandboxError::UnknownInvoice(id.to_string());
    let number: u64 = id.as_str().parse().map_err(|_| unknown())?;
    let settled = {
        let mut invoices = lock(&shared.invoices);
        let invoice = invoices.get_mut(&number).ok_or_else(unknown)?;
        if invoice.state != InvoiceState::Pending {
            return Err(SandboxError::NotPending { id: id.to_string(), state: invoice.state.to_string() });
        }
        if pay {
            invoice.state = InvoiceState::Paid;
            invoice.paid_at = Some(SystemTime::now());
            invoice.transaction_id = Some(shared.next_transaction_id());
            if invoice.is_gateway() {
                invoice.hold_id = Some(shared.next_hold_id());
            }
            if invoice.is_scannable() {
                // Anyone may scan a QR code: the payer is whoever pays — the wallet's user here.
                let user = &shared.config.wallet_user;
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
    if pay {
        deliver_payment(shared, settled.clone());
    }
    Ok(settled)
}
