//! The QR codes drawn for gateway invoices read back as the invoice's `qr` text — checked by an
//! independent QR reader (rqrr) on the PNG's pixels.

use pocket_core::{GatewayInvoice, InvoiceId, qr_png, qr_svg, qr_text};

/// Decodes a PNG and reads the QR code in it.
fn read_back(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let frame = reader.next_frame(&mut pixels).expect("a frame");
    let (width, height) = (frame.width as usize, frame.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("the code decodes").1
}

#[test]
fn the_png_reads_back_as_the_text() {
    for text in
        ["pocket-sandbox:pay:10001", "0002010102122654000MN.POCKET.WWW0119746863811836715204599953034965802MN6304ABCD"]
    {
        let png = qr_png(text, 4).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(read_back(&png), text);
    }
}

#[test]
fn invoices_draw_their_own_code() {
    let mut invoice = GatewayInvoice::new(InvoiceId::from(10_001));
    assert_eq!(invoice.qr_png(4).unwrap_err().field(), "qr", "no QR text, no image");
    invoice.qr = Some("pocket-sandbox:pay:10001".to_owned());
    assert_eq!(read_back(&invoice.qr_png(3).unwrap()), "pocket-sandbox:pay:10001");
    let svg = invoice.qr_svg(4).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("<path"), "{svg}");
}

#[test]
fn text_too_long_for_a_qr_code_is_a_typed_error() {
    let huge = "x".repeat(5_000);
    let error = qr_png(&huge, 4).unwrap_err();
    assert_eq!(error.field(), "qr");
    assert!(error.to_string().contains("5000 bytes"), "{error}");
    assert!(qr_svg(&huge, 4).is_err() && qr_text(&huge).is_err());
}

#[test]
fn the_terminal_rendering_is_blocks() {
    let text = qr_text("pocket-sandbox:pay:1").unwrap();
    assert!(text.lines().count() > 10);
    assert!(text.chars().any(|c| matches!(c, '█' | '▀' | '▄')));
}
