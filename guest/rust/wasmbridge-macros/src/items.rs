//! Reading the items `#[wasmbridge::export]` accepts besides a `fn`: a
//! struct with named fields (a record), a C-like enum, and an inherent
//! `impl` block (a class).

use proc_macro::{Delimiter, Ident, Span, TokenTree};

use crate::error::{Error, Result};
use crate::parse::{is_punct, split_commas, unraw, Attr, AttrKind, Cursor};

/// What kind of item the attribute is on.
pub enum ItemKind {
    Struct,
    Enum,
    Impl,
    /// A `fn`, or something the `fn` parser refuses with its own message.
    Other,
}

pub fn item_kind(tokens: &[TokenTree]) -> ItemKind {
    let mut c = Cursor::new(tokens);
    c.attrs();
    visibility(&mut c);
    c.eat_ident("unsafe");
    if c.is_ident("struct") || c.is_ident("union") {
        ItemKind::Struct
    } else if c.is_ident("enum") {
        ItemKind::Enum
    } else if c.is_ident("impl") {
        ItemKind::Impl
    } else {
        ItemKind::Other
    }
}

/// `pub`, `pub(crate)`, `pub(in path)`, or nothing.
pub fn visibility(c: &mut Cursor) -> Vec<TokenTree> {
    let start = c.rest();
    let mut taken = 0;
    if c.eat_ident("pub") {
        taken += 1;
        if let Some(TokenTree::Group(g)) = c.peek() {
            if g.delimiter() == Delimiter::Parenthesis {
                c.next();
                taken += 1;
            }
        }
    }
    start[..taken].to_vec()
}

/// The doc comment of `attrs`: `#[doc]` texts joined by newlines, each
/// line without the one leading space that `/// text` leaves.
pub fn doc_of(attrs: &[Attr]) -> String {
    let texts: Vec<&str> = attrs
        .iter()
        .filter_map(|a| match &a.kind {
            AttrKind::Doc(text) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let joined = texts.join("\n");
    let lines: Vec<&str> = joined.split('\n').map(|l| l.strip_prefix(' ').unwrap_or(l)).collect();
    lines.join("\n")
}

/// The `#[cfg(...)]` attributes of `attrs`, as source text for generated items.
pub fn cfgs_of(attrs: &[Attr]) -> String {
    let tokens: proc_macro::TokenStream = attrs
        .iter()
        .filter(|a| matches!(a.kind, AttrKind::Cfg))
        .flat_map(|a| a.tokens.clone())
        .collect();
    tokens.to_string()
}

/// The head of a struct or enum: attributes, name and the braced body.
pub struct DataItem {
    pub attrs: Vec<Attr>,
    pub name: Ident,
    pub body: Vec<TokenTree>,
}

impl DataItem {
    pub fn plain_name(&self) -> String {
        unraw(&self.name)
    }
}

/// `#[attrs] vis struct|enum Name { body }`, refusing generics, tuple
/// structs and unit structs with a message for `what` ("a record" ...).
pub fn data_item(tokens: &[TokenTree], keyword: &str) -> Result<DataItem> {
    let mut c = Cursor::new(tokens);
    let attrs = c.attrs();
    visibility(&mut c);
    if keyword == "struct" && c.is_ident("union") {
        let message = "a union cannot cross the bridge: export a struct with named fields";
        return Err(Error::new(c.span(), message));
    }
    if !c.eat_ident(keyword) {
        return Err(Error::new(c.span(), format!("expected `{}`", keyword)));
    }
    let name = match c.next() {
        Some(TokenTree::Ident(i)) => i.clone(),
        _ => return Err(Error::new(c.span(), format!("expected the {}'s name", keyword))),
    };
    let what = if keyword == "struct" { "struct" } else { "enum" };
    if c.is_punct('<') || c.is_ident("where") {
        let message = format!(
            "a generic {} cannot be exported: the interface needs concrete types; remove the \
             type and lifetime parameters of `{}`",
            what,
            unraw(&name)
        );
        return Err(Error::new(c.span(), message));
    }
    match c.next() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace && c.at_end() => {
            Ok(DataItem { attrs, body: g.stream().into_iter().collect(), name })
        }
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
            let message = format!(
                "the tuple struct `{0}` cannot be a record: name its fields \
                 (`pub struct {0} {{ pub x: f64, ... }}`)",
                unraw(&name)
            );
            Err(Error::new(g.span(), message))
        }
        _ if keyword == "struct" => {
            let message = format!(
                "`{0}` has no fields, and a record needs at least one; to export methods, put \
                 #[wasmbridge::export] on an `impl {0}` block",
                unraw(&name)
            );
            Err(Error::new(name.span(), message))
        }
        _ => Err(Error::new(c.span(), "expected the enum's cases in braces")),
    }
}

