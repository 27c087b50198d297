//! An import's problems (`import::problem::Problem`) in words: `file:line: message` in the reader's language,
//! on the import page, beside a record form's fields and on the command line.
use crate::domain::metrics::Lang;
use crate::import::problem::Problem;

/// `file:line: message` in the request's language.
pub fn text(p: &Problem) -> String {
    text_in(p, crate::i18n::lang())
}

/// `file:line: message` in `lang`; in Vietnamese each column is named in words with its name in the file
/// ("thiếu cột ngày sinh (birth_date)").
pub fn text_in(p: &Problem, lang: Lang) -> String {
    if lang != Lang::Vi {
        return p.located(crate::i18n::tr_in(lang, &p.key));
    }
    let mut named = p.clone();
    named.column = p.column.as_deref().map(|c| column_in(c, lang));
    if matches!(p.kind(), "col_missing" | "col_twice")
        && let Some(first) = named.args.first_mut()
    {
        *first = column_in(first, lang);
    }
    named.located(crate::i18n::tr_in(lang, &p.key))
}

/// A bundle column as people read it: its label in `lang` and its name in the file, or the name alone if it has no
/// label (a column no file has).
pub fn column_in(name: &str, lang: Lang) -> String {
    let key = format!("col.{name}");
    match crate::i18n::has_key(&key) {
        true => format!("{} ({name})", crate::i18n::tr_in(lang, &key)),
        false => name.to_string(),
    }
}

/// The message alone, in the request's language.
pub fn message(p: &Problem) -> String {
    p.message(crate::tr(&p.key))
}

/// A line of an import job's problems as shown: a problem in the reader's language, a line kept as text as it is.
pub fn stored(line: &str) -> String {
    Problem::from_stored(line).map_or_else(|| line.to_string(), |p| text(&p))
}
