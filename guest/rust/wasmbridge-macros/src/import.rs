//! `#[wasmbridge::import]` on an `extern "C" { fn ...; }` block: each
//! declaration becomes a safe Rust function of the same name, visibility and
//! signature that lowers its arguments, calls the raw wasm import, and lifts
//! the result. Each also gets an import record.
//!
//! For `fn upper(text: &str) -> String;` the function reads:
//!
//! ```text
//! fn upper(text: &str) -> String {
//!     #[cfg(target_arch = "wasm32")]
//!     #[link(wasm_import_module = "env")]
//!     extern "C" {
//!         #[link_name = "upper"]
//!         fn __wb_import(__wb_ret: *mut u8, __wb_arg_text_ptr: *const u8,
//!                        __wb_arg_text_len: usize);
//!     }
//!     let __wb_arg_text_ptr = text.as_ptr();
//!     let __wb_arg_text_len = text.len();
//!     let mut __wb_area = ::wasmbridge::__rt::RetArea::default();
//!     unsafe {
//!         __wb_import(__wb_area.as_mut_ptr(), __wb_arg_text_ptr, __wb_arg_text_len);
//!         ::wasmbridge::__rt::FromRet::from_ret(__wb_area.as_ptr())
//!     }
//! }
//! ```
//!
//! Off wasm32 the raw import is a stub that panics, so a crate still
//! type-checks and unit-tests natively.

use proc_macro::{Delimiter, Group, Ident, Punct, Spacing, TokenStream, TokenTree};

use crate::emit::{prim, quote, scalar_result, wire_list, wires, Wire, RT};
use crate::error::{to_compile_errors, Error, Result};
use crate::lit;
use crate::parse::{is_punct, parse_fn, string_arg, AttrKind, Cursor, FnItem, Mode};
use crate::record::{import_record, section_item, Signature};
use crate::types::{fn_types, FnTypes, Ty};

const DEFAULT_MODULE: &str = "env";

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let result = parse_args(attr).and_then(|module| Ok((module, block(&tokens)?)));
    let (module, (block_attrs, decls)) = match result {
        Ok(parsed) => parsed,
        Err(e) => return e.to_compile_error(),
    };
    decls.iter().map(|decl| function(&module, &block_attrs, decl)).collect()
}

/// `module = "..."`: the import namespace, `env` by default.
fn parse_args(attr: TokenStream) -> Result<String> {
    let usage = "#[wasmbridge::import] takes no argument or `module = \"...\"` (the import \
                 module, `env` by default)";
    Ok(string_arg(attr, "module", usage)?.unwrap_or_else(|| DEFAULT_MODULE.to_string()))
}

/// The `#[cfg]`s of `[#[attrs]] [unsafe] extern ["C"] { decls }` and its
/// declarations, each without its `;`.
fn block(tokens: &[TokenTree]) -> Result<(String, Vec<Vec<TokenTree>>)> {
    let mut c = Cursor::new(tokens);
    let cfgs: TokenStream = c
        .attrs()
        .into_iter()
        .filter(|a| matches!(a.kind, AttrKind::Cfg))
        .flat_map(|a| a.tokens)
        .collect();
    c.eat_ident("unsafe");
    let usage = "#[wasmbridge::import] goes on an `extern \"C\" { fn name(...); }` block";
    if !c.eat_ident("extern") {
        return Err(Error::new(c.span(), usage));
    }
    if let Some(TokenTree::Literal(abi)) = c.peek() {
        if lit::string_value(abi).as_deref() != Some("C") {
            return Err(Error::new(abi.span(), "wasm imports use the C ABI: write `extern \"C\"`"));
        }
        c.next();
    }
    let body = match c.next() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace && c.at_end() => g.stream(),
        _ => return Err(Error::new(c.span(), usage)),
    };
    let mut decls = vec![Vec::new()];
    for token in body {
        if is_punct(Some(&token), ';') {
            decls.push(Vec::new());
        } else {
            decls.last_mut().expect("never empty").push(token);
        }
    }
    decls.retain(|d| !d.is_empty());
    Ok((cfgs.to_string(), decls))
}

