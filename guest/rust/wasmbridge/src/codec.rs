//! The canonical layout of values inside an encoded buffer
//! (docs/abi-compound.md, "Encoded values"): a compound value (tuple, list,
//! record) crosses as one buffer holding its fixed part at offset 0 and the
//! out-of-line data of its strings and lists after it. Offsets inside the
//! buffer are relative to its first byte, so the buffer can move.
//!
//! Numbers are little-endian, as on wasm32; values are read and written
//! unaligned, since a host may place a buffer at any address.

use alloc::string::String;
use alloc::vec::Vec;
use core::mem::size_of;
use core::ptr;

/// A value with a canonical layout: `SIZE` bytes aligned to `ALIGN` in a
/// buffer, plus out-of-line data appended after what is already there.
///
/// Implemented here for bool, numbers, `usize`/`isize` (as 32-bit), char,
/// `String`, `&str`, `Vec<T>`, `Option<T>` and tuples of up to 12 items;
/// `#[wasmbridge::export]` implements it for records and enums.
pub trait Canonical: Sized {
    const SIZE: usize;
    const ALIGN: usize;

    /// Writes the value's fixed part at `buf[at..at + SIZE]` and appends
    /// its out-of-line data to `buf`.
    ///
    /// # Safety
    /// `buf[at..at + SIZE]` exists and is zeroed (padding stays zero).
    unsafe fn store(&self, buf: &mut Vec<u8>, at: usize);

    /// Reads the value whose fixed part is at `base + at`; offsets inside
    /// it are relative to `base`.
    ///
    /// # Safety
    /// `base` is an encoded buffer a host checked: every offset lies inside
    /// it, text is UTF-8, bools, chars, enum indices and option tags are
    /// valid. A borrowed `&str` lives as long as the buffer.
    unsafe fn load(base: *const u8, at: usize) -> Self;
}

/// `n` rounded up to a multiple of `align` (a power of two).
#[inline(always)]
pub const fn align_to(n: usize, align: usize) -> usize {
    (n + align - 1) & !(align - 1)
}

/// (size, align) of a record or tuple whose fields have these (size, align)
/// pairs: each field at the next multiple of its alignment, the size rounded
/// up to the largest alignment.
pub const fn layout(fields: &[(usize, usize)]) -> (usize, usize) {
    let mut size = 0;
    let mut align = 1;
    let mut i = 0;
    while i < fields.len() {
        let (field_size, field_align) = fields[i];
        size = align_to(size, field_align) + field_size;
        if field_align > align {
            align = field_align;
        }
        i += 1;
    }
    (align_to(size, align), align)
}

/// The value's encoded buffer: its fixed part, then its out-of-line data.
pub fn encode<T: Canonical>(value: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    buf.resize(T::SIZE, 0);
    unsafe { value.store(&mut buf, 0) };
    buf
}

/// The value encoded in the buffer at `base` (a compound parameter).
///
/// # Safety
/// As for [`Canonical::load`].
#[inline(always)]
pub unsafe fn decode<T: Canonical>(base: *const u8) -> T {
    T::load(base, 0)
}

/// Stores one field of a record at the running offset `o` inside the
/// record at `at`, and moves `o` past it.
///
/// # Safety
/// As for [`Canonical::store`].
#[inline(always)]
pub unsafe fn store_field<T: Canonical>(value: &T, buf: &mut Vec<u8>, at: usize, o: &mut usize) {
    *o = align_to(*o, T::ALIGN);
    value.store(buf, at + *o);
    *o += T::SIZE;
}

/// Loads one field of a record at the running offset `o` inside the record
/// at `at`, and moves `o` past it.
///
/// # Safety
/// As for [`Canonical::load`].
#[inline(always)]
pub unsafe fn load_field<T: Canonical>(base: *const u8, at: usize, o: &mut usize) -> T {
    *o = align_to(*o, T::ALIGN);
    let value = T::load(base, at + *o);
    *o += T::SIZE;
    value
}

#[inline(always)]
unsafe fn put<const N: usize>(buf: &mut Vec<u8>, at: usize, bytes: [u8; N]) {
    ptr::write_unaligned(buf.as_mut_ptr().add(at) as *mut [u8; N], bytes)
}

