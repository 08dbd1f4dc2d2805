//! Pocket's payment gateway (v2): QR and deep-link invoices for orders, their lookups, the
//! paid-or-not question, and the listings of branches and terminals.

use async_trait::async_trait;
use futures_util::Stream;
use pocket_core::{
    Branch, BranchId, Error, ErrorKind, GatewayApi, GatewayInvoice, InvoiceDetail, InvoiceId, NewGatewayInvoice,
    OrderNumber, Page, Terminal, TerminalId, ValidationError,
};
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use crate::client::{Creation, PocketClient, Repeat};
use crate::paging::every_item;
use crate::transport::decode;

/// How many items a listing asks for per page.
const PAGE_SIZE: u32 = 100;

/// The body of the lookups: the terminal and one key of the invoice.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Lookup<'a> {
    terminal_id: TerminalId,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_number: Option<&'a OrderNumber>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "id_as_number")]
    invoice_id: Option<&'a InvoiceId>,
}

/// An invoice id as Pocket writes its ids: a JSON number when it is a plain decimal number,
/// else the text.
fn id_as_number<S: serde::Serializer>(id: &Option<&InvoiceId>, serializer: S) -> Result<S::Ok, S::Error> {
    match id.map(|id| (id, id.as_str().parse::<u64>())) {
        Some((_, Ok(number))) => serializer.serialize_u64(number),
        Some((id, Err(_))) => serializer.serialize_str(id.as_str()),
        None => serializer.serialize_none(),
    }
}

fn json_body(operation: &str, body: &impl Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body).map_err(|e| Error::new(ErrorKind::Validation, format!("{operation}: {e}")))
}

/// The payment gateway, callable without importing a trait; [`GatewayApi`] delegates here.
impl PocketClient {
    /// Generates a QR / deep-link invoice for an order. Never sent twice once it may have
    /// reached Pocket: such a failure is [`ErrorKind::Ambiguous`], whose
    /// [`unconfirmed_invoice`](Error::unconfirmed_invoice) names the terminal and order —
    /// find the invoice with [`recover_invoice`](Self::recover_invoice) before generating again.
    pub async fn generate_invoice(&self, invoice: &NewGatewayInvoice) -> Result<GatewayInvoice, Error> {
        let url = self.environment().generate_invoice_url();
        self.create("generate an invoice", url, Creation::Gateway(invoice), |generated: &GatewayInvoice| &generated.id)
            .await
    }

    /// The invoice of an order on a terminal. An order Pocket does not know is
    /// [`ErrorKind::NotFound`].
    pub async fn invoice_by_order_number(
        &self,
        terminal: TerminalId,
        order: &OrderNumber,
    ) -> Result<InvoiceDetail, Error> {
        let operation = "look up an invoice by its order number";
        let lookup = Lookup { terminal_id: terminal, order_number: Some(order), invoice_id: None };
        self.detail(operation, None, &self.environment().invoice_by_order_number_url(), &lookup).await
    }

    /// A gateway invoice by Pocket's id, on a terminal.
    pub async fn invoice_by_id(&self, terminal: TerminalId, id: &InvoiceId) -> Result<InvoiceDetail, Error> {
        let operation = "look up an invoice by its id";
        let lookup = Lookup { terminal_id: terminal, order_number: None, invoice_id: Some(id) };
        self.detail(operation, Some(id.as_str()), &self.environment().invoice_by_id_url(), &lookup).await
    }

    async fn detail(
        &self,
        operation: &'static str,
        invoice_id: Option<&str>,
        url: &str,
        lookup: &Lookup<'_>,
    ) -> Result<InvoiceDetail, Error> {
        self.traced(operation, invoice_id, async {
            let body = json_body(operation, lookup)?;
            // A lookup changes nothing, so it is retried although it is a POST.
            let answer = self.call(operation, Method::POST, url, Some(body), Repeat::Safe).await?;
            decode(operation, &answer)
        })
        .await
    }

