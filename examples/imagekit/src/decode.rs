//! PNG and JPEG to RGBA8, with Debian's `png` and `jpeg-decoder` crates.
//!
//! PNG: palettes, transparency (tRNS) and bit depths below 8 are expanded;
//! 16-bit samples keep their high byte; interlaced images are deinterlaced;
//! of an animated PNG, the default image. JPEG: gray and YCbCr/RGB (CMYK is
//! refused). Both refuse images over `MAX_PIXELS` before allocating them.

use std::format;
use std::string::String;
use std::vec::Vec;

/// The largest image decoded: 2^26 pixels (8192x8192), 256 MiB of RGBA.
pub const MAX_PIXELS: u64 = 1 << 26;

pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// `data` (a PNG or JPEG file) as RGBA8; `Err` says why it could not be read.
pub fn decode(data: &[u8]) -> Result<Decoded, String> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        decode_png(data).map_err(|e| format!("invalid PNG: {e}"))
    } else if data.starts_with(&[0xFF, 0xD8]) {
        decode_jpeg(data).map_err(|e| format!("invalid JPEG: {e}"))
    } else {
        let head: Vec<String> = data.iter().take(4).map(|b| format!("{b:02x}")).collect();
        Err(format!(
            "not a PNG or JPEG file (starts {})",
            if head.is_empty() {
                "empty".into()
            } else {
                head.join(" ")
            }
        ))
    }
}

fn decode_png(data: &[u8]) -> Result<Decoded, String> {
    use png::{BitDepth, ColorType, Transformations};
    let limits = png::Limits {
        bytes: (MAX_PIXELS * 8) as usize,
    };
    let mut decoder = png::Decoder::new_with_limits(data, limits);
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let (width, height) = reader.info().size();
    check_pixels(width, height)?;
    let mut buf = std::vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let (color, depth) = reader.output_color_type();
    if depth != BitDepth::Eight {
        return Err(format!("unexpected {depth:?} output after expansion"));
    }
    let channels = match color {
        ColorType::Grayscale => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
        ColorType::Indexed => return Err("palette left unexpanded".into()),
    };
    let (w, h) = (frame.width as usize, frame.height as usize);
    let rows = buf.chunks(frame.line_size).take(h);
    let mut rgba = Vec::with_capacity(w * h * 4);
    for row in rows {
        for px in row[..w * channels].chunks_exact(channels) {
            rgba.extend_from_slice(&match channels {
                1 => [px[0], px[0], px[0], 255],
                2 => [px[0], px[0], px[0], px[1]],
                3 => [px[0], px[1], px[2], 255],
                _ => [px[0], px[1], px[2], px[3]],
            });
        }
    }
    Ok(Decoded {
        width: frame.width,
        height: frame.height,
        rgba,
    })
}

fn decode_jpeg(data: &[u8]) -> Result<Decoded, String> {
    use jpeg_decoder::PixelFormat;
    let mut decoder = jpeg_decoder::Decoder::new(data);
    decoder.set_max_decoding_buffer_size((MAX_PIXELS * 4) as usize);
    decoder.read_info().map_err(|e| e.to_string())?;
    let info = decoder.info().ok_or("no frame header")?;
    check_pixels(info.width as u32, info.height as u32)?;
    let pixels = decoder.decode().map_err(|e| e.to_string())?;
    let rgba: Vec<u8> = match info.pixel_format {
        PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l, 255]).collect(),
        // Big-endian samples: keep the high byte, as for 16-bit PNG.
        PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|s| [s[0], s[0], s[0], 255])
            .collect(),
        PixelFormat::RGB24 => pixels
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        PixelFormat::CMYK32 => return Err("CMYK JPEGs are not supported".into()),
    };
    let (width, height) = (info.width as u32, info.height as u32);
    if rgba.len() as u64 != width as u64 * height as u64 * 4 {
        return Err(format!(
            "decoded {} bytes for a {width}x{height} image",
            rgba.len()
        ));
    }
    Ok(Decoded {
        width,
        height,
        rgba,
    })
}

fn check_pixels(width: u32, height: u32) -> Result<(), String> {
    if width as u64 * height as u64 > MAX_PIXELS {
        return Err(format!(
            "{width}x{height} is larger than {MAX_PIXELS} pixels"
        ));
    }
    Ok(())
}
