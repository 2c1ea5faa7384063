//! `#[wasmbridge::export]`: keeps the function and adds, beside it, an
//! `extern "C"` wrapper exported under the function's name, plus the
//! function's interface record.
//!
//! For `pub fn greet(name: &str) -> String` the wrapper reads:
//!
//! ```text
//! #[cfg_attr(target_arch = "wasm32", export_name = "greet")]
//! extern "C" fn __wb_export_greet(
//!     __wb_ret: *mut u8, __wb_arg_name_ptr: *const u8, __wb_arg_name_len: usize,
//! ) {
//!     ::wasmbridge::__rt::enter();
//!     unsafe {
//!         ::wasmbridge::__rt::IntoRet::into_ret(
//!             greet(::wasmbridge::__rt::str_ref(__wb_arg_name_ptr, __wb_arg_name_len)),
//!             __wb_ret,
//!         )
//!     }
//! }
//! ```
//!
//! Off wasm32 the wrapper is not exported, so a crate still type-checks
//! and unit-tests natively.

use proc_macro::{Delimiter, Span, TokenStream, TokenTree};

use crate::emit::{quote, scalar_result, wire_list, wires, Wire, RT};
use crate::error::{to_compile_errors, Error, Result};
use crate::items::{item_kind, ItemKind};
use crate::names::{reserved_export, suggestion};
use crate::parse::{parse_fn, string_arg, FnItem, Mode};
use crate::record::{export_record, section_item, Signature};
use crate::types::{fn_types, FnTypes, Ty};
use crate::{callback, class, data};

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    let generated = match item_kind(&tokens) {
        ItemKind::Struct => data::record(attr, &tokens),
        ItemKind::Enum => data::enumeration(attr, &tokens),
        ItemKind::Impl => class::class(attr, &tokens),
        ItemKind::Other => generate(attr, &tokens),
    };
    let extra = generated.unwrap_or_else(|errors| to_compile_errors(&errors));
    // The user's item stays as written, whatever happens to the glue.
    item.into_iter().chain(extra).collect()
}

fn generate(
    attr: TokenStream,
    tokens: &[TokenTree],
) -> std::result::Result<TokenStream, Vec<Error>> {
    let export_name = parse_args(attr).map_err(|e| vec![e])?;
    let f = parse_fn(tokens, Mode::Export).map_err(|e| vec![e])?;
    if !matches!(tokens.last(), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace) {
        return Err(vec![Error::spanning(
            tokens,
            "#[wasmbridge::export] needs a function with a body",
        )]);
    }
    let FnTypes { params, result } = fn_types(&f, false)?;
    let name = export_name.unwrap_or_else(|| f.plain_name());
    check_name(&f, &name).map_err(|e| vec![e])?;
    let doc = f.doc();
    let sig = Signature { name: &name, doc: &doc, params: &params, result: &result };
    let record = export_record(&sig, f.name.span()).map_err(|e| vec![e])?;
    let cfgs = f.cfgs().to_string();
    let call = Wrapper {
        ident: format!("__wb_export_{}", f.plain_name()),
        callee: f.name.to_string(),
        receiver: None,
        checks: String::new(),
        sig: &sig,
    };
    let code = format!("{}\n{}", wrapper(&call, &cfgs), section_item(&record, &cfgs));
    let mut out: TokenStream =
        code.parse().expect("wasmbridge generated invalid code; please report");
    out.extend(type_checks(params.iter().map(|(_, t)| t).chain(Some(&result)), &cfgs));
    Ok(out)
}

/// Compile-time checks spanned at the user's types, so that rustc reports a
/// problem there rather than at the attribute: a text `Result`'s error is
/// `Display`, each named type is exported, and a named type inside a list,
/// tuple, option or record has a canonical layout (it is no class).
pub fn type_checks<'a>(types: impl Iterator<Item = &'a Ty>, cfgs: &str) -> TokenStream {
    let mut out = TokenStream::new();
    for ty in types {
        if let Ty::Result(_, err) = ty {
            out.extend(assert_at("assert_display", err, cfgs));
        }
        let mut found = Vec::new();
        ty.named(true, &mut found);
        for (named, whole) in found {
            let check = if whole { "assert_exported" } else { "assert_canonical" };
            out.extend(assert_at(check, &named.tokens, cfgs));
        }
    }
    out
}

