//! Bounded excerpts of guest-controlled text, and text made safe to show: what the
//! runner keeps and prints of a guest never grows with what the guest wrote, and never
//! carries control characters to a terminal or a Markdown page.

/// Keeps the first `keep` bytes; returns how many were dropped.
pub fn cut(bytes: &mut Vec<u8>, keep: usize) -> usize {
    let dropped = bytes.len().saturating_sub(keep);
    if dropped > 0 {
        bytes.truncate(keep);
        bytes.shrink_to_fit();
    }
    dropped
}

/// Keeps at most the first `keep` bytes, on a character boundary; returns how many
/// bytes were dropped.
pub fn cut_str(text: &mut String, keep: usize) -> usize {
    if text.len() <= keep {
        return 0;
    }
    let at = (0..=keep).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let dropped = text.len() - at;
    text.truncate(at);
    text.shrink_to_fit();
    dropped
}

/// `text` with a marker when `dropped` bytes were left out.
pub fn marked(mut text: String, dropped: usize) -> String {
    if dropped > 0 {
        text.push_str(&format!("…[{dropped} more bytes: `kwconform repro` shows all]"));
    }
    text
}

/// A one-line excerpt of bytes for a message (lossy UTF-8, control characters escaped).
pub fn line(bytes: &[u8], keep: usize) -> String {
    let mut text = String::from_utf8_lossy(&bytes[..bytes.len().min(keep)]).into_owned();
    let dropped = bytes.len().saturating_sub(keep) + cut_str(&mut text, keep);
    marked(shown(&text), dropped)
}

/// Text safe to print: every control character (C0, DEL, C1, and the Unicode line and
/// paragraph separators, bidi overrides) as a `\u{..}` escape, so no guest or case
/// string can move the cursor, clear a screen or forge a line. Tabs stay.
pub fn shown(text: &str) -> String {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\t')
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return text.to_string();
    }
    text.chars()
        .map(|c| if unsafe_char(c) { c.escape_unicode().to_string() } else { c.to_string() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_nothing_else() {
        assert_eq!(
            shown("a\u{1b}[2Jb\r\nc\u{9b}d\u{202e}e\tf ü"),
            "a\\u{1b}[2Jb\\u{d}\\u{a}c\\u{9b}d\\u{202e}e\tf ü"
        );
    }

    #[test]
    fn excerpts_keep_a_prefix_on_a_character_boundary_and_say_what_they_dropped() {
        let mut text = "ééé".to_string();
        assert_eq!(cut_str(&mut text, 3), 4);
        assert_eq!(text, "é");
        let mut bytes = vec![0u8; 10];
        assert_eq!(cut(&mut bytes, 4), 6);
        assert_eq!(line(b"abc\0def", 5), "abc\\u{0}d…[2 more bytes: `kwconform repro` shows all]");
    }
}
