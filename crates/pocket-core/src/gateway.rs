//! Pocket's payment gateway (v2): QR and deep-link invoices for web shops and tills, generated
//! for the merchant's own order numbers on its terminals, and the listings of its branches and
//! terminals.

mod codes;
mod invoice;
mod listing;

pub use codes::{Channel, InvoiceType};
pub use invoice::{GatewayInvoice, InvoiceDetail, NewGatewayInvoice};
pub use listing::{Branch, Page, Terminal};
