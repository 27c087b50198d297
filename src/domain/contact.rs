//! A user's phone number and e-mail address (DOMAIN.md §13), used only for reminders: what is accepted and how it
//! is stored. Migration 0014 checks the stored forms again.

/// Why a typed value is refused: the catalog key of the message shown at the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Phone,
    Email,
}

impl Problem {
    pub fn key(self) -> &'static str {
        match self {
            Problem::Phone => "contact.err.phone",
            Problem::Email => "contact.err.email",
        }
    }
}

/// A phone number as typed (`0912 345 678`, `+84 912.345.678`, `(024) 3825-1234`): spaces, dots, dashes and
/// parentheses dropped, an optional leading `+`, then 8 to 15 digits. Blank is no number.
pub fn phone(typed: &str) -> Result<Option<String>, Problem> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    let kept: String = typed.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')')).collect();
    let digits = kept.strip_prefix('+').unwrap_or(&kept);
    if (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(Some(kept))
    } else {
        Err(Problem::Phone)
    }
}

/// An e-mail address: one `@`, something before it, a domain with a dot after it, no spaces, at most 254
/// characters; the domain is stored in lower case. Blank is no address.
pub fn email(typed: &str) -> Result<Option<String>, Problem> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    let Some((local, domain)) = typed.split_once('@') else { return Err(Problem::Email) };
    let bad = |s: &str| s.is_empty() || s.contains('@') || s.chars().any(|c| c.is_whitespace() || c.is_control());
    let dotted = domain.split('.').count() >= 2 && domain.split('.').all(|p| !p.is_empty());
    if typed.len() > 254 || bad(local) || bad(domain) || !dotted {
        return Err(Problem::Email);
    }
    Ok(Some(format!("{local}@{}", domain.to_lowercase())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_kept_as_digits() {
        assert_eq!(phone("0912 345 678"), Ok(Some("0912345678".into())));
        assert_eq!(phone(" +84 912.345.678 "), Ok(Some("+84912345678".into())));
        assert_eq!(phone("(024) 3825-1234"), Ok(Some("02438251234".into())));
        assert_eq!(phone(""), Ok(None));
        assert_eq!(phone("12345"), Err(Problem::Phone));
        assert_eq!(phone("0912abc678"), Err(Problem::Phone));
        assert_eq!(phone("++84912345678"), Err(Problem::Phone));
    }

    #[test]
    fn addresses_need_one_at_and_a_dotted_domain() {
        assert_eq!(email(" An.Nguyen@Xa.GOV.vn "), Ok(Some("An.Nguyen@xa.gov.vn".into())));
        assert_eq!(email(""), Ok(None));
        for bad in ["an", "an@", "@xa.vn", "an@xa", "an@@xa.vn", "an nguyen@xa.vn", "an@xa..vn", "an@.vn"] {
            assert_eq!(email(bad), Err(Problem::Email), "{bad}");
        }
    }
}
