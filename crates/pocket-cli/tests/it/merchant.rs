//! `pocket` against the sandbox: who am I, the webhook address, and every way it can go wrong
//! (wrong secret, Pocket down, bad input, production without confirmation).

use crate::common;

use std::time::{Duration, Instant};

use common::{SECRET, pocket, pocket_at, run};
use pocket_sandbox::Sandbox;

#[tokio::test(flavor = "multi_thread")]
async fn whoami_shows_the_merchant_its_token_expiry_and_webhook_but_no_secret() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.set_webhook_url("https://shop.example.mn/pocket/webhook");
    let out = run(pocket_at(&sandbox), &["whoami"]).await.expect(0);
    assert!(out.stdout.contains("sandbox-merchant"), "{}", out.stdout);
    assert!(out.stdout.contains("https://shop.example.mn/pocket/webhook"), "{}", out.stdout);
    assert!(out.stdout.contains("token expires  in 9 min"), "{}", out.stdout);
    assert!(!out.all().contains(SECRET), "the secret was printed");
    assert!(!out.all().contains("eyJ"), "a token was printed");

    let json = run(pocket_at(&sandbox), &["whoami", "--json"]).await.expect(0).json();
    assert_eq!(json["clientId"], "sandbox-merchant");
    assert_eq!(json["environment"], "custom");
    assert_eq!(json["realm"], sandbox.realm_url());
    let expires = json["tokenExpiresAt"].as_u64().expect("unix seconds");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!((now + 500..=now + 601).contains(&expires), "{expires} vs {now}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_shorthand_and_a_dotenv_file_are_enough_to_find_pocket() {
    let sandbox = Sandbox::start().await.unwrap();
    // `--env sandbox` at another address assumes the sandbox's own test merchant.
    let mut command = pocket();
    command.args([
        "--env",
        "sandbox",
        "--sso",
        sandbox.base_url(),
        "--api",
        &format!("{}/merchant", sandbox.base_url()),
    ]);
    run(command, &["whoami"]).await.expect(0);

    // The same settings from a .env file in the working directory.
    let dir = common::empty_dir();
    let base = sandbox.base_url();
    let file = format!(
        "# a developer's .env\nPOCKET_SSO_URL={base}\nPOCKET_API_URL=\"{base}/merchant\"\nPOCKET_CLIENT_ID=sandbox-merchant\nexport POCKET_CLIENT_SECRET={SECRET}\n"
    );
    std::fs::write(dir.join(".env"), file).unwrap();
    let mut command = pocket();
    command.current_dir(&dir);
    let out = run(command, &["whoami"]).await.expect(0);
    assert!(out.stdout.contains("sandbox-merchant"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_is_a_configuration_error_that_never_echoes_the_secret() {
    let sandbox = Sandbox::start().await.unwrap();
    let wrong = "wr0ng-s3cret-value";
    let mut command = pocket_at(&sandbox);
    command.env("POCKET_CLIENT_SECRET", wrong);
    let out = run(command, &["whoami"]).await.expect(2);
    assert!(out.stderr.contains("POCKET_CLIENT_SECRET"), "{}", out.stderr);
    assert!(!out.all().contains(wrong), "the secret was printed:\n{}", out.all());

    // No secret at all, and no terminal to ask on: say where it belongs.
    let mut command = pocket_at(&sandbox);
    command.env_remove("POCKET_CLIENT_SECRET");
    let out = run(command, &["webhook", "get"]).await.expect(2);
    assert!(out.stderr.contains("no client secret"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn pocket_down_is_a_clear_failure_within_seconds() {
    let port = pocket_test_support::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut command = pocket();
    command.args(["--sso", &base, "--api", &format!("{base}/merchant")]);
    command.env("POCKET_CLIENT_ID", "shop").env("POCKET_CLIENT_SECRET", SECRET);
    let started = Instant::now();
    let out = run(command, &["webhook", "get"]).await.expect(1);
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    assert!(out.stderr.contains(&format!("127.0.0.1:{port}")), "names where: {}", out.stderr);
    assert!(out.stderr.contains("could not be reached"), "{}", out.stderr);
    assert!(!out.all().contains(SECRET));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_says_which_argument_and_why() {
    let sandbox = Sandbox::start().await.unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["invoice", "check", ".."], "invoice id \"..\""),
        (&["invoice", "create", "--amount", "12.345"], "--amount \"12.345\""),
        (&["invoice", "create", "--amount", "100", "--consumer-token", "x.y.z"], "500"),
        (&["gateway", "generate", "--terminal", "abc", "--amount", "1000", "--order", "A"], "--terminal \"abc\""),
        (&["gateway", "detail", "--terminal", "7001", "--order", "an order number longer than 24"], "--order"),
        (&["gateway", "terminals", ""], "branch \"\""),
        (&["invoice", "watch", "1", "--every=-1"], "--every"),
        (&["webhook", "set", "not a url"], "is not an absolute URL"),
        (&["trigger", "forged", "--forgery", "wrong-amount", "--to", "http://127.0.0.1:9/"], "--invoice"),
    ];
    for (args, expected) in cases {
        let out = run(pocket_at(&sandbox), args).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert!(out.stderr.contains(expected), "{args:?} should mention {expected:?}: {}", out.stderr);
    }
    // clap's own: a missing argument and an unknown command.
    let out = run(pocket_at(&sandbox), &["gateway", "is-paid", "--order", "A"]).await.expect(2);
    assert!(out.stderr.contains("--terminal"), "{}", out.stderr);
    run(pocket_at(&sandbox), &["refund"]).await.expect(2);
    // No place at all.
    let out = run(pocket(), &["whoami"]).await.expect(2);
    assert!(out.stderr.contains("which Pocket?"), "{}", out.stderr);
    let out = run(pocket(), &["--env", "prod", "whoami"]).await.expect(2);
    assert!(out.stderr.contains("unknown Pocket environment"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_get_set_and_ensure() {
    let sandbox = Sandbox::start().await.unwrap();
    let out = run(pocket_at(&sandbox), &["webhook", "get", "--json"]).await.expect(0);
    assert_eq!(out.json()["webhookUrl"], serde_json::Value::Null);

    let url = "http://127.0.0.1:3000/pocket/webhook";
    run(pocket_at(&sandbox), &["webhook", "set", url]).await.expect(0);
    let out = run(pocket_at(&sandbox), &["webhook", "get", "--json"]).await.expect(0);
    assert_eq!(out.json()["webhookUrl"], url);

    let json = run(pocket_at(&sandbox), &["webhook", "ensure", url, "--json"]).await.expect(0).json();
    assert_eq!(json["changed"], false);
    let other = "http://127.0.0.1:3001/pocket/webhook";
    let json = run(pocket_at(&sandbox), &["webhook", "ensure", other, "--json"]).await.expect(0).json();
    assert_eq!((json["changed"].clone(), json["previous"].clone()), (true.into(), url.into()));
    let out = run(pocket_at(&sandbox), &["webhook", "get"]).await.expect(0);
    assert!(out.stdout.contains(other), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn production_changes_need_confirmation_and_https() {
    // Nothing here may reach the network: each is refused before any request.
    let production = || {
        let mut command = pocket();
        command.args(["--env", "production"]).env("POCKET_CLIENT_ID", "shop").env("POCKET_CLIENT_SECRET", SECRET);
        command
    };
    let out = run(production(), &["webhook", "set", "https://shop.example.mn/hook"]).await.expect(2);
    assert!(out.stderr.contains("production: add --yes"), "{}", out.stderr);
    let out =
        run(production(), &["invoice", "create", "--amount", "1000", "--consumer-token", "a.b.c"]).await.expect(2);
    assert!(out.stderr.contains("production: add --yes"), "{}", out.stderr);
    let out = run(production(), &["webhook", "set", "http://shop.example.mn/hook", "--yes"]).await.expect(2);
    assert!(out.stderr.contains("https"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn help_version_and_completions() {
    let out = run(pocket(), &["--help"]).await.expect(0);
    for word in ["Examples:", "whoami", "webhook", "invoice", "gateway", "token", "sandbox", "trigger", "Exit codes"] {
        assert!(out.stdout.contains(word), "--help lacks {word}:\n{}", out.stdout);
    }
    let out = run(pocket(), &["--version"]).await.expect(0);
    assert_eq!(out.stdout.trim(), format!("pocket {}", env!("CARGO_PKG_VERSION")));
    for (shell, mark) in [("bash", "_pocket()"), ("zsh", "#compdef pocket"), ("fish", "complete -c pocket")] {
        let out = run(pocket(), &["completions", shell]).await.expect(0);
        assert!(out.stdout.contains(mark), "{shell}: {}", &out.stdout[..out.stdout.len().min(300)]);
        assert!(out.stdout.contains("trigger"), "{shell} completes the commands");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn colour_only_when_asked_or_on_a_terminal() {
    let sandbox = Sandbox::start().await.unwrap();
    let piped = run(pocket_at(&sandbox), &["webhook", "get"]).await.expect(0);
    assert!(!piped.stdout.contains('\x1b'), "a pipe gets plain text");
    let forced = run(pocket_at(&sandbox), &["webhook", "get", "--color", "always"]).await.expect(0);
    assert!(forced.stdout.contains("\x1b["), "--color always paints: {:?}", forced.stdout);
    let mut command = pocket_at(&sandbox);
    command.env("NO_COLOR", "1");
    let out = run(command, &["webhook", "get", "--color", "never"]).await.expect(0);
    assert!(!out.stdout.contains('\x1b'));
}
