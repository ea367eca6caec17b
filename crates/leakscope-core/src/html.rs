//! Credentials out of HTML evidence. A scan keeps the DOM of every step, and
//! pages carry secrets a reader of the evidence must not get: CSRF tokens in
//! hidden inputs and `<meta>` tags, a typed password, access tokens in links
//! and inline scripts, JWTs. [`redact_secrets`] replaces each such value with
//! a note of its length (as [`crate::decode::redact_url`] does for URLs) and
//! leaves every other byte alone, so the snapshot still shows what the page
//! was and what personal data it held. It is a scanner over hostile text, not
//! an HTML parser: linear time, never fails, and idempotent.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::decode::{SECRET_QUERY_KEYS, is_secret_key, meta::redacted};

/// What [`redact_secrets`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlRedaction<'a> {
    pub html: Cow<'a, str>,
    /// One entry per value replaced, naming its kind (`csrf field`...).
    pub kinds: Vec<&'static str>,
}

fn is_note(v: &str) -> bool {
    v.starts_with("[redacted")
}

/// Form and meta fields whose value is a credential, by their name or id:
/// the query keys of [`SECRET_QUERY_KEYS`] plus the names frameworks give
/// CSRF tokens (`csrf-token`, `csrfmiddlewaretoken`, `authenticity_token`,
/// `_token`, `__RequestVerificationToken`, `_wpnonce`) and session fields.
fn credential_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    const PARTS: &[&str] = &[
        "csrf", "xsrf", "token", "nonce", "secret", "passw", "session", "jwt", "api_key", "apikey",
    ];
    is_secret_key(&n) || PARTS.iter().any(|p| n.contains(p))
}

static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<(?:input|meta)\b(?:[^>"']|"[^"]*"|'[^']*')*>"#).expect("tag pattern")
});
static ATTR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))"#)
        .expect("attribute pattern")
});
static KEYS: LazyLock<String> = LazyLock::new(|| {
    SECRET_QUERY_KEYS
        .iter()
        .map(|k| regex::escape(k))
        .collect::<Vec<_>>()
        .join("|")
});
/// `?access_token=…` / `&amp;access_token=…` in any attribute or text.
static QUERY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)((?:[?&;]|&amp;)(?:{})=)([^&"'<>\s#]+)"#,
        *KEYS
    ))
    .expect("query pattern")
});
/// `"access_token": "…"` / `access_token: '…'` in inline scripts and JSON.
static SCRIPT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)(["']?\b(?:{})["']?\s*:\s*)(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')"#,
        *KEYS
    ))
    .expect("script pattern")
});
static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}").expect("jwt")
});
/// Meta (Graph API) user, page and system-user access tokens.
static META_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bEAA[A-Za-z0-9]{32,}").expect("meta token"));

/// Replaces the credentials in `html` (see the module docs).
pub fn redact_secrets(html: &str) -> HtmlRedaction<'_> {
    let mut kinds = Vec::new();
    let mut out: Cow<'_, str> = Cow::Borrowed(html);
    // A replacement can change how quotes pair up around it, so that a tag
    // only parses once a script value inside it became a note: repeat until
    // a pass finds nothing (each pass only turns values into notes, which
    // are never touched again, so this ends).
    for _ in 0..MAX_PASSES {
        let before = kinds.len();
        pass(&mut out, &mut kinds);
        if kinds.len() == before {
            break;
        }
    }
    HtmlRedaction { html: out, kinds }
}

/// Far more than real pages need (one pass, two when a tag holds a script).
const MAX_PASSES: usize = 16;

fn pass(out: &mut Cow<'_, str>, kinds: &mut Vec<&'static str>) {
    let step = |out: &mut Cow<'_, str>, re: &Regex, f: &mut dyn FnMut(&Captures) -> String| {
        // Borrowed: no match. Owned may still equal the input when every
        // match was a note already.
        if let Cow::Owned(next) = re.replace_all(out, |c: &Captures| f(c))
            && next != **out
        {
            *out = Cow::Owned(next);
        }
    };
    step(out, &TAG, &mut |c| field_tag(&c[0], kinds));
    step(out, &QUERY, &mut |c| {
        if is_note(&c[2]) {
            return c[0].to_owned();
        }
        kinds.push("credential in a URL");
        format!("{}{}", &c[1], redacted(&c[2]))
    });
    step(out, &SCRIPT, &mut |c| {
        let (quote, value) = match (c.get(2), c.get(3)) {
            (Some(v), _) => ('"', v.as_str()),
            (None, Some(v)) => ('\'', v.as_str()),
            _ => return c[0].to_owned(),
        };
        if value.is_empty() || is_note(value) {
            return c[0].to_owned();
        }
        kinds.push("credential in a script");
        format!("{}{quote}{}{quote}", &c[1], redacted(value))
    });
    step(out, &JWT, &mut |c| {
        kinds.push("jwt");
        redacted(&c[0])
    });
    step(out, &META_TOKEN, &mut |c| {
        kinds.push("access token");
        redacted(&c[0])
    });
}

