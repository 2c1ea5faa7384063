//! Callbacks (docs/abi-compound.md, "Callbacks"): a parameter written
//! `impl Fn(A, B) -> R` (also `FnMut`, `FnOnce`), `&dyn Fn(..) -> R` or
//! `&mut dyn FnMut(..) -> R` is a host function the export may call while
//! it runs. It crosses as one `u32`, a callback id; the wrapper hands the
//! user's function a closure over that id:
//!
//! ```text
//! move |__wb_cb0: u32| -> bool {
//!     unsafe { ::wasmbridge::__rt::call_back(__wb_arg_report, &(__wb_cb0,)) }
//! }
//! ```
//!
//! which encodes its arguments as one tuple, calls the import
//! `wasmbridge.callback` and decodes the result (the SDK's callback.rs).
//!
//! This module reads the written forms and writes the closure; `types`
//! classifies the argument and result types and decides where a callback
//! may stand.

use proc_macro::{Delimiter, Group, TokenStream, TokenTree};

use crate::emit::RT;
use crate::error::{Error, Result};
use crate::parse::{is_punct, split_commas, tokens_text, Cursor};
use crate::types::{last_segment, Ty};

/// How the user's function receives the closure.
#[derive(Clone, Copy, PartialEq)]
pub enum Form {
    /// `impl Fn(..)`, `impl FnMut(..)`, `impl FnOnce(..)`: by value.
    Impl,
    /// `&dyn Fn(..)`.
    Shared,
    /// `&mut dyn FnMut(..)`, `&mut dyn Fn(..)`.
    Exclusive,
}

/// A classified callback type.
pub struct Callback {
    pub form: Form,
    pub args: Vec<Ty>,
    /// The argument types as written, for the closure's parameters.
    pub arg_tokens: Vec<Vec<TokenTree>>,
    pub result: Box<Ty>,
    /// The result type as written; empty for none.
    pub result_tokens: Vec<TokenTree>,
}

/// A callback type as written, before its types are classified.
pub struct Written {
    pub form: Form,
    pub args: Vec<Vec<TokenTree>>,
    pub result: Vec<TokenTree>,
}

/// The Fn-family traits a callback can be written with.
const FN_TRAITS: [&str; 3] = ["Fn", "FnMut", "FnOnce"];

/// `Some` when `tokens` is written as a callback: its parts, or why that
/// form cannot be called. None for every other type.
pub fn written(tokens: &[TokenTree]) -> Option<Result<Written>> {
    let (form, bounds) = match tokens {
        [TokenTree::Ident(i), rest @ ..] if i.to_string() == "impl" => (Form::Impl, rest.to_vec()),
        [TokenTree::Punct(p), rest @ ..] if p.as_char() == '&' => behind_reference(rest)?,
        _ => return None,
    };
    let (name, args, result) = split_plus(&bounds).iter().find_map(|b| fn_bound(b))?;
    let text = tokens_text(tokens);
    let problem = match (form, name.as_str()) {
        (Form::Shared, "FnMut") => Some(format!(
            "`{}` cannot be called (a `FnMut` needs `&mut`): write `&mut dyn FnMut(..)` or \
             `&dyn Fn(..)`",
            text
        )),
        (Form::Shared | Form::Exclusive, "FnOnce") => Some(format!(
            "`{}` cannot be called (a `FnOnce` behind a reference cannot be moved out): write \
             `impl FnOnce(..)`",
            text
        )),
        _ => None,
    };
    if let Some(message) = problem {
        return Some(Err(Error::spanning(tokens, message)));
    }
    Some(Ok(Written { form, args, result }))
}

/// After `&`: `['a] [mut] dyn Bounds` or `['a] [mut] (dyn Bounds)`; the
/// form and the bounds, None when no `dyn` follows.
fn behind_reference(tokens: &[TokenTree]) -> Option<(Form, Vec<TokenTree>)> {
    let mut c = Cursor::new(tokens);
    if c.eat_punct('\'') {
        c.next();
    }
    let form = if c.eat_ident("mut") { Form::Exclusive } else { Form::Shared };
    let target: Vec<TokenTree> = match c.rest() {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            g.stream().into_iter().collect()
        }
        rest => rest.to_vec(),
    };
    match target.split_first() {
        Some((TokenTree::Ident(i), bounds)) if i.to_string() == "dyn" => {
            Some((form, bounds.to_vec()))
        }
        _ => None,
    }
}

/// Splits bounds at the `+` signs outside `<...>`.
fn split_plus(tokens: &[TokenTree]) -> Vec<Vec<TokenTree>> {
    let mut bounds = vec![Vec::new()];
    let mut depth = 0usize;
    let mut prev_dash = false;
    for token in tokens {
        if let TokenTree::Punct(p) = token {
            match p.as_char() {
                '<' => depth += 1,
                '>' if !prev_dash => depth = depth.saturating_sub(1),
                '+' if depth == 0 => {
                    bounds.push(Vec::new());
                    prev_dash = false;
                    continue;
                }
                _ => {}
            }
        }
        prev_dash = is_punct(Some(token), '-');
        bounds.last_mut().expect("never empty").push(token.clone());
    }
    bounds
}

/// One bound `[for<..>] [path::]Fn(A, B) [-> R]`: the trait's name, the
/// argument types and the result type (empty for none).
fn fn_bound(bound: &[TokenTree]) -> Option<(String, Vec<Vec<TokenTree>>, Vec<TokenTree>)> {
    let mut c = Cursor::new(bound);
    if c.eat_ident("for") {
        while !c.at_end() && !c.eat_punct('>') {
            c.next();
        }
    }
    let rest = c.rest();
    let paren = rest.iter().position(
        |t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis),
    )?;
    match last_segment(&rest[..paren]) {
        Some((name, None)) if FN_TRAITS.contains(&name.as_str()) => {
            let args = match &rest[paren] {
                TokenTree::Group(g) => split_commas(&g.stream().into_iter().collect::<Vec<_>>()),
                _ => unreachable!("found as a group"),
            };
            let mut after = Cursor::new(&rest[paren + 1..]);
            let result = if after.eat_arrow() { after.rest().to_vec() } else { Vec::new() };
            if !after.at_end() && result.is_empty() {
                return None;
            }
            Some((name, args, result))
        }
        _ => None,
    }
}