#[inline(always)]
unsafe fn get<const N: usize>(base: *const u8, at: usize) -> [u8; N] {
    ptr::read_unaligned(base.add(at) as *const [u8; N])
}

/// Appends `bytes` zeroed bytes at the next multiple of `align`; their offset.
fn reserve(buf: &mut Vec<u8>, align: usize, bytes: usize) -> usize {
    let offset = align_to(buf.len(), align);
    buf.resize(offset + bytes, 0);
    offset
}

/// `offset: u32, count: u32`, the fixed part of a string or list.
#[inline(always)]
unsafe fn put_span(buf: &mut Vec<u8>, at: usize, offset: usize, count: usize) {
    put(buf, at, (offset as u32).to_le_bytes());
    put(buf, at + 4, (count as u32).to_le_bytes());
}

#[inline(always)]
unsafe fn get_span(base: *const u8, at: usize) -> (usize, usize) {
    (u32::from_le_bytes(get(base, at)) as usize, u32::from_le_bytes(get(base, at + 4)) as usize)
}

/// An enum's case index, stored in `size` (1, 2 or 4) bytes.
///
/// # Safety
/// As for [`Canonical::store`], with `SIZE` = `size`.
#[inline(always)]
pub unsafe fn store_index(buf: &mut Vec<u8>, at: usize, size: usize, index: u32) {
    match size {
        1 => put(buf, at, [index as u8]),
        2 => put(buf, at, (index as u16).to_le_bytes()),
        _ => put(buf, at, index.to_le_bytes()),
    }
}

/// An enum's case index stored in `size` (1, 2 or 4) bytes.
///
/// # Safety
/// As for [`Canonical::load`].
#[inline(always)]
pub unsafe fn load_index(base: *const u8, at: usize, size: usize) -> u32 {
    match size {
        1 => *base.add(at) as u32,
        2 => u16::from_le_bytes(get(base, at)) as u32,
        _ => u32::from_le_bytes(get(base, at)),
    }
}

/// The size (and alignment) of an enum of `cases` cases.
pub const fn index_size(cases: usize) -> usize {
    if cases <= 1 << 8 {
        1
    } else if cases <= 1 << 16 {
        2
    } else {
        4
    }
}

macro_rules! number {
    ($($ty:ty),*) => {$(
        impl Canonical for $ty {
            const SIZE: usize = size_of::<$ty>();
            const ALIGN: usize = size_of::<$ty>();
            #[inline(always)]
            unsafe fn store(&self, buf: &mut Vec<u8>, at: usize) {
                put(buf, at, self.to_le_bytes())
            }
            #[inline(always)]
            unsafe fn load(base: *const u8, at: usize) -> Self {
                <$ty>::from_le_bytes(get(base, at))
            }
        }
    )*};
}

number!(i8, u8, i16, u16, i32, u32, i64, u64, f32, f64);

/// `usize` and `isize` are `u32` and `i32` on the wire (wasm32 is 32-bit).
macro_rules! pointer_sized {
    ($($ty:ty => $wire:ty),*) => {$(
        impl Canonical for $ty {
            const SIZE: usize = 4;
            const ALIGN: usize = 4;
            #[inline(always)]
            unsafe fn store(&self, buf: &mut Vec<u8>, at: usize) {
                put(buf, at, (*self as $wire).to_le_bytes())
            }
            #[inline(always)]
            unsafe fn load(base: *const u8, at: usize) -> Self {
                <$wire>::from_le_bytes(get(base, at)) as $ty
            }
        }
    )*};
}

pointer_sized!(usize => u32, isize => i32);

impl Canonical for bool {
    const SIZE: usize = 1;
    const ALIGN: usize = 1;
    #[inline(always)]
    unsafe fn store(&self, buf: &mut Vec<u8>, at: usize) {
        put(buf, at, [*self as u8])
    }
    #[inline(always)]
    unsafe fn load(base: *const u8, at: usize) -> Self {
        *base.add(at) != 0
    }
}

impl Canonical for char {
    const SIZE: usize = 4;
    const ALIGN: usize = 4;
    #[inline(always)]
    unsafe fn store(&self, buf: &mut Vec<u8>, at: usize) {
        put(buf, at, (*self as u32).to_le_bytes())
    }
    #[inline(always)]
    unsafe fn load(base: *const u8, at: usize) -> Self {
        char::from_u32_unchecked(u32::from_le_bytes(get(base, at)))
    }
}

