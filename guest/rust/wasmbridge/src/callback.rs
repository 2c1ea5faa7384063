//! Host functions passed as callbacks (docs/abi-compound.md, "Callbacks").
//!
//! A callback parameter arrives as an id the host chose for the export
//! call. The closure the macro hands the user's function encodes its
//! arguments as one tuple (an empty buffer for none), lends that buffer to
//! the import `wasmbridge.callback(id, args, args_len, ret)`, and for a
//! non-unit result decodes the buffer the host wrote at `ret` (allocated
//! with `__wb_alloc(len, 8)`) and frees it.
//!
//! Nothing here is compiled into a module that takes no callbacks: every
//! function is generic or only called from one that is, and the linker
//! drops an import nobody calls.

use alloc::alloc::{dealloc, Layout};
use alloc::vec::Vec;

use crate::codec::{align_to, layout, store_list, Canonical};

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "wasmbridge")]
extern "C" {
    #[link_name = "callback"]
    fn wb_callback(id: u32, args: *const u8, args_len: usize, ret: *mut u8);
}

/// The 8-byte return slot the host writes `ptr, len` into.
#[cfg(target_arch = "wasm32")]
#[repr(C, align(8))]
struct Slot([u32; 2]);

/// Calls callback `id` with encoded arguments; `ptr, len` of the result
/// buffer (whatever the slot holds: zero for a unit result).
#[cfg(target_arch = "wasm32")]
#[inline(never)]
fn invoke(id: u32, args: &[u8]) -> (*mut u8, usize) {
    let mut slot = Slot([0, 0]);
    unsafe { wb_callback(id, args.as_ptr(), args.len(), slot.0.as_mut_ptr() as *mut u8) };
    (slot.0[0] as usize as *mut u8, slot.0[1] as usize)
}

