//! Rust types as interface types (docs/abi.md, "Interface types").
//!
//! Types are recognized by the last segment of their path (`String`,
//! `alloc::string::String`), so aliases and look-alikes are refused with a
//! message that lists what is supported.

use proc_macro::{Delimiter, TokenTree};

use crate::error::{Error, Result};
use crate::parse::{is_punct, split_commas, tokens_text, Cursor, FnItem};

/// A number type; the element type of slices and vectors.
#[derive(Clone, Copy, PartialEq)]
pub enum Num {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
}

const NUMS: [(&str, Num); 10] = [
    ("i8", Num::I8),
    ("u8", Num::U8),
    ("i16", Num::I16),
    ("u16", Num::U16),
    ("i32", Num::I32),
    ("u32", Num::U32),
    ("i64", Num::I64),
    ("u64", Num::U64),
    ("f32", Num::F32),
    ("f64", Num::F64),
];

impl Num {
    fn from_name(name: &str) -> Option<Num> {
        NUMS.iter().find(|(n, _)| *n == name).map(|&(_, num)| num)
    }

    pub fn name(self) -> &'static str {
        NUMS.iter().find(|(_, n)| *n == self).map(|&(name, _)| name).expect("every Num is listed")
    }

    /// Its tag in the interface section: 0x02 (i8) to 0x0b (f64).
    pub fn tag(self) -> u8 {
        0x02 + NUMS.iter().position(|&(_, n)| n == self).expect("every Num is listed") as u8
    }

    /// The Rust type of its wasm value: narrow integers travel as `i32`.
    pub fn wire(self) -> &'static str {
        match self {
            Num::I8 | Num::U8 | Num::I16 | Num::U16 | Num::I32 => "i32",
            other => other.name(),
        }
    }

    /// Whether it travels widened to a 32-bit value (so needs a cast).
    pub fn is_narrow(self) -> bool {
        matches!(self, Num::I8 | Num::U8 | Num::I16 | Num::U16)
    }
}

/// An interface type.
pub enum Ty {
    Unit,
    Bool,
    Num(Num),
    /// `&str` parameter, or `&'static str` result.
    Str,
    String,
    Slice(Num),
    Vec(Num),
    MutSlice(Num),
    Option(Box<Ty>),
    /// `Result<T, E>`; the tokens of `E` (only its Display matters).
    Result(Box<Ty>, Vec<TokenTree>),
}

impl Ty {
    /// The type's encoding in an interface record.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let (tag, inner): (u8, Option<&Ty>) = match self {
            Ty::Unit => (0x00, None),
            Ty::Bool => (0x01, None),
            Ty::Num(n) => (n.tag(), None),
            Ty::Str => (0x10, None),
            Ty::String => (0x11, None),
            Ty::Slice(n) => return out.extend_from_slice(&[0x12, n.tag()]),
            Ty::Vec(n) => return out.extend_from_slice(&[0x13, n.tag()]),
            Ty::MutSlice(n) => return out.extend_from_slice(&[0x14, n.tag()]),
            Ty::Option(t) => (0x15, Some(t)),
            Ty::Result(t, _) => (0x16, Some(t)),
        };
        out.push(tag);
        if let Some(t) = inner {
            t.encode(out);
        }
    }

    /// Unit and scalars come back as the wasm result; the rest through a return area.
    pub fn uses_retptr(&self) -> bool {
        !matches!(self, Ty::Unit | Ty::Bool | Ty::Num(_))
    }
}

/// Where a type appears: what is allowed there, and how to say what is.
#[derive(Clone, Copy)]
struct Place {
    result: bool,
    import: bool,
    in_option: bool,
    in_result: bool,
}

const PARAM_TYPES: &str = "bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, &str, String, \
    &[T], &mut [T] and Vec<T> (T a number type), and Option<T> of these";
const EXPORT_RESULTS: &str = "(), bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, String, \
    &'static str, Vec<T> (T a number type), Option<T> of these, and Result<T, E> with E: Display";
const IMPORT_RESULTS: &str = "(), bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, String, \
    Vec<T> (T a number type), and Option<T> of these";
const ELEMENT_TYPES: &str = "u8, i8, u16, i16, u32, i32, u64, i64, f32 or f64";

impl Place {
    const EXPORT_PARAM: Place =
        Place { result: false, import: false, in_option: false, in_result: false };
    const EXPORT_RESULT: Place = Place { result: true, ..Place::EXPORT_PARAM };
    const IMPORT_PARAM: Place = Place { import: true, ..Place::EXPORT_PARAM };
    const IMPORT_RESULT: Place = Place { result: true, import: true, ..Place::EXPORT_PARAM };

