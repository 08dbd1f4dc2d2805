//! How a sandbox is set up: its merchant clients, token lifetimes, webhook schedule, wallet user.

use std::time::Duration;

use pocket_core::Credentials;

use crate::limits::WalletTier;

/// A merchant client the sandbox knows: what Pocket issues a merchant on sign-up.
#[derive(Clone)]
pub struct TestClient {
    /// The `client_id`.
    pub client_id: String,
    /// The `client_secret`.
    pub client_secret: String,
    /// The merchant's terminal id, returned with its invoices.
    pub terminal_id: u64,
    /// Whether the client must authenticate with `Authorization: Basic` (`client_secret_basic`);
    /// credentials in the form are then refused, as a Keycloak client configured so refuses them.
    pub basic_only: bool,
    /// The merchant's branches at the payment gateway, each with its terminals. The first
    /// branch holds [`terminal_id`](Self::terminal_id).
    pub branches: Vec<TestBranch>,
}

/// A branch of a merchant at the payment gateway, and its terminals.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestBranch {
    /// The branch's id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its address.
    pub address: String,
    /// The bank account its payments go to.
    pub account_number: String,
    /// Its terminals' ids.
    pub terminals: Vec<u64>,
}

impl TestBranch {
    /// A branch with these terminals and made-up other details.
    pub fn new(id: u64, name: impl Into<String>, terminals: Vec<u64>) -> TestBranch {
        TestBranch {
            id,
            name: name.into(),
            address: format!("Улаанбаатар, Сүхбаатар дүүрэг, {id}-р хороо"),
            account_number: format!("{:010}", 5_000_000_000 + id),
            terminals,
        }
    }
}

/// What the gateway does when an invoice is generated for an order number that already has one
/// on the terminal. Pocket's behaviour is not documented: the SDK must be right under both, so
/// the sandbox models both. Either way, an order never has two payable invoices, and an order
/// whose invoice is paid gets no new one (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DuplicateOrders {
    /// Refused with 400 `DUPLICATE_ORDER_NUMBER` (the default: the safer assumption).
    #[default]
    Refuse,
    /// A new invoice is made and the order's pending one is cancelled.
    Replace,
}

impl std::fmt::Debug for TestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("terminal_id", &self.terminal_id)
            .field("basic_only", &self.basic_only)
            .field("branches", &self.branches)
            .finish()
    }
}

impl TestClient {
    /// The client's credentials, for a merchant client.
    pub fn credentials(&self) -> Credentials {
        Credentials::new(&self.client_id, &self.client_secret)
    }
}

/// A wallet user, as the wallet would describe them to the realm.
///
/// `scopes` are what the user consents to share: `profile` adds the names, `phone` the phone
/// number, `email` the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestUser {
    /// The stable user id (`sub`).
    pub subject: String,
    /// `preferred_username`.
    pub username: String,
    /// `given_name`.
    pub given_name: String,
    /// `family_name`.
    pub family_name: String,
    /// `phone_number`.
    pub phone_number: String,
    /// `email`.
    pub email: String,
    /// The consented scopes.
    pub scopes: Vec<String>,
    /// The wallet's tier, which limits what it may pay (default high). The sandbox's wallet user's
    /// tier applies to every payment made in the sandbox's wallet.
    pub tier: WalletTier,
}

impl TestUser {
    /// A user with the given subject and the default test user's other details.
    pub fn new(subject: impl Into<String>) -> TestUser {
        TestUser { subject: subject.into(), ..TestUser::default() }
    }

    /// The same user, with a wallet of `tier`.
    pub fn with_tier(mut self, tier: WalletTier) -> TestUser {
        self.tier = tier;
        self
    }

    /// The same user, consenting to exactly `scopes`.
    pub fn with_scopes(mut self, scopes: &[&str]) -> TestUser {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }
}

impl Default for TestUser {
    /// Бат-Эрдэнэ Дорж, who consents to everything.
    fn default() -> Self {
        TestUser {
            subject: "5f0c2a8e-7b1d-4c39-9a57-3e8d2b6f1c04".to_owned(),
            username: "99112233".to_owned(),
            given_name: "Бат-Эрдэнэ".to_owned(),
            family_name: "Дорж".to_owned(),
            phone_number: "99112233".to_owned(),
            email: "bat-erdene@example.mn".to_owned(),
            scopes: ["openid", "profile", "phone", "email"].map(str::to_owned).to_vec(),
            tier: WalletTier::High,
        }
    }
}

