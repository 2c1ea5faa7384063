//! Rust types as interface types (docs/abi.md, "Interface types").
//!
//! Types are recognized by the last segment of their path (`String`,
//! `alloc::string::String`), so aliases and look-alikes are refused with a
//! message that lists what is supported.

use proc_macro::{Delimiter, TokenStream, TokenTree};

use crate::callback::{self, Callback, Written};
use crate::error::{Error, Result};
use crate::parse::{is_punct, split_commas, tokens_text, Cursor, FnItem};
use crate::record::push_str;

/// A number type; the element type of typed buffers (slices and vectors
/// of numbers).
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
    /// Written as `u32`: wasm32 is 32-bit.
    Usize,
    /// Written as `i32`.
    Isize,
}

/// Each number type's name and tag in the interface section.
const NUMS: [(&str, Num, u8); 12] = [
    ("i8", Num::I8, 0x02),
    ("u8", Num::U8, 0x03),
    ("i16", Num::I16, 0x04),
    ("u16", Num::U16, 0x05),
    ("i32", Num::I32, 0x06),
    ("u32", Num::U32, 0x07),
    ("i64", Num::I64, 0x08),
    ("u64", Num::U64, 0x09),
    ("f32", Num::F32, 0x0a),
    ("f64", Num::F64, 0x0b),
    ("usize", Num::Usize, 0x07),
    ("isize", Num::Isize, 0x06),
];

impl Num {
    fn from_name(name: &str) -> Option<Num> {
        NUMS.iter().find(|(n, _, _)| *n == name).map(|&(_, num, _)| num)
    }

    fn entry(self) -> &'static (&'static str, Num, u8) {
        NUMS.iter().find(|(_, n, _)| *n == self).expect("every Num is listed")
    }

    pub fn name(self) -> &'static str {
        self.entry().0
    }

    /// Its tag in the interface section: 0x02 (i8) to 0x0b (f64).
    pub fn tag(self) -> u8 {
        self.entry().2
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

/// A record, enum or class, known to the interface by its name; which of
/// the three it is matters only to the traits its own export implements.
#[derive(Clone)]
pub struct Named {
    /// The last segment of its path (`Self` resolved).
    pub name: String,
    /// The type as written, for generated code.
    pub tokens: Vec<TokenTree>,
}

impl Named {
    /// The type's source text, for generated code.
    pub fn rust(&self) -> String {
        self.tokens.iter().cloned().collect::<TokenStream>().to_string()
    }
}

/// An interface type.
pub enum Ty {
    Unit,
    Bool,
    Num(Num),
    Char,
    /// `&str` parameter, or `&'static str` result.
    Str,
    String,
    Slice(Num),
    Vec(Num),
    MutSlice(Num),
    /// A list: a slice (`false`) or `Vec` (`true`) of anything but numbers.
    List(Box<Ty>, bool),
    Tuple(Vec<Ty>),
    Named(Named),
    /// `&X` (`false`) or `&mut X` (`true`) of a named type.
    Borrowed(Named, bool),
    Option(Box<Ty>),
    /// `Result<T, E>` with a text error; the tokens of `E`.
    Result(Box<Ty>, Vec<TokenTree>),
    /// `Result<T, E>` with any other `E`: its name and tokens.
    ResultValue(Box<Ty>, String, Vec<TokenTree>),
    /// `impl Fn(A, B) -> R` and its other forms: a whole parameter only.
    Callback(Callback),
}

impl Ty {
    /// The type's encoding in an interface record.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Ty::Unit => out.push(0x00),
            Ty::Bool => out.push(0x01),
            Ty::Num(n) => out.push(n.tag()),
            Ty::Str => out.push(0x10),
            Ty::String => out.push(0x11),
            Ty::Slice(n) => out.extend_from_slice(&[0x12, n.tag()]),
            Ty::Vec(n) => out.extend_from_slice(&[0x13, n.tag()]),
            Ty::MutSlice(n) => out.extend_from_slice(&[0x14, n.tag()]),
            Ty::List(t, owned) => {
                out.push(if *owned { 0x13 } else { 0x12 });
                t.encode(out);
            }
            Ty::Option(t) => {
                out.push(0x15);
                t.encode(out);
            }
            Ty::Result(t, _) => {
                out.push(0x16);
                t.encode(out);
            }
            Ty::Char => out.push(0x17),
            Ty::Tuple(items) => {
                out.extend_from_slice(&[0x18, items.len() as u8]);
                items.iter().for_each(|t| t.encode(out));
            }
            Ty::Named(n) => {
                out.push(0x19);
                push_str(out, &n.name);
            }
            Ty::Borrowed(n, _) => {
                out.push(0x1a);
                push_str(out, &n.name);
            }
            Ty::ResultValue(t, name, _) => {
                out.push(0x1b);
                t.encode(out);
                push_str(out, name);
            }
            Ty::Callback(cb) => {
                out.extend_from_slice(&[0x1c, cb.args.len() as u8]);
                cb.args.iter().for_each(|t| t.encode(out));
                cb.result.encode(out);
            }
        }
    }

    /// Unit, scalars and char come back as the wasm result; the rest through a return area.
    pub fn uses_retptr(&self) -> bool {
        !matches!(self, Ty::Unit | Ty::Bool | Ty::Num(_) | Ty::Char)
    }

    /// Crosses as one encoded buffer (a tuple or a list).
    pub fn is_compound(&self) -> bool {
        matches!(self, Ty::List(..) | Ty::Tuple(_))
    }

    /// Each named type it mentions (not through `Result` errors), with
    /// whether it is the whole type (or the `Ok` of a whole result).
    pub fn named<'a>(&'a self, whole: bool, found: &mut Vec<(&'a Named, bool)>) {
        match self {
            Ty::Named(n) | Ty::Borrowed(n, _) => found.push((n, whole)),
            Ty::Result(t, _) | Ty::ResultValue(t, ..) => t.named(whole, found),
            Ty::List(t, _) | Ty::Option(t) => t.named(false, found),
            Ty::Tuple(items) => items.iter().for_each(|t| t.named(false, found)),
            Ty::Callback(cb) => {
                cb.args.iter().chain(Some(&*cb.result)).for_each(|t| t.named(false, found))
            }
            _ => {}
        }
    }
}

