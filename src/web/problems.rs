//! An import's problems (`import::problem::Problem`) in words: `file:line: message` in the reader's language,
//! on the import page, beside a record form's fields and on the command line.
use crate::domain::metrics::Lang;
use crate::import::problem::Problem;

/// `file:line: message` in the request's language.
pub fn text(p: &Problem) -> String {
    text_in(p, crate::i18n::lang())
}

/// `file:line: message` in `lang`.
pub fn text_in(p: &Problem, lang: Lang) -> String {
    p.located(crate::i18n::tr_in(lang, &p.key))
}

/// The message alone, in the request's language.
pub fn message(p: &Problem) -> String {
    p.message(crate::tr(&p.key))
}

/// A line of an import job's problems as shown: a problem in the reader's language, a line kept as text as it is.
pub fn stored(line: &str) -> String {
    Problem::from_stored(line).map_or_else(|| line.to_string(), |p| text(&p))
}
