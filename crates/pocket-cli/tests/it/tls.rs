//! The installed `pocket` speaks TLS to an https Pocket: the probe at the SSO's address sees a
//! TLS ClientHello — the probe of crate tls-alone, where a client built without TLS was checked
//! to send none.

use crate::common;

use std::time::Duration;

use common::{pocket, run};
use tls_alone::TlsProbe;

#[tokio::test(flavor = "multi_thread")]
async fn pocket_reaches_an_https_pocket_over_tls() {
    let probe = TlsProbe::start().await;
    let mut command = pocket();
    command
        .args(["--sso", &probe.url(), "--api", &format!("{}/merchant", probe.url())])
        .env("POCKET_CLIENT_ID", "shop")
        .env("POCKET_CLIENT_SECRET", "secret");
    let out = run(command, &["whoami"]).await.expect(1);
    assert!(
        probe.saw_hello_within(Duration::from_secs(5)).await,
        "no TLS ClientHello reached the https SSO; pocket said: {}",
        out.stderr
    );
}