/// Off wasm32 there is no host, unless a native test installed one with
/// [`set_native_host`]; its answer is copied into a buffer allocated as
/// `__wb_alloc(len, 8)` would (native pointers do not fit the wasm slot).
#[cfg(not(target_arch = "wasm32"))]
fn invoke(id: u32, args: &[u8]) -> (*mut u8, usize) {
    let host = native::HOST.load(core::sync::atomic::Ordering::Relaxed);
    if host == 0 {
        panic!(
            "a wasmbridge callback calls a host function, which exists only when the crate \
             runs as WebAssembly; in native tests call your function with a closure"
        )
    }
    let host: native::Host = unsafe { core::mem::transmute(host) };
    let answer = host(id, args);
    if answer.is_empty() {
        return (core::ptr::null_mut(), 0);
    }
    unsafe {
        let ptr =
            alloc::alloc::alloc(Layout::from_size_align_unchecked(answer.len(), RESULT_ALIGN));
        ptr.copy_from_nonoverlapping(answer.as_ptr(), answer.len());
        (ptr, answer.len())
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use alloc::vec::Vec;
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// What a native test puts in the host's place: given the callback id
    /// and the encoded arguments, the encoded result (empty for unit).
    pub type Host = fn(u32, &[u8]) -> Vec<u8>;

    pub static HOST: AtomicUsize = AtomicUsize::new(0);

    /// Makes `host` answer every callback of this process (native only).
    pub fn set_native_host(host: Host) {
        HOST.store(host as usize, Ordering::Relaxed)
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::{set_native_host, Host as NativeHost};

/// Calls a callback whose result is unit.
#[inline(always)]
pub fn call_back_unit<A: Args>(id: u32, args: &A) {
    invoke(id, &args.encode_args());
}

/// Calls a callback and takes its result.
///
/// # Safety
/// `id` is the callback id of a running export call, and the host writes
/// a valid encoding of `R` (hosts check what they encode).
#[inline(always)]
pub unsafe fn call_back<A: Args, R: Canonical>(id: u32, args: &A) -> R {
    let (ptr, len) = invoke(id, &args.encode_args());
    take_result(ptr, len)
}

/// Decodes the result buffer the host allocated with `__wb_alloc(len, 8)`
/// and frees it; the value owns copies of everything in it.
///
/// # Safety
/// `ptr, len` is such a buffer holding an encoding of `R`, and `R` borrows
/// nothing from it (the macros refuse `&str` and `&[T]` in callback results).
pub unsafe fn take_result<R: Canonical>(ptr: *mut u8, len: usize) -> R {
    let value = R::load(ptr, 0);
    if len != 0 {
        dealloc(ptr, Layout::from_size_align_unchecked(len, RESULT_ALIGN));
    }
    value
}

/// The alignment the host allocates a callback's result buffer with.
pub const RESULT_ALIGN: usize = 8;

// ---- Arguments -----------------------------------------------------------------

/// What a callback argument can be: a value with a canonical layout, or a
/// slice lent for the call (`&[T]`, `Option<&[T]>`: see [`Lent`]). Only
/// stored: the guest never reads its own callback arguments back.
pub trait Lower {
    const SIZE: usize;
    const ALIGN: usize;
    /// # Safety
    /// As for [`Canonical::store`].
    unsafe fn store(&self, buf: &mut Vec<u8>, at: usize);
}

impl<T: Canonical> Lower for T {
    const SIZE: usize = T::SIZE;
    const ALIGN: usize = T::ALIGN;
    #[inline(always)]
    unsafe fn store(&self, buf: &mut Vec<u8>, at: usize) {
        Canonical::store(self, buf, at)
    }
}

/// A borrowed slice as a callback argument: a list, like `Vec<T>`.
pub struct Lent<'a, T>(pub &'a [T]);

impl<'a, T: Canonical> Lower for Lent<'a, T> {
    const SIZE: usize = 8;
    const ALIGN: usize = 4;
    #[inline(always)]
    unsafe fn store(&self, buf: &mut Vec<u8>, at: usize) {
        store_list(self.0, buf, at)
    }
}

/// `Option<&[T]>`: the option's tag byte, the list at offset 4.
impl<'a, T: Canonical> Lower for Option<Lent<'a, T>> {
    const SIZE: usize = align_to(align_to(1, 4) + 8, 4);
    const ALIGN: usize = 4;
    #[inline(always)]
    unsafe fn store(&self, buf: &mut Vec<u8>, at: usize) {
        if let Some(items) = self {
            buf[at] = 1;
            items.store(buf, at + align_to(1, 4));
        }
    }
}

/// A callback's arguments, encoded as one tuple (docs/abi-compound.md).
pub trait Args {
    fn encode_args(&self) -> Vec<u8>;
}

/// No arguments: the empty 0-tuple, nothing allocated.
impl Args for () {
    #[inline(always)]
    fn encode_args(&self) -> Vec<u8> {
        Vec::new()
    }
}

/// Stores one argument at the running offset `o` and moves `o` past it.
#[inline(always)]
unsafe fn store_arg<T: Lower>(value: &T, buf: &mut Vec<u8>, o: &mut usize) {
    *o = align_to(*o, T::ALIGN);
    value.store(buf, *o);
    *o += T::SIZE;
}

macro_rules! args {
    ($($name:ident $index:tt),+) => {
        impl<$($name: Lower),+> Args for ($($name,)+) {
            fn encode_args(&self) -> Vec<u8> {
                let mut buf = Vec::new();
                buf.resize(layout(&[$(($name::SIZE, $name::ALIGN)),+]).0, 0);
                let mut o = 0;
                unsafe { $(store_arg(&self.$index, &mut buf, &mut o);)+ }
                buf
            }
        }
    };
}

args!(A 0);
args!(A 0, B 1);
args!(A 0, B 1, C 2);
args!(A 0, B 1, C 2, D 3);
args!(A 0, B 1, C 2, D 3, E 4);
args!(A 0, B 1, C 2, D 3, E 4, F 5);
args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
