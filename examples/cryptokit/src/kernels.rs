//! The cryptography of cryptokit in plain Rust, with no SDK: SHA-256 and
//! HMAC-SHA256 from RustCrypto's sha2 and hmac, HS256 JSON Web Tokens
//! (RFC 7519, compact form, base64url without padding) and a constant-time
//! comparison from subtle. src/lib.rs exports these functions; native/
//! compiles this same file for the host.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The one header this crate writes; any header naming `"alg":"HS256"` verifies.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The SHA-256 digest of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// HMAC-SHA256 of `data` under `key` (any length; keys longer than a block are hashed).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// An empty key is refused: an unset secret must not verify tokens anyone can make.
pub fn check_key(key: &[u8]) -> Result<(), String> {
    if key.is_empty() {
        return Err(String::from(
            "empty key: an HS256 key must not be empty (use 32 bytes or more)",
        ));
    }
    Ok(())
}

/// A compact HS256 token: `{"alg":"HS256","typ":"JWT"}` and `claims_json`, each
/// base64url-encoded, then the HMAC-SHA256 of those two parts under `key`.
pub fn jwt_sign_hs256(claims_json: &str, key: &[u8]) -> String {
    let mut token = String::with_capacity(40 + claims_json.len() * 4 / 3 + 44);
    base64::encode_config_buf(HEADER, base64::URL_SAFE_NO_PAD, &mut token);
    token.push('.');
    base64::encode_config_buf(claims_json, base64::URL_SAFE_NO_PAD, &mut token);
    let signature = hmac_sha256(key, token.as_bytes());
    token.push('.');
    base64::encode_config_buf(signature, base64::URL_SAFE_NO_PAD, &mut token);
    token
}

/// The claims JSON of an HS256 `token` whose signature `key` made, or why not:
/// the token is malformed, its header names another algorithm (`none` included),
/// or the signature does not match (compared in constant time). The payload is
/// only decoded once the signature holds.
pub fn jwt_verify_hs256(token: &str, key: &[u8]) -> Result<String, String> {
    check_key(key)?;
    let mut parts = token.split('.');
    let (header, payload, signature) =
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(header), Some(payload), Some(signature), None) => (header, payload, signature),
            _ => return Err(malformed("expected three base64url parts separated by '.'")),
        };
    let header_json = decode_part(header, "header")?;
    let header_text =
        core::str::from_utf8(&header_json).map_err(|_| malformed("the header is not UTF-8"))?;
    let alg = json::header_alg(header_text).map_err(malformed)?;
    if alg != "HS256" {
        return Err(format!("wrong alg: the header says {:?}; only \"HS256\" is accepted", alg));
    }
    let signature = decode_part(signature, "signature")?;
    let expected = hmac_sha256(key, &token.as_bytes()[..header.len() + 1 + payload.len()]);
    if !ct_eq(&expected, &signature) {
        return Err(String::from("bad signature: the token was not signed with this key"));
    }
    let claims = String::from_utf8(decode_part(payload, "payload")?)
        .map_err(|_| malformed("the payload is not UTF-8"))?;
    if !json::is_object(&claims) {
        return Err(malformed("the payload is not a JSON object"));
    }
    Ok(claims)
}

fn decode_part(part: &str, name: &str) -> Result<Vec<u8>, String> {
    if part.is_empty() && name != "signature" {
        return Err(malformed(&format!("the {} is empty", name)));
    }
    if part.contains('=') {
        // RFC 7515 omits the padding; base64 0.13 would accept it.
        return Err(malformed(&format!("the {} is padded with '='", name)));
    }
    base64::decode_config(part, base64::URL_SAFE_NO_PAD)
        .map_err(|e| malformed(&format!("the {} is not base64url ({})", name, e)))
}

fn malformed(why: &str) -> String {
    format!("malformed token: {}", why)
}

/// Just enough of JSON (RFC 8259) to check a token's parts: a validator that
/// also pulls the string `alg` out of a header object.
mod json {
    use alloc::string::String;
    use alloc::vec::Vec;

    /// Deeper nesting than this is refused rather than risking the stack.
    const MAX_DEPTH: u32 = 64;