/// Where a type appears: what is allowed there, and how to say what is.
#[derive(Clone, Copy)]
struct Place {
    result: bool,
    import: bool,
    in_option: bool,
    in_result: bool,
    /// Inside a list or a tuple.
    nested: bool,
    /// A record's field, or inside one.
    field: bool,
    /// A callback's argument or result, or inside one.
    callback: bool,
}

const PARAM_TYPES: &str = "bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, usize, isize, \
    char, &str, String, &[T] and Vec<T> (of any of these), &mut [T] (T a number type), tuples of \
    1 to 12 of these, records, enums and classes exported with #[wasmbridge::export] (also as \
    &X and &mut X), Option<T> of these, and callbacks (impl Fn(A) -> R, &dyn Fn(A) -> R, \
    &mut dyn FnMut(A) -> R)";
const CALLBACK_ARGS: &str = "bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, usize, \
    isize, char, &str, String, &[T] and Vec<T> (of any of these), tuples of 1 to 12 of these, \
    records and enums exported with #[wasmbridge::export], and Option<T> of these";
const CALLBACK_RESULTS: &str = "(), bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, \
    usize, isize, char, String, Vec<T> (of any of these), tuples of 1 to 12 of these, records and \
    enums exported with #[wasmbridge::export], and Option<T> of these";
const EXPORT_RESULTS: &str = "(), bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, usize, \
    isize, char, String, &'static str, Vec<T> (of any of these), tuples of 1 to 12 of these, \
    records, enums and classes exported with #[wasmbridge::export], Option<T> of these, and \
    Result<T, E> with E a String, an exported record or enum, or any Display type";
const IMPORT_PARAMS: &str = "bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, usize, isize, \
    char, &str, String, &[T], &mut [T] and Vec<T> (T a number type), and Option<T> of these";
const IMPORT_RESULTS: &str = "(), bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, usize, \
    isize, char, String, Vec<T> (T a number type), and Option<T> of these";
