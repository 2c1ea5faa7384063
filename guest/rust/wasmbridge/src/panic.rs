//! Panics are reported to the host through the import `wasmbridge.panic`
//! before the module traps (docs/abi.md, "Panics"), so the host can raise
//! `hello.wasm panicked at src/lib.rs:41:9: message` instead of a bare trap.
//!
//! * Without `std`: the `#[panic_handler]`. By default it reports literal
//!   messages only (`panic!("too big")`, `expect("...")`), which needs no
//!   core::fmt; with `panic-messages` it formats every message.
//! * With `std`: a panic hook, installed by the first exported call.

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "wasmbridge")]
extern "C" {
    #[link_name = "panic"]
    fn wb_panic(
        msg_ptr: *const u8,
        msg_len: usize,
        file_ptr: *const u8,
        file_len: usize,
        line: u32,
        column: u32,
    );
}

/// Hands one panic report to the host.
#[cfg(target_arch = "wasm32")]
fn report(message: &str, file: &str, line: u32, column: u32) {
    unsafe { wb_panic(message.as_ptr(), message.len(), file.as_ptr(), file.len(), line, column) }
}

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
mod handler {
    use super::message;
    use core::panic::PanicInfo;

    #[panic_handler]
    fn panic(info: &PanicInfo) -> ! {
        let mut buffer = message::Buffer::new();
        let text = message::text(info, &mut buffer);
        let (file, line, column) = match info.location() {
            Some(l) => (l.file(), l.line(), l.column()),
            None => ("", 0, 0),
        };
        super::report(text, file, line, column);
        core::arch::wasm32::unreachable()
    }

    /// rustc < 1.68 only: what allocation failure does (later compilers
    /// panic by themselves). Reported directly, without a location: a
    /// panic!() here would add the SDK's path and a second call path.
    #[cfg(wb_oom_handler)]
    #[alloc_error_handler]
    fn allocation_failed(_: core::alloc::Layout) -> ! {
        super::report("memory allocation failed", "", 0, 0);
        core::arch::wasm32::unreachable()
    }
}

/// The literal message: `Some` only when the panic had no runtime arguments.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
fn literal(info: &core::panic::PanicInfo) -> Option<&'static str> {
    #[cfg(wb_msg_stable)]
    let text = info.message().as_str();
    #[cfg(wb_msg_unstable)]
    let text = info.message().and_then(|args| args.as_str());
    // The message is out of reach on this compiler: report the location only.
    #[cfg(not(any(wb_msg_stable, wb_msg_unstable)))]
    let text = {
        let _ = info;
        None
    };
    text
}

#[cfg(all(target_arch = "wasm32", not(feature = "std"), not(feature = "panic-messages")))]
mod message {
    use core::panic::PanicInfo;

    pub struct Buffer;

    impl Buffer {
        pub fn new() -> Self {
            Buffer
        }
    }

    pub fn text<'a>(info: &'a PanicInfo, _: &'a mut Buffer) -> &'a str {
        super::literal(info).unwrap_or("")
    }
}

#[cfg(all(target_arch = "wasm32", not(feature = "std"), feature = "panic-messages"))]
mod message {
    use core::fmt::{self, Write};
    use core::panic::PanicInfo;
    use core::sync::atomic::{AtomicBool, Ordering};

    const CAPACITY: usize = 512;

    /// The formatted message, cut at `CAPACITY` bytes on a char boundary.
    pub struct Buffer {
        bytes: [u8; CAPACITY],
        len: usize,
    }

    impl Buffer {
        pub fn new() -> Self {
            Buffer { bytes: [0; CAPACITY], len: 0 }
        }

        fn as_str(&self) -> &str {
            // Only whole UTF-8 sequences are copied in, and len <= CAPACITY.
            unsafe { core::str::from_utf8_unchecked(self.bytes.get_unchecked(..self.len)) }
        }
    }

    impl Write for Buffer {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let mut n = s.len().min(CAPACITY - self.len);
            while !s.is_char_boundary(n) {
                n -= 1;
            }
            unsafe {
                let dst = self.bytes.as_mut_ptr().add(self.len);
                core::ptr::copy_nonoverlapping(s.as_ptr(), dst, n);
            }
            self.len += n;
            Ok(())
        }
    }

    /// Set while formatting: a `Display` that panics in turn gets its own
    /// panic reported without a message instead of recursing. The instance
    /// may be called again after the trap, so the flag is always cleared.
    static FORMATTING: AtomicBool = AtomicBool::new(false);

    pub fn text<'a>(info: &'a PanicInfo, buffer: &'a mut Buffer) -> &'a str {
        if let Some(text) = super::literal(info) {
            return text;
        }
        if FORMATTING.swap(true, Ordering::Relaxed) {
            FORMATTING.store(false, Ordering::Relaxed); // the outer panic never resumes
            return "";
        }
        format(info, buffer);
        FORMATTING.store(false, Ordering::Relaxed);
        buffer.as_str()
    }

    #[cfg(wb_msg_stable)]
    fn format(info: &PanicInfo, buffer: &mut Buffer) {
        let _ = write!(buffer, "{}", info.message());
    }

    #[cfg(wb_msg_unstable)]
    fn format(info: &PanicInfo, buffer: &mut Buffer) {
        if let Some(args) = info.message() {
            let _ = buffer.write_fmt(*args);
        }
    }

    #[cfg(not(any(wb_msg_stable, wb_msg_unstable)))]
    fn format(_: &PanicInfo, _: &mut Buffer) {}
}

/// Installs the hook that reports std panics (once; later calls return at
/// once). std formats messages itself, so they are always complete.
#[cfg(all(target_arch = "wasm32", feature = "std"))]
pub fn install_hook() {
    use core::sync::atomic::{AtomicBool, Ordering};
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.load(Ordering::Relaxed) {
        return;
    }
    INSTALLED.store(true, Ordering::Relaxed);
    std::panic::set_hook(alloc::boxed::Box::new(|info| {
        let payload = info.payload();
        let text = match payload.downcast_ref::<&str>() {
            Some(text) => *text,
            None => payload.downcast_ref::<alloc::string::String>().map_or("", |s| s.as_str()),
        };
        let (file, line, column) = match info.location() {
            Some(l) => (l.file(), l.line(), l.column()),
            None => ("", 0, 0),
        };
        report(text, file, line, column);
    }));
}
