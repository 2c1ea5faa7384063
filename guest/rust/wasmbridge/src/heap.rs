//! Memory: the allocator pair the host calls, `__wb_alloc`/`__wb_free`
//! (docs/abi.md, "Memory ownership"), the default global allocator, and a
//! compact `memcpy`.

#[cfg(target_arch = "wasm32")]
mod exports {
    use alloc::alloc::{alloc, dealloc, Layout};
    use core::ptr;

    /// Allocates `size` bytes aligned to `align` for the host, or returns 0.
    /// An empty allocation is the dangling pointer `align`, as in Rust.
    #[no_mangle]
    pub unsafe extern "C" fn __wb_alloc(size: usize, align: usize) -> *mut u8 {
        match Layout::from_size_align(size, align) {
            Ok(_) if size == 0 => align as *mut u8,
            Ok(layout) => alloc(layout),
            Err(_) => ptr::null_mut(),
        }
    }

    /// Frees what `__wb_alloc` (or the guest, for an owned result)
    /// allocated, with the same size and alignment, which were valid then.
    #[no_mangle]
    pub unsafe extern "C" fn __wb_free(ptr: *mut u8, size: usize, align: usize) {
        if size != 0 {
            dealloc(ptr, Layout::from_size_align_unchecked(size, align))
        }
    }
}

#[cfg(all(target_arch = "wasm32", feature = "allocator", not(feature = "std")))]
#[global_allocator]
static HEAP: classes::SizeClasses = classes::SizeClasses::new();

/// A small allocator for short-lived bridge data: rustc's default
/// (dlmalloc) costs ~7 KB of code, this one a few hundred bytes.
///
/// Every block has a power-of-two size (its class, 8 bytes to 2 GiB) and
/// sits at an address aligned to that size (to the 64 KiB page above that),
/// so it suits any request of that class. Freed blocks go on a free list
/// per class and are reused first; otherwise a bump pointer carves new
/// blocks, first out of the room between the linker's `__heap_base` and
/// the end of its page, then out of pages from `memory.grow`
/// (so a short call needs no growth, which costs a host a remap per
/// instance). Blocks are never split or merged: up to half of a block is
/// slack, the price of the small size. Memory grown by the crate itself
/// (`memory_grow`) is left alone. C code linked in that keeps its own heap
/// from `__heap_base` needs the `allocator` feature off.
///
/// wasm32-unknown-unknown runs one thread per instance, hence plain `Cell`s.
#[cfg(all(target_arch = "wasm32", feature = "allocator", not(feature = "std")))]
mod classes {
    use core::alloc::{GlobalAlloc, Layout};
    use core::arch::wasm32;
    use core::cell::Cell;
    use core::ptr;

    const PAGE: usize = 65536;
    /// The smallest class holds the free-list link.
    const MIN_CLASS: usize = 8;
    const CLASSES: usize = usize::BITS as usize;

    pub struct SizeClasses {
        /// The next free address of the bump region and the region's end.
        next: Cell<usize>,
        end: Cell<usize>,
        /// Whether the first region was taken (`end` alone cannot say: it is
        /// 0 again once memory reaches 4 GiB).
        started: Cell<bool>,
        /// Heads of the free lists, by log2 of the class (0 is empty).
        free: [Cell<usize>; CLASSES],
    }

    // One thread per instance (no wasm threads with this allocator).
    unsafe impl Sync for SizeClasses {}

    impl SizeClasses {
        pub const fn new() -> Self {
            #[allow(clippy::declare_interior_mutable_const)]
            const EMPTY: Cell<usize> = Cell::new(0);
            SizeClasses {
                next: EMPTY,
                end: EMPTY,
                started: Cell::new(false),
                free: [EMPTY; CLASSES],
            }
        }

        /// The free list of a class. Unchecked: a bounds check would pull
        /// core::fmt into every module through its panic message.
        #[inline(always)]
        fn head(&self, class: usize) -> &Cell<usize> {
            debug_assert!(class < CLASSES);
            // SAFETY: class_of returns at most usize::BITS - 1.
            unsafe { self.free.get_unchecked(class) }
        }