const FIELD_TYPES: &str = "bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, usize, isize, \
    char, String, Vec<T> (of any of these), tuples of 1 to 12 of these, Option<T> of these, and \
    records and enums exported with #[wasmbridge::export]";
const ELEMENT_TYPES: &str = "u8, i8, u16, i16, u32, i32, u64, i64, f32, f64, usize or isize";
const MAX_TUPLE: usize = 12;
const MAX_CALLBACK_ARGS: usize = 12;

/// Names the macro knows; any other bare name is a record, enum or class.
const KNOWN: &[&str] = &["bool", "char", "str", "String", "Vec", "Option", "Result"];

impl Place {
    const EXPORT_PARAM: Place = Place {
        result: false,
        import: false,
        in_option: false,
        in_result: false,
        nested: false,
        field: false,
        callback: false,
    };
    const EXPORT_RESULT: Place = Place { result: true, ..Place::EXPORT_PARAM };
    const IMPORT_PARAM: Place = Place { import: true, ..Place::EXPORT_PARAM };
    const IMPORT_RESULT: Place = Place { result: true, import: true, ..Place::EXPORT_PARAM };
    const FIELD: Place = Place { field: true, ..Place::EXPORT_PARAM };
    const CALLBACK_ARG: Place = Place { callback: true, ..Place::EXPORT_PARAM };
    const CALLBACK_RESULT: Place = Place { callback: true, result: true, ..Place::EXPORT_PARAM };

    /// Inside a list or a tuple.
    fn nested(self) -> Place {
        Place { nested: true, in_option: false, in_result: false, ..self }
    }

    /// The whole parameter of an exported function (where `&X` may be).
    fn is_whole_param(self) -> bool {
        !(self.result
            || self.import
            || self.in_option
            || self.nested
            || self.field
            || self.callback)
    }

