//! Ordered key/value parameters from query strings, form bodies and multipart
//! parts. Duplicates are kept in wire order; nothing is re-encoded.

use std::borrow::Cow;

use url::form_urlencoded;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn new() -> Self {
        Params::default()
    }

    /// Parses `a=1&b=2` (a URL query or a form body): `+` is a space and
    /// percent-escapes are decoded once, so `cd%5Bx%5D` and `cd[x]` are one key.
    pub fn parse(s: &str) -> Self {
        Params::parse_bytes(s.as_bytes())
    }

    pub fn parse_bytes(b: &[u8]) -> Self {
        let pairs = form_urlencoded::parse(b)
            .filter(|(k, v)| !(k.is_empty() && v.is_empty()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Params { pairs }
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Params { pairs }
    }

    pub fn push(&mut self, k: impl Into<String>, v: impl Into<String>) {
        self.pairs.push((k.into(), v.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// First value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// First non-empty value of `key`.
    pub fn get_nonempty(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `prefix[inner]=v` pairs as `(inner, v)`: `bracketed("cd")` yields
    /// `("buttonText", "Refill")` for `cd[buttonText]=Refill`.
    pub fn bracketed<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.pairs.iter().filter_map(move |(k, v)| {
            let rest = k.strip_prefix(prefix)?.strip_prefix('[')?;
            let inner = rest.strip_suffix(']')?;
            Some((inner, v.as_str()))
        })
    }

    /// Keys starting with `prefix` (e.g. `ep.`), as `(rest, value)`.
    pub fn prefixed<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.pairs
            .iter()
            .filter_map(move |(k, v)| Some((k.strip_prefix(prefix)?, v.as_str())))
    }

    /// Overlays `other` on `self`: keys present in `other` replace all of
    /// `self`'s values for that key (GA4 body lines over URL params; Meta body
    /// over query).
    pub fn overlay(&self, other: &Params) -> Params {
        let mut pairs: Vec<(String, String)> = self
            .pairs
            .iter()
            .filter(|(k, _)| !other.contains(k))
            .cloned()
            .collect();
        pairs.extend(other.pairs.iter().cloned());
        Params { pairs }
    }

    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.pairs
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// Percent-decodes a string once (no `+` handling: for paths and cookie values).
pub fn percent_decode(s: &str) -> Cow<'_, str> {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy()
}

/// Parses a value that may be JSON (`{...}` or `[...]`). Returns the string
/// itself when it isn't valid JSON: the wire value is never lost.
pub fn json_or_string(v: &str) -> serde_json::Value {
    let t = v.trim_start();
    if (t.starts_with('{') || t.starts_with('['))
        && let Ok(j) = serde_json::from_str::<serde_json::Value>(v)
    {
        return j;
    }
    serde_json::Value::String(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_encoded_or_not_are_one_key() {
        let p = Params::parse("cd%5BbuttonText%5D=Refill+now&cd[x]=1&ud%5Bem%5D=ab");
        let cd: Vec<_> = p.bracketed("cd").collect();
        assert_eq!(cd, vec![("buttonText", "Refill now"), ("x", "1")]);
        assert_eq!(p.bracketed("ud").next(), Some(("em", "ab")));
    }

    #[test]
    fn duplicates_kept_and_overlay_replaces() {
        let base = Params::parse("v=2&tid=G-1&en=page_view&expv2[]=a&expv2[]=b");
        assert_eq!(base.get_all("expv2[]").count(), 2);
        let line = Params::parse("en=scroll&epn.percent_scrolled=90");
        let m = base.overlay(&line);
        assert_eq!(m.get("en"), Some("scroll"));
        assert_eq!(m.get("tid"), Some("G-1"));
        assert_eq!(m.get_all("en").count(), 1);
    }

    #[test]
    fn json_values_parse_with_fallback() {
        assert!(json_or_string(r#"{"a":1}"#).is_object());
        assert_eq!(
            json_or_string("{oops"),
            serde_json::Value::String("{oops".into())
        );
        // 19-digit ids survive (arbitrary_precision).
        let j = json_or_string(r#"[1234567890123456789]"#);
        assert_eq!(j.to_string(), "[1234567890123456789]");
    }
}