    fn what(self) -> &'static str {
        match (self.import, self.result) {
            (false, false) => "an exported function's parameter",
            (false, true) => "an exported function's result",
            (true, false) => "an imported function's parameter",
            (true, true) => "an imported function's result",
        }
    }

    fn supported(self) -> &'static str {
        match (self.import, self.result) {
            (_, false) => PARAM_TYPES,
            (false, true) => EXPORT_RESULTS,
            (true, true) => IMPORT_RESULTS,
        }
    }

    /// The message for a type that is not an interface type at all.
    fn unsupported(self, tokens: &[TokenTree]) -> Error {
        let text = tokens_text(tokens);
        Error::spanning(
            tokens,
            format!(
                "wasmbridge cannot pass `{}` as {}; supported: {}",
                text,
                self.what(),
                self.supported()
            ),
        )
    }
}

/// A function's interface types: its named parameters and its result.
pub struct FnTypes {
    pub params: Vec<(String, Ty)>,
    pub result: Ty,
}

/// Classifies a function's parameter and result types, reporting every
/// unsupported type at once.
pub fn fn_types(f: &FnItem, import: bool) -> std::result::Result<FnTypes, Vec<Error>> {
    let (param_place, result_place) = if import {
        (Place::IMPORT_PARAM, Place::IMPORT_RESULT)
    } else {
        (Place::EXPORT_PARAM, Place::EXPORT_RESULT)
    };
    let mut errors = Vec::new();
    let mut params = Vec::new();
    for p in &f.params {
        match parse_type(&p.ty, param_place) {
            Ok(ty) => params.push((p.name.clone(), ty)),
            Err(e) => errors.push(e),
        }
    }
    let result = if f.ret.is_empty() { Ok(Ty::Unit) } else { parse_type(&f.ret, result_place) };
    match result {
        Ok(result) if errors.is_empty() => Ok(FnTypes { params, result }),
        Ok(_) => Err(errors),
        Err(e) => {
            errors.push(e);
            Err(errors)
        }
    }
}

/// Classifies the type written as `tokens` at `place`.
fn parse_type(tokens: &[TokenTree], place: Place) -> Result<Ty> {
    match tokens {
        [] => Err(Error::spanning(tokens, "expected a type")),
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => {
            parse_type(&g.stream().into_iter().collect::<Vec<_>>(), place)
        }
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            if !g.stream().is_empty() {
                return Err(place.unsupported(tokens));
            }
            if place.in_option {
                return Err(Error::spanning(tokens, "`Option<()>` is not supported: use `bool`"));
            }
            if !place.result {
                return Err(Error::spanning(
                    tokens,
                    format!("`()` cannot be {}; supported: {}", place.what(), place.supported()),
                ));
            }
            Ok(Ty::Unit)
        }
        [TokenTree::Punct(p), ..] if p.as_char() == '&' => reference(tokens, place),
        _ => path(tokens, place),
    }
}

/// `&str`, `&'static str`, `&[T]`, `&mut [T]`.
fn reference(tokens: &[TokenTree], place: Place) -> Result<Ty> {
    let mut c = Cursor::new(&tokens[1..]);
    let mut lifetime = String::new();
    if c.is_punct('\'') {
        c.next();
        lifetime = c.next().map(|t| t.to_string()).unwrap_or_default();
    }
    let mutable = c.eat_ident("mut");
    let target = c.rest();
    let borrowed = match target {
        [TokenTree::Ident(i)] if i.to_string() == "str" && !mutable => Ty::Str,
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Bracket => {
            let elem = element(&g.stream().into_iter().collect::<Vec<_>>(), tokens, place)?;
            if mutable {
                Ty::MutSlice(elem)
            } else {
                Ty::Slice(elem)
            }
        }
        _ => return Err(place.unsupported(tokens)),
    };
    match borrow_problem(&borrowed, place, lifetime == "static", &tokens_text(tokens)) {
        Some(message) => Err(Error::spanning(tokens, message)),
        None => Ok(borrowed),
    }
}

/// Why a borrowed type cannot be at `place`, if it cannot: results must
/// outlive the call (only `&'static str` does), parameters must not.
fn borrow_problem(borrowed: &Ty, place: Place, is_static: bool, text: &str) -> Option<String> {
    let message = match (borrowed, place.result, is_static) {
        (Ty::Str, true, _) if place.import => {
            format!("an imported function cannot return the borrowed `{}`: return `String`", text)
        }
        (Ty::Str, true, true) => return None,
        (Ty::Str, true, false) => "a borrowed `&str` cannot be returned (it would dangle once \
            the call ends): return `String`, or `&'static str` for text that lives forever"
            .to_string(),
        (_, true, _) => {
            format!("the borrowed slice `{}` cannot be returned: return `Vec<T>`", text)
        }
        (_, false, true) => format!(
            "`{}` as a parameter would outlive the call, after which the host frees it: \
             drop the `'static`, or take an owned `String`/`Vec<T>`",
            text
        ),
        _ => return None,
    };
    Some(message)
}

