//! A macro error: a message and the span of the tokens it is about.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

pub struct Error {
    message: String,
    start: Span,
    end: Span,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Error { message: message.into(), start: span, end: span }
    }

    /// The same error with `more` appended to its message.
    pub fn extended(mut self, more: &str) -> Self {
        self.message.push_str(more);
        self
    }

    /// An error underlining all of `tokens` (at the macro call when empty).
    pub fn spanning(tokens: &[TokenTree], message: impl Into<String>) -> Self {
        let start = tokens.first().map_or_else(Span::call_site, TokenTree::span);
        let end = tokens.last().map_or(start, TokenTree::span);
        Error { message: message.into(), start, end }
    }

    /// `::core::compile_error! { "..." }`. The path carries the first
    /// token's span and the braces the last one's, so rustc underlines the
    /// whole range on stable (as syn does; `Span::join` is unstable).
    pub fn to_compile_error(&self) -> TokenStream {
        let mut tokens = Vec::new();
        for name in ["core", "compile_error"] {
            tokens.push(punct(':', Spacing::Joint, self.start));
            tokens.push(punct(':', Spacing::Alone, self.start));
            tokens.push(TokenTree::Ident(Ident::new(name, self.start)));
        }
        tokens.push(punct('!', Spacing::Alone, self.start));
        let mut message = Literal::string(&self.message);
        message.set_span(self.end);
        let mut body = Group::new(Delimiter::Brace, TokenStream::from(TokenTree::Literal(message)));
        body.set_span(self.end);
        tokens.push(TokenTree::Group(body));
        tokens.into_iter().collect()
    }
}

/// All errors as one token stream, so the user sees every problem at once.
pub fn to_compile_errors(errors: &[Error]) -> TokenStream {
    errors.iter().map(Error::to_compile_error).collect()
}

fn punct(ch: char, spacing: Spacing, span: Span) -> TokenTree {
    let mut p = Punct::new(ch, spacing);
    p.set_span(span);
    TokenTree::Punct(p)
}