    fn what(self) -> &'static str {
        match (self.field, self.import, self.result) {
            _ if self.callback && self.result => "a callback's result",
            _ if self.callback => "a callback's argument",
            (true, _, _) => "a record's field",
            (false, false, false) => "an exported function's parameter",
            (false, false, true) => "an exported function's result",
            (false, true, false) => "an imported function's parameter",
            (false, true, true) => "an imported function's result",
        }
    }

    fn supported(self) -> &'static str {
        match (self.field, self.import, self.result) {
            _ if self.callback && self.result => CALLBACK_RESULTS,
            _ if self.callback => CALLBACK_ARGS,
            (true, _, _) => FIELD_TYPES,
            (false, false, false) => PARAM_TYPES,
            (false, false, true) => EXPORT_RESULTS,
            (false, true, false) => IMPORT_PARAMS,
            (false, true, true) => IMPORT_RESULTS,
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

    /// Imports take and return only the types of docs/abi.md.
    fn import_refusal(self, tokens: &[TokenTree]) -> Error {
        Error::spanning(
            tokens,
            format!(
                "an imported function cannot pass `{}`: records, enums, classes, tuples and lists \
                 cross only exported functions; supported: {}",
                tokens_text(tokens),
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

/// The interface type of a record's field.
pub fn field_type(tokens: &[TokenTree]) -> Result<Ty> {
    parse_type(tokens, Place::FIELD)
}

/// Classifies the type written as `tokens` at `place`.
fn parse_type(tokens: &[TokenTree], place: Place) -> Result<Ty> {
    if let Some(written) = callback::written(tokens) {
        return callback_type(written?, tokens, place);
    }
    if let Some(error) = callback::misuse(tokens) {
        return Err(error);
    }
    match tokens {
        [] => Err(Error::spanning(tokens, "expected a type")),
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => {
            parse_type(&g.stream().into_iter().collect::<Vec<_>>(), place)
        }
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            if inner.is_empty() {
                unit(tokens, place)
            } else {
                tuple(&inner, tokens, place)
            }
        }
        [TokenTree::Punct(p), ..] if p.as_char() == '&' => reference(tokens, place),
        _ => path(tokens, place),
    }
}

/// A callback: only a whole parameter of an exported function, its
/// arguments and result values that cross in an encoded buffer.
fn callback_type(written: Written, tokens: &[TokenTree], place: Place) -> Result<Ty> {
    let text = tokens_text(tokens);
    let refusal = if place.import {
        Some(format!(
            "an imported function cannot take the callback `{}`: callbacks pass host functions \
             to exported functions and methods only",
            text
        ))
    } else if place.result && !place.callback && !place.in_option && !place.in_result {
        Some(format!(
            "the callback `{}` cannot be returned: a host function lives only while the export \
             call that passed it runs; take it as a parameter",
            text
        ))
    } else if !place.is_whole_param() {
        Some(format!(
            "the callback `{}` can only be a whole parameter of an exported function or method, \
             not inside `Option`, `Result`, lists, tuples, records or another callback",
            text
        ))
    } else if written.args.len() > MAX_CALLBACK_ARGS {
        Some(format!(
            "a callback takes at most {} arguments, `{}` has {}: group them into a record or a \
             tuple",
            MAX_CALLBACK_ARGS,
            text,
            written.args.len()
        ))
    } else {
        None
    };
    if let Some(message) = refusal {
        return Err(Error::spanning(tokens, message));
    }
    let args = written.args.iter().map(|a| parse_type(a, Place::CALLBACK_ARG));
    let args = args.collect::<Result<Vec<_>>>()?;
    let result = match written.result.as_slice() {
        [] => Ty::Unit,
        written_result => parse_type(written_result, Place::CALLBACK_RESULT)?,
    };
    Ok(Ty::Callback(Callback {
        form: written.form,
        args,
        arg_tokens: written.args,
        result: Box::new(result),
        result_tokens: written.result,
    }))
}

fn unit(tokens: &[TokenTree], place: Place) -> Result<Ty> {
    if place.in_option {
        return Err(Error::spanning(tokens, "`Option<()>` is not supported: use `bool`"));
    }
    if place.nested || place.field {
        return Err(Error::spanning(
            tokens,
            "`()` cannot be a tuple item, a list element or a record's field: it carries nothing",
        ));
    }
    if !place.result {
        return Err(Error::spanning(
            tokens,
            format!("`()` cannot be {}; supported: {}", place.what(), place.supported()),
        ));
    }
    Ok(Ty::Unit)
}

/// `(A, B, ...)`, or a parenthesized type `(A)`.
fn tuple(inner: &[TokenTree], whole: &[TokenTree], place: Place) -> Result<Ty> {
    let items = split_commas(inner);
    let trailing_comma = is_punct(inner.last(), ',');
    if items.len() == 1 && !trailing_comma {
        return parse_type(&items[0], place);
    }
    if place.import {
        return Err(place.import_refusal(whole));
    }
    if items.len() > MAX_TUPLE {
        let message = format!(
            "a tuple crosses the bridge with 1 to {} items, `{}` has {}: group them into a record",
            MAX_TUPLE,
            tokens_text(whole),
            items.len()
        );
        return Err(Error::spanning(whole, message));
    }
    let items = items.iter().map(|item| parse_type(item, place.nested()));
    Ok(Ty::Tuple(items.collect::<Result<Vec<_>>>()?))
}

/// `&str`, `&'static str`, `&[T]`, `&mut [T]`, `&X`, `&mut X`.
fn reference(tokens: &[TokenTree], place: Place) -> Result<Ty> {
    let mut c = Cursor::new(&tokens[1..]);
    let mut lifetime = String::new();
    if c.is_punct('\'') {
        c.next();
        lifetime = c.next().map(|t| t.to_string()).unwrap_or_default();
    }
    let mutable = c.eat_ident("mut");
    let target = c.rest();
    let text = tokens_text(tokens);
    if place.callback {
        if let Some(message) = callback_borrow_problem(target, mutable, place, &text) {
            return Err(Error::spanning(tokens, message));
        }
    }
    let borrowed = match target {
        [TokenTree::Ident(i)] if i.to_string() == "str" && !mutable => Ty::Str,
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Bracket => {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            match (number(&inner), mutable) {
                (Some(n), true) => Ty::MutSlice(n),
                (Some(n), false) => Ty::Slice(n),
                (None, true) => {
                    let message = format!(
                        "wasmbridge cannot pass `{}` as {}: the elements of `&mut [T]` must be \
                         numbers ({}); take a `Vec<T>` and return the changed one",
                        text,
                        place.what(),
                        ELEMENT_TYPES
                    );
                    return Err(Error::spanning(tokens, message));
                }
                (None, false) if place.import => return Err(place.import_refusal(tokens)),
                (None, false) => Ty::List(Box::new(parse_type(&inner, place.nested())?), false),
            }
        }
        _ => match named(target) {
            Some(_) if place.import => return Err(place.import_refusal(tokens)),
            Some(n) => Ty::Borrowed(n, mutable),
            None => return Err(place.unsupported(tokens)),
        },
    };
    let is_static = lifetime == "static" && !place.callback;
    match borrow_problem(&borrowed, place, is_static, &text) {
        Some(message) => Err(Error::spanning(tokens, message)),
        None => Ok(borrowed),
    }
}

/// Why a callback cannot take or return the borrowed `&target`: it takes
/// values (`&str` and `&[T]` are lent for the call) and changes nothing in
/// place; its result belongs to the guest, so borrows nothing.
fn callback_borrow_problem(
    target: &[TokenTree],
    mutable: bool,
    place: Place,
    text: &str,
) -> Option<String> {
    let is_str = matches!(target, [TokenTree::Ident(i)] if i.to_string() == "str");
    let is_slice = matches!(target, [TokenTree::Group(g)] if g.delimiter() == Delimiter::Bracket);
    let message = if mutable {
        format!(
            "a callback cannot take `{}`: the host's changes would not come back; pass the value \
             and have the callback return the changed one",
            text
        )
    } else if place.result && is_str {
        format!("a callback's result belongs to the guest: write `String`, not `{}`", text)
    } else if place.result && is_slice {
        format!("a callback's result belongs to the guest: write `Vec<T>`, not `{}`", text)
    } else if !is_str && !is_slice {
        let name = named(target).map_or_else(|| tokens_text(target), |n| n.name);
        format!("a callback takes records and enums by value: write `{}`, not `{}`", name, text)
    } else {
        return None;
    };
    Some(message)
}

/// Why a borrowed type cannot be at `place`, if it cannot: results must
/// outlive the call (only `&'static str` does), parameters must not, and
/// records own their fields.
fn borrow_problem(borrowed: &Ty, place: Place, is_static: bool, text: &str) -> Option<String> {
    if let Ty::Borrowed(n, _) = borrowed {
        return if place.result {
            Some(format!("the borrowed `{}` cannot be returned: return `{}`", text, n.name))
        } else if !place.is_whole_param() {
            Some(format!(
                "the borrowed `{}` can only be a whole parameter; inside `Option`, lists, tuples \
                 and records pass `{}` by value",
                text, n.name
            ))
        } else if is_static {
            Some(format!("`{}` as a parameter would outlive the call: drop the `'static`", text))
        } else {
            None
        };
    }
    let owned = if matches!(borrowed, Ty::Str) { "String" } else { "Vec<T>" };
    if place.field {
        return Some(format!("a record owns its fields: write `{}`, not `{}`", owned, text));
    }
    if place.nested && !matches!(borrowed, Ty::Str) {
        return Some(format!("inside lists and tuples write `Vec<T>`, not `{}`", text));
    }
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

/// The number type written as `tokens`, if it is one.
fn number(tokens: &[TokenTree]) -> Option<Num> {
    match tokens {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => {
            number(&g.stream().into_iter().collect::<Vec<_>>())
        }
        [TokenTree::Ident(i)] => Num::from_name(&i.to_string()),
        _ => None,
    }
}

/// A record, enum or class: a path without generic arguments whose last
/// segment the macro does not know.
pub fn named(tokens: &[TokenTree]) -> Option<Named> {
    match last_segment(tokens)? {
        (name, None) if !KNOWN.contains(&name.as_str()) && Num::from_name(&name).is_none() => {
            let name = name.strip_prefix("r#").map_or_else(|| name.clone(), str::to_string);
            Some(Named { name, tokens: tokens.to_vec() })
        }
        _ => None,
    }
}

/// A path type, known by its last segment: `u8`, `String`, `Vec<u8>`,
/// `core::option::Option<T>`, `Result<T, E>`, or a named type.
fn path(tokens: &[TokenTree], place: Place) -> Result<Ty> {
    let (name, args) = match last_segment(tokens) {
        Some(found) => found,
        None => return Err(place.unsupported(tokens)),
    };
    let arity_ok = |n: usize| args.as_ref().map_or(0, Vec::len) == n;
    let ty = match name.as_str() {
        "bool" if arity_ok(0) => Ty::Bool,
        "char" if arity_ok(0) => Ty::Char,
        "String" if arity_ok(0) => Ty::String,
        "str" if arity_ok(0) => {
            return Err(Error::spanning(tokens, "`str` is unsized: use `&str` or `String`"))
        }
        "Vec" if arity_ok(1) => {
            let elem = &args.expect("one argument")[0];
            match number(elem) {
                Some(n) => Ty::Vec(n),
                None if place.import => return Err(place.import_refusal(tokens)),
                None => Ty::List(Box::new(parse_type(elem, place.nested())?), true),
            }
        }
        "Option" if arity_ok(1) => option(&args.expect("one argument")[0], tokens, place)?,
        "Result" if arity_ok(2) => result(args.expect("two arguments"), tokens, place)?,
        "i128" | "u128" if arity_ok(0) => {
            let message = format!(
                "`{}` cannot cross the bridge (the interface has no 128-bit integers): \
                 use i64/u64, or pass it as a String",
                name
            );
            return Err(Error::spanning(tokens, message));
        }
        _ => match (Num::from_name(&name), named(tokens)) {
            (Some(num), _) if arity_ok(0) => Ty::Num(num),
            (None, Some(_)) if place.import => return Err(place.import_refusal(tokens)),
            (None, Some(n)) => Ty::Named(n),
            _ => return Err(place.unsupported(tokens)),
        },
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
    let refusal = if place.callback {
        let message = format!(
            "a callback cannot take or return `{}`: a host function signals failure by raising, \
             which ends the export call; pass and return plain values (an `Option`, a record)",
            tokens_text(whole)
        );
        return Err(Error::spanning(whole, message));
    } else if place.in_option || place.in_result || place.nested || place.field {
        Some(
            "`Result` is supported only as the whole result of an exported function, not inside \
             `Option`, `Result`, tuples, lists or records",
        )
    } else if !place.result {
        Some("`Result` cannot be a parameter; it is supported as an exported function's result")
    } else if place.import {
        Some(
            "an imported function cannot return `Result`: a host signals failure by raising; \
             return the plain type",
        )
    } else {
        None
    };
    if let Some(message) = refusal {
        return Err(Error::spanning(whole, message));
    }
    let mut args = args.into_iter();
    let ok = parse_type(&args.next().expect("two arguments"), Place { in_result: true, ..place })?;
    let err = args.next().expect("two arguments");
    if is_text(&err) {
        return Ok(Ty::Result(Box::new(ok), err));
    }
    let name = match last_segment(&err) {
        Some((name, _)) => name.strip_prefix("r#").map_or_else(|| name.clone(), str::to_string),
        None => tokens_text(&err),
    };
    Ok(Ty::ResultValue(Box::new(ok), name, err))
}

/// `String`, `&str` or `&'static str`: an error that crosses as its text.
fn is_text(tokens: &[TokenTree]) -> bool {
    match tokens {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => {
            is_text(&g.stream().into_iter().collect::<Vec<_>>())
        }
        [TokenTree::Punct(p), rest @ ..] if p.as_char() == '&' => match rest {
            [TokenTree::Ident(i)] => i.to_string() == "str",
            [TokenTree::Punct(q), TokenTree::Ident(_), TokenTree::Ident(i)] => {
                q.as_char() == '\'' && i.to_string() == "str"
            }
            _ => false,
        },
        _ => matches!(last_segment(tokens), Some((name, None)) if name == "String"),
    }
}

/// The last segment's name and its generic arguments (None without `<...>`),
/// for a path `[::]a::b::Name[<args>]`; None for anything that is not a path.
pub fn last_segment(tokens: &[TokenTree]) -> Option<(String, Option<Vec<Vec<TokenTree>>>)> {
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