/// The number type of a slice or vector element.
fn element(tokens: &[TokenTree], whole: &[TokenTree], place: Place) -> Result<Num> {
    let single = match tokens {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => {
            return element(&g.stream().into_iter().collect::<Vec<_>>(), whole, place)
        }
        [TokenTree::Ident(i)] => Num::from_name(&i.to_string()),
        _ => None,
    };
    single.ok_or_else(|| {
        let message = format!(
            "wasmbridge cannot pass `{}` as {}: the elements of slices and Vec must be \
             numbers ({})",
            tokens_text(whole),
            place.what(),
            ELEMENT_TYPES
        );
        Error::spanning(tokens, message)
    })
}

/// A path type, known by its last segment: `u8`, `String`, `Vec<u8>`,
/// `core::option::Option<T>`, `Result<T, E>`.
fn path(tokens: &[TokenTree], place: Place) -> Result<Ty> {
    let (name, args) = match last_segment(tokens) {
        Some(found) => found,
        None => return Err(place.unsupported(tokens)),
    };
    let arity_ok = |n: usize| args.as_ref().map_or(0, Vec::len) == n;
    let ty = match name.as_str() {
        "bool" if arity_ok(0) => Ty::Bool,
        "String" if arity_ok(0) => Ty::String,
        "str" if arity_ok(0) => {
            return Err(Error::spanning(tokens, "`str` is unsized: use `&str` or `String`"))
        }
        "Vec" if arity_ok(1) => Ty::Vec(element(&args.expect("one argument")[0], tokens, place)?),
        "Option" if arity_ok(1) => option(&args.expect("one argument")[0], tokens, place)?,
        "Result" if arity_ok(2) => result(args.expect("two arguments"), tokens, place)?,
        other if arity_ok(0) => match Num::from_name(other) {
            Some(num) => Ty::Num(num),
            None => return Err(place.unsupported(tokens)),
        },
        _ => return Err(place.unsupported(tokens)),
    };
    Ok(ty)
}

fn option(inner: &[TokenTree], whole: &[TokenTree], place: Place) -> Result<Ty> {
    if place.in_option {
        return Err(Error::spanning(
            whole,
            "nested `Option<Option<T>>` is not supported: the host has only one \"nothing\" (None)",
        ));
    }
    let inner = parse_type(inner, Place { in_option: true, ..place })?;
    Ok(Ty::Option(Box::new(inner)))
}

fn result(args: Vec<Vec<TokenTree>>, whole: &[TokenTree], place: Place) -> Result<Ty> {
    let refusal = if !place.result {
        Some("`Result` cannot be a parameter; it is supported as an exported function's result")
    } else if place.import {
        Some(
            "an imported function cannot return `Result`: a host signals failure by raising; \
             return the plain type",
        )
    } else if place.in_option || place.in_result {
        Some("`Result` is supported only as the whole result, not inside `Option` or `Result`")
    } else {
        None
    };
    if let Some(message) = refusal {
        return Err(Error::spanning(whole, message));
    }
    let mut args = args.into_iter();
    let ok = parse_type(&args.next().expect("two arguments"), Place { in_result: true, ..place })?;
    Ok(Ty::Result(Box::new(ok), args.next().expect("two arguments")))
}

/// The last segment's name and its generic arguments (None without `<...>`),
/// for a path `[::]a::b::Name[<args>]`; None for anything that is not a path.
fn last_segment(tokens: &[TokenTree]) -> Option<(String, Option<Vec<Vec<TokenTree>>>)> {
    let mut c = Cursor::new(tokens);
    path_sep(&mut c);
    loop {
        let name = match c.next()? {
            TokenTree::Ident(i) => i.to_string(),
            _ => return None,
        };
        if matches!(name.as_str(), "impl" | "dyn" | "fn" | "Self") {
            return None;
        }
        if c.at_end() {
            return Some((name, None));
        }
        if c.eat_punct('<') {
            let rest = c.rest();
            if !is_punct(rest.last(), '>') {
                return None; // `Vec<u8>::Item` and other things that are not plain types
            }
            return Some((name, Some(split_commas(&rest[..rest.len() - 1]))));
        }
        if !path_sep(&mut c) {
            return None;
        }
    }
}

/// Eats `::`.
fn path_sep(c: &mut Cursor) -> bool {
    let sep = c.is_punct(':') && is_punct(c.rest().get(1), ':');
    if sep {
        c.next();
        c.next();
    }
    sep
}
