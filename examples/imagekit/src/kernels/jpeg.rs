//! A baseline JPEG encoder: JFIF YCbCr, 4:2:0 chroma subsampling, the IJG
//! (Annex K) quantisation tables scaled by quality as libjpeg's
//! `jpeg_set_quality` does, the standard Annex K Huffman tables, and a float
//! AAN forward DCT (libjpeg's jfdctflt). Alpha is ignored. These are the
//! choices of libjpeg's defaults, which Pillow uses, so files come out about
//! the same size as Pillow's at the same quality.

use super::f4::F4;
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Annex K.1 and K.2, in natural (row-major) order.
const LUMA_Q: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_Q: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// Annex K.3: code counts by length (1..=16), then the symbols.
const DC_LUMA_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_CHROMA_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_LUMA_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_LUMA_VALUES: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
    0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];
const AC_CHROMA_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const AC_CHROMA_VALUES: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
    0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

/// The AAN DCT's per-frequency scale (libjpeg's aanscalefactor).
const AAN_SCALE: [f32; 8] = [
    1.0,
    1.387039845,
    1.306562965,
    1.175875602,
    1.0,
    0.785694958,
    0.541196100,
    0.275899379,
];

/// The `width` x `height` RGBA image as a baseline JPEG file at `quality` (1..=100).
pub fn encode_jpeg(rgba: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, String> {
    super::check_size(rgba, width, height)?;
    if !(1..=100).contains(&quality) {
        return Err(format!("quality must be 1..=100, got {quality}"));
    }
    if width == 0 || height == 0 || width > 65535 || height > 65535 {
        return Err(format!(
            "JPEG needs a size from 1x1 to 65535x65535, got {width}x{height}"
        ));
    }
    let luma_q = scaled_table(&LUMA_Q, quality);
    let chroma_q = scaled_table(&CHROMA_Q, quality);
    let planes = Planes::new(rgba, width as usize, height as usize);
    let mut out = Vec::with_capacity(rgba.len() / 8 + 1024);
    write_headers(&mut out, width as u16, height as u16, &luma_q, &chroma_q);
    let tables = [
        Huffman::new(&DC_LUMA_BITS, &DC_VALUES),
        Huffman::new(&AC_LUMA_BITS, &AC_LUMA_VALUES),
        Huffman::new(&DC_CHROMA_BITS, &DC_VALUES),
        Huffman::new(&AC_CHROMA_BITS, &AC_CHROMA_VALUES),
    ];
    let divisors = [divisors(&luma_q), divisors(&chroma_q)];
    let mut bits = BitWriter {
        out,
        acc: 0,
        count: 0,
    };
    let mut previous_dc = [0i32; 3];
    let mut block = [0f32; 64];
    for my in 0..planes.mcu_rows {
        for mx in 0..planes.mcu_cols {
            for (by, bx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                planes.block(0, (mx * 2 + bx) * 8, (my * 2 + by) * 8, &mut block);
                let dc = encode_block(
                    &mut block,
                    &divisors[0],
                    previous_dc[0],
                    &tables[0],
                    &tables[1],
                    &mut bits,
                );
                previous_dc[0] = dc;
            }
            for c in 1..3 {
                planes.block(c, mx * 8, my * 8, &mut block);
                let dc = encode_block(
                    &mut block,
                    &divisors[1],
                    previous_dc[c],
                    &tables[2],
                    &tables[3],
                    &mut bits,
                );
                previous_dc[c] = dc;
            }
        }
    }
    bits.flush();
    let mut out = bits.out;
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

/// libjpeg's `jpeg_quality_scaling` and `jpeg_add_quant_table` with force_baseline.
fn scaled_table(base: &[u16; 64], quality: u8) -> [u8; 64] {
    let q = quality as u32;
    let scale = if q < 50 { 5000 / q } else { 200 - q * 2 };
    let mut table = [0u8; 64];
    for (t, &b) in table.iter_mut().zip(base) {
        *t = ((b as u32 * scale + 50) / 100).clamp(1, 255) as u8;
    }
    table
}

/// 1 / (q * aan[row] * aan[col] * 8) as libjpeg's float path, transposed
/// (`[c * 8 + r]` for coefficient (r, c)), the order fdct_quantise works in.
fn divisors(table: &[u8; 64]) -> [f32; 64] {
    let mut d = [0f32; 64];
    for (i, slot) in d.iter_mut().enumerate() {
        let q = table[(i % 8) * 8 + i / 8] as f32;
        *slot = 1.0 / (q * AAN_SCALE[i / 8] * AAN_SCALE[i % 8] * 8.0);
    }
    d
}

/// Y, Cb and Cr as float planes centred on 0 (sample - 128): Y padded to a
/// multiple of 16 by repeating the last column and row, Cb and Cr averaged
/// over 2x2 pixels to half that size.
struct Planes {
    planes: [Vec<f32>; 3],
    strides: [usize; 3],
    mcu_cols: usize,
    mcu_rows: usize,
}

impl Planes {
    fn new(rgba: &[u8], w: usize, h: usize) -> Planes {
        let (mcu_cols, mcu_rows) = ((w + 15) / 16, (h + 15) / 16);
        let (pw, ph) = (mcu_cols * 16, mcu_rows * 16);
        let (cw, ch) = (pw / 2, ph / 2);
        let mut y_plane = vec![0f32; pw * ph];
        let mut cb_full = vec![0f32; pw * ph];
        let mut cr_full = vec![0f32; pw * ph];
        for py in 0..ph {
            let row = &rgba[py.min(h - 1) * w * 4..][..w * 4];
            for px in 0..pw {
                let p = &row[px.min(w - 1) * 4..];
                let (r, g, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
                let i = py * pw + px;
                y_plane[i] = 0.299 * r + 0.587 * g + 0.114 * b - 128.0;
                cb_full[i] = -0.168_736 * r - 0.331_264 * g + 0.5 * b;
                cr_full[i] = 0.5 * r - 0.418_688 * g - 0.081_312 * b;
            }
        }
        let half = |full: &[f32]| {
            let mut out = vec![0f32; cw * ch];
            for y in 0..ch {
                for x in 0..cw {
                    let i = 2 * y * pw + 2 * x;
                    out[y * cw + x] =
                        0.25 * (full[i] + full[i + 1] + full[i + pw] + full[i + pw + 1]);
                }
            }
            out
        };
        let planes = [y_plane, half(&cb_full), half(&cr_full)];
        Planes {
            planes,
            strides: [pw, cw, cw],
            mcu_cols,
            mcu_rows,
        }
    }

    fn block(&self, c: usize, x: usize, y: usize, block: &mut [f32; 64]) {
        let stride = self.strides[c];
        for (r, row) in block.chunks_exact_mut(8).enumerate() {
            row.copy_from_slice(&self.planes[c][(y + r) * stride + x..][..8]);
        }
    }
}

/// Transforms, quantises and writes one block; its quantised DC.
fn encode_block(
    block: &mut [f32; 64],
    divisors: &[f32; 64],
    previous_dc: i32,
    dc_table: &Huffman,
    ac_table: &Huffman,
    bits: &mut BitWriter,
) -> i32 {
    let mut quantised = [0i32; 64];
    fdct_quantise(block, divisors, &mut quantised);
    // `quantised` is transposed (see fdct_quantise): zigzag position k is at T[k].
    let q = |k: usize| quantised[ZIGZAG_T[k]].clamp(-1023, 1023);
    let dc = q(0);
    let (size, extra) = magnitude(dc - previous_dc);
    dc_table.put(size as u8, bits);
    bits.put(extra, size);
    let mut run = 0u32;
    for k in 1..64 {
        let v = q(k);
        if v == 0 {
            run += 1;
            continue;
        }
        while run >= 16 {
            ac_table.put(0xF0, bits);
            run -= 16;
        }
        let (size, extra) = magnitude(v);
        ac_table.put((run << 4) as u8 | size as u8, bits);
        bits.put(extra, size);
        run = 0;
    }
    if run > 0 {
        ac_table.put(0x00, bits);
    }
    dc
}

/// ZIGZAG with each index transposed (row and column swapped).
const ZIGZAG_T: [usize; 64] = {
    let mut t = [0; 64];
    let mut k = 0;
    while k < 64 {
        t[k] = (ZIGZAG[k] % 8) * 8 + ZIGZAG[k] / 8;
        k += 1;
    }
    t
};

/// The bit count of `v` and its bits as JPEG writes them (negatives as v - 1).
fn magnitude(v: i32) -> (u32, u32) {
    let size = 32 - v.unsigned_abs().leading_zeros();
    let bits = if v < 0 { (v - 1) as u32 } else { v as u32 };
    (size, bits & ((1u32 << size) - 1))
}

/// libjpeg's jfdctflt (the AAN float DCT) and quantisation, into `out`. The
/// 1-D transform runs down the columns, eight at once (a row is two `F4`s),
/// then on the transposed block, so `out` holds the quantised coefficients
/// transposed: `out[c * 8 + r]` is coefficient (r, c). The transform scales
/// its output by 8 * aan[u] * aan[v], which `divisors` undoes.
/// `divisors` are transposed too.
fn fdct_quantise(block: &[f32; 64], divisors: &[f32; 64], out: &mut [i32; 64]) {
    let mut rows: [F4; 16] = core::array::from_fn(|i| F4::load(&block[i * 4..]));
    fdct_columns(&mut rows);
    let mut pass = [0f32; 64];
    for (i, v) in rows.iter().enumerate() {
        v.store(&mut pass[i * 4..]);
    }
    let mut transposed = [0f32; 64];
    for (i, t) in transposed.iter_mut().enumerate() {
        *t = pass[(i % 8) * 8 + i / 8];
    }
    let mut rows: [F4; 16] = core::array::from_fn(|i| F4::load(&transposed[i * 4..]));
    fdct_columns(&mut rows);
    for (i, v) in rows.iter().enumerate() {
        v.mul(F4::load(&divisors[i * 4..]))
            .round_i32(&mut out[i * 4..]);
    }
}

/// The 1-D AAN DCT down every column: `v[2 * r + h]` is half `h` of row `r`.
#[inline(always)]
fn fdct_columns(v: &mut [F4; 16]) {
    let k = |x: f32| F4::splat(x);
    for h in 0..2 {
        let d = |r: usize| v[2 * r + h];
        let (tmp0, tmp7) = (d(0).add(d(7)), d(0).sub(d(7)));
        let (tmp1, tmp6) = (d(1).add(d(6)), d(1).sub(d(6)));
        let (tmp2, tmp5) = (d(2).add(d(5)), d(2).sub(d(5)));
        let (tmp3, tmp4) = (d(3).add(d(4)), d(3).sub(d(4)));
        let (tmp10, tmp13) = (tmp0.add(tmp3), tmp0.sub(tmp3));
        let (tmp11, tmp12) = (tmp1.add(tmp2), tmp1.sub(tmp2));
        v[h] = tmp10.add(tmp11);
        v[8 + h] = tmp10.sub(tmp11);
        let z1 = tmp12.add(tmp13).mul(k(0.707_106_781));
        v[4 + h] = tmp13.add(z1);
        v[12 + h] = tmp13.sub(z1);
        let tmp10 = tmp4.add(tmp5);
        let tmp11 = tmp5.add(tmp6);
        let tmp12 = tmp6.add(tmp7);
        let z5 = tmp10.sub(tmp12).mul(k(0.382_683_433));
        let z2 = tmp10.mul(k(0.541_196_100)).add(z5);
        let z4 = tmp12.mul(k(1.306_562_965)).add(z5);
        let z3 = tmp11.mul(k(0.707_106_781));
        let (z11, z13) = (tmp7.add(z3), tmp7.sub(z3));
        v[10 + h] = z13.add(z2);
        v[6 + h] = z13.sub(z2);
        v[2 + h] = z11.add(z4);
        v[14 + h] = z11.sub(z4);
    }
}

/// A Huffman table as code and length per symbol.
struct Huffman {
    codes: [u16; 256],
    lengths: [u8; 256],
}

impl Huffman {
    fn new(bits: &[u8; 16], values: &[u8]) -> Huffman {
        let mut table = Huffman {
            codes: [0; 256],
            lengths: [0; 256],
        };
        let (mut code, mut k) = (0u16, 0usize);
        for (len, &count) in bits.iter().enumerate() {
            for _ in 0..count {
                table.codes[values[k] as usize] = code;
                table.lengths[values[k] as usize] = len as u8 + 1;
                code += 1;
                k += 1;
            }
            code <<= 1;
        }
        table
    }

    #[inline(always)]
    fn put(&self, symbol: u8, bits: &mut BitWriter) {
        bits.put(
            self.codes[symbol as usize] as u32,
            self.lengths[symbol as usize] as u32,
        );
    }
}

struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    count: u32,
}

impl BitWriter {
    #[inline(always)]
    fn put(&mut self, bits: u32, len: u32) {
        self.acc = (self.acc << len) | bits as u64;
        self.count += len;
        while self.count >= 8 {
            self.count -= 8;
            let byte = (self.acc >> self.count) as u8;
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0); // byte stuffing: 0xFF in entropy data is followed by 0
            }
        }
        self.acc &= (1u64 << self.count) - 1;
    }

    /// Pads the last byte with 1 bits.
    fn flush(&mut self) {
        if self.count > 0 {
            let pad = 8 - self.count;
            self.put((1 << pad) - 1, pad);
        }
    }
}

