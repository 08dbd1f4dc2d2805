//! The `mock` feature: applications can test their code against the traits without a server.

use std::sync::Arc;

use pocket_core::{
    ConsumerTokenVerifier, Error, ErrorKind, InvoiceId, InvoiceState, InvoiceStatus, MerchantApi,
    MockConsumerTokenVerifier, MockMerchantApi, TokenRejection,
};

#[tokio::test]
async fn merchant_api_mock_answers_through_the_trait_object() {
    let mut mock = MockMerchantApi::new();
    mock.expect_check_invoice()
        .withf(|id| id.as_str() == "42")
        .times(1)
        .returning(|_| Ok(InvoiceStatus::new(InvoiceState::Paid)));
    let api: Arc<dyn MerchantApi> = Arc::new(mock);
    let status = api.check_invoice(&InvoiceId::from(42)).await.unwrap();
    assert!(status.state.is_paid());
}

#[tokio::test]
async fn verifier_mock_can_reject_with_a_reason() {
    let mut mock = MockConsumerTokenVerifier::new();
    mock.expect_verify().returning(|_| Err(Error::invalid_token(TokenRejection::Expired, "the token expired")));
    let verifier = Arc::new(mock);
    let error = verifier.verify("a.b.c").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidToken(TokenRejection::Expired));
}

#[tokio::test]
async fn gateway_api_mock_answers_through_the_trait_object() {
    use pocket_core::{GatewayApi, InvoiceDetail, MockGatewayApi, OrderNumber, TerminalId};

    let mut mock = MockGatewayApi::new();
    mock.expect_is_paid()
        .withf(|terminal, order| terminal.get() == 7001 && order.as_str() == "SHOP-1")
        .times(1)
        .returning(|_, _| Ok(true));
    mock.expect_invoice_by_order_number().returning(|_, _| Ok(InvoiceDetail::new(InvoiceState::Paid)));
    let api: Arc<dyn GatewayApi> = Arc::new(mock);
    let order: OrderNumber = "SHOP-1".parse().unwrap();
    assert!(api.is_paid(TerminalId::new(7001), &order).await.unwrap());
    let detail = api.invoice_by_order_number(TerminalId::new(7001), &order).await.unwrap();
    assert!(detail.state.is_paid());
}