/// A field of a struct with named fields.
pub struct FieldItem {
    pub name: String,
    pub ident: Ident,
    pub public: bool,
    pub ty: Vec<TokenTree>,
}

pub fn fields(body: &[TokenTree]) -> Result<Vec<FieldItem>> {
    split_commas(body).iter().map(|tokens| field(tokens)).collect()
}

fn field(tokens: &[TokenTree]) -> Result<FieldItem> {
    let mut c = Cursor::new(tokens);
    c.attrs();
    let vis = visibility(&mut c);
    let ident = match c.next() {
        Some(TokenTree::Ident(i)) => i.clone(),
        _ => return Err(Error::spanning(tokens, "expected `name: Type`")),
    };
    if !c.eat_punct(':') || c.is_punct(':') {
        return Err(Error::spanning(tokens, "expected `name: Type`"));
    }
    // `pub` alone: `pub(crate)` and narrower keep the field from the crate's users.
    let public = vis.len() == 1;
    Ok(FieldItem { name: unraw(&ident), ident, public, ty: c.rest().to_vec() })
}

/// A case of a C-like enum.
pub struct CaseItem {
    pub name: String,
    pub ident: Ident,
    /// The tokens after `=`, when the case has an explicit discriminant.
    pub discriminant: Option<Vec<TokenTree>>,
}

pub fn cases(body: &[TokenTree], enum_name: &str) -> Result<Vec<CaseItem>> {
    // Not `split_commas`: a discriminant is an expression, where `<` is no bracket (`1 << 2`).
    let mut items: Vec<Vec<TokenTree>> = vec![Vec::new()];
    for token in body {
        if is_punct(Some(token), ',') {
            items.push(Vec::new());
        } else {
            items.last_mut().expect("never empty").push(token.clone());
        }
    }
    items.retain(|item| !item.is_empty());
    items.iter().map(|tokens| case(tokens, enum_name)).collect()
}

fn case(tokens: &[TokenTree], enum_name: &str) -> Result<CaseItem> {
    let mut c = Cursor::new(tokens);
    c.attrs();
    let ident = match c.next() {
        Some(TokenTree::Ident(i)) => i.clone(),
        _ => return Err(Error::spanning(tokens, "expected a case name")),
    };
    if let Some(TokenTree::Group(g)) = c.peek() {
        let message = format!(
            "`{}::{}` carries data, and only C-like enums (cases without data) cross the \
             bridge: move the data into a record, or make `{}` a class with an exported `impl`",
            enum_name,
            unraw(&ident),
            enum_name
        );
        return Err(Error::new(g.span(), message));
    }
    let discriminant = if c.eat_punct('=') { Some(c.rest().to_vec()) } else { None };
    if discriminant.is_none() && !c.at_end() {
        return Err(Error::spanning(c.rest(), "expected `,` or `= value` after the case name"));
    }
    Ok(CaseItem { name: unraw(&ident), ident, discriminant })
}

/// The value of an explicit discriminant written as an integer literal,
/// optionally negative (`5`, `-3`, `0x10`, `1_000u8`).
pub fn discriminant_value(tokens: &[TokenTree]) -> Option<i128> {
    match tokens {
        [TokenTree::Group(g)]
            if matches!(g.delimiter(), Delimiter::None | Delimiter::Parenthesis) =>
        {
            discriminant_value(&g.stream().into_iter().collect::<Vec<_>>())
        }
        [TokenTree::Punct(p), rest @ ..] if p.as_char() == '-' => {
            discriminant_value(rest).map(|v| -v)
        }
        [TokenTree::Literal(lit)] => integer(&lit.to_string()),
        _ => None,
    }
}