/// One `<input>` or `<meta>` tag with its credential value replaced.
fn field_tag(tag: &str, kinds: &mut Vec<&'static str>) -> String {
    let is_input = tag
        .get(1..6)
        .is_some_and(|t| t.eq_ignore_ascii_case("input"));
    let target = if is_input { "value" } else { "content" };
    let mut named = false;
    let mut password = false;
    let mut value = None;
    for c in ATTR.captures_iter(tag) {
        let name = &c[1];
        let v = c.get(2).or(c.get(3)).or(c.get(4));
        let Some(v) = v else { continue };
        if name.eq_ignore_ascii_case(target) {
            value = Some(v);
        } else if name.eq_ignore_ascii_case("type") && is_input {
            password |= v.as_str().eq_ignore_ascii_case("password");
        } else if ["name", "id", "property", "http-equiv"]
            .iter()
            .any(|a| name.eq_ignore_ascii_case(a))
        {
            named |= credential_field(v.as_str());
        }
    }
    let Some(v) = value else {
        return tag.to_owned();
    };
    if !(named || password) || v.as_str().is_empty() || is_note(v.as_str()) {
        return tag.to_owned();
    }
    kinds.push(if password {
        "password field"
    } else {
        "credential field"
    });
    // The note has no quote, so it fits whatever quoting the value had.
    let note = redacted(v.as_str());
    let quoted = tag.as_bytes()[v.start() - 1];
    let note = if quoted == b'"' || quoted == b'\'' {
        note
    } else {
        format!("\"{note}\"")
    };
    format!("{}{note}{}", &tag[..v.start()], &tag[v.end()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(html: &str) -> (String, Vec<&'static str>) {
        let o = redact_secrets(html);
        (o.html.into_owned(), o.kinds)
    }

    #[test]
    fn framework_csrf_tokens_and_passwords_go() {
        let page = r#"<head><meta name="csrf-token" content="q8Zk2VbW4tN0pL7xR1sY9dE3fG6hJ5mA"><meta name="google-site-verification" content="abc123public"></head>
<form><input type="hidden" name="csrfmiddlewaretoken" value="Yt7rE2wQ9pL0kJ8hG6fD4sA1zX3cV5bN">
<input type='hidden' name='authenticity_token' value='rails+token/xyz=='>
<input name=_token value=laravelTok3n>
<input type="email" name="email" value="maria.canary.jmehw@example.com">
<input type="password" id="pw" value="hunter2-canary"></form>"#;
        let (out, kinds) = r(page);
        for secret in [
            "q8Zk2VbW4tN0pL7xR1sY9dE3fG6hJ5mA",
            "Yt7rE2wQ9pL0kJ8hG6fD4sA1zX3cV5bN",
            "rails+token/xyz==",
            "laravelTok3n",
            "hunter2-canary",
        ] {
            assert!(!out.contains(secret), "{secret} left in {out}");
        }
        // Evidence stays: the canary email, public verification tags, markup.
        assert!(out.contains("maria.canary.jmehw@example.com"));
        assert!(out.contains("abc123public"));
        assert!(out.contains(r#"<meta name="csrf-token" content="[redacted: 32 chars]">"#));
        assert!(out.contains(r#"<input name=_token value="[redacted: 12 chars]">"#));
        assert_eq!(kinds.len(), 5, "{kinds:?}");
        assert_eq!(kinds.iter().filter(|k| **k == "password field").count(), 1);
    }

    #[test]
    fn tokens_in_links_scripts_and_token_shapes_go() {
        let page = r#"<a href="https://graph.facebook.com/me?fields=id&amp;access_token=EAAB1234&amp;x=1">me</a>
<script>var cfg = {"access_token": "sk_live_canary_9f8e7d", api_key: 'k-123-canary', other: "keep"};</script>
<p>eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLXZhbHVl</p>
<p>EAAGm0PX4ZCpsBAKZBzZCanaryToken0123456789abcdefABCDEF</p>"#;
        let (out, kinds) = r(page);
        for secret in [
            "EAAB1234",
            "sk_live_canary_9f8e7d",
            "k-123-canary",
            "eyJzdWIiOiJjYW5hcnkifQ",
            "ZCanaryToken0123456789",
        ] {
            assert!(!out.contains(secret), "{secret} left in {out}");
        }
        assert!(out.contains("fields=id&amp;access_token=[redacted: 8 chars]&amp;x=1"));
        assert!(out.contains(r#"other: "keep""#));
        assert_eq!(kinds.len(), 5, "{kinds:?}");
    }

    #[test]
    fn clean_pages_are_borrowed_and_redaction_is_idempotent() {
        let clean =
            "<html><body><input name=q value=\"plan b\"><a href=\"/x?a=1\">x</a></body></html>";
        let o = redact_secrets(clean);
        assert!(matches!(o.html, Cow::Borrowed(_)));
        assert!(o.kinds.is_empty());
        let once = redact_secrets(
            "<meta name=csrf-token content=abc123><a href='?access_token=zzz'>t</a><script>x={\"password\":\"p\"}</script>",
        )
        .html
        .into_owned();
        let twice = redact_secrets(&once);
        assert_eq!(twice.html, once);
        assert!(twice.kinds.is_empty(), "{:?}", twice.kinds);
    }

    #[test]
    fn a_tag_that_parses_only_after_its_script_value_is_redacted() {
        // The escaped quote in the script value first leaves the tag unclosed.
        let page = r"<input name=csrf value=password: 'it\'s'>";
        let once = redact_secrets(page);
        assert_eq!(
            once.html,
            r#"<input name=csrf value="[redacted: 9 chars]" '[redacted: 5 chars]'>"#
        );
        assert_eq!(once.kinds.len(), 2);
        assert_eq!(redact_secrets(&once.html).html, once.html);
    }

    #[test]
    fn hostile_markup_does_not_panic() {
        for s in [
            "<input",
            "<input value=\"",
            "<meta name='csrf' content=",
            "<input name=token value=é\u{0}>",
            "?access_token=",
            "\"password\": \"\\",
            "<INPUT TYPE=PASSWORD VALUE=x>",
        ] {
            let _ = redact_secrets(s);
        }
        assert!(!r("<INPUT TYPE=PASSWORD VALUE=x>").0.contains("=x>"));
    }
}
