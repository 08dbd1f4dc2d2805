//! A gateway invoice's `qr` text drawn as a QR code the wallet's scanner reads: SVG for a web
//! page, PNG for anything else, Unicode blocks for a terminal. Pure computation, no I/O.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

use crate::{GatewayInvoice, MerchantInvoice, ValidationError};

/// The QR code of `text`, with medium error correction (15 % of the code may be damaged or
/// covered). Text longer than a QR code can hold is an error naming its length.
fn code(text: &str) -> Result<QrCode, ValidationError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|error| ValidationError::Invalid {
        field: "qr",
        reason: format!("{} bytes cannot be drawn as a QR code: {error}", text.len()),
    })
}

/// `text` as an SVG document, each module `module_px` pixels wide, with the standard quiet zone.
///
/// ```
/// let svg = pocket_core::qr_svg("pocket-sandbox:pay:10001", 4)?;
/// assert!(svg.contains("<svg"));
/// # Ok::<(), pocket_core::ValidationError>(())
/// ```
pub fn qr_svg(text: &str, module_px: u32) -> Result<String, ValidationError> {
    let module_px = module_px.clamp(1, 64);
    Ok(code(text)?.render::<svg::Color<'_>>().module_dimensions(module_px, module_px).build())
}

/// `text` as a black-on-white PNG image (8-bit grey), each module `module_px` pixels wide, with
/// the standard quiet zone of four modules.
pub fn qr_png(text: &str, module_px: u32) -> Result<Vec<u8>, ValidationError> {
    const QUIET: usize = 4;
    let code = code(text)?;
    let scale = module_px.clamp(1, 64) as usize;
    let modules = code.width();
    let dark = code.to_colors();
    let side = (modules + 2 * QUIET) * scale;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in dark.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (x, y) = ((index % modules + QUIET) * scale, (index / modules + QUIET) * scale);
        for row in y..y + scale {
            pixels[row * side + x..row * side + x + scale].fill(0);
        }
    }
    let side = u32::try_from(side).map_err(|_| ValidationError::Invalid { field: "qr", reason: "too large".into() })?;
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let written = encoder.write_header().and_then(|mut writer| writer.write_image_data(&pixels));
    written.map_err(|error| ValidationError::Invalid {
        field: "qr",
        reason: format!("the PNG could not be written: {error}"),
    })?;
    Ok(png)
}

/// `text` as lines of Unicode half blocks (two modules per character), dark on a light
/// terminal background — what `pocket gateway generate --qr` prints.
pub fn qr_text(text: &str) -> Result<String, ValidationError> {
    Ok(code(text)?
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .build())
}

/// What has a QR code to show: both kinds of QR invoice.
macro_rules! draws_its_qr {
    ($invoice:ty) => {
        impl $invoice {
            /// The invoice's QR code as SVG (see [`qr_svg`]); an error when Pocket sent no `qr` text.
            pub fn qr_svg(&self, module_px: u32) -> Result<String, ValidationError> {
                qr_svg(qr_content(self.qr.as_deref(), &self.id)?, module_px)
            }

            /// The invoice's QR code as PNG (see [`qr_png`]); an error when Pocket sent no `qr` text.
            pub fn qr_png(&self, module_px: u32) -> Result<Vec<u8>, ValidationError> {
                qr_png(qr_content(self.qr.as_deref(), &self.id)?, module_px)
            }
        }
    };
}

draws_its_qr!(GatewayInvoice);
draws_its_qr!(MerchantInvoice);

fn qr_content<'a>(qr: Option<&'a str>, id: &crate::InvoiceId) -> Result<&'a str, ValidationError> {
    qr.filter(|qr| !qr.is_empty()).ok_or_else(|| ValidationError::Invalid {
        field: "qr",
        reason: format!("Pocket's answer for invoice {id} has no QR text"),
    })
}