/// One declaration: the safe function and its record, or the errors (with a
/// stub of the function when its signature is valid Rust, so that callers
/// do not pile up more errors).
fn function(module: &str, block_cfgs: &str, decl: &[TokenTree]) -> TokenStream {
    let f = match parse_fn(decl, Mode::Import) {
        Ok(f) => f,
        Err(e) => return e.to_compile_error(),
    };
    let cfgs = format!("{} {}", block_cfgs, f.cfgs());
    let generated = fn_types(&f, true).and_then(|FnTypes { params, result }| {
        let name = link_name(&f);
        let doc = f.doc();
        let sig = Signature { name: &name, doc: &doc, params: &params, result: &result };
        let record = import_record(module, &sig, f.name.span()).map_err(|e| vec![e])?;
        Ok((body(module, &f, &sig), section_item(&record, &cfgs)))
    });
    let (body, extra) = match generated {
        Ok((body, record)) => (body, parse(&record)),
        Err(errors) => ("::core::unreachable!()".to_string(), to_compile_errors(&errors)),
    };
    let mut out = signature(&f, block_cfgs);
    out.extend(Some(TokenTree::Group(Group::new(Delimiter::Brace, parse(&body)))));
    out.extend(extra);
    out
}

fn parse(code: &str) -> TokenStream {
    code.parse().expect("wasmbridge generated invalid code; please report")
}

/// The import's wasm name: `#[link_name = "..."]` or the function's name.
fn link_name(f: &FnItem) -> String {
    let given = f.attrs.iter().find_map(|a| match &a.kind {
        AttrKind::LinkName(name) => Some(name.clone()),
        _ => None,
    });
    given.unwrap_or_else(|| f.plain_name())
}

/// `#[attrs] vis fn name(params) -> ret` as the user wrote it, without
/// `#[link_name]` (meaningless outside an extern block) and `safe`/`unsafe`.
fn signature(f: &FnItem, block_cfgs: &str) -> TokenStream {
    let mut out: TokenStream = parse(block_cfgs);
    out.extend(
        f.attrs
            .iter()
            .filter(|a| !matches!(a.kind, AttrKind::LinkName(..)))
            .flat_map(|a| a.tokens.clone()),
    );
    out.extend(f.vis.iter().cloned());
    out.extend([
        TokenTree::Ident(Ident::new("fn", f.name.span())),
        TokenTree::Ident(f.name.clone()),
    ]);
    out.extend(Some(TokenTree::Group(f.params_group.clone())));
    if !f.ret.is_empty() {
        out.extend([
            TokenTree::Punct(Punct::new('-', Spacing::Joint)),
            TokenTree::Punct(Punct::new('>', Spacing::Alone)),
        ]);
        out.extend(f.ret.iter().cloned());
    }
    out
}

/// The safe function's body.
fn body(module: &str, f: &FnItem, sig: &Signature) -> String {
    let retptr = sig.result.uses_retptr();
    let mut raw_params: Vec<Wire> = Vec::new();
    let mut args = Vec::new();
    if retptr {
        raw_params.push(Wire { name: "__wb_ret".to_string(), ty: "*mut u8".to_string() });
        args.push("__wb_area.as_mut_ptr()".to_string());
    }
    let mut lowering = String::new();
    for (p, (_, ty)) in f.params.iter().zip(sig.params) {
        let base = format!("__wb_arg_{}", p.name);
        let param_wires = wires(ty, &base);
        lowering.push_str(&lower(ty, &p.ident.to_string(), &base, &param_wires));
        args.extend(param_wires.iter().map(|w| w.name.clone()));
        raw_params.extend(param_wires);
    }
    let raw = format!("({}) {}", wire_list(&raw_params), scalar_result(sig.result));
    let call = format!("__wb_import({})", args.join(", "));
    format!(
        "#[cfg(target_arch = \"wasm32\")]
        #[link(wasm_import_module = {module})]
        extern \"C\" {{
            #[link_name = {name}]
            fn __wb_import{raw};
        }}
        #[cfg(not(target_arch = \"wasm32\"))]
        #[allow(unused_variables)]
        unsafe extern \"C\" fn __wb_import{raw} {{ {RT}::not_wasm({module}, {name}) }}
        {lowering}
        {area}
        unsafe {{ {lift} }}",
        module = quote(module),
        name = quote(sig.name),
        raw = raw,
        RT = RT,
        lowering = lowering,
        area = if retptr {
            format!("let mut __wb_area = {}::RetArea::default();", RT)
        } else {
            String::new()
        },
        lift = lift_result(sig.result, &call),
    )
}