/// The sandbox's settings. [`SandboxConfig::default`] is what `cargo run -p pocket-sandbox` uses;
/// tests usually shorten the lifetimes and the webhook schedule.
///
/// ```no_run
/// # async fn run() -> Result<(), pocket_sandbox::SandboxError> {
/// use std::time::Duration;
/// use pocket_sandbox::SandboxConfig;
///
/// let sandbox = SandboxConfig::default()
///     .token_lifetime(Duration::from_secs(2))
///     .webhook_retry_schedule(vec![Duration::from_millis(10), Duration::from_millis(20)])
///     .start()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub(crate) port: u16,
    pub(crate) webview_port: u16,
    pub(crate) clients: Vec<TestClient>,
    pub(crate) token_lifetime: Duration,
    pub(crate) refresh_lifetime: Duration,
    pub(crate) key_grace_period: Duration,
    pub(crate) webhook_retry_schedule: Vec<Duration>,
    pub(crate) webhook_timeout: Duration,
    pub(crate) wallet_user: TestUser,
    pub(crate) mini_app_url: Option<String>,
    pub(crate) seed: u64,
    pub(crate) page_size_limit: u32,
    pub(crate) duplicate_orders: DuplicateOrders,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            port: 0,
            webview_port: 0,
            clients: vec![TestClient {
                client_id: "sandbox-merchant".to_owned(),
                client_secret: "sandbox-secret".to_owned(),
                terminal_id: 7001,
                basic_only: false,
                // A second terminal with an id beyond 32 bits, as Pocket's are.
                branches: vec![TestBranch::new(1, "Төв салбар", vec![7001, 74_686_381_183_671])],
            }],
            token_lifetime: Duration::from_secs(600),
            refresh_lifetime: Duration::from_secs(604_800),
            key_grace_period: Duration::from_secs(3600),
            webhook_retry_schedule: [5, 30, 120, 600].map(Duration::from_secs).to_vec(),
            webhook_timeout: Duration::from_secs(10),
            wallet_user: TestUser::default(),
            mini_app_url: None,
            seed: 0x5eed,
            page_size_limit: 20,
            duplicate_orders: DuplicateOrders::Refuse,
        }
    }
}

impl SandboxConfig {
    /// Listen on this port of 127.0.0.1 (default: 0, any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Show the mini-app in the wallet's web view on this port of 127.0.0.1 (default: 0, any free port).
    pub fn webview_port(mut self, port: u16) -> Self {
        self.webview_port = port;
        self
    }

    /// Adds a merchant client. The first client is the one [`Sandbox::credentials`](crate::Sandbox::credentials) returns.
    pub fn client(mut self, client_id: &str, client_secret: &str) -> Self {
        let terminal_id = 7001 + self.clients.len() as u64;
        let branch_id = 1 + self.clients.iter().map(|c| c.branches.len() as u64).sum::<u64>();
        self.clients.push(TestClient {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            terminal_id,
            basic_only: false,
            branches: vec![TestBranch::new(branch_id, format!("{client_id} салбар"), vec![terminal_id])],
        });
        self
    }

    /// Gives the last merchant client added (the default one if none was) another branch with
    /// `terminals` new terminals — for listings that span pages.
    pub fn branch(mut self, name: &str, terminals: usize) -> Self {
        let next_branch = 1 + self.clients.iter().flat_map(|c| &c.branches).map(|b| b.id).max().unwrap_or(0);
        let next_terminal = 1 + self
            .clients
            .iter()
            .flat_map(|c| &c.branches)
            .flat_map(|b| b.terminals.iter().copied())
            .fold(8000, u64::max);
        if let Some(client) = self.clients.last_mut() {
            let ids = (0..terminals as u64).map(|n| next_terminal + n).collect();
            client.branches.push(TestBranch::new(next_branch, name, ids));
        }
        self
    }

    /// Listings answer at most this many items per page, whatever size is asked for (default
    /// 20, as a Spring application's `max-page-size` caps it); at least 1.
    pub fn page_size_limit(mut self, limit: u32) -> Self {
        self.page_size_limit = limit.max(1);
        self
    }

    /// What the gateway does with a second invoice for one order number (default:
    /// [`DuplicateOrders::Refuse`]).
    pub fn duplicate_orders(mut self, policy: DuplicateOrders) -> Self {
        self.duplicate_orders = policy;
        self
    }

    /// Adds a merchant client that must authenticate with `Authorization: Basic`
    /// (`client_secret_basic`): credentials sent in the form are refused with `401 invalid_client`.
    pub fn basic_only_client(mut self, client_id: &str, client_secret: &str) -> Self {
        self = self.client(client_id, client_secret);
        if let Some(client) = self.clients.last_mut() {
            client.basic_only = true;
        }
        self
    }

    /// Merchant access tokens live this long (default 600 s, as Pocket's); at least one second.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime.max(Duration::from_secs(1));
        self
    }

    /// Refresh tokens live this long (default 604 800 s, as Pocket's); at least one second.
    pub fn refresh_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_lifetime = lifetime.max(Duration::from_secs(1));
        self
    }

    /// After a key rotation the old key stays in the JWKS this long (default one hour).
    pub fn key_grace_period(mut self, grace: Duration) -> Self {
        self.key_grace_period = grace;
        self
    }

    /// Waits between webhook delivery attempts: one attempt plus one retry per entry
    /// (default 5 s, 30 s, 2 min, 10 min).
    pub fn webhook_retry_schedule(mut self, schedule: Vec<Duration>) -> Self {
        self.webhook_retry_schedule = schedule;
        self
    }

    /// How long one webhook delivery attempt may take (default 10 s).
    pub fn webhook_timeout(mut self, timeout: Duration) -> Self {
        self.webhook_timeout = timeout;
        self
    }

    /// The user the wallet simulator signs in as.
    pub fn wallet_user(mut self, user: TestUser) -> Self {
        self.wallet_user = user;
        self
    }

    /// The mini-app the wallet's web view shows (its pages get the wallet bridge).
    pub fn mini_app_url(mut self, url: impl Into<String>) -> Self {
        self.mini_app_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// The seed of every random fault decision: the same seed gives the same faults.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Starts the sandbox on 127.0.0.1.
    pub async fn start(self) -> Result<crate::Sandbox, crate::SandboxError> {
        crate::Sandbox::start_with(self).await
    }
}
