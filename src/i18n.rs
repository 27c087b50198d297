//! The words of the pages, in Vietnamese (the default) and English, from two catalogs (`i18n/vi.txt`,
//! `i18n/en.txt`: `key = text` lines). Templates write `{{ crate::tr("key") }}`; the language is the request's
//! (its `chibo_lang` cookie, read and set by `web::lang`), carried in a task-local for the request's whole
//! handling.
use std::collections::HashMap;
use std::sync::LazyLock;

pub use crate::domain::metrics::Lang;

tokio::task_local! {
    static LANG: Lang;
}

pub const VI: &str = include_str!("../i18n/vi.txt");
pub const EN: &str = include_str!("../i18n/en.txt");

/// A catalog's `key = text` lines (blank lines and `#` comments skipped), in file order.
pub fn parse(catalog: &str) -> Vec<(&str, &str)> {
    catalog
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = ").map(|(k, v)| (k.trim(), v.trim())))
        .collect()
}

static CATALOGS: LazyLock<[HashMap<&'static str, &'static str>; 2]> =
    LazyLock::new(|| [parse(VI).into_iter().collect(), parse(EN).into_iter().collect()]);

/// The language of the request being handled (Vietnamese outside one).
pub fn lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or(Lang::Vi)
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

/// The text of `key` in the request's language; the key itself if a catalog lacks it (the catalog test fails).
pub fn tr(key: &str) -> &'static str {
    let catalog = &CATALOGS[if lang() == Lang::En { 1 } else { 0 }];
    match catalog.get(key) {
        Some(text) => text,
        None => {
            tracing::warn!("no text for {key:?} in the {} catalog", lang().code());
            CATALOGS[0].get(key).copied().unwrap_or("?")
        }
    }
}

/// The text of `key` in Vietnamese whatever the request's language (the tables for people: CSV, XLSX).
pub fn tr_vi(key: &str) -> &'static str {
    CATALOGS[0].get(key).copied().unwrap_or("?")
}

/// The text of `key` in `lang`, whatever the request's (the command line speaks the language it is told).
pub fn tr_in(lang: Lang, key: &str) -> &'static str {
    let catalog = &CATALOGS[if lang == Lang::En { 1 } else { 0 }];
    catalog.get(key).or_else(|| CATALOGS[0].get(key)).copied().unwrap_or("?")
}

/// Whether the Vietnamese catalog (and so, by its test, the English one) has `key`.
pub fn has_key(key: &str) -> bool {
    CATALOGS[0].contains_key(key)
}

/// [`tr`] with `{}` replaced by `value`.
pub fn tr1(key: &str, value: impl std::fmt::Display) -> String {
    tr(key).replacen("{}", &value.to_string(), 1)
}

/// [`tr`] with its two `{}` replaced by `first` and `second`, in that order.
pub fn tr2(key: &str, first: impl std::fmt::Display, second: impl std::fmt::Display) -> String {
    tr(key).replacen("{}", &first.to_string(), 1).replacen("{}", &second.to_string(), 1)
}

pub fn tr3(key: &str, a: impl std::fmt::Display, b: impl std::fmt::Display, c: impl std::fmt::Display) -> String {
    tr2(key, a, b).replacen("{}", &c.to_string(), 1)
}

/// A percentage as the request's language writes it (`85,94 %`, `85.94%`).
pub fn percent(value: Option<f64>) -> String {
    crate::domain::metrics::format_percent(value, lang())
}

/// A count as the request's language writes it (`33.690`, `33,690`).
pub fn count(n: i64) -> String {
    crate::domain::metrics::format_count(n, lang())
}