/// `name = "other"`: the export's name when it differs from the function's.
fn parse_args(attr: TokenStream) -> Result<Option<String>> {
    string_arg(
        attr,
        "name",
        "#[wasmbridge::export] takes no argument or `name = \"...\"` (the export's name)",
    )
}

/// Refuses export names the toolchain already uses (see `names`).
fn check_name(f: &FnItem, name: &str) -> Result<()> {
    let reason = match reserved_export(name) {
        Some(reason) => reason,
        None => return Ok(()),
    };
    let what = if name == f.plain_name() {
        format!("cannot export `{}`: {}; rename the function, or", name, reason)
    } else {
        format!("cannot export `{}` as `{}`: {};", f.plain_name(), name, reason)
    };
    Err(Error::new(
        f.name.span(),
        format!(
            "{} export it under another name: `#[wasmbridge::export(name = \"{}\")]`",
            what,
            suggestion(name)
        ),
    ))
}

/// An `extern "C"` wrapper to generate: its Rust name, what it calls, the
/// receiver expression of a method (built from the handle `__wb_self`), and
/// statements that check the wasm parameters first.
pub struct Wrapper<'a> {
    pub ident: String,
    pub callee: String,
    pub receiver: Option<String>,
    pub checks: String,
    pub sig: &'a Signature<'a>,
}

pub fn wrapper(w: &Wrapper, cfgs: &str) -> String {
    let mut wire_params: Vec<Wire> = Vec::new();
    if w.sig.result.uses_retptr() {
        wire_params.push(Wire { name: "__wb_ret".to_string(), ty: "*mut u8".to_string() });
    }
    let mut args = Vec::new();
    if let Some(receiver) = &w.receiver {
        wire_params.push(Wire { name: "__wb_self".to_string(), ty: "u32".to_string() });
        args.push(receiver.clone());
    }
    let mut held = w.checks.clone();
    for (name, ty) in w.sig.params {
        let base = format!("__wb_arg_{}", name);
        wire_params.extend(wires(ty, &base));
        args.push(lift_param(ty, &base, &mut held));
    }
    let call = format!("{}({})", w.callee, args.join(", "));
    format!(
        "{cfgs}
        #[doc(hidden)]
        #[allow(non_snake_case, dead_code, unused_unsafe, clippy::all)]
        #[cfg_attr(target_arch = \"wasm32\", export_name = {export})]
        extern \"C\" fn {ident}({params}) {result} {{
            {RT}::enter();
            unsafe {{ {held} {body} }}
        }}",
        cfgs = cfgs,
        export = quote(w.sig.name),
        ident = w.ident,
        params = wire_list(&wire_params),
        result = scalar_result(w.sig.result),
        RT = RT,
        held = held,
        body = lower_result(w.sig.result, &call),
    )
}

/// The Rust value of a parameter, from its wasm parameters named `base*`;
/// what it borrows from is bound first, in `held`.
fn lift_param(ty: &Ty, base: &str, held: &mut String) -> String {
    let buffer = |f: &str| format!("{}::{}({b}_ptr, {b}_len)", RT, f, b = base);
    match ty {
        Ty::Bool => format!("({} != 0)", base),
        Ty::Num(n) if n.is_narrow() => format!("({} as {})", base, n.name()),
        Ty::Num(_) => base.to_string(),
        Ty::Char => format!("{}::char_param({})", RT, base),
        Ty::Str => buffer("str_ref"),
        Ty::String => buffer("string"),
        Ty::Slice(_) => buffer("slice_ref"),
        Ty::MutSlice(_) => buffer("slice_mut"),
        Ty::Vec(_) => buffer("vec"),
        Ty::List(_, false) => format!("{RT}::as_slice(&{RT}::decode({b}))", RT = RT, b = base),
        Ty::List(_, true) | Ty::Tuple(_) => format!("{}::decode({})", RT, base),
        Ty::Named(_) => format!("{}::FromParam::from_param({})", RT, base),
        Ty::Borrowed(n, mutable) => format!(
            "<{ty} as {RT}::Lend>::{get}(&{m}<{ty} as {RT}::Lend>::lend({b}))",
            ty = n.rust(),
            RT = RT,
            get = if *mutable { "get_mut" } else { "get" },
            m = if *mutable { "mut " } else { "" },
            b = base
        ),
        // A borrowed list outlives the `if`: the decoded `Vec` is bound first.
        Ty::Option(inner) if matches!(**inner, Ty::List(_, false)) => {
            held.push_str(&format!(
                "let {b}_held = if {b}_some != 0 {{ ::core::option::Option::Some({RT}::decode({b})) \
                 }} else {{ ::core::option::Option::None }};",
                b = base,
                RT = RT
            ));
            format!("{}_held.as_ref().map({}::as_slice)", base, RT)
        }
        Ty::Option(inner) => format!(
            "if {b}_some != 0 {{ ::core::option::Option::Some({v}) }} \
             else {{ ::core::option::Option::None }}",
            b = base,
            v = lift_param(inner, base, held)
        ),
        Ty::Callback(cb) => callback::closure(cb, base),
        Ty::Unit | Ty::Result(..) | Ty::ResultValue(..) => unreachable!("not a parameter type"),
    }
}

