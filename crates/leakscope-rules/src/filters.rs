//! Filter lists, parsed and matched by Brave's `adblock` engine only: this
//! module decides which lines are rules, hands them to the engine, and turns
//! its answers into a [`Verdict`].

use adblock::Engine;
use adblock::lists::{FilterFormat, FilterSet, ParseOptions, RuleTypes, parse_filter};
use adblock::request::Request;

use crate::RulesError;
use crate::csp::Csp;

/// What the browser should do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Refuse it; `rule` is the filter that matched, when the engine says.
    Block {
        rule: Option<String>,
    },
    /// Send it to this URL instead (`$removeparam` took parameters out).
    Rewrite {
        url: String,
        rule: Option<String>,
    },
}

/// One request as the engine needs it.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    pub url: &'a str,
    /// The page (or frame) the request belongs to: `$domain=` and
    /// third-party options are read against it.
    pub source_url: &'a str,
    /// An adblock request type (`script`, `image`, `xmlhttprequest`, `ping`,
    /// `sub_frame`, `document`…): see [`resource_type`].
    pub resource_type: &'a str,
    pub method: &'a str,
}

/// The adblock request type for a resource type as Chromium (CDP, HAR
/// `_resourceType`) names it. `main_frame` tells a top-level document from
/// a frame's.
pub fn resource_type(cdp: &str, main_frame: bool) -> &'static str {
    match cdp.to_ascii_lowercase().as_str() {
        "document" if main_frame => "document",
        "document" => "sub_frame",
        "stylesheet" => "stylesheet",
        "image" => "image",
        "media" => "media",
        "font" => "font",
        "script" => "script",
        "xhr" | "fetch" | "eventsource" | "preflight" => "xmlhttprequest",
        "websocket" => "websocket",
        "ping" | "beacon" => "ping",
        "cspviolationreport" | "csp_report" => "csp_report",
        _ => "other",
    }
}

/// A compiled filter list: compile once, query many (thread-safe).
pub struct Blocker {
    engine: Engine,
    rules: usize,
    /// Cosmetic rules and other lines the network engine does not use.
    skipped: usize,
}

impl std::fmt::Debug for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blocker")
            .field("rules", &self.rules)
            .field("skipped", &self.skipped)
            .finish()
    }
}

fn lines(rules: Vec<&str>) -> String {
    let mut s = rules.join("\n");
    s.push('\n');
    s
}

/// A line of a list that is not a rule: blank, `!` comment, `# ` comment,
/// the `[Adblock Plus 2.0]` header.
fn is_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty()
        || t.starts_with('!')
        || (t.starts_with('[') && t.ends_with(']'))
        || t == "#"
        || t.starts_with("# ")
}

/// `0.0.0.0 host` / `127.0.0.1 host`: a hosts-file line.
fn is_hosts_line(line: &str) -> bool {
    let mut parts = line.split_whitespace();
    matches!(
        (parts.next(), parts.next()),
        (Some("0.0.0.0" | "127.0.0.1" | "::" | "::1"), Some(_))
    )
}

fn opts(format: FilterFormat) -> ParseOptions {
    ParseOptions {
        format,
        rule_types: RuleTypes::All,
        ..ParseOptions::default()
    }
}

/// Whether the engine accepts `line` as a network rule; `Err` says why not.
pub(crate) fn parse_network(line: &str) -> Result<(), String> {
    let format = if is_hosts_line(line) {
        FilterFormat::Hosts
    } else {
        FilterFormat::Standard
    };
    match parse_filter(line, false, opts(format)) {
        Ok(adblock::lists::ParsedLine::Network(_)) => Ok(()),
        Ok(adblock::lists::ParsedLine::Cosmetic(_)) => {
            Err("a cosmetic (element-hiding) rule, not a request rule".into())
        }
        Err(e) => Err(e.to_string()),
    }
}

