//! Reading a `fn` item (or a `fn` declaration of an `extern` block) out of
//! its tokens: attributes, visibility, name, parameters, result.

use proc_macro::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};

use crate::error::{Error, Result};
use crate::lit;

/// One outer attribute `#[...]`, with what the macros need to know about it.
pub struct Attr {
    /// `#` and the bracketed group, to copy the attribute elsewhere.
    pub tokens: Vec<TokenTree>,
    pub kind: AttrKind,
}

pub enum AttrKind {
    /// `#[doc = "..."]` (what `///` becomes).
    Doc(String),
    /// `#[cfg(...)]`: generated items must follow the same condition.
    Cfg,
    /// `#[link_name = "..."]` on an imported fn: its name on the wasm side.
    LinkName(String),
    Other,
}

/// Which kind of `fn` is parsed; they accept different qualifiers.
#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    Export,
    Import,
    /// A `pub fn` of an exported `impl` block: it may take a receiver.
    Method,
}

impl Mode {
    fn exported(self) -> bool {
        self != Mode::Import
    }
}

/// How a method takes its object.
#[derive(Clone, Copy, PartialEq)]
pub enum Receiver {
    /// `&self`
    Ref,
    /// `&mut self`
    Mut,
    /// `self` or `mut self`: the method consumes the object.
    Owned,
}

pub struct Param {
    /// The name without `r#`, as the interface records it.
    pub name: String,
    /// The name as written, to refer to the parameter in generated code.
    pub ident: Ident,
    pub ty: Vec<TokenTree>,
}

pub struct FnItem {
    pub attrs: Vec<Attr>,
    pub vis: Vec<TokenTree>,
    pub name: Ident,
    /// The parenthesized parameter list as written.
    pub params_group: Group,
    pub params: Vec<Param>,
    /// The tokens after `->`; empty for `()`.
    pub ret: Vec<TokenTree>,
    /// A method's receiver (`Mode::Method` only).
    pub receiver: Option<Receiver>,
}

impl FnItem {
    /// The doc comment: `#[doc]` texts joined by newlines, each line without
    /// the one leading space that `/// text` leaves.
    pub fn doc(&self) -> String {
        crate::items::doc_of(&self.attrs)
    }

    /// The `#[cfg(...)]` attributes, to put on every generated item.
    pub fn cfgs(&self) -> TokenStream {
        self.attrs
            .iter()
            .filter(|a| matches!(a.kind, AttrKind::Cfg))
            .flat_map(|a| a.tokens.clone())
            .collect()
    }

    /// The name without `r#`.
    pub fn plain_name(&self) -> String {
        unraw(&self.name)
    }
}

pub fn unraw(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map_or_else(|| text.clone(), str::to_string)
}

/// A position in a token list.
pub struct Cursor<'a> {
    tokens: &'a [TokenTree],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(tokens: &'a [TokenTree]) -> Self {
        Cursor { tokens, pos: 0 }
    }

    pub fn peek(&self) -> Option<&'a TokenTree> {
        self.tokens.get(self.pos)
    }

    pub fn next(&mut self) -> Option<&'a TokenTree> {
        let token = self.tokens.get(self.pos);
        self.pos += token.is_some() as usize;
        token
    }

    pub fn rest(&self) -> &'a [TokenTree] {
        &self.tokens[self.pos.min(self.tokens.len())..]
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    /// The span of the next token, or of the last one at the end.
    pub fn span(&self) -> Span {
        self.peek().or_else(|| self.tokens.last()).map_or_else(Span::call_site, TokenTree::span)
    }

    pub fn is_ident(&self, name: &str) -> bool {
        matches!(self.peek(), Some(TokenTree::Ident(i)) if i.to_string() == name)
    }

    pub fn is_punct(&self, ch: char) -> bool {
        is_punct(self.peek(), ch)
    }

    pub fn eat_ident(&mut self, name: &str) -> bool {
        let found = self.is_ident(name);
        self.pos += found as usize;
        found
    }

    pub fn eat_punct(&mut self, ch: char) -> bool {
        let found = self.is_punct(ch);
        self.pos += found as usize;
        found
    }

    /// `->`, which proc_macro hands over as two puncts.
    pub fn eat_arrow(&mut self) -> bool {
        let found = self.is_punct('-') && is_punct(self.tokens.get(self.pos + 1), '>');
        self.pos += 2 * found as usize;
        found
    }

    /// Outer attributes `#[...]` at the cursor.
    pub fn attrs(&mut self) -> Vec<Attr> {
        let mut attrs = Vec::new();
        while self.is_punct('#') {
            match self.tokens.get(self.pos + 1) {
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
                    attrs.push(Attr {
                        tokens: self.tokens[self.pos..self.pos + 2].to_vec(),
                        kind: attr_kind(g),
                    });
                    self.pos += 2;
                }
                _ => break,
            }
        }
        attrs
    }
}

