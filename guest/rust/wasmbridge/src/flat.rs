//! How char, compound and named values cross at the flat level
//! (docs/abi-compound.md, "Crossing the bridge"): each is one `i32`
//! parameter, and a named or compound result takes one return-area slot.
//!
//! The macro of a function does not know whether a named type is a record,
//! an enum or a class, so all three implement the same traits:
//! [`FromParam`] (an owned parameter), [`Lend`] (a borrowed `&X` or `&mut X`
//! parameter) and `IntoRet` (a result). `#[wasmbridge::export]` on the
//! struct, enum or `impl` block writes the impls.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::mem::size_of;

use crate::__rt::{hand_over, write_buffer, write_tag, FromRet, IntoRet};
use crate::codec::{encode, Canonical};

/// A named parameter from its `i32`: a record decoded from the buffer at
/// that address, an enum from its case index, a class object moved out of
/// its handle.
pub trait FromParam: Sized {
    /// # Safety
    /// `raw` is what the host passed for this type (docs/abi-compound.md).
    unsafe fn from_param(raw: u32) -> Self;
}

/// A borrowed named parameter (`&X`, `&mut X`): what the call borrows from.
/// A record or enum is decoded into a value of the call's own (changes to
/// it stay in the guest); a class object is borrowed in place.
pub trait Lend: Sized {
    type Held;
    /// # Safety
    /// As for [`FromParam::from_param`]; a class handle is not used by
    /// anything else during the call.
    unsafe fn lend(raw: u32) -> Self::Held;
    fn get(held: &Self::Held) -> &Self;
    fn get_mut(held: &mut Self::Held) -> &mut Self;
}

/// Marks the records and enums that an `Err` can carry as a value (result
/// tag 2); any other error type crosses as its message.
pub trait ErrorValue: Canonical {}

/// Implemented once per record, enum or class with `#[wasmbridge::export]`.
/// A type exported twice (two exported `impl` blocks, or a record that is
/// also a class) makes rustc report conflicting implementations of it, and a
/// named type in a signature that nobody exported, that it is not implemented.
pub trait Exported {}

/// Compiles only for an exported record, enum or class; the macros name each
/// named type of a signature here, so a missing export is reported at it.
pub fn assert_exported<T: Exported + ?Sized>() {}

/// Compiles only for a type with a canonical layout; the macros name each
/// named type inside a list, tuple, option or record here: a class there (or
/// a type nobody exported) is reported at it.
pub fn assert_canonical<T: Canonical>() {}

// ---- char --------------------------------------------------------------------

/// A `char` parameter (hosts pass only Unicode scalar values).
#[inline(always)]
pub unsafe fn char_param(raw: u32) -> char {
    char::from_u32_unchecked(raw)
}

/// A `char` a host function returned; anything but a scalar value becomes
/// U+FFFD.
#[inline(always)]
pub fn char_from_host(raw: u32) -> char {
    char::from_u32(raw).unwrap_or(char::REPLACEMENT_CHARACTER)
}

impl IntoRet for char {
    #[inline(always)]
    unsafe fn into_ret(self, at: *mut u8) {
        (at as *mut u32).write(self as u32)
    }
}

impl FromRet for char {
    #[inline(always)]
    unsafe fn from_ret(at: *const u8) -> Self {
        char_from_host((at as *const u32).read())
    }
}

// ---- compound values ---------------------------------------------------------

/// A tuple or list result, handed over as its encoded buffer.
pub struct Encoded<T>(pub T);

impl<T: Canonical> IntoRet for Encoded<T> {
    #[inline(always)]
    unsafe fn into_ret(self, at: *mut u8) {
        ret_encoded(&self.0, at)
    }
}

/// Writes `ptr, len` of `value`'s encoded buffer at `at`; the guest keeps
/// the buffer until it hands over the next one (docs/abi.md, "Owned results").
#[inline(never)]
pub unsafe fn ret_encoded<T: Canonical>(value: &T, at: *mut u8) {
    let (ptr, len) = hand_over(encode(value));
    write_buffer(at, ptr, len)
}

/// A list parameter taken as a slice: the decoded `Vec` lives for the call.
#[inline(always)]
pub fn as_slice<T>(items: &Vec<T>) -> &[T] {
    items
}

// ---- enums -------------------------------------------------------------------

/// An enum result: its case index.
#[inline(always)]
pub unsafe fn ret_index(index: u32, at: *mut u8) {
    (at as *mut u32).write(index)
}

/// An enum case index that names no case; hosts check indices, so only a
/// host breaking the ABI gets here.
#[cold]
pub fn bad_case() -> ! {
    panic!("wasmbridge: an enum case index out of range")
}

// ---- classes -------------------------------------------------------------------
//
// A handle is the address of the boxed object, never 0. An object of a
// zero-sized class is boxed with one byte beside it, so that each object
// has an address of its own.

#[repr(C)]
struct Unique<T> {
    value: T,
    _byte: u8,
}

/// Boxes a class object; its handle.
#[inline(always)]
pub fn class_into_handle<T>(value: T) -> u32 {
    if size_of::<T>() == 0 {
        Box::into_raw(Box::new(Unique { value, _byte: 0 })) as usize as u32
    } else {
        Box::into_raw(Box::new(value)) as usize as u32
    }
}

/// Moves the object out of its handle, which is spent.
///
/// # Safety
/// `handle` came from [`class_into_handle`] for `T` and is still alive.
#[inline(always)]
pub unsafe fn class_take<T>(handle: u32) -> T {
    if size_of::<T>() == 0 {
        let Unique { value, .. } = *Box::from_raw(handle as usize as *mut Unique<T>);
        value
    } else {
        *Box::from_raw(handle as usize as *mut T)
    }
}

/// The object behind a live handle, borrowed for the call.
///
/// # Safety
/// As for [`class_take`]; the handle is not taken during the borrow.
#[inline(always)]
pub unsafe fn class_ref<'a, T>(handle: u32) -> &'a T {
    &*(handle as usize as *const T)
}

/// The object behind a live handle, borrowed mutably for the call.
///
/// # Safety
/// As for [`class_ref`], and nothing else borrows the object meanwhile.
#[inline(always)]
pub unsafe fn class_mut<'a, T>(handle: u32) -> &'a mut T {
    &mut *(handle as usize as *mut T)
}

/// One object passed twice to a method that moves or mutably borrows it;
/// hosts refuse such calls, so only a host breaking the ABI gets here.
#[cold]
pub fn same_object() -> ! {
    panic!("wasmbridge: one object passed twice to a call that moves or mutably borrows it")
}

/// A class result: the new object's handle.
#[inline(always)]
pub unsafe fn ret_handle<T>(value: T, at: *mut u8) {
    (at as *mut u32).write(class_into_handle(value))
}

// ---- errors carried as values --------------------------------------------------

/// `Err(e)` of a result with value whose `e` is an exported record or enum:
/// tag 2, the encoded buffer of `e` at offset 8.
#[inline(never)]
pub unsafe fn err_value_into_ret<E: Canonical>(error: &E, at: *mut u8) {
    ret_encoded(error, at.add(8));
    write_tag(at, 2)
}