fn integer(text: &str) -> Option<i128> {
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    let (radix, body) = match digits.get(..2) {
        Some("0x") => (16, &digits[2..]),
        Some("0o") => (8, &digits[2..]),
        Some("0b") => (2, &digits[2..]),
        _ => (10, &digits[..]),
    };
    const SUFFIXES: [&str; 12] =
        ["i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "i128", "u128", "isize", "usize"];
    let body = SUFFIXES.iter().find_map(|s| body.strip_suffix(s)).unwrap_or(body);
    i128::from_str_radix(body, radix).ok()
}

/// An inherent `impl` block: its attributes, the self type and the items.
pub struct ImplItem {
    pub attrs: Vec<Attr>,
    pub self_ty: Vec<TokenTree>,
    pub items: Vec<Vec<TokenTree>>,
}

/// `#[attrs] impl Type { items }`, refusing generics and trait impls.
pub fn impl_item(tokens: &[TokenTree]) -> Result<ImplItem> {
    let mut c = Cursor::new(tokens);
    let attrs = c.attrs();
    if c.is_ident("unsafe") {
        return Err(trait_impl(c.span()));
    }
    c.eat_ident("impl");
    if c.is_punct('<') {
        let message = "a generic `impl` block cannot be exported: a class needs a concrete type \
                       (no type or lifetime parameters)";
        return Err(Error::new(c.span(), message));
    }
    let mut self_ty = Vec::new();
    while let Some(token) = c.peek() {
        match token {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace && c.rest().len() == 1 => {
                let items = impl_items(&g.stream().into_iter().collect::<Vec<_>>());
                return Ok(ImplItem { attrs, self_ty, items });
            }
            TokenTree::Ident(i) if i.to_string() == "for" => return Err(trait_impl(i.span())),
            TokenTree::Ident(i) if i.to_string() == "where" => {
                let message = "`where` clauses are not supported: a class has a concrete type";
                return Err(Error::new(i.span(), message));
            }
            TokenTree::Punct(p) if p.as_char() == '!' && self_ty.is_empty() => {
                return Err(trait_impl(p.span()))
            }
            _ => self_ty.push(token.clone()),
        }
        c.next();
    }
    Err(Error::new(c.span(), "expected the `impl` block's items in braces"))
}

fn trait_impl(span: Span) -> Error {
    Error::new(
        span,
        "a trait `impl` cannot be exported: put #[wasmbridge::export] on an inherent \
         `impl Type { ... }` block; its methods may call the trait's",
    )
}

/// Splits the body of an `impl` block into its items: a `fn` ends with its
/// body (or `;`), a macro call with its braces, anything else with `;`.
fn impl_items(tokens: &[TokenTree]) -> Vec<Vec<TokenTree>> {
    let mut items = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    let mut is_fn = false;
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        // An inner attribute `#![...]` belongs to the block, not to an item.
        if is_punct(Some(token), '#') && is_punct(tokens.get(i + 1), '!') {
            items.push(tokens[i..(i + 3).min(tokens.len())].to_vec());
            i += 3;
            continue;
        }
        // An attribute `#[...]` is part of the item that follows.
        if is_punct(Some(token), '#') {
            current.push(token.clone());
            if let Some(next) = tokens.get(i + 1) {
                current.push(next.clone());
            }
            i += 2;
            continue;
        }
        current.push(token.clone());
        i += 1;
        let ends = match token {
            TokenTree::Ident(id) if id.to_string() == "fn" => {
                is_fn = true;
                false
            }
            TokenTree::Punct(p) => p.as_char() == ';',
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                is_fn || is_punct(current.iter().rev().nth(1), '!')
            }
            _ => false,
        };
        if ends {
            items.push(std::mem::take(&mut current));
            is_fn = false;
        }
    }
    if !current.is_empty() {
        items.push(current);
    }
    items
}
