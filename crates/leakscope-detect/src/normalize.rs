//! Text normalisation shared by the lexicon and the matcher: the same rule
//! produced the lexicon's terms, so a match on normalised text is a match of
//! whole tokens (health-and-law.md §4.4).
//!
//! Rule: URL-decode (up to twice, `+` to space), split camelCase/PascalCase,
//! lower-case, strip diacritics, every run of non-alphanumerics becomes one
//! space. Letters and digits stay together (`b12`, `f32`): splitting them
//! would turn doses into terms.

use std::borrow::Cow;

/// Percent-decodes `s` (twice if the first pass leaves escapes, as when a
/// page URL travels inside a tracker URL) and turns `+` into a space.
/// Borrowed when there is nothing to decode.
pub fn url_decode(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(s);
    }
    let once = decode_pass(s);
    if has_escape(&once) {
        Cow::Owned(decode_pass(&once))
    } else {
        Cow::Owned(once)
    }
}

fn has_escape(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

fn decode_pass(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Normalises `input` into `out` as ` tok tok tok ` (a space at each end, so
/// padded patterns match whole tokens only). `offs[i]` is the byte offset in
/// `input` of the character that produced `out`'s byte `i`. Both buffers are
/// cleared first and reused across calls: no allocation once they are warm.
pub fn normalize_into(input: &str, out: &mut String, offs: &mut Vec<u32>) {
    out.clear();
    offs.clear();
    out.push(' ');
    offs.push(0);
    // Previous character class: 0 none/separator, 1 lower, 2 upper, 3 digit/other.
    let mut prev = 0u8;
    let mut chars = input.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let at = i as u32;
        if !c.is_alphanumeric() {
            // Apostrophes inside words ("alzheimer's") also split: the lexicon
            // was written with the same rule.
            sep(out, offs, at);
            prev = 0;
            continue;
        }
        let class = if c.is_lowercase() {
            1
        } else if c.is_uppercase() {
            2
        } else {
            3
        };
        if class == 2 {
            let next_lower = chars.peek().is_some_and(|&(_, n)| n.is_lowercase());
            // camelCase (`bookAppointment`) and an acronym before a word (`HIVTest`).
            if prev == 1 || (prev == 2 && next_lower) {
                sep(out, offs, at);
            }
        }
        prev = class;
        push_folded(c, out, offs, at);
    }
    sep(out, offs, input.len() as u32);
}

fn sep(out: &mut String, offs: &mut Vec<u32>, at: u32) {
    if !out.ends_with(' ') {
        out.push(' ');
        offs.push(at);
    }
}

fn push_folded(c: char, out: &mut String, offs: &mut Vec<u32>, at: u32) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        offs.push(at);
        return;
    }
    let folded = fold(c);
    let start = out.len();
    match folded {
        Some(s) => out.push_str(s),
        None => out.extend(c.to_lowercase()),
    }
    for _ in start..out.len() {
        offs.push(at);
    }
}

/// Diacritics of Latin-1 and Latin Extended-A, folded to ASCII (é→e, ß→ss).
/// Enough for the languages health sites in our corpus use; other scripts
/// are lower-cased and kept.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'À'..='Å' | 'à'..='å' | 'Ā'..='ą' => "a",
        'Æ' | 'æ' => "ae",
        'Ç' | 'ç' | 'Ć'..='č' => "c",
        'Ď'..='đ' | 'Ð' | 'ð' => "d",
        'È'..='Ë' | 'è'..='ë' | 'Ē'..='ě' => "e",
        'Ĝ'..='ģ' => "g",
        'Ĥ'..='ħ' => "h",
        'Ì'..='Ï' | 'ì'..='ï' | 'Ĩ'..='ı' => "i",
        'Ĵ' | 'ĵ' => "j",
        'Ķ' | 'ķ' => "k",
        'Ĺ'..='ł' => "l",
        'Ñ' | 'ñ' | 'Ń'..='ŉ' => "n",
        'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' | 'Ō'..='ő' => "o",
        'Œ' | 'œ' => "oe",
        'Ŕ'..='ř' => "r",
        'Ś'..='š' => "s",
        'ß' => "ss",
        'Ţ'..='ŧ' => "t",
        'Ù'..='Ü' | 'ù'..='ü' | 'Ũ'..='ų' => "u",
        'Ŵ' | 'ŵ' => "w",
        'Ý' | 'ý' | 'ÿ' | 'Ŷ' | 'ŷ' | 'Ÿ' => "y",
        'Ź'..='ž' => "z",
        'Þ' | 'þ' => "th",
        _ => return None,
    })
}

/// The normalised form of `s`, trimmed: what a lexicon term must equal.
pub fn normalize(s: &str) -> String {
    let decoded = url_decode(s);
    let mut out = String::new();
    let mut offs = Vec::new();
    normalize_into(&decoded, &mut out, &mut offs);
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lexicon_rule() {
        assert_eq!(normalize("Plan%20B"), "plan b");
        assert_eq!(
            normalize("birth+control+consultation"),
            "birth control consultation"
        );
        assert_eq!(normalize("%253Fq%253Dplan%252Bb"), "q plan b");
        assert_eq!(
            normalize("R_SELECT_LAST_PERIOD_DATE"),
            "r select last period date"
        );
        assert_eq!(normalize("bookAppointment"), "book appointment");
        assert_eq!(normalize("HIVTestKit"), "hiv test kit");
        assert_eq!(normalize("morning-after-pill"), "morning after pill");
        assert_eq!(normalize("Alzheimer's Disease"), "alzheimer s disease");
        assert_eq!(normalize("Crème  Brûlée — Café"), "creme brulee cafe");
        assert_eq!(
            normalize("Levonorgestrel 1.5 mg Tablet"),
            "levonorgestrel 1 5 mg tablet"
        );
        assert_eq!(normalize("vitamin B12"), "vitamin b12");
        assert_eq!(normalize("Straße"), "strasse");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("%E2%82"), "");
    }

    #[test]
    fn offsets_point_back_at_the_input() {
        let input = "Buy PlanB";
        let mut out = String::new();
        let mut offs = Vec::new();
        normalize_into(input, &mut out, &mut offs);
        assert_eq!(out, " buy plan b ");
        assert_eq!(offs.len(), out.len());
        let p = out.find("plan").unwrap_or(0);
        assert_eq!(&input[offs[p] as usize..], "PlanB");
    }

    #[test]
    fn broken_escapes_are_kept() {
        assert_eq!(url_decode("100%"), "100%");
        assert_eq!(url_decode("a%2"), "a%2");
        assert_eq!(url_decode("%zz"), "%zz");
    }
}
