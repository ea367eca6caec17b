//! A Content-Security-Policy for the site owner: the origins the site's pages
//! used, per directive, without the endpoints that leaked. Chromium enforces
//! it (`scan --block csp.txt` injects it as a response header), so the check
//! is the browser's, not a matcher of ours.

use std::collections::{BTreeMap, BTreeSet};

use crate::RulesError;

/// The directives through which a page sends data out: a leak endpoint is
/// left out of all of them, whichever one it was seen under.
pub const SEND_DIRECTIVES: [&str; 4] = ["connect-src", "img-src", "frame-src", "form-action"];

/// Directives we write, in the order we write them.
const WRITTEN: [&str; 5] = [
    "script-src",
    "connect-src",
    "img-src",
    "frame-src",
    "form-action",
];

/// Directive names the CSP3 spec defines; anything else in a file is a typo.
const KNOWN: [&str; 24] = [
    "default-src",
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
    "img-src",
    "font-src",
    "connect-src",
    "media-src",
    "object-src",
    "frame-src",
    "child-src",
    "worker-src",
    "manifest-src",
    "form-action",
    "frame-ancestors",
    "base-uri",
    "sandbox",
    "report-uri",
    "report-to",
    "upgrade-insecure-requests",
    "fenced-frame-src",
];

/// A policy: directives in order, each with its sources.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Csp {
    pub directives: Vec<(String, Vec<String>)>,
}

/// The directive a request of this (Chromium) resource type falls under.
pub(crate) fn directive_of(resource_type: &str, main_frame: bool) -> Option<&'static str> {
    Some(match resource_type.to_ascii_lowercase().as_str() {
        "script" => "script-src",
        "image" => "img-src",
        "xhr" | "fetch" | "eventsource" | "websocket" | "ping" | "beacon" => "connect-src",
        "document" if !main_frame => "frame-src",
        _ => return None,
    })
}

