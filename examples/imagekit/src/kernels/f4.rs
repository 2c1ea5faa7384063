//! `F4`: four f32 lanes (one RGBA pixel, or four DCT columns). On wasm32 with simd128 it is a
//! `v128` (one instruction per operation); elsewhere a `[f32; 4]`, which the
//! native compiler vectorises itself.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub struct F4(v128);

    impl F4 {
        #[inline(always)]
        pub fn splat(x: f32) -> F4 {
            F4(f32x4_splat(x))
        }
        /// The four bytes of `px[0..4]` as floats. (The conversion is the signed one,
        /// the same for 0..=255 and one instruction on x86, where the unsigned one is several.)
        #[inline(always)]
        pub fn from_u8(px: &[u8]) -> F4 {
            assert!(px.len() >= 4);
            // SAFETY: four bytes are readable (checked above); the load is unaligned.
            let bytes = unsafe { v128_load32_zero(px.as_ptr() as *const u32) };
            F4(f32x4_convert_i32x4(u32x4_extend_low_u16x8(
                u16x8_extend_low_u8x16(bytes),
            )))
        }
        /// The two pixels at `px[0..8]` as floats, from one load.
        #[inline(always)]
        pub fn pair_from_u8(px: &[u8]) -> (F4, F4) {
            assert!(px.len() >= 8);
            // SAFETY: eight bytes are readable (checked above); the load is unaligned.
            let bytes = unsafe { v128_load64_zero(px.as_ptr() as *const u64) };
            let wide = u16x8_extend_low_u8x16(bytes);
            (
                F4(f32x4_convert_i32x4(u32x4_extend_low_u16x8(wide))),
                F4(f32x4_convert_i32x4(u32x4_extend_high_u16x8(wide))),
            )
        }
        /// The two pixels at `px[0..8]` as floats, like [`F4::pair_from_u8`], but
        /// converted as `f32::from_bits(0x4b00_0000 | v) - 2^23` (exact for 0..=255):
        /// LLVM turns the widening and `convert` of `pair_from_u8` into a conversion
        /// of 16-bit lanes, which it does lane by lane on wasm32.
        #[inline(always)]
        pub fn pair_from_u8_bits(px: &[u8]) -> (F4, F4) {
            assert!(px.len() >= 8);
            // SAFETY: eight bytes are readable (checked above); the load is unaligned.
            let bytes = unsafe { v128_load64_zero(px.as_ptr() as *const u64) };
            let wide = u16x8_extend_low_u8x16(bytes);
            let exponent = u32x4_splat(0x4b00_0000);
            let big = f32x4_splat(8_388_608.0);
            (
                F4(f32x4_sub(
                    v128_or(u32x4_extend_low_u16x8(wide), exponent),
                    big,
                )),
                F4(f32x4_sub(
                    v128_or(u32x4_extend_high_u16x8(wide), exponent),
                    big,
                )),
            )
        }
        /// The four bytes of `px[0..4]` as floats, converted like
        /// [`F4::pair_from_u8_bits`] (`f32::from_bits(0x4b00_0000 | v) - 2^23`,
        /// exact for 0..=255), which stays vector code on wasm32.
        #[inline(always)]
        pub fn from_u8_bits(px: &[u8]) -> F4 {
            assert!(px.len() >= 4);
            // SAFETY: four bytes are readable (checked above); the load is unaligned.
            let bytes = unsafe { v128_load32_zero(px.as_ptr() as *const u32) };
            let wide = u32x4_extend_low_u16x8(u16x8_extend_low_u8x16(bytes));
            F4(f32x4_sub(
                v128_or(wide, u32x4_splat(0x4b00_0000)),
                f32x4_splat(8_388_608.0),
            ))
        }
        #[inline(always)]
        pub fn load(v: &[f32]) -> F4 {
            assert!(v.len() >= 4);
            // SAFETY: four floats are readable (checked above); v128_load is unaligned.
            F4(unsafe { v128_load(v.as_ptr() as *const v128) })
        }
        #[inline(always)]
        pub fn store(self, v: &mut [f32]) {
            assert!(v.len() >= 4);
            // SAFETY: four floats are writable (checked above).
            unsafe { v128_store(v.as_mut_ptr() as *mut v128, self.0) }
        }
        /// Rounded to the nearest integer (halves away from zero), into `out[0..4]`.
        #[inline(always)]
        pub fn round_i32(self, out: &mut [i32]) {
            assert!(out.len() >= 4);
            let half = v128_or(f32x4_splat(0.5), v128_and(self.0, u32x4_splat(0x8000_0000)));
            let ints = i32x4_trunc_sat_f32x4(f32x4_add(self.0, half));
            // SAFETY: four i32 are writable (checked above).
            unsafe { v128_store(out.as_mut_ptr() as *mut v128, ints) }
        }
        /// Rounded to the nearest integer (halves up), for values in 0..=255 (what
        /// blur and resize produce): floor(x + 0.5) + 2^23 holds the integer in its low
        /// mantissa bits, and one shuffle gathers the four low bytes.
        #[inline(always)]
        pub fn store_u8(self, px: &mut [u8]) {
            let whole = f32x4_floor(f32x4_add(self.0, f32x4_splat(0.5)));
            let bits = f32x4_add(whole, f32x4_splat(8_388_608.0));
            let bytes =
                u8x16_shuffle::<0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>(bits, bits);
            px[..4].copy_from_slice(&u32x4_extract_lane::<0>(bytes).to_le_bytes());
        }
        #[inline(always)]
        pub fn add(self, o: F4) -> F4 {
            F4(f32x4_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn sub(self, o: F4) -> F4 {
            F4(f32x4_sub(self.0, o.0))
        }
        #[inline(always)]
        pub fn mul(self, o: F4) -> F4 {
            F4(f32x4_mul(self.0, o.0))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    #[derive(Clone, Copy)]
    pub struct F4([f32; 4]);

    impl F4 {
        #[inline(always)]
        pub fn splat(x: f32) -> F4 {
            F4([x; 4])
        }
        #[inline(always)]
        pub fn from_u8(px: &[u8]) -> F4 {
            F4([px[0] as f32, px[1] as f32, px[2] as f32, px[3] as f32])
        }
        #[inline(always)]
        pub fn pair_from_u8(px: &[u8]) -> (F4, F4) {
            (F4::from_u8(&px[..4]), F4::from_u8(&px[4..8]))
        }
        #[inline(always)]
        pub fn pair_from_u8_bits(px: &[u8]) -> (F4, F4) {
            F4::pair_from_u8(px)
        }
        #[inline(always)]
        pub fn from_u8_bits(px: &[u8]) -> F4 {
            F4::from_u8(px)
        }
        #[inline(always)]
        pub fn load(v: &[f32]) -> F4 {
            F4([v[0], v[1], v[2], v[3]])
        }
        #[inline(always)]
        pub fn store(self, v: &mut [f32]) {
            v[..4].copy_from_slice(&self.0);
        }
        #[inline(always)]
        pub fn round_i32(self, out: &mut [i32]) {
            for (o, x) in out[..4].iter_mut().zip(self.0) {
                *o = (x + 0.5f32.copysign(x)) as i32;
            }
        }
        #[inline(always)]
        pub fn store_u8(self, px: &mut [u8]) {
            for (out, x) in px[..4].iter_mut().zip(self.0) {
                *out = (x + 0.5) as u8; // `as` saturates: NaN and below 0 give 0
            }
        }
        #[inline(always)]
        pub fn add(self, o: F4) -> F4 {
            F4([
                self.0[0] + o.0[0],
                self.0[1] + o.0[1],
                self.0[2] + o.0[2],
                self.0[3] + o.0[3],
            ])
        }
        #[inline(always)]
        pub fn sub(self, o: F4) -> F4 {
            F4([
                self.0[0] - o.0[0],
                self.0[1] - o.0[1],
                self.0[2] - o.0[2],
                self.0[3] - o.0[3],
            ])
        }
        #[inline(always)]
        pub fn mul(self, o: F4) -> F4 {
            F4([
                self.0[0] * o.0[0],
                self.0[1] * o.0[1],
                self.0[2] * o.0[2],
                self.0[3] * o.0[3],
            ])
        }
    }
}

pub use imp::F4;
