//! `pocket gateway …`: branches, terminals and QR / deep-link invoices of the payment gateway.

use futures_util::TryStreamExt;
use pocket_core::{BranchId, InvoiceDetail, NewGatewayInvoice, OrderNumber, TerminalId};

use crate::cli::{GatewayCommand, OrderArgs};
use crate::failure::Failure;
use crate::output::{Output, Record, Table, Tone, emit, to_json};
use crate::place::Place;

use super::values::{amount, note};

pub async fn run(command: GatewayCommand, place: &Place, out: Output) -> Result<(), Failure> {
    let client = place.merchant()?.client;
    match command {
        GatewayCommand::Branches => {
            let branches: Vec<_> = client.branches().try_collect().await?;
            let mut table = Table::new(vec!["ID", "NAME", "ADDRESS"], to_json(&branches));
            for branch in &branches {
                table.row(vec![branch.id.as_str().to_owned(), text(&branch.name), text(&branch.address)]);
            }
            out.table(&table);
        }
        GatewayCommand::Terminals { branch } => {
            let branch =
                BranchId::new(branch.as_str()).map_err(|e| Failure::usage(format!("branch {branch:?}: {e}")))?;
            let terminals: Vec<_> = client.terminals(&branch).try_collect().await?;
            let mut table = Table::new(vec!["ID", "NAME"], to_json(&terminals));
            for terminal in &terminals {
                table.row(vec![terminal.id.to_string(), text(&terminal.name)]);
            }
            out.table(&table);
        }
        GatewayCommand::Generate { terminal, amount: amount_text, order, note: note_text, qr } => {
            let invoice = NewGatewayInvoice::new(
                terminal_id(&terminal)?,
                amount(&amount_text)?,
                note(&note_text)?,
                order_number(&order)?,
            )?;
            let generated = client.generate_invoice(&invoice).await?;
            let record = Record::new()
                .toned("id", "invoice", generated.id.as_str(), Tone::Strong)
                .field("orderNumber", "order", generated.order_number.clone().unwrap_or(order))
                .field("amount", "amount", invoice.amount().to_string())
                .field("qr", "QR text", generated.qr.clone())
                .field("deeplink", "deep link", generated.deeplink.clone())
                .json_as(to_json(&generated));
            out.record(&record);
            if qr && !out.is_json() {
                match &generated.qr {
                    Some(text) => emit(&pocket_core::qr_text(text)?),
                    None => out.say("(Pocket sent no QR text to draw)"),
                }
            }
        }
        GatewayCommand::Detail(OrderArgs { terminal, order }) => {
            let detail = client.invoice_by_order_number(terminal_id(&terminal)?, &order_number(&order)?).await?;
            out.record(&detail_record(&detail));
        }
        GatewayCommand::IsPaid(OrderArgs { terminal, order }) => {
            let paid = client.is_paid(terminal_id(&terminal)?, &order_number(&order)?).await?;
            let record = Record::new().field("orderNumber", "order", order.as_str()).toned(
                "paid",
                "paid",
                paid,
                if paid { Tone::Good } else { Tone::Warn },
            );
            out.record(&record);
            if !paid {
                // Scripts can write `pocket gateway is-paid … && ship`.
                return Err(Failure::pocket(format!("order {order} is not paid")));
            }
        }
    }
    Ok(())
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn terminal_id(text: &str) -> Result<TerminalId, Failure> {
    text.parse().map_err(|e| Failure::usage(format!("--terminal {text:?}: {e}")))
}

fn order_number(text: &str) -> Result<OrderNumber, Failure> {
    OrderNumber::new(text).map_err(|e| Failure::usage(format!("--order {text:?}: {e}")))
}

fn detail_record(detail: &InvoiceDetail) -> Record {
    Record::new()
        .field("id", "invoice", detail.id.as_ref().map(|id| id.as_str().to_owned()))
        .field("orderNumber", "order", detail.order_number.clone())
        .toned("state", "state", detail.state.as_str(), Tone::of_state(&detail.state))
        .field("amount", "amount", detail.amount.map(|a| a.to_string()))
        .field("info", "note", detail.info.clone())
        .field("terminalId", "terminal", detail.terminal_id.map(|t| t.to_string()))
        .field("branchName", "branch", detail.branch_name.clone())
        .field("heldId", "hold", detail.held_id.clone())
        .field("createdAt", "created", detail.created_at.clone())
        .json_as(to_json(detail))
}
