//! A client's own token (a service account — the merchant's client-credentials token among them)
//! is no wallet user, by any of the marks such tokens carry; `azp` alone is never such a mark.

use crate::common;

use common::*;
use pocket_core::TokenRejection;
use serde_json::json;

#[tokio::test]
async fn service_account_tokens_are_refused_by_each_mark() {
    let sandbox = sandbox().await;
    let verifier = verifier(&sandbox);
    for (changes, mark) in [
        (json!({"preferred_username": "service-account-sandbox-merchant"}), "preferred_username"),
        (json!({"clientId": "sandbox-merchant"}), "clientId"),
        (json!({"client_id": "sandbox-merchant"}), "client_id"),
        (json!({"sub": "sandbox-merchant", "azp": "sandbox-merchant"}), "sub"),
    ] {
        let error = verifier.verify(&token_with(&sandbox, changes.clone())).await.unwrap_err();
        assert_eq!(error.token_rejection(), Some(TokenRejection::ServiceAccount), "{changes}");
        assert!(error.to_string().contains(mark), "{error}");
    }
}

#[tokio::test]
async fn the_realms_own_merchant_token_is_refused_unless_accepted() {
    let sandbox = sandbox().await;
    let own = &sandbox.mint_merchant_token().unwrap();
    let error = verifier(&sandbox).verify(own).await.unwrap_err();
    assert_eq!(error.token_rejection(), Some(TokenRejection::ServiceAccount), "{error}");
    let accepting = builder(&sandbox).accept_service_accounts(true).build().unwrap();
    assert!(accepting.verify(own).await.unwrap().service_account_mark().is_some());
}

#[tokio::test]
async fn a_user_whose_token_was_issued_to_the_merchants_client_is_a_user() {
    let sandbox = sandbox().await;
    let token = token_with(&sandbox, json!({"azp": sandbox.credentials().client_id(), "sub": "user-1"}));
    let user = verifier(&sandbox).verify(&token).await.unwrap();
    assert_eq!(user.authorized_party.as_deref(), Some(sandbox.credentials().client_id()));
    assert_eq!(user.service_account_mark(), None);
}