fn write_headers(
    out: &mut Vec<u8>,
    width: u16,
    height: u16,
    luma_q: &[u8; 64],
    chroma_q: &[u8; 64],
) {
    out.extend_from_slice(&[0xFF, 0xD8]); // SOI
                                          // APP0 JFIF 1.1, aspect ratio 1:1, no thumbnail.
    out.extend_from_slice(&[
        0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ]);
    for (id, table) in [(0u8, luma_q), (1, chroma_q)] {
        out.extend_from_slice(&[0xFF, 0xDB, 0, 67, id]);
        out.extend(ZIGZAG.iter().map(|&n| table[n]));
    }
    let [wh, wl] = width.to_be_bytes();
    let [hh, hl] = height.to_be_bytes();
    // SOF0: 8-bit, three components: Y sampled 2x2 with table 0, Cb and Cr 1x1 with table 1.
    out.extend_from_slice(&[
        0xFF, 0xC0, 0, 17, 8, hh, hl, wh, wl, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
    ]);
    let tables: [(u8, &[u8; 16], &[u8]); 4] = [
        (0x00, &DC_LUMA_BITS, &DC_VALUES),
        (0x10, &AC_LUMA_BITS, &AC_LUMA_VALUES),
        (0x01, &DC_CHROMA_BITS, &DC_VALUES),
        (0x11, &AC_CHROMA_BITS, &AC_CHROMA_VALUES),
    ];
    for (class_id, bits, values) in tables {
        let len = (2 + 1 + 16 + values.len()) as u16;
        out.extend_from_slice(&[0xFF, 0xC4]);
        out.extend_from_slice(&len.to_be_bytes());
        out.push(class_id);
        out.extend_from_slice(bits);
        out.extend_from_slice(values);
    }
    // SOS: the three components, Y with tables 0/0, Cb and Cr with 1/1; full spectrum.
    out.extend_from_slice(&[0xFF, 0xDA, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
}