/// Why `tokens` is a function value that cannot cross (a `fn` pointer, an
/// unsized `dyn Fn`, a boxed closure), with what to write instead.
pub fn misuse(tokens: &[TokenTree]) -> Option<Error> {
    let text = tokens_text(tokens);
    let mut c = Cursor::new(tokens);
    c.eat_ident("unsafe");
    if c.eat_ident("extern") && matches!(c.peek(), Some(TokenTree::Literal(_))) {
        c.next();
    }
    if c.is_ident("fn") && matches!(c.rest().get(1), Some(TokenTree::Group(_))) {
        c.next();
        let wanted = format!("impl Fn{}", tokens_text(c.rest()));
        let message = format!(
            "a host function cannot cross as the function pointer `{}`: take a callback, \
             `{}` (or `&dyn Fn(..)`)",
            text, wanted
        );
        return Some(Error::spanning(tokens, message));
    }
    if let [TokenTree::Ident(i), rest @ ..] = tokens {
        if i.to_string() == "dyn" && split_plus(rest).iter().any(|b| fn_bound(b).is_some()) {
            let message = format!(
                "`{}` is unsized: take the callback as `&{}` or `impl {}`",
                text,
                text,
                tokens_text(rest)
            );
            return Some(Error::spanning(tokens, message));
        }
    }
    match last_segment(tokens) {
        Some((owner, Some(args)))
            if matches!(owner.as_str(), "Box" | "Rc" | "Arc")
                && args.len() == 1
                && is_fn_value(&args[0]) =>
        {
            let inner = match args[0].as_slice() {
                [TokenTree::Ident(i), rest @ ..] if i.to_string() == "dyn" => tokens_text(rest),
                [_, rest @ ..] => tokens_text(rest),
                [] => String::new(),
            };
            let message = format!(
                "a callback lives only while the export call that passed it runs, so the guest \
                 cannot own it: take `impl {0}` or `&dyn {0}`, not `{1}`",
                inner, text
            );
            Some(Error::spanning(tokens, message))
        }
        _ => None,
    }
}

/// `dyn Fn(..)` or `impl Fn(..)`.
fn is_fn_value(tokens: &[TokenTree]) -> bool {
    match tokens {
        [TokenTree::Ident(i), rest @ ..] if i.to_string() == "dyn" || i.to_string() == "impl" => {
            split_plus(rest).iter().any(|b| fn_bound(b).is_some())
        }
        _ => false,
    }
}

/// The closure the wrapper passes for a callback whose id is the wasm
/// parameter `id`.
pub fn closure(cb: &Callback, id: &str) -> String {
    let names: Vec<String> = (0..cb.args.len()).map(|i| format!("__wb_cb{}", i)).collect();
    let params: Vec<String> = names
        .iter()
        .zip(&cb.arg_tokens)
        .map(|(name, ty)| format!("{}: {}", name, source(ty)))
        .collect();
    let values: Vec<String> = names.iter().zip(&cb.args).map(|(n, ty)| lent(ty, n)).collect();
    let tuple = match values.len() {
        0 => "()".to_string(),
        _ => format!("({},)", values.join(", ")),
    };
    let (result, call) = match *cb.result {
        Ty::Unit => (String::new(), "call_back_unit"),
        _ => (format!("-> {}", source(&cb.result_tokens)), "call_back"),
    };
    let closure = format!(
        "move |{params}| {result} {{ unsafe {{ {RT}::{call}({id}, &{tuple}) }} }}",
        params = params.join(", "),
        result = result,
        RT = RT,
        call = call,
        id = id,
        tuple = tuple,
    );
    match cb.form {
        Form::Impl => closure,
        Form::Shared => format!("&({})", closure),
        Form::Exclusive => format!("&mut ({})", closure),
    }
}

/// An argument made ready for encoding: borrowed slices are lent as lists.
fn lent(ty: &Ty, name: &str) -> String {
    let slice = |t: &Ty| matches!(t, Ty::Slice(_) | Ty::List(_, false));
    match ty {
        t if slice(t) => format!("{}::Lent({})", RT, name),
        Ty::Option(inner) if slice(inner) => format!("{}.map({}::Lent)", name, RT),
        _ => name.to_string(),
    }
}

/// A type as source text, without the lifetimes of its references: the
/// closure's parameters then borrow for any lifetime, whatever `for<'a>`
/// named them.
fn source(tokens: &[TokenTree]) -> String {
    unnamed_lifetimes(tokens).into_iter().collect::<TokenStream>().to_string()
}

fn unnamed_lifetimes(tokens: &[TokenTree]) -> Vec<TokenTree> {
    let mut out = Vec::new();
    let mut c = Cursor::new(tokens);
    while let Some(token) = c.next() {
        match token {
            TokenTree::Punct(p) if p.as_char() == '&' && c.is_punct('\'') => {
                out.push(token.clone());
                c.next();
                c.next();
            }
            TokenTree::Group(g) => {
                let inner = unnamed_lifetimes(&g.stream().into_iter().collect::<Vec<_>>());
                let mut group = Group::new(g.delimiter(), inner.into_iter().collect());
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
            }
            other => out.push(other.clone()),
        }
    }
    out
}
