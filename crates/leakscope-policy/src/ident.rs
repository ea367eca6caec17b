//! `user_data` identifiers: Meta's normalisation, SHA-256, and the
//! already-hashed test (wire-formats.md §3.3).

use sha2::{Digest, Sha256};

/// Keys Meta wants SHA-256 hashed after normalisation.
pub const HASHED_KEYS: &[&str] = &[
    "em",
    "ph",
    "fn",
    "ln",
    "db",
    "ge",
    "ct",
    "st",
    "zp",
    "country",
    "external_id",
    "f5first",
    "f5last",
    "fi",
    "dobd",
    "dobm",
    "doby",
];

/// Keys Meta requires in plaintext (hashing them would break matching):
/// one list with the CAPI decoder.
pub use leakscope_core::decode::meta::CAPI_PLAIN_KEYS as PLAIN_KEYS;

/// Is `v` already a hash Meta accepts: 64 hex digits (any case), optionally
/// followed by a param-builder appendix (`.AQYCAQMA`, `.AQ`). MD5 (32 hex)
/// counts too, except for `external_id`, which may be a dashless uuid.
pub fn is_hashed(key: &str, v: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let base = match v.split_once('.') {
        Some((h, app))
            if (app.len() == 2 || app.len() == 8)
                && app
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
        {
            h
        }
        _ => v,
    };
    hex(base, 64) || (key != "external_id" && hex(base, 32))
}

/// SHA-256 lowercase hex.
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Meta's normalisation of a plaintext value for `key`; `None` when nothing
/// usable is left (an empty name, a date that is not a date).
pub fn normalize(key: &str, v: &str) -> Option<String> {
    let t = v.trim();
    let out = match key {
        "em" => {
            let e = t.to_lowercase();
            // Meta's SDK refuses what is not `.+@.+\..+`.
            let (local, domain) = e.split_once('@')?;
            if local.is_empty() || !domain.contains('.') || domain.ends_with('.') {
                return None;
            }
            e
        }
        "ph" => {
            let d: String = t.chars().filter(char::is_ascii_digit).collect();
            let d = d.trim_start_matches('0').to_owned();
            if d.len() < 7 {
                return None;
            }
            d
        }
        "fn" | "ln" => name(t),
        "f5first" | "f5last" => name(t).chars().take(5).collect(),
        "fi" => name(t).chars().next()?.to_string(),
        "ct" => t
            .chars()
            .filter(|c| c.is_alphabetic())
            .flat_map(char::to_lowercase)
            .collect(),
        "st" => state(t)?,
        "zp" => zip(t)?,
        "country" => country(t)?,
        "db" => date(t)?,
        "dobd" => two_digits(t, 1, 31)?,
        "dobm" => two_digits(t, 1, 12)?,
        "doby" => {
            let y: String = t.chars().filter(char::is_ascii_digit).collect();
            if y.len() != 4 {
                return None;
            }
            y
        }
        "ge" => match t.to_lowercase().as_str() {
            "f" | "female" | "woman" | "w" => "f".into(),
            "m" | "male" | "man" => "m".into(),
            _ => return None,
        },
        // Any stable id, as the site sent it.
        "external_id" => t.to_owned(),
        _ => return None,
    };
    (!out.is_empty()).then_some(out)
}

/// Lower-case, punctuation removed, inner spaces kept single.
fn name(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for w in t.split_whitespace() {
        let w: String = w
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        if w.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&w);
    }
    out
}

fn two_digits(t: &str, lo: u32, hi: u32) -> Option<String> {
    let n: u32 = t.trim().parse().ok()?;
    (lo..=hi).contains(&n).then(|| format!("{n:02}"))
}

/// `YYYYMMDD` from `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD` or US `MM/DD/YYYY`.
fn date(t: &str) -> Option<String> {
    let parts: Vec<&str> = t
        .split(['-', '/', '.', ' '])
        .filter(|p| !p.is_empty())
        .collect();
    let (y, m, d) = match parts.as_slice() {
        [one] if one.len() == 8 && one.bytes().all(|b| b.is_ascii_digit()) => {
            (&one[..4], &one[4..6], &one[6..])
        }
        [y, m, d] if y.len() == 4 => (*y, *m, *d),
        [m, d, y] if y.len() == 4 => (*y, *m, *d),
        _ => return None,
    };
    let y: u32 = y.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    let d: u32 = d.parse().ok()?;
    let ok = (1900..=2100).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d);
    ok.then(|| format!("{y:04}{m:02}{d:02}"))
}

/// US ZIP: first 5 digits; elsewhere lower-case without spaces or dashes.
fn zip(t: &str) -> Option<String> {
    let c: String = t
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    let us = t.trim().split('-').next().unwrap_or("");
    if us.len() == 5 && us.bytes().all(|b| b.is_ascii_digit()) {
        return Some(us.to_owned());
    }
    if c.len() == 9 && c.bytes().all(|b| b.is_ascii_digit()) {
        return Some(c[..5].to_owned());
    }
    (!c.is_empty()).then_some(c)
}