/// Stores text: its bytes out of line, `offset, bytes` in the fixed part.
unsafe fn store_text(text: &str, buf: &mut Vec<u8>, at: usize) {
    let offset = reserve(buf, 1, text.len());
    buf[offset..].copy_from_slice(text.as_bytes());
    put_span(buf, at, offset, text.len());
}

unsafe fn load_bytes<'a>(base: *const u8, at: usize) -> &'a [u8] {
    let (offset, len) = get_span(base, at);
    crate::__rt::slice_ref(base.add(offset), len)
}

impl Canonical for String {
    const SIZE: usize = 8;
    const ALIGN: usize = 4;
    #[inline]
    unsafe fn store(&self, buf: &mut Vec<u8>, at: usize) {
        store_text(self, buf, at)
    }
    #[inline]
    unsafe fn load(base: *const u8, at: usize) -> Self {
        String::from_utf8_unchecked(load_bytes(base, at).to_vec())
    }
}

impl<'a> Canonical for &'a str {
    const SIZE: usize = 8;
    const ALIGN: usize = 4;
    #[inline]
    unsafe fn store(&self, buf: &mut Vec<u8>, at: usize) {
        store_text(self, buf, at)
    }
    #[inline]
    unsafe fn load(base: *const u8, at: usize) -> Self {
        core::str::from_utf8_unchecked(load_bytes(base, at))
    }
}

/// Stores a list: `count` elements out of line, aligned to the element,
/// each followed (depth first) by its own out-of-line data.
///
/// # Safety
/// As for [`Canonical::store`], with `SIZE` 8.
pub(crate) unsafe fn store_list<T: Canonical>(items: &[T], buf: &mut Vec<u8>, at: usize) {
    let offset = reserve(buf, T::ALIGN, items.len() * T::SIZE);
    put_span(buf, at, offset, items.len());
    for (i, item) in items.iter().enumerate() {
        item.store(buf, offset + i * T::SIZE);
    }
}

/// A list (see [`store_list`]).
impl<T: Canonical> Canonical for Vec<T> {
    const SIZE: usize = 8;
    const ALIGN: usize = 4;
    unsafe fn store(&self, buf: &mut Vec<u8>, at: usize) {
        store_list(self, buf, at)
    }
    unsafe fn load(base: *const u8, at: usize) -> Self {
        let (offset, count) = get_span(base, at);
        (0..count).map(|i| T::load(base, offset + i * T::SIZE)).collect()
    }
}

/// A tag byte (0 none, 1 some), the payload at the payload's alignment.
impl<T: Canonical> Canonical for Option<T> {
    const SIZE: usize = align_to(align_to(1, T::ALIGN) + T::SIZE, T::ALIGN);
    const ALIGN: usize = T::ALIGN;
    #[inline]
    unsafe fn store(&self, buf: &mut Vec<u8>, at: usize) {
        if let Some(value) = self {
            put(buf, at, [1u8]);
            value.store(buf, at + align_to(1, T::ALIGN));
        }
    }
    #[inline]
    unsafe fn load(base: *const u8, at: usize) -> Self {
        match *base.add(at) {
            0 => None,
            _ => Some(T::load(base, at + align_to(1, T::ALIGN))),
        }
    }
}

macro_rules! tuple {
    ($($name:ident $index:tt),+) => {
        impl<$($name: Canonical),+> Canonical for ($($name,)+) {
            const SIZE: usize = layout(&[$(($name::SIZE, $name::ALIGN)),+]).0;
            const ALIGN: usize = layout(&[$(($name::SIZE, $name::ALIGN)),+]).1;
            #[inline]
            unsafe fn store(&self, buf: &mut Vec<u8>, at: usize) {
                let mut o = 0;
                $(store_field(&self.$index, buf, at, &mut o);)+
            }
            #[inline]
            unsafe fn load(base: *const u8, at: usize) -> Self {
                let mut o = 0;
                ($(load_field::<$name>(base, at, &mut o),)+)
            }
        }
    };
}

tuple!(A 0);
tuple!(A 0, B 1);
tuple!(A 0, B 1, C 2);
tuple!(A 0, B 1, C 2, D 3);
tuple!(A 0, B 1, C 2, D 3, E 4);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