pub fn is_punct(token: Option<&TokenTree>, ch: char) -> bool {
    matches!(token, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

fn attr_kind(group: &Group) -> AttrKind {
    let tokens: Vec<TokenTree> = group.stream().into_iter().collect();
    let name = match tokens.first() {
        Some(TokenTree::Ident(i)) => i.to_string(),
        _ => return AttrKind::Other,
    };
    let value = match (tokens.get(1), tokens.get(2), tokens.len()) {
        (Some(TokenTree::Punct(p)), Some(TokenTree::Literal(l)), 3) if p.as_char() == '=' => {
            lit::string_value(l)
        }
        _ => None,
    };
    match (name.as_str(), value) {
        ("doc", Some(text)) => AttrKind::Doc(text),
        ("link_name", Some(text)) => AttrKind::LinkName(text),
        ("cfg", _) => AttrKind::Cfg,
        _ => AttrKind::Other,
    }
}

/// The value of the macro argument `key = "..."`, None without arguments.
pub fn string_arg(attr: TokenStream, key: &str, usage: &str) -> Result<Option<String>> {
    let tokens: Vec<TokenTree> = attr.into_iter().collect();
    match tokens.as_slice() {
        [] => Ok(None),
        [TokenTree::Ident(k), eq, TokenTree::Literal(value)]
            if k.to_string() == key && is_punct(Some(eq), '=') =>
        {
            match lit::string_value(value) {
                Some(text) if !text.is_empty() => Ok(Some(text)),
                _ => Err(Error::new(
                    value.span(),
                    format!("expected a non-empty string: `{} = \"...\"`", key),
                )),
            }
        }
        _ => Err(Error::spanning(&tokens, usage)),
    }
}

/// Reads a `fn` item: `#[attrs] vis qualifiers fn name(params) -> ret`,
/// followed by a body (exports) or `;` (imports, already split off).
pub fn parse_fn(tokens: &[TokenTree], mode: Mode) -> Result<FnItem> {
    let mut c = Cursor::new(tokens);
    let attrs = c.attrs();
    let vis = visibility(&mut c);
    qualifiers(&mut c, mode)?;
    if !c.eat_ident("fn") {
        let what = if mode.exported() {
            "#[wasmbridge::export] goes on a `fn`, a struct with named fields (a record), a \
             C-like enum, or an inherent `impl` block (a class)"
        } else {
            "a #[wasmbridge::import] block holds only `fn` declarations"
        };
        return Err(Error::new(c.span(), what));
    }
    let name = match c.next() {
        Some(TokenTree::Ident(i)) => i.clone(),
        _ => return Err(Error::new(c.span(), "expected the function's name")),
    };
    if c.is_punct('<') {
        let message = "generic functions cannot cross the bridge: the interface needs concrete \
                       types (no type or lifetime parameters)";
        return Err(Error::new(c.span(), message));
    }
    let params_group = match c.next() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => g.clone(),
        _ => return Err(Error::new(c.span(), "expected the parameter list")),
    };
    let mut param_tokens = split_commas(&params_group.stream().into_iter().collect::<Vec<_>>());
    let receiver = match param_tokens.first() {
        Some(first) if mode == Mode::Method => {
            let found = receiver(first)?;
            if found.is_some() {
                param_tokens.remove(0);
            }
            found
        }
        _ => None,
    };
    let params = param_tokens.iter().map(|p| param(p, mode)).collect::<Result<Vec<_>>>()?;
    let ret = if c.eat_arrow() { result_tokens(&mut c, mode)? } else { Vec::new() };
    if c.is_ident("where") {
        return Err(Error::new(
            c.span(),
            "`where` clauses are not supported: exported functions have concrete types",
        ));
    }
    Ok(FnItem { attrs, vis, name, params_group, params, ret, receiver })
}

/// A method's receiver: `&self`, `&mut self`, `self`, `mut self` (also
/// `&'a self`), None when the first parameter is not `self`.
fn receiver(tokens: &[TokenTree]) -> Result<Option<Receiver>> {
    let mut c = Cursor::new(tokens);
    c.attrs();
    let start = c.rest();
    let borrowed = c.eat_punct('&');
    if borrowed && c.is_punct('\'') {
        c.next();
        c.next();
    }
    let mutable = c.eat_ident("mut");
    if !c.eat_ident("self") {
        return Ok(None);
    }
    if !c.at_end() {
        let message = "write the receiver as `&self`, `&mut self` or `self`: a class object \
                       crosses as a handle, so typed receivers (`self: Box<Self>`) are not \
                       supported";
        return Err(Error::spanning(start, message));
    }
    Ok(Some(match (borrowed, mutable) {
        (true, false) => Receiver::Ref,
        (true, true) => Receiver::Mut,
        (false, _) => Receiver::Owned,
    }))
}

/// `pub`, `pub(crate)`, `pub(in path)`, or nothing.
fn visibility(c: &mut Cursor) -> Vec<TokenTree> {
    let start = c.pos;
    if c.eat_ident("pub") {
        if let Some(TokenTree::Group(g)) = c.peek() {
            if g.delimiter() == Delimiter::Parenthesis {
                c.next();
            }
        }
    }
    c.tokens[start..c.pos].to_vec()
}

/// Skips what may stand before `fn`, refusing what cannot cross the bridge.
fn qualifiers(c: &mut Cursor, mode: Mode) -> Result<()> {
    loop {
        let span = c.span();
        if c.eat_ident("async") {
            return Err(Error::new(
                span,
                "`async fn` cannot be exported: a host call runs to completion",
            ));
        } else if c.eat_ident("unsafe") {
            if mode.exported() {
                let message = "an `unsafe fn` cannot be exported: the host cannot uphold its \
                               safety contract; export a safe wrapper";
                return Err(Error::new(span, message));
            }
        } else if c.eat_ident("extern") {
            if let Some(TokenTree::Literal(_)) = c.peek() {
                c.next();
            }
        } else if !(c.eat_ident("const") || (mode == Mode::Import && c.eat_ident("safe"))) {
            return Ok(());
        }
    }
}

/// The result type's tokens: up to a `where` or the body.
fn result_tokens(c: &mut Cursor, mode: Mode) -> Result<Vec<TokenTree>> {
    let mut ret = Vec::new();
    while let Some(token) = c.peek() {
        let body = matches!(token, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace);
        if (mode.exported() && body && c.pos + 1 == c.tokens.len()) || c.is_ident("where") {
            break;
        }
        ret.push(token.clone());
        c.next();
    }
    if ret.is_empty() {
        return Err(Error::new(c.span(), "expected a result type after `->`"));
    }
    Ok(ret)
}

/// One parameter `name: Type` (also `mut name: Type` for exports).
fn param(tokens: &[TokenTree], mode: Mode) -> Result<Param> {
    let mut c = Cursor::new(tokens);
    c.attrs();
    let start = c.pos;
    if mode.exported() {
        c.eat_ident("mut");
    }
    let is_self = c.is_ident("self") || c.is_punct('&');
    let ident = match c.next() {
        Some(TokenTree::Ident(i)) if !is_self && i.to_string() != "_" => i,
        _ if is_self => {
            let message = if mode == Mode::Method {
                "`self` must be a method's first parameter"
            } else {
                "`self` has no interface type here: to export methods, put \
                 #[wasmbridge::export] on the whole `impl` block"
            };
            return Err(Error::spanning(&tokens[start..], message));
        }
        Some(TokenTree::Punct(p)) if p.as_char() == '.' => {
            return Err(Error::spanning(tokens, "variadic functions are not supported"))
        }
        _ => {
            let message = "give each parameter a plain name (`name: Type`): the interface records \
                           it, and patterns are not supported";
            return Err(Error::spanning(&tokens[start..], message));
        }
    };
    if !c.eat_punct(':') || c.is_punct(':') {
        return Err(Error::spanning(&tokens[start..], "expected `name: Type`"));
    }
    Ok(Param { name: unraw(ident), ident: ident.clone(), ty: c.rest().to_vec() })
}

/// Splits a token list at the commas outside `<...>` (groups nest by
/// themselves). A trailing comma leaves no empty item.
pub fn split_commas(tokens: &[TokenTree]) -> Vec<Vec<TokenTree>> {
    let mut items = vec![Vec::new()];
    let mut depth = 0usize;
    let mut prev_dash = false;
    for token in tokens {
        if let TokenTree::Punct(p) = token {
            match p.as_char() {
                '<' => depth += 1,
                '>' if !prev_dash => depth = depth.saturating_sub(1), // not the `>` of `->`
                ',' if depth == 0 => {
                    items.push(Vec::new());
                    continue;
                }
                _ => {}
            }
        }
        prev_dash = is_punct(Some(token), '-');
        items.last_mut().expect("never empty").push(token.clone());
    }
    if items.last().map_or(false, Vec::is_empty) {
        items.pop();
    }
    items
}

/// Source-like text of tokens for messages: `Vec<String>`, `&'static str`.
pub fn tokens_text(tokens: &[TokenTree]) -> String {
    let mut out = String::new();
    let mut prev_word = false;
    for (i, token) in tokens.iter().enumerate() {
        let word = matches!(token, TokenTree::Ident(_) | TokenTree::Literal(_));
        // Words apart (`impl Into`, `'static str`), and `'static [u8]`, `&mut [u8]`.
        let keyword_group = matches!(token, TokenTree::Group(_))
            && (out.ends_with("static") || out.ends_with("mut"));
        if prev_word && (word || keyword_group) {
            out.push(' ');
        }
        match token {
            TokenTree::Group(g) => {
                let inner = tokens_text(&g.stream().into_iter().collect::<Vec<_>>());
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{ ", " }"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                out.push_str(&inner);
                out.push_str(close);
            }
            TokenTree::Punct(p) if p.as_char() == ',' || p.as_char() == ';' => {
                out.push(p.as_char());
                out.push(' ');
            }
            // `Fn(u32) -> u32 + Send`
            TokenTree::Punct(p) if p.as_char() == '+' => out.push_str(" + "),
            TokenTree::Punct(p) if p.as_char() == '-' && is_punct(tokens.get(i + 1), '>') => {
                out.push_str(" -")
            }
            TokenTree::Punct(p)
                if p.as_char() == '>' && i > 0 && is_punct(tokens.get(i - 1), '-') =>
            {
                out.push_str("> ")
            }
            other => out.push_str(&other.to_string()),
        }
        prev_word = word;
    }
    out
}
