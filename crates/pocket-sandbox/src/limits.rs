//! What a wallet may pay: the limits of Pocket's published service agreement (pocket.mn), by
//! the payer's tier. A payment over them fails on the wallet's side.

use std::time::{Duration, SystemTime};

use pocket_core::{Amount, InvoiceState};

use crate::state::SandboxInvoice;

/// A wallet's tier, as Pocket's service agreement names its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WalletTier {
    /// A low-tier wallet: at most 20 000 ₮ a payment and 40 000 ₮ a day (and a balance of at
    /// most 100 000 ₮).
    Low,
    /// A high-tier wallet: at most 5 000 000 ₮ a payment (the default).
    #[default]
    High,
}

impl WalletTier {
    /// The most one payment may be.
    pub fn per_payment(self) -> Amount {
        match self {
            WalletTier::Low => Amount::from_mongo(20_000 * 100),
            WalletTier::High => Amount::from_mongo(5_000_000 * 100),
        }
    }

    /// The most the wallet may pay in a day (the sandbox counts the last 24 hours), if the
    /// agreement sets a limit.
    pub fn per_day(self) -> Option<Amount> {
        match self {
            WalletTier::Low => Some(Amount::from_mongo(40_000 * 100)),
            WalletTier::High => None,
        }
    }
}

/// Why `payer` may not pay `invoice` now, given the invoices already paid (`paid`), or `None`.
pub(crate) fn refusal<'a>(
    tier: WalletTier,
    payer: &str,
    invoice: &SandboxInvoice,
    paid: impl Iterator<Item = &'a SandboxInvoice>,
) -> Option<String> {
    if invoice.amount > tier.per_payment() {
        return Some(format!(
            "the payment of {} is over the wallet's limit of {} a payment ({tier:?} tier)",
            invoice.amount,
            tier.per_payment()
        ));
    }
    let limit = tier.per_day()?;
    let day_ago = SystemTime::now() - Duration::from_secs(86_400);
    let today: u64 = paid
        .filter(|other| other.state == InvoiceState::Paid && other.payer == payer)
        .filter(|other| other.paid_at.is_some_and(|at| at > day_ago))
        .map(|other| other.amount.as_mongo())
        .sum();
    (today + invoice.amount.as_mongo() > limit.as_mongo()).then(|| {
        format!(
            "the payment of {} would take the wallet over its limit of {limit} a day ({} paid in the last 24 hours, {tier:?} tier)",
            invoice.amount,
            Amount::from_mongo(today)
        )
    })
}
