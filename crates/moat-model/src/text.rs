//! Text shown on a terminal: control characters from input made visible.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Escape control characters so that input-controlled text cannot recolour, rewrite or
/// forge lines of a terminal: C0 controls, DEL and C1 controls become visible
/// escapes (`\n`, `\r`, `\t`, `\x1b`, `\x7f`, `\u{9b}`). Text without any is
/// borrowed unchanged. Used by every text renderer and stderr message; JSON and SARIF
/// writers escape on their own and do not need it.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && is_control(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators and
/// bidirectional overrides that can disguise what a terminal shows.
fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_and_clean_text_is_borrowed() {
        assert!(matches!(escape_control("plain ü"), Cow::Borrowed(_)));
        assert_eq!(
            escape_control("a\x1b[31mb\nc\rd\te\x7f"),
            "a\\x1b[31mb\\nc\\rd\\te\\x7f"
        );
        assert_eq!(escape_control("\u{9b}x\u{202e}"), "\\u{9b}x\\u{202e}");
    }
}