/// `expr` of type `ty`, made ready for `IntoRet`: tuples and lists are
/// handed over as encoded buffers.
fn wrap(ty: &Ty, expr: &str) -> String {
    match ty {
        Ty::List(..) | Ty::Tuple(_) => format!("{}::Encoded({})", RT, expr),
        Ty::Option(inner) if inner.is_compound() => format!("({}).map({}::Encoded)", expr, RT),
        _ => expr.to_string(),
    }
}

/// The wrapper's body: the call, and its result handed to the host.
fn lower_result(result: &Ty, call: &str) -> String {
    match result {
        Ty::Unit => format!("{};", call),
        Ty::Bool => format!("{} as i32", call),
        Ty::Num(n) if n.is_narrow() => format!("{} as i32", call),
        Ty::Num(_) => call.to_string(),
        Ty::Char => format!("{} as u32", call),
        Ty::Result(ok, _) => format!(
            "match {call} {{
                ::core::result::Result::Ok(__wb_ok) => {RT}::ok_into_ret({ok}, __wb_ret),
                ::core::result::Result::Err(__wb_err) => {{
                    // Autoref specialization: String and &str errors move or
                    // copy their text; other errors go through Display.
                    use {RT}::{{ErrText as _, ErrDisplay as _, ErrNotDisplay as _}};
                    {RT}::err_into_ret((&&{RT}::ErrSlot::new(__wb_err)).wb_err_text(), __wb_ret)
                }}
            }}",
            call = call,
            ok = wrap(ok, "__wb_ok"),
            RT = RT
        ),
        Ty::ResultValue(ok, ..) => format!(
            "match {call} {{
                ::core::result::Result::Ok(__wb_ok) => {RT}::ok_into_ret({ok}, __wb_ret),
                ::core::result::Result::Err(__wb_err) => {{
                    // Autoref specialization: exported records and enums
                    // cross as values, other errors as their Display text.
                    use {RT}::{{ErrAsValue as _, ErrAsMessage as _, ErrUnusable as _}};
                    (&&&{RT}::ErrSlot::new(__wb_err)).wb_err_into(__wb_ret)
                }}
            }}",
            call = call,
            ok = wrap(ok, "__wb_ok"),
            RT = RT
        ),
        _ => format!("{}::IntoRet::into_ret({}, __wb_ret)", RT, wrap(result, call)),
    }
}

/// `const _: fn() = check::<T>;` spanned at `T`, so that a bound `check`
/// puts on `T` (`Display` for `assert_display`) is reported at the type itself.
pub fn assert_at(check: &str, ty: &[TokenTree], cfgs: &str) -> TokenStream {
    let span = ty.first().map_or_else(Span::call_site, TokenTree::span);
    let head: TokenStream =
        format!("{} const _: fn() = {}::{}::<", cfgs, RT, check).parse().expect("valid");
    let tail: TokenStream = ">;".parse().expect("valid");
    let end = ty.last().map_or(span, TokenTree::span);
    let head = head.into_iter().map(|t| respan(t, span));
    head.chain(ty.iter().cloned()).chain(tail.into_iter().map(|t| respan(t, end))).collect()
}

fn respan(mut token: TokenTree, span: Span) -> TokenTree {
    token.set_span(span);
    token
}