/// `let` statements binding the wasm values of `expr` (of type `ty`) to the
/// names of `wires`.
fn lower(ty: &Ty, expr: &str, base: &str, wires: &[Wire]) -> String {
    let names = |ws: &[Wire]| ws.iter().map(|w| w.name.clone()).collect::<Vec<_>>().join(", ");
    match ty {
        Ty::Bool => format!("let {} = {} as i32;", base, expr),
        Ty::Num(n) if n.is_narrow() => format!("let {} = {} as i32;", base, expr),
        Ty::Num(_) => format!("let {} = {};", base, expr),
        Ty::Char => format!("let {} = {} as u32;", base, expr),
        Ty::Str | Ty::Slice(_) => {
            format!("let {b}_ptr = {e}.as_ptr(); let {b}_len = {e}.len();", b = base, e = expr)
        }
        Ty::MutSlice(_) => {
            format!("let {b}_len = {e}.len(); let {b}_ptr = {e}.as_mut_ptr();", b = base, e = expr)
        }
        // Lent like borrowed ones: `expr` lives on until the call has returned,
        // then the guest drops it (docs/abi.md, "Imports").
        Ty::String | Ty::Vec(_) => {
            format!(
                "let {b}_ptr = {e}.as_ptr() as *mut _; let {b}_len = {e}.len();",
                b = base,
                e = expr
            )
        }
        Ty::Option(inner) => {
            let inner_wires = &wires[1..];
            let zeros: Vec<String> = inner_wires.iter().map(|w| zero(&w.ty)).collect();
            // Owned payloads are matched by reference so they outlive the call.
            let by_ref = if matches!(**inner, Ty::String | Ty::Vec(_)) { "&" } else { "" };
            format!(
                "let ({all}) = match {by_ref}{e} {{
                    ::core::option::Option::Some(__wb_value) => {{ {lower} (1i32, {inner}) }}
                    ::core::option::Option::None => (0i32, {zeros}),
                }};",
                all = names(wires),
                by_ref = by_ref,
                e = expr,
                lower = lower(inner, "__wb_value", base, inner_wires),
                inner = names(inner_wires),
                zeros = zeros.join(", "),
            )
        }
        Ty::Unit | Ty::Result(..) | Ty::ResultValue(..) => unreachable!("not a parameter type"),
        Ty::List(..) | Ty::Tuple(_) | Ty::Named(_) | Ty::Borrowed(..) | Ty::Callback(_) => {
            unreachable!("refused in imports")
        }
    }
}

/// The all-zero value of a wasm parameter type (what `None` passes).
fn zero(ty: &str) -> String {
    if ty.starts_with("*const") {
        "::core::ptr::null()".to_string()
    } else if ty.starts_with("*mut") {
        "::core::ptr::null_mut()".to_string()
    } else {
        format!("0 as {}", ty)
    }
}

/// The call, and the Rust value of what the host returned.
fn lift_result(result: &Ty, call: &str) -> String {
    match result {
        Ty::Unit => format!("{};", call),
        Ty::Bool => format!("{} != 0", call),
        Ty::Num(n) if n.is_narrow() => format!("{} as {}", call, prim(*n)),
        Ty::Num(_) => call.to_string(),
        Ty::Char => format!("{}::char_from_host({})", RT, call),
        _ => format!("{}; {}::FromRet::from_ret(__wb_area.as_ptr())", call, RT),
    }
}
