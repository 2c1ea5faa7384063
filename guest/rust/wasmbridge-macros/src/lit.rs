//! The value of a string literal token, which proc_macro hands over only as
//! source text: `"a\n\"b\""`, or `r#"..."#` (doc comments arrive raw).

use proc_macro::Literal;

/// The string a literal stands for, or None when it is not a string literal.
pub fn string_value(lit: &Literal) -> Option<String> {
    let text = lit.to_string();
    if let Some(raw) = text.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let body = raw[hashes..].strip_prefix('"')?;
        return Some(body.get(..body.len().checked_sub(hashes + 1)?)?.to_string());
    }
    let body = text.strip_prefix('"')?.strip_suffix('"')?;
    Some(unescape(body))
}

/// Resolves the escapes of a (non-raw) string literal's body.
fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.extend(u8::from_str_radix(&hex, 16).ok().map(char::from));
            }
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                out.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
            }
            // A line continuation: the newline and the next line's indent vanish.
            Some('\n') | Some('\r') => {
                while chars.peek().map_or(false, |c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some(other) => out.push(other), // \\ \" \'
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn resolves_escapes() {
        assert_eq!(unescape(r#"a\n\t\"q\" \\ \x41\u{e9}\0"#), "a\n\t\"q\" \\ A\u{e9}\0");
    }

    #[test]
    fn drops_line_continuations() {
        assert_eq!(unescape("one \\\n    two"), "one two");
    }
}