    /// After an [`ErrorKind::Ambiguous`] [`generate_invoice`](Self::generate_invoice): the
    /// order's invoice if Pocket made it (`Some`), or `None` when Pocket answers that it does
    /// not know the order (HTTP 404) — only then is generating again safe. Any other failure is
    /// an error: try again later rather than generate a second invoice.
    ///
    /// Pocket may still be processing the lost request; call this after the client's timeout
    /// has passed since the ambiguous attempt, not at once.
    pub async fn recover_invoice(
        &self,
        terminal: TerminalId,
        order: &OrderNumber,
    ) -> Result<Option<InvoiceDetail>, Error> {
        match self.invoice_by_order_number(terminal, order).await {
            Ok(detail) => Ok(Some(detail)),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Whether the order's invoice is paid: Pocket answers 200 when it is and 400 when it is
    /// pending or cancelled — so any 400 is `Ok(false)`, not an error. A 200 whose body says
    /// `false` (alone, or as `paid`, `isPaid` or `result`) is also `Ok(false)`. Any other
    /// status is an error.
    ///
    /// A hint for a page that polls; confirm a payment from the invoice's detail (or let
    /// pocket-payments do it) before shipping anything.
    pub async fn is_paid(&self, terminal: TerminalId, order: &OrderNumber) -> Result<bool, Error> {
        let operation = "ask whether an order is paid";
        self.traced(operation, None, async {
            let lookup = Lookup { terminal_id: terminal, order_number: Some(order), invoice_id: None };
            let body = json_body(operation, &lookup)?;
            let url = self.environment().is_paid_url();
            match self.call(operation, Method::POST, &url, Some(body), Repeat::Safe).await {
                Ok(answer) => Ok(!says_false(&answer)),
                Err(error) if error.status() == Some(400) => {
                    tracing::debug!(%error, "Pocket answered 400: pending or cancelled");
                    Ok(false)
                }
                Err(error) => Err(error),
            }
        })
        .await
    }

    /// One page (from 0) of the merchant's branches.
    pub async fn branches_page(&self, page: u32) -> Result<Page<Branch>, Error> {
        let operation = "list the branches";
        self.page(operation, &self.environment().branches_url(), page).await
    }

    /// One page (from 0) of a branch's terminals.
    pub async fn terminals_page(&self, branch: &BranchId, page: u32) -> Result<Page<Terminal>, Error> {
        let operation = "list a branch's terminals";
        self.page(operation, &self.environment().terminals_url(branch), page).await
    }

    async fn page<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        url: &str,
        page: u32,
    ) -> Result<Page<T>, Error> {
        self.traced(operation, None, async {
            let url = format!("{url}?page={page}&size={PAGE_SIZE}");
            let answer = self.call(operation, Method::GET, &url, None, Repeat::Safe).await?;
            decode(operation, &answer)
        })
        .await
    }

    /// Every branch of the merchant, page after page, as they are fetched. Ends after the last
    /// page; a failed page ends it with that error.
    ///
    /// ```no_run
    /// # async fn run(client: pocket_http::PocketClient) -> Result<(), pocket_core::Error> {
    /// use futures_util::TryStreamExt;
    ///
    /// let branches: Vec<_> = client.branches().try_collect().await?;
    /// for branch in &branches {
    ///     let terminals: Vec<_> = client.terminals(&branch.id).try_collect().await?;
    ///     println!("{}: {} terminals", branch.id, terminals.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn branches(&self) -> impl Stream<Item = Result<Branch, Error>> + Send + '_ {
        every_item(move |page| self.branches_page(page))
    }

    /// Every terminal of a branch, page after page (see [`branches`](Self::branches)).
    pub fn terminals<'a>(&'a self, branch: &'a BranchId) -> impl Stream<Item = Result<Terminal, Error>> + Send + 'a {
        every_item(move |page| self.terminals_page(branch, page))
    }