impl Blocker {
    /// Compiles a filter list (uBlock Origin / AdGuard / Adblock Plus syntax,
    /// hosts-file lines allowed). A network rule the engine refuses is an
    /// error naming its line; cosmetic rules are counted and left out.
    pub fn parse(list: &str, text: &str) -> Result<Blocker, RulesError> {
        let mut set = FilterSet::new(true);
        let (mut rules, mut skipped) = (0, 0);
        let mut standard = Vec::new();
        let mut hosts = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if is_comment(line) {
                continue;
            }
            let line = line.trim();
            if is_hosts_line(line) {
                parse_network(line).map_err(|message| RulesError::Rule {
                    list: list.to_owned(),
                    line: i + 1,
                    rule: line.to_owned(),
                    message,
                })?;
                hosts.push(line);
                rules += 1;
                continue;
            }
            match parse_filter(line, false, opts(FilterFormat::Standard)) {
                Ok(adblock::lists::ParsedLine::Network(_)) => {
                    standard.push(line);
                    rules += 1;
                }
                Ok(adblock::lists::ParsedLine::Cosmetic(_)) => skipped += 1,
                Err(e) => {
                    return Err(RulesError::Rule {
                        list: list.to_owned(),
                        line: i + 1,
                        rule: line.to_owned(),
                        message: e.to_string(),
                    });
                }
            }
        }
        if rules == 0 {
            return Err(RulesError::Empty {
                list: list.to_owned(),
            });
        }
        let network = |format| ParseOptions {
            format,
            rule_types: RuleTypes::NetworkOnly,
            ..ParseOptions::default()
        };
        set.add_filter_list(lines(standard), network(FilterFormat::Standard));
        if !hosts.is_empty() {
            set.add_filter_list(lines(hosts), network(FilterFormat::Hosts));
        }
        Ok(Blocker {
            engine: Engine::new_with_filter_set(set),
            rules,
            skipped,
        })
    }

    /// Compiles rules already known to parse (ours).
    pub(crate) fn from_rules<'a>(rules: impl IntoIterator<Item = &'a str>) -> Blocker {
        let mut set = FilterSet::new(true);
        let rules: Vec<&str> = rules.into_iter().collect();
        let n = rules.len();
        set.add_filter_list(
            lines(rules),
            ParseOptions {
                rule_types: RuleTypes::NetworkOnly,
                ..ParseOptions::default()
            },
        );
        Blocker {
            engine: Engine::new_with_filter_set(set),
            rules: n,
            skipped: 0,
        }
    }

    /// Network rules compiled.
    pub fn rules(&self) -> usize {
        self.rules
    }

    /// Lines left out: cosmetic rules.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// What to do with one request. URLs the engine cannot read (data:,
    /// blob:, about:) are allowed: no filter names them.
    pub fn check(&self, q: &Query<'_>) -> Verdict {
        let Ok(req) = Request::new(q.url, q.source_url, q.resource_type, q.method) else {
            return Verdict::Allow;
        };
        let r = self.engine.check_network_request(&req);
        let rule = |f: Option<adblock::sourcemap::FilterRuleDebugInfo>| f.and_then(|d| d.raw_line);
        if r.should_block() {
            return Verdict::Block {
                rule: rule(r.filter),
            };
        }
        match r.rewritten_url {
            Some(url) if url != q.url => Verdict::Rewrite {
                url,
                rule: rule(r.filter),
            },
            _ => Verdict::Allow,
        }
    }
}

/// What `scan --block FILE` applies: a filter list, or a policy header.
#[derive(Debug)]
pub enum BlockList {
    Filters(Blocker),
    Csp(Csp),
}

impl BlockList {
    /// A file whose first line that is not a comment starts with
    /// `Content-Security-Policy:` is a CSP; anything else a filter list.
    pub fn parse(list: &str, text: &str) -> Result<BlockList, RulesError> {
        let first = text.lines().find(|l| !is_comment(l)).unwrap_or("");
        if first
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("content-security-policy")
        {
            return Csp::parse(list, text).map(BlockList::Csp);
        }
        Blocker::parse(list, text).map(BlockList::Filters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q<'a>(url: &'a str, source: &'a str, t: &'a str) -> Query<'a> {
        Query {
            url,
            source_url: source,
            resource_type: t,
            method: "GET",
        }
    }

    #[test]
    fn scoped_rule_blocks_only_on_its_site() {
        let b = Blocker::parse(
            "t.txt",
            "! leakscope\n||facebook.com/tr^$domain=northwind-pharmacy.test\n",
        )
        .unwrap();
        assert_eq!(b.rules(), 1);
        let hit = b.check(&q(
            "https://www.facebook.com/tr/?id=1&ev=PageView",
            "https://northwind-pharmacy.test/drugs/truvada",
            "image",
        ));
        assert!(
            matches!(hit, Verdict::Block { rule: Some(ref r) } if r.contains("facebook.com/tr"))
        );
        let elsewhere = b.check(&q(
            "https://www.facebook.com/tr/?id=1&ev=PageView",
            "https://shoes.example/",
            "image",
        ));
        assert_eq!(elsewhere, Verdict::Allow);
        let script = b.check(&q(
            "https://connect.facebook.net/en_US/fbevents.js",
            "https://northwind-pharmacy.test/",
            "script",
        ));
        assert_eq!(script, Verdict::Allow);
    }

    #[test]
    fn removeparam_rewrites() {
        let b = Blocker::parse(
            "t.txt",
            "||google-analytics.com^$removeparam=dl,image,ping,xmlhttprequest",
        )
        .unwrap();
        let v = b.check(&q(
            "https://region1.google-analytics.com/g/collect?v=2&dl=https%3A%2F%2Fa.test%2Fhiv&en=page_view",
            "https://a.test/hiv",
            "ping",
        ));
        match v {
            Verdict::Rewrite { url, .. } => {
                assert!(!url.contains("dl="), "{url}");
                assert!(url.contains("en=page_view"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_rules_name_their_line() {
        let e = Blocker::parse("mine.txt", "! ok\n||a.example^$no-such-option\n").unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("mine.txt:2:"), "{s}");
        let e = Blocker::parse("empty.txt", "! nothing\n\n").unwrap_err();
        assert!(matches!(e, RulesError::Empty { .. }));
    }

    #[test]
    fn hosts_lines_and_cosmetics() {
        let b = Blocker::parse(
            "h.txt",
            "0.0.0.0 analytics.tiktok.com # F-1\nexample.com##.ad\n",
        )
        .unwrap();
        assert_eq!((b.rules(), b.skipped()), (1, 1));
        assert!(matches!(
            b.check(&q(
                "https://analytics.tiktok.com/api/v2/pixel",
                "https://a.test/",
                "xmlhttprequest"
            )),
            Verdict::Block { .. }
        ));
    }

    #[test]
    fn csp_files_are_told_apart() {
        let l = BlockList::parse(
            "csp.txt",
            "# leakscope\nContent-Security-Policy: default-src 'self'; img-src 'self'\n",
        )
        .unwrap();
        assert!(matches!(l, BlockList::Csp(_)));
    }
}