fn letters_lower(t: &str) -> String {
    t.chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Two-letter code: US state names become their ANSI code; anything else
/// lower-case without punctuation or spaces (Meta's rule outside the US).
fn state(t: &str) -> Option<String> {
    let l = letters_lower(t);
    if l.len() == 2 {
        return Some(l);
    }
    let spaced: String = t
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    US_STATES
        .iter()
        .find(|(n, _)| *n == spaced)
        .map(|(_, c)| (*c).to_owned())
        .or((!l.is_empty()).then_some(l))
}

/// ISO 3166-1 alpha-2, lower-case; a few common spellings mapped.
fn country(t: &str) -> Option<String> {
    let l = letters_lower(t);
    if l.len() == 2 {
        return Some(l);
    }
    let code = match l.as_str() {
        "usa" | "unitedstates" | "unitedstatesofamerica" => "us",
        "uk" | "unitedkingdom" | "greatbritain" | "gbr" => "gb",
        "canada" | "can" => "ca",
        "germany" | "deu" => "de",
        "france" | "fra" => "fr",
        "mexico" | "mex" => "mx",
        "australia" | "aus" => "au",
        _ => return None,
    };
    Some(code.into())
}

const US_STATES: &[(&str, &str)] = &[
    ("alabama", "al"),
    ("alaska", "ak"),
    ("arizona", "az"),
    ("arkansas", "ar"),
    ("california", "ca"),
    ("colorado", "co"),
    ("connecticut", "ct"),
    ("delaware", "de"),
    ("district of columbia", "dc"),
    ("florida", "fl"),
    ("georgia", "ga"),
    ("hawaii", "hi"),
    ("idaho", "id"),
    ("illinois", "il"),
    ("indiana", "in"),
    ("iowa", "ia"),
    ("kansas", "ks"),
    ("kentucky", "ky"),
    ("louisiana", "la"),
    ("maine", "me"),
    ("maryland", "md"),
    ("massachusetts", "ma"),
    ("michigan", "mi"),
    ("minnesota", "mn"),
    ("mississippi", "ms"),
    ("missouri", "mo"),
    ("montana", "mt"),
    ("nebraska", "ne"),
    ("nevada", "nv"),
    ("new hampshire", "nh"),
    ("new jersey", "nj"),
    ("new mexico", "nm"),
    ("new york", "ny"),
    ("north carolina", "nc"),
    ("north dakota", "nd"),
    ("ohio", "oh"),
    ("oklahoma", "ok"),
    ("oregon", "or"),
    ("pennsylvania", "pa"),
    ("rhode island", "ri"),
    ("south carolina", "sc"),
    ("south dakota", "sd"),
    ("tennessee", "tn"),
    ("texas", "tx"),
    ("utah", "ut"),
    ("vermont", "vt"),
    ("virginia", "va"),
    ("washington", "wa"),
    ("west virginia", "wv"),
    ("wisconsin", "wi"),
    ("wyoming", "wy"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_doc_vectors() {
        let em = normalize("em", "  John_Smith@gmail.com ").unwrap();
        assert_eq!(
            sha256_hex(&em),
            "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
        );
        let ph = normalize("ph", "+1 (650) 555-1212").unwrap();
        assert_eq!(ph, "16505551212");
        assert_eq!(
            sha256_hex(&ph),
            "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
        );
        assert_eq!(
            sha256_hex(&normalize("fn", "Mary").unwrap()),
            "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"
        );
    }

    #[test]
    fn normalises_each_key_like_meta() {
        let n = |k, v| normalize(k, v);
        assert_eq!(
            n("ph", "0044 20 7946 0018").as_deref(),
            Some("442079460018")
        );
        assert_eq!(n("fn", "  O'Brien-Smith ").as_deref(), Some("obriensmith"));
        assert_eq!(n("ln", "José").as_deref(), Some("josé"));
        assert_eq!(n("ct", "Menlo Park").as_deref(), Some("menlopark"));
        assert_eq!(n("ct", "St. Louis 2").as_deref(), Some("stlouis"));
        assert_eq!(n("st", "CA").as_deref(), Some("ca"));
        assert_eq!(n("st", "New York").as_deref(), Some("ny"));
        assert_eq!(n("zp", "94025-1234").as_deref(), Some("94025"));
        assert_eq!(n("zp", "SW1A 1AA").as_deref(), Some("sw1a1aa"));
        assert_eq!(n("country", "US").as_deref(), Some("us"));
        assert_eq!(n("country", "United States").as_deref(), Some("us"));
        assert_eq!(n("country", "Narnia"), None);
        assert_eq!(n("db", "1990-01-15").as_deref(), Some("19900115"));
        assert_eq!(n("db", "01/15/1990").as_deref(), Some("19900115"));
        assert_eq!(n("db", "19900115").as_deref(), Some("19900115"));
        assert_eq!(n("db", "1990-13-15"), None);
        assert_eq!(n("ge", "Female").as_deref(), Some("f"));
        assert_eq!(n("ge", "x"), None);
        assert_eq!(n("em", "not-an-email"), None);
        assert_eq!(
            n("external_id", " Cust-0042 ").as_deref(),
            Some("Cust-0042")
        );
    }

    #[test]
    fn hashes_are_recognised_with_and_without_appendix() {
        let h = sha256_hex("x");
        assert!(is_hashed("em", &h));
        assert!(is_hashed("em", &h.to_uppercase()));
        assert!(is_hashed("em", &format!("{h}.AQYCAQMA")));
        assert!(is_hashed("em", "0cc175b9c0f1b6a831c399e269772661"));
        assert!(!is_hashed(
            "external_id",
            "0cc175b9c0f1b6a831c399e269772661"
        ));
        assert!(!is_hashed("em", "jane@example.com"));
    }
}
