//! pocket-core's integration tests, one binary: each module is one area (the wire format,
//! validation, property tests); the `mock` and `qr` features' modules build only with them.

mod amount_props;
mod decoder_props;
mod invoice_id_props;
#[cfg(feature = "mock")]
mod mocks;
#[cfg(feature = "qr")]
mod qr;
mod validation_edges;
mod wire_format;
