//! Vietnamese text: accent-free search keys and the order of names in lists.

/// Each vowel with its five tone marks, in the order huyền, sắc, hỏi, ngã, nặng.
const TONED: [(char, &str); 12] = [
    ('a', "àáảãạ"),
    ('ă', "ằắẳẵặ"),
    ('â', "ầấẩẫậ"),
    ('e', "èéẻẽẹ"),
    ('ê', "ềếểễệ"),
    ('i', "ìíỉĩị"),
    ('o', "òóỏõọ"),
    ('ô', "ồốổỗộ"),
    ('ơ', "ờớởỡợ"),
    ('u', "ùúủũụ"),
    ('ư', "ừứửữự"),
    ('y', "ỳýỷỹỵ"),
];

/// A lower-case letter split into its letter (with ă â đ ê ô ơ ư kept) and its tone (0 = none … 5 = nặng).
fn split_tone(c: char) -> (char, u8) {
    for (base, forms) in TONED {
        if let Some(i) = forms.chars().position(|f| f == c) {
            return (base, i as u8 + 1);
        }
    }
    (c, 0)
}

/// The Latin letter under a Vietnamese one: ă â → a, đ → d, ê → e, ô ơ → o, ư → u.
fn plain(c: char) -> char {
    match c {
        'ă' | 'â' => 'a',
        'đ' => 'd',
        'ê' => 'e',
        'ô' | 'ơ' => 'o',
        'ư' => 'u',
        c => c,
    }
}

/// Lower case without accents or tones, single-spaced: "Nguyễn  Thị Hòa" → "nguyen thi hoa".
/// Search compares these, so that "nguyen thi" finds "Nguyễn Thị …".
pub fn search_key(s: &str) -> String {
    let folded: String = s.chars().flat_map(char::to_lowercase).map(|c| plain(split_tone(c).0)).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A key that sorts words in Vietnamese alphabetical order: letters first (a < ă < â < b … d < đ …, where
/// ă, â, đ, ê, ô, ơ, ư are letters of their own), tone marks only to break ties.
pub fn collation_key(s: &str) -> (String, String) {
    let mut letters = String::new();
    let mut tones = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        let (letter, tone) = split_tone(c);
        let rank = match letter {
            'ă' | 'đ' | 'ê' | 'ô' | 'ư' => '1',
            'â' | 'ơ' => '2',
            _ => '0',
        };
        letters.push(plain(letter));
        letters.push(rank);
        tones.push(char::from(b'0' + tone));
    }
    (letters, tones)
}

/// Vietnamese lists order people by given name (the last word), then by the whole name.
pub fn name_order_key(full_name: &str) -> ((String, String), (String, String)) {
    let given = full_name.split_whitespace().last().unwrap_or_default();
    (collation_key(given), collation_key(full_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_key_drops_accents_tones_and_case() {
        assert_eq!(search_key("Nguyễn  Thị Hòa"), "nguyen thi hoa");
        assert_eq!(search_key("ĐẶNG Văn Quý"), "dang van quy");
        assert_eq!(search_key("H'Mông"), "h'mong");
        assert_eq!(search_key("Lường Thị Ưng"), "luong thi ung");
    }

    #[test]
    fn names_sort_by_given_name_in_vietnamese_order() {
        let mut names = vec![
            "Nguyễn Văn Bình",
            "Hoàng Thị Ánh",
            "Đặng Thị An",
            "Lý Văn Anh",
            "Ma Văn Đức",
            "Triệu Văn Dũng",
            "Bàn Thị Ân",
        ];
        names.sort_by_cached_key(|n| name_order_key(n));
        assert_eq!(
            names,
            [
                "Đặng Thị An",
                "Lý Văn Anh",
                "Hoàng Thị Ánh",
                "Bàn Thị Ân",
                "Nguyễn Văn Bình",
                "Triệu Văn Dũng",
                "Ma Văn Đức",
            ]
        );
    }
}