/// Runs `work` (a task spawned for a request) in `lang`.
pub async fn in_lang<F: std::future::Future>(lang: Lang, work: F) -> F::Output {
    LANG.scope(lang, work).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogs_hold_the_same_keys_once_each() {
        let (vi, en) = (parse(VI), parse(EN));
        for (name, catalog) in [("vi", &vi), ("en", &en)] {
            let mut seen = std::collections::HashSet::new();
            for (k, v) in catalog.iter() {
                assert!(seen.insert(*k), "{k} twice in {name}.txt");
                assert!(!v.is_empty(), "{k} has no text in {name}.txt");
            }
        }
        let vi_keys: std::collections::BTreeSet<_> = vi.iter().map(|(k, _)| *k).collect();
        let en_keys: std::collections::BTreeSet<_> = en.iter().map(|(k, _)| *k).collect();
        assert_eq!(vi_keys.difference(&en_keys).collect::<Vec<_>>(), Vec::<&&str>::new(), "missing from en.txt");
        assert_eq!(en_keys.difference(&vi_keys).collect::<Vec<_>>(), Vec::<&&str>::new(), "missing from vi.txt");
        // an English text that is the Vietnamese one was left untranslated (a few words are the same in both)
        let same: Vec<_> = vi.iter().filter(|(k, v)| en.contains(&(k, v)) && !k.ends_with(".same")).collect();
        assert!(same.is_empty(), "untranslated in en.txt: {same:?}");
    }

    /// Removes `open … close` spans from `s`.
    fn strip(s: &str, open: &str, close: &str, keep: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find(open) {
            out.push_str(&rest[..i]);
            out.push_str(keep);
            rest = rest[i + open.len()..].split_once(close).map_or("", |(_, after)| after);
        }
        out.push_str(rest);
        out
    }

    /// The words a template writes itself, outside expressions, tags and attributes that are not shown.
    fn literal_words(template: &str) -> Vec<String> {
        let mut s = strip(template, "{#", "#}", " ");
        s = strip(&s, "{%", "%}", " ");
        s = strip(&s, "{{", "}}", " ");
        // attributes a person reads or hears
        let mut shown = Vec::new();
        for attr in ["aria-label=\"", "placeholder=\"", "title=\"", "alt=\""] {
            for part in s.split(attr).skip(1) {
                shown.push(part.split('"').next().unwrap_or("").to_string());
            }
        }
        let text = strip(&s, "<", ">", " ");
        shown.extend(text.split_whitespace().map(str::to_string));
        shown
            .into_iter()
            .filter(|w| w.chars().any(char::is_alphabetic))
            .filter(|w| w != "chibo" && w != "doctype")
            .collect()
    }

    #[test]
    fn no_template_writes_words_of_its_own() {
        let mut checked = 0;
        let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let words = literal_words(&std::fs::read_to_string(&path).unwrap());
                assert!(words.is_empty(), "{} writes words outside the catalogs: {words:?}", path.display());
                checked += 1;
            }
        }
        assert!(checked >= 27, "{checked} templates");
        // the check can fail
        assert_eq!(literal_words("<p title=\"Xem\">{{ x }} Đăng nhập</p>"), ["Xem", "Đăng", "nhập"]);
    }

    #[test]
    fn every_key_used_is_in_both_catalogs() {
        let vi: std::collections::HashSet<&str> = parse(VI).into_iter().map(|(k, _)| k).collect();
        let mut sources = Vec::new();
        for dir in ["templates", "src"] {
            let mut stack = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(d).unwrap().flatten() {
                    if e.path().is_dir() {
                        stack.push(e.path());
                    } else {
                        sources.push((e.path(), std::fs::read_to_string(e.path()).unwrap_or_default()));
                    }
                }
            }
        }
        let mut used = 0;
        // (this file's own examples and tests are not uses)
        for (path, text) in sources.iter().filter(|(p, _)| !p.ends_with("i18n.rs")) {
            for call in ["crate::tr(\"", "crate::tr1(\"", "crate::tr2(\""] {
                for part in text.split(call).skip(1) {
                    let key = part.split('"').next().unwrap();
                    used += 1;
                    assert!(vi.contains(key), "{}: {key} is in no catalog", path.display());
                }
            }
        }
        assert!(used > 50, "{used} keys used");
        for m in crate::domain::vocab::Metric::ALL {
            assert!(vi.contains(m.label_key()), "{}", m.label_key());
        }
        for e in ["login.locked", "login.wrong"] {
            assert!(vi.contains(e), "{e}");
        }
    }
}
