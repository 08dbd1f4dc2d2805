//! The edges of every rule a create request must pass before it is sent.

use pocket_core::{
    Amount, AmountError, ConsumerToken, Error, ErrorKind, InvoiceNote, NewInvoice, NoteError, ValidationError,
};

fn token() -> ConsumerToken {
    ConsumerToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln").unwrap()
}

fn note() -> InvoiceNote {
    InvoiceNote::new("Цай").unwrap()
}

#[test]
fn five_hundred_tugrik_is_the_smallest_invoice() {
    assert!(NewInvoice::new(Amount::from_tugrik(500).unwrap(), note(), token()).is_ok());
    let error = NewInvoice::new(Amount::from_tugrik(499).unwrap(), note(), token()).unwrap_err();
    assert_eq!(
        error,
        ValidationError::Amount(AmountError::BelowMinimum {
            amount: Amount::from_tugrik(499).unwrap(),
            minimum: Amount::MIN_INVOICE,
        })
    );
    assert_eq!(error.to_string(), "amount: 499 ₮ is below the minimum invoice amount of 500 ₮");
    let just_below = NewInvoice::new("499.99".parse().unwrap(), note(), token());
    assert!(just_below.is_err());
}

#[test]
fn one_hundred_cyrillic_characters_fit_and_one_hundred_and_one_do_not() {
    let hundred: String = "Нэхэмжлэх ".chars().cycle().take(100).collect();
    assert!(NewInvoice::new(Amount::MIN_INVOICE, InvoiceNote::new(hundred.clone()).unwrap(), token()).is_ok());
    let error = InvoiceNote::new(format!("{hundred}ж")).unwrap_err();
    assert_eq!(error, NoteError::TooLong { chars: 101, max: 100 });
}

#[test]
fn a_consumer_token_that_is_not_a_jwt_is_refused_with_its_field() {
    let error: Error = ConsumerToken::new("not-a-jwt").unwrap_err().into();
    assert_eq!(error.kind(), ErrorKind::Validation);
    assert_eq!(error.validation().unwrap().field(), "consumerToken");
    assert_eq!(error.to_string(), "consumerToken: the consumer token has 1 dot-separated parts; a JWT has exactly 3");
}

#[test]
fn validation_converts_into_the_shared_error_with_question_mark() {
    fn build(amount: &str, info: &str) -> Result<NewInvoice, Error> {
        Ok(NewInvoice::new(amount.parse()?, InvoiceNote::new(info)?, token())?)
    }
    assert!(build("560", "ok").is_ok());
    assert_eq!(build("-1", "ok").unwrap_err().validation().unwrap().field(), "amount");
    assert_eq!(build("560", "").unwrap_err().validation().unwrap().field(), "info");
    assert_eq!(build("100", "ok").unwrap_err().validation().unwrap().field(), "amount");
}