    /// The header's `alg`: the text must be one JSON object with exactly one
    /// `alg` member, a string.
    pub fn header_alg(text: &str) -> Result<String, &'static str> {
        let mut alg: Option<String> = None;
        let mut duplicate = false;
        let mut parser = Parser { s: text.as_bytes(), i: 0, depth: 0 };
        parser
            .document(|p, key| {
                if key != "alg" {
                    return p.value();
                }
                duplicate |= alg.is_some();
                p.ws();
                if p.peek() != Some(b'"') {
                    return Err("alg is not a string");
                }
                alg = Some(p.string()?);
                Ok(())
            })
            .map_err(|_| "the header is not a JSON object")?;
        match alg {
            _ if duplicate => Err("the header names alg twice"),
            Some(alg) => Ok(alg),
            None => Err("the header has no alg"),
        }
    }

    /// Whether `text` is one JSON object (whitespace around it allowed).
    pub fn is_object(text: &str) -> bool {
        let mut parser = Parser { s: text.as_bytes(), i: 0, depth: 0 };
        parser.document(|p, _| p.value()).is_ok()
    }

    type Step = Result<(), &'static str>;

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
        depth: u32,
    }

    impl Parser<'_> {
        fn document(&mut self, member: impl FnMut(&mut Self, String) -> Step) -> Step {
            self.ws();
            if self.peek() != Some(b'{') {
                return Err("not an object");
            }
            self.object(member)?;
            self.ws();
            if self.i == self.s.len() {
                Ok(())
            } else {
                Err("text after the object")
            }
        }

        fn peek(&self) -> Option<u8> {
            self.s.get(self.i).copied()
        }

        fn expect(&mut self, byte: u8) -> Step {
            self.ws();
            if self.peek() == Some(byte) {
                self.i += 1;
                Ok(())
            } else {
                Err("unexpected character")
            }
        }

        fn ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }

        fn value(&mut self) -> Step {
            self.ws();
            match self.peek() {
                Some(b'{') => self.object(|p, _| p.value()),
                Some(b'[') => self.array(),
                Some(b'"') => self.string().map(drop),
                Some(b't') => self.literal(b"true"),
                Some(b'f') => self.literal(b"false"),
                Some(b'n') => self.literal(b"null"),
                Some(b'-' | b'0'..=b'9') => self.number(),
                _ => Err("expected a value"),
            }
        }

        fn nested(&mut self, open: u8, close: u8, mut item: impl FnMut(&mut Self) -> Step) -> Step {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err("nested too deeply");
            }
            self.expect(open)?;
            self.ws();
            if self.peek() == Some(close) {
                self.i += 1;
            } else {
                loop {
                    item(self)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(c) if c == close => {
                            self.i += 1;
                            break;
                        }
                        _ => return Err("expected ',' or the end of a container"),
                    }
                }
            }
            self.depth -= 1;
            Ok(())
        }

        fn object(&mut self, mut member: impl FnMut(&mut Self, String) -> Step) -> Step {
            self.nested(b'{', b'}', |p| {
                p.ws();
                if p.peek() != Some(b'"') {
                    return Err("expected a member name");
                }
                let key = p.string()?;
                p.expect(b':')?;
                member(p, key)
            })
        }

        fn array(&mut self) -> Step {
            self.nested(b'[', b']', |p| p.value())
        }

        fn literal(&mut self, word: &[u8]) -> Step {
            if self.s[self.i..].starts_with(word) {
                self.i += word.len();
                Ok(())
            } else {
                Err("expected true, false or null")
            }
        }

        fn digits(&mut self) -> usize {
            let start = self.i;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            self.i - start
        }

        fn number(&mut self) -> Step {
            if self.peek() == Some(b'-') {
                self.i += 1;
            }
            if self.peek() == Some(b'0') {
                self.i += 1;
            } else if self.digits() == 0 {
                return Err("expected digits");
            }
            if self.peek() == Some(b'.') {
                self.i += 1;
                if self.digits() == 0 {
                    return Err("expected digits after '.'");
                }
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.i += 1;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                if self.digits() == 0 {
                    return Err("expected exponent digits");
                }
            }
            Ok(())
        }

        /// A string starting at `"`, unescaped. The input is UTF-8 already, so
        /// only escapes can make it invalid (a lone surrogate).
        fn string(&mut self) -> Result<String, &'static str> {
            self.i += 1;
            let mut out = Vec::new();
            loop {
                let byte = self.peek().ok_or("unterminated string")?;
                self.i += 1;
                match byte {
                    b'"' => break,
                    0..=0x1f => return Err("control character in a string"),
                    b'\\' => {
                        let escape = self.peek().ok_or("unterminated string")?;
                        self.i += 1;
                        let decoded = match escape {
                            b'"' | b'\\' | b'/' => escape as char,
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'u' => self.unicode_escape()?,
                            _ => return Err("unknown escape"),
                        };
                        let mut buf = [0; 4];
                        out.extend_from_slice(decoded.encode_utf8(&mut buf).as_bytes());
                    }
                    _ => out.push(byte),
                }
            }
            String::from_utf8(out).map_err(|_| "invalid UTF-8 in a string")
        }

        fn unicode_escape(&mut self) -> Result<char, &'static str> {
            let high = self.hex4()?;
            let code = if (0xd800..0xdc00).contains(&high) {
                if !self.s[self.i..].starts_with(b"\\u") {
                    return Err("lone surrogate");
                }
                self.i += 2;
                let low = self.hex4()?;
                if !(0xdc00..0xe000).contains(&low) {
                    return Err("lone surrogate");
                }
                0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
            } else {
                high
            };
            char::from_u32(code).ok_or("lone surrogate")
        }

        fn hex4(&mut self) -> Result<u32, &'static str> {
            let digits = self.s.get(self.i..self.i + 4).ok_or("short \\u escape")?;
            let mut code = 0;
            for &d in digits {
                code = code * 16 + (d as char).to_digit(16).ok_or("bad \\u escape")?;
            }
            self.i += 4;
            Ok(code)
        }
    }
}
