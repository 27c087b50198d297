//! How long each kind of text may be and which characters no text may hold: one place for the forms (their
//! `maxlength`, the hint, the server's check) and the import's value checks. Lengths are in characters, counted
//! as a browser counts them for `maxlength` (a line break is one).

/// A key: a unit's, a member's or an official's code, a meeting's `ref`.
pub const CODE: usize = 50;
/// A unit's or a person's name; an ethnic group; a training course.
pub const NAME: usize = 200;
/// Where a meeting was held.
pub const LOCATION: usize = 200;
/// A meeting's topic.
pub const TOPIC: usize = 500;
/// One task assigned at a meeting.
pub const TASK: usize = 1_000;
/// Why a member was excused from a meeting (attendance.reason, migration 0016).
pub const REASON: usize = 500;
/// A meeting's content and discussion, its conclusions and resolution: a few printed pages each.
pub const LONG_TEXT: usize = 20_000;

/// What is wrong with a text value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    /// A control character (NUL, escape …): PostgreSQL refuses NUL in text, and none of them is typed on purpose.
    Control(char),
    /// Longer than the field allows.
    TooLong { max: usize, length: usize },
}

/// The length of `s` as a browser counts it: the CR LF a form sends for a line break counts once.
pub fn length(s: &str) -> usize {
    let chars = s.chars().count();
    if s.as_bytes().contains(&b'\r') { chars - s.matches("\r\n").count() } else { chars }
}

/// A character no text may hold: a control character other than tab, CR and LF.
pub fn is_forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\r' | '\n')
}

/// The first character of `s` no text may hold.
pub fn forbidden_char(s: &str) -> Option<char> {
    s.chars().find(|c| is_forbidden(*c))
}

/// `s` with each character no text may hold replaced by U+FFFD, to keep or show what was typed.
pub fn printable(s: &str) -> String {
    s.chars().map(|c| if is_forbidden(c) { '\u{fffd}' } else { c }).collect()
}

/// Checks a text value against a field of at most `max` characters.
pub fn check_text(s: &str, max: usize) -> Result<(), TextProblem> {
    if let Some(c) = forbidden_char(s) {
        return Err(TextProblem::Control(c));
    }
    match length(s) {
        length if length > max => Err(TextProblem::TooLong { max, length }),
        _ => Ok(()),
    }
}

/// A character as `U+0000`, to name one that cannot be shown.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_refused_for_a_control_character_or_its_length() {
        assert_eq!(check_text("Họp chi bộ", TOPIC), Ok(()));
        assert_eq!(check_text("Họp\0 chi bộ", TOPIC), Err(TextProblem::Control('\0')));
        assert_eq!(check_text("a\u{1b}[31m", TOPIC), Err(TextProblem::Control('\u{1b}')));
        assert_eq!(check_text("a\u{85}", TOPIC), Err(TextProblem::Control('\u{85}')));
        // line breaks and tabs are text
        assert_eq!(check_text("một\r\nhai\tba\n", TOPIC), Ok(()));
        assert_eq!(check_text(&"ệ".repeat(500), TOPIC), Ok(()));
        assert_eq!(check_text(&"ệ".repeat(501), TOPIC), Err(TextProblem::TooLong { max: 500, length: 501 }));
        assert_eq!(code_point('\0'), "U+0000");
        assert_eq!(printable("a\0b\u{1b}\r\n\tc"), "a\u{fffd}b\u{fffd}\r\n\tc");
    }

    #[test]
    fn a_line_break_counts_once_as_the_browser_counts_it() {
        assert_eq!(length("a\r\nb"), 3);
        assert_eq!(length("a\nb"), 3);
        assert_eq!(length(&"x\r\n".repeat(10)), 20);
        assert_eq!(check_text(&"x\r\n".repeat(10), 20), Ok(()));
    }
}