/// `scheme://host[:port]` of a URL, for a source expression.
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    match u.scheme() {
        "http" | "https" | "ws" | "wss" => {}
        _ => return None,
    }
    let host = u.host_str()?;
    Some(match u.port() {
        Some(p) => format!("{}://{host}:{p}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    })
}

/// `scheme://host[:port]/path` (no query): a source that allows one path.
fn path_source(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let origin = origin_of(url)?;
    // `;` and `,` end a source list; such a path cannot be allowed alone.
    let path = u.path();
    if path.contains([';', ',', ' ']) {
        return None;
    }
    Some(format!("{origin}{path}"))
}

/// What the builder is told: every request of the site's pages.
pub(crate) struct Seen<'a> {
    pub url: &'a str,
    pub directive: &'static str,
}

impl Csp {
    /// Builds the policy: `'self'` and every origin seen per directive,
    /// except the leak endpoints' origins in the send directives, where the
    /// other paths seen on those origins are allowed one by one.
    pub(crate) fn build(
        seen: &[Seen<'_>],
        leaks: &BTreeSet<String>,
        own: &BTreeSet<String>,
    ) -> Csp {
        let leak_origins: BTreeSet<String> = leaks
            .iter()
            .filter_map(|u| origin_of(u))
            .filter(|o| !own.contains(o))
            .collect();
        let mut by: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for s in seen {
            let Some(origin) = origin_of(s.url) else {
                continue;
            };
            if own.contains(&origin) {
                continue;
            }
            let refused = leak_origins.contains(&origin)
                && (SEND_DIRECTIVES.contains(&s.directive) || leaks.contains(s.url));
            let set = by.entry(s.directive).or_default();
            if !refused {
                set.insert(origin);
            } else if !leaks.contains(s.url)
                && let Some(p) = path_source(s.url)
                && !leaks
                    .iter()
                    .any(|l| path_source(l).as_deref() == Some(p.as_str()))
            {
                set.insert(p);
            }
        }
        let mut directives = Vec::new();
        for d in WRITTEN {
            let mut sources = vec!["'self'".to_owned()];
            match d {
                // Inline scripts and tag managers' eval keep working: this
                // policy is about where data goes, not script injection.
                "script-src" => sources.extend(["'unsafe-inline'".into(), "'unsafe-eval'".into()]),
                "img-src" => sources.extend(["data:".into(), "blob:".into()]),
                "connect-src" => sources.push("blob:".into()),
                _ => {}
            }
            sources.extend(by.remove(d).unwrap_or_default());
            directives.push((d.to_owned(), sources));
        }
        Csp { directives }
    }

    /// The header's value: `script-src 'self' …; connect-src …`.
    pub fn header_value(&self) -> String {
        self.directives
            .iter()
            .map(|(d, s)| {
                if s.is_empty() {
                    d.clone()
                } else {
                    format!("{d} {}", s.join(" "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sources of one directive.
    pub fn sources(&self, directive: &str) -> &[String] {
        self.directives
            .iter()
            .find(|(d, _)| d == directive)
            .map_or(&[], |(_, s)| s.as_slice())
    }

    /// Reads a CSP file: `#` comments, then one `Content-Security-Policy:`
    /// line (the format `leakscope rules` writes, and what a server sends).
    pub fn parse(list: &str, text: &str) -> Result<Csp, RulesError> {
        let err = |line: usize, message: String| RulesError::Csp {
            list: list.to_owned(),
            line,
            message,
        };
        let mut found = None;
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if found.is_some() {
                return Err(err(
                    i + 1,
                    "a second policy line; write one `Content-Security-Policy:` line".into(),
                ));
            }
            let Some((name, value)) = t.split_once(':') else {
                return Err(err(i + 1, "expected `Content-Security-Policy: …`".into()));
            };
            if !name.trim().eq_ignore_ascii_case("content-security-policy") {
                return Err(err(
                    i + 1,
                    format!(
                        "expected `Content-Security-Policy:`, found {:?}",
                        name.trim()
                    ),
                ));
            }
            found = Some((i + 1, value.trim().to_owned()));
        }
        let Some((line, value)) = found else {
            return Err(RulesError::Empty {
                list: list.to_owned(),
            });
        };
        let mut directives = Vec::new();
        for part in value.split(';') {
            let mut words = part.split_whitespace();
            let Some(name) = words.next() else { continue };
            let name = name.to_ascii_lowercase();
            if !KNOWN.contains(&name.as_str()) {
                return Err(err(line, format!("{name:?} is not a CSP directive")));
            }
            let sources: Vec<String> = words.map(str::to_owned).collect();
            if let Some(bad) = sources
                .iter()
                .find(|s| s.chars().any(|c| c.is_control() || c == ','))
            {
                return Err(err(line, format!("{name}: {bad:?} is not a source")));
            }
            directives.push((name, sources));
        }
        if directives.is_empty() {
            return Err(err(line, "the policy has no directive".into()));
        }
        Ok(Csp { directives })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leak_origins_leave_the_send_directives_and_other_paths_stay() {
        let seen = [
            Seen {
                url: "https://connect.facebook.net/en_US/fbevents.js",
                directive: "script-src",
            },
            Seen {
                url: "https://www.facebook.com/tr/?id=1&ev=PageView&dl=x",
                directive: "img-src",
            },
            Seen {
                url: "https://www.facebook.com/plugins/like.php?href=x",
                directive: "frame-src",
            },
            Seen {
                url: "https://cdn.example-cdn.test/a.png",
                directive: "img-src",
            },
            Seen {
                url: "https://pharmacy.test/api/cart",
                directive: "connect-src",
            },
        ];
        let leaks =
            BTreeSet::from(["https://www.facebook.com/tr/?id=1&ev=PageView&dl=x".to_owned()]);
        let own = BTreeSet::from(["https://pharmacy.test".to_owned()]);
        let csp = Csp::build(&seen, &leaks, &own);
        assert!(
            csp.sources("script-src")
                .contains(&"https://connect.facebook.net".to_owned())
        );
        assert!(
            !csp.sources("img-src")
                .iter()
                .any(|s| s.contains("facebook.com"))
        );
        assert!(
            csp.sources("img-src")
                .contains(&"https://cdn.example-cdn.test".to_owned())
        );
        assert_eq!(
            csp.sources("frame-src"),
            ["'self'", "https://www.facebook.com/plugins/like.php"]
        );
        let text = format!("# x\nContent-Security-Policy: {}\n", csp.header_value());
        assert_eq!(Csp::parse("csp.txt", &text).unwrap(), csp);
    }

    #[test]
    fn bad_files_say_where() {
        let e = Csp::parse("c.txt", "\nContent-Security-Policy: img-scr 'self'\n").unwrap_err();
        assert_eq!(e.to_string(), "c.txt:2: \"img-scr\" is not a CSP directive");
        let e = Csp::parse("c.txt", "X-Frame-Options: deny\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("expected `Content-Security-Policy:`")
        );
    }
}
