//! Export names the toolchain already uses.
//!
//! An export's name is also its linker symbol (`export_name`), so a name
//! the linker, the SDK or the compiler's own runtime library defines is not
//! free: `memory` collides with the exported linear memory, `__wb_alloc`
//! with the SDK's allocator, and `fmod` silently replaces the C function
//! the compiler calls for `%` on floats, so the export ends up calling
//! itself. These are refused at compile time, naming the function.

/// C functions compiler_builtins (or the SDK) defines and the compiler
/// calls on its own: memory intrinsics and the runtime's entry points.
const C_FUNCTIONS: &[&str] = &[
    "bcmp",
    "memcmp",
    "memcpy",
    "memmove",
    "memset",
    "strlen",
    "rust_begin_unwind",
    "rust_eh_personality",
    "rust_oom",
    "rust_panic",
];

/// math.h functions: compiler_builtins defines them on wasm32 and float
/// operations without a wasm instruction (`%`, `powf`, `sin`, `round`, ...)
/// become calls to them. Each also exists with the suffixes below.
const MATH_FUNCTIONS: &str = "\
    acos acosh asin asinh atan atan2 atanh cbrt ceil copysign cos cosh erf erfc exp exp10 exp2 \
    expm1 fabs fdim floor fma fmax fmaximum fmin fminimum fmod frexp hypot ilogb j0 j1 jn ldexp \
    lgamma lgamma_r log log10 log1p log2 logb lrint lround modf nearbyint nextafter pow remainder \
    remquo rint round roundeven scalbn sin sincos sinh sqrt tan tanh tgamma trunc y0 y1 yn";
const MATH_SUFFIXES: &[&str] = &["", "f", "l", "f16", "f128"];

/// Why `name` cannot be an export's name, or None when it can.
pub fn reserved_export(name: &str) -> Option<String> {
    if name == "memory" {
        return Some("the module's linear memory is exported as `memory`".to_string());
    }
    if name.starts_with("__") && !is_dunder(name) {
        return Some(
            "names starting with `__` belong to the linker, the SDK and the compiler's \
             builtins (`__heap_base`, `__wb_alloc`, `__multi3`)"
                .to_string(),
        );
    }
    if C_FUNCTIONS.contains(&name) || is_math_function(name) {
        return Some(format!(
            "`{}` is a C function the compiler itself calls (for float `%`, `powf`, `sin`, \
             memory copies, ...); an export of that name would replace it, and could end up \
             calling itself",
            name
        ));
    }
    None
}

/// `__name__`: Python's style, not a toolchain symbol.
fn is_dunder(name: &str) -> bool {
    name.len() > 4 && name.ends_with("__")
}

fn is_math_function(name: &str) -> bool {
    MATH_FUNCTIONS
        .split_whitespace()
        .any(|base| name.strip_prefix(base).map_or(false, |suffix| MATH_SUFFIXES.contains(&suffix)))
}

/// A free name to suggest instead of `name`.
pub fn suggestion(name: &str) -> String {
    let trimmed = name.trim_start_matches('_');
    let base = if trimmed.is_empty() { "exported" } else { trimmed };
    if reserved_export(base).is_none() {
        base.to_string()
    } else {
        format!("{}_", base)
    }
}