    /// Cancels a held payment by its `heldId` (from the payment's notice or detail).
    ///
    /// **Unconfirmed**: one integration lists `PUT payment-gateway/transaction/cancel/{heldId}`;
    /// Pocket documents nothing about it, its answer included. Any 2xx is taken as done.
    pub async fn cancel(&self, held_id: &str) -> Result<(), Error> {
        let operation = "cancel a held payment";
        self.traced(operation, None, async {
            check_held_id(held_id)?;
            let url = self.environment().cancel_url(held_id);
            // Cancelling twice is harmless, so it is retried.
            self.call(operation, Method::PUT, &url, None, Repeat::Safe).await.map(drop)
        })
        .await
    }
}

/// A 2xx body that nonetheless says "not paid".
fn says_false(body: &[u8]) -> bool {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Bool(false)) => true,
        Ok(Value::Object(fields)) => {
            ["paid", "isPaid", "result"].iter().any(|key| fields.get(*key) == Some(&Value::Bool(false)))
        }
        _ => false,
    }
}

fn check_held_id(held_id: &str) -> Result<(), Error> {
    let refuse =
        |reason: &str| Err(Error::from(ValidationError::Invalid { field: "heldId", reason: reason.to_owned() }));
    if held_id.trim().is_empty() {
        return refuse("the hold's id is empty");
    }
    if held_id == "." || held_id == ".." || held_id.len() > 256 || held_id.chars().any(char::is_control) {
        return refuse("the hold's id cannot be one URL path segment");
    }
    Ok(())
}

#[async_trait]
impl GatewayApi for PocketClient {
    async fn generate_invoice(&self, invoice: &NewGatewayInvoice) -> Result<GatewayInvoice, Error> {
        PocketClient::generate_invoice(self, invoice).await
    }

    async fn invoice_by_order_number(&self, terminal: TerminalId, order: &OrderNumber) -> Result<InvoiceDetail, Error> {
        PocketClient::invoice_by_order_number(self, terminal, order).await
    }

    async fn invoice_by_id(&self, terminal: TerminalId, id: &InvoiceId) -> Result<InvoiceDetail, Error> {
        PocketClient::invoice_by_id(self, terminal, id).await
    }

    async fn is_paid(&self, terminal: TerminalId, order: &OrderNumber) -> Result<bool, Error> {
        PocketClient::is_paid(self, terminal, order).await
    }

    async fn branches_page(&self, page: u32) -> Result<Page<Branch>, Error> {
        PocketClient::branches_page(self, page).await
    }

    async fn terminals_page(&self, branch: &BranchId, page: u32) -> Result<Page<Terminal>, Error> {
        PocketClient::terminals_page(self, branch, page).await
    }

    async fn cancel(&self, held_id: &str) -> Result<(), Error> {
        PocketClient::cancel(self, held_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_200_is_paid_unless_its_body_says_otherwise() {
        for body in ["", "{}", "true", r#"{"paid": true}"#, "OK", r#"{"result": "false"}"#] {
            assert!(!says_false(body.as_bytes()), "{body}");
        }
        for body in ["false", r#"{"paid": false}"#, r#"{"isPaid": false, "x": 1}"#, r#"{"result": false}"#] {
            assert!(says_false(body.as_bytes()), "{body}");
        }
    }

    #[test]
    fn numeric_invoice_ids_are_sent_as_numbers() {
        let body = |id: &str| {
            let id = InvoiceId::new(id).unwrap();
            let lookup = Lookup { terminal_id: TerminalId::new(7), order_number: None, invoice_id: Some(&id) };
            serde_json::to_value(&lookup).unwrap()
        };
        assert_eq!(body("10001"), serde_json::json!({"terminalId": 7, "invoiceId": 10001}));
        assert_eq!(body("INV-7"), serde_json::json!({"terminalId": 7, "invoiceId": "INV-7"}));
    }

    #[test]
    fn hold_ids_must_be_one_path_segment() {
        for bad in ["", " ", ".", "..", "a\nb"] {
            assert_eq!(check_held_id(bad).unwrap_err().kind(), ErrorKind::Validation, "{bad:?}");
        }
        assert!(check_held_id("../x").is_ok(), "encoded as one segment");
    }
}