        /// The first bump region: from the linker's `__heap_base` to the end
        /// of its 64 KiB page, room a call can use without growing memory
        /// (growing costs the host a remap per instance). The linker makes
        /// the initial memory end at that page boundary or later, so the
        /// region is never memory the crate grew for itself; and it is not
        /// the current memory size, which counts such growth.
        #[cold]
        unsafe fn first_region(&self) {
            extern "C" {
                static __heap_base: u8;
            }
            let base = ptr::addr_of!(__heap_base) as usize;
            let end = base.wrapping_add(PAGE - 1) & !(PAGE - 1);
            if end > base {
                self.next.set(base);
                self.end.set(end);
            }
        }

        /// Takes a new block of `class` bytes off the bump region; when it
        /// is too small, starts a new region on pages from `memory.grow`
        /// (the old region's rest, less than two blocks, stays unused).
        ///
        /// Addresses are computed modulo 2^32: `end` is 0 once memory
        /// reaches 4 GiB, and `end - start` still is the room left.
        unsafe fn carve(&self, class: usize) -> *mut u8 {
            let align = if class < PAGE { class } else { PAGE };
            // `end` is page-aligned, so rounding up never passes it.
            if !self.started.get() {
                self.started.set(true);
                self.first_region();
            }
            let mut start = self.next.get().wrapping_add(align - 1) & !(align - 1);
            if self.end.get().wrapping_sub(start) < class {
                let pages = (class - 1) / PAGE + 1;
                let old = wasm32::memory_grow(0, pages);
                if old == usize::MAX {
                    return ptr::null_mut();
                }
                // New pages follow the old ones, unless someone else grew
                // memory in between: starting afresh is right either way.
                start = old * PAGE;
                self.end.set(start.wrapping_add(pages * PAGE));
            }
            self.next.set(start.wrapping_add(class));
            start as *mut u8
        }
    }

    /// The log2 of the class serving `layout`: the smallest power of two
    /// holding its size and alignment. A Layout's size is at most
    /// isize::MAX, so the class is at most usize::BITS - 1.
    #[inline(always)]
    fn class_of(layout: Layout) -> usize {
        let size = layout.size().max(layout.align()).max(MIN_CLASS);
        (usize::BITS - (size - 1).leading_zeros()) as usize
    }

    unsafe impl GlobalAlloc for SizeClasses {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if layout.align() > PAGE {
                return ptr::null_mut(); // blocks are aligned to 64 KiB at most
            }
            let class = class_of(layout);
            let head = self.head(class);
            match head.get() {
                0 => self.carve(1 << class),
                block => {
                    head.set(*(block as *const usize));
                    block as *mut u8
                }
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            let head = self.head(class_of(layout));
            *(ptr as *mut usize) = head.get();
            head.set(ptr as usize);
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            // Growing a String within its class (or shrinking it to fit for
            // the host) keeps the block.
            if class_of(new_layout) == class_of(layout) {
                return ptr;
            }
            let new = self.alloc(new_layout);
            if !new.is_null() {
                ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}

/// A compact `memcpy`: compiler_builtins' weak one is ~330 bytes, the
/// largest piece of a small module; this one ~100. Word by word when both
/// pointers are 4-aligned (allocations are), byte by byte otherwise.
/// LLVM does not turn the loops back into a memcpy call inside a function
/// named `memcpy`.
///
/// Its drawback: as a `#[no_mangle]` symbol it is exported too, which
/// `wasmbridge build` strips. Disable the `memcpy` feature when linking C
/// code that brings its own.
#[cfg(all(target_arch = "wasm32", feature = "memcpy", not(feature = "std")))]
#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    let mut i = 0;
    if (dest as usize | src as usize) & 3 == 0 {
        while n - i >= 4 {
            *(dest.add(i) as *mut u32) = *(src.add(i) as *const u32);
            i += 4;
        }
    }
    while i < n {
        *dest.add(i) = *src.add(i);
        i += 1;
    }
    dest
}
