//! From findings to what stops them, checked by replaying the captured
//! requests through the rules.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use leakscope_core::engine::{Engine, split_url};
use leakscope_core::model::{EndpointKind, Event, Exchange, Source, Vendor};
use leakscope_core::party::site_of;
use leakscope_detect::Detector;
use leakscope_detect::finding::Finding;
use serde::Serialize;

use crate::csp::{Csp, Seen, directive_of, origin_of};
use crate::filters::{Blocker, Query, Verdict, parse_network, resource_type};
use crate::gentle;
use crate::tags::{TagFix, TagFixDb};

/// What a filter rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Refuses the request.
    Block,
    /// Takes the named parameter out and lets the rest go.
    RemoveParam,
}

/// A filter rule and the findings it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub text: String,
    pub kind: RuleKind,
    pub findings: Vec<String>,
    /// Vendor id of the requests it stops.
    pub vendor: String,
    /// In words: `Meta Pixel events from northwind-pharmacy.test`.
    pub about: String,
}

/// A hosts-file line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostRule {
    pub host: String,
    pub findings: Vec<String>,
}

/// Tag-level fixes for one tag (vendor and account) that leaked.
#[derive(Debug, Clone, Serialize)]
pub struct TagFixUse {
    pub vendor: String,
    pub account_id: Option<String>,
    pub findings: Vec<String>,
    /// What leaked through it: `page_url`, `button_text`, `user_data`…
    pub leaks: Vec<String>,
    /// With `{account_id}` filled in.
    pub fixes: Vec<TagFix>,
}

/// Gateway policy lines for server-side leaks of one pixel.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayFix {
    pub vendor: String,
    pub account_id: Option<String>,
    pub findings: Vec<String>,
    /// TOML for `leakscope gateway`'s policy file.
    pub toml: String,
}

/// A finding some audience's rules cannot answer, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unanswered {
    pub finding: String,
    /// `filters`, `hosts`, `csp`.
    pub by: String,
    pub why: String,
}

/// A request the replay got wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Miss {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// The replay: the rules against the requests they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Leaking requests replayed, and how many the block rules stopped.
    pub leaking: usize,
    pub blocked: usize,
    pub missed: Vec<Miss>,
    /// Requests to the site's own origin replayed; none may be touched.
    pub own_origin: usize,
    pub own_blocked: Vec<Miss>,
    /// Parameter rules whose rewritten request no longer gives the finding.
    pub gentle_proved: usize,
}

impl Check {
    /// Every leaking request blocked, nothing of the site's own touched.
    pub fn passed(&self) -> bool {
        self.missed.is_empty() && self.own_blocked.is_empty()
    }
}

/// Everything that stops the findings, per audience.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FixPlan {
    /// Registrable domains of the sites the findings are on.
    pub sites: Vec<String>,
    /// Findings answered (all, at every severity).
    pub findings: Vec<String>,
    /// Block rules: each browser-side finding answered.
    pub filters: Vec<Rule>,
    /// Parameter-removing rules, each proved to end its finding while the
    /// tracker keeps working; findings without one keep their block rule.
    pub gentle: Vec<Rule>,
    pub hosts: Vec<HostRule>,
    /// `None` when no captured requests were given: a policy built without
    /// them would refuse what the site needs.
    pub csp: Option<Csp>,
    pub tag_fixes: Vec<TagFixUse>,
    pub gateway: Vec<GatewayFix>,
    pub unanswered: Vec<Unanswered>,
    pub check: Check,
}

/// One leaking request.
#[derive(Debug, Clone)]
pub(crate) struct Leak<'a> {
    pub url: &'a str,
    pub method: &'a str,
    pub page: Option<&'a str>,
    pub rtype: &'static str,
    pub event: Option<&'a Event>,
}

/// Consumer services whose main host a hosts file must not take away.
const CONSUMER_SITES: [&str; 14] = [
    "facebook.com",
    "instagram.com",
    "google.com",
    "youtube.com",
    "linkedin.com",
    "tiktok.com",
    "pinterest.com",
    "snapchat.com",
    "x.com",
    "twitter.com",
    "reddit.com",
    "nextdoor.com",
    "bing.com",
    "microsoft.com",
];

fn is_server_side(v: Vendor) -> bool {
    matches!(v, Vendor::MetaCapi | Vendor::TiktokEventsApi)
}

fn host_of(url: &str) -> Option<&str> {
    split_url(url).map(|p| p.host).filter(|h| !h.is_empty())
}

/// The part of a path a filter pattern may hold: ABP has no escapes, so
/// cut at the first character with a meaning.
fn literal(path: &str) -> &str {
    let end = path.find(['*', '^', '|', '$', '#']).unwrap_or(path.len());
    &path[..end]
}

/// `^` (a separator or the end) after a pattern that ends in a word
/// character, so `/tr` does not also match `/track`.
pub(crate) fn sep_after(p: &str) -> &'static str {
    if p.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        "^"
    } else {
        ""
    }
}

/// Filter rules that would stop a request, from the most general (the
/// vendor's event endpoint, as the vendor database defines it) to the most
/// specific (this host and path).
pub(crate) fn candidates(
    engine: &Engine,
    url: &str,
    site: Option<&str>,
    extra: &str,
) -> Vec<String> {
    let Some(parts) = split_url(url) else {
        return Vec::new();
    };
    let host = parts.host.to_ascii_lowercase();
    let reg = site_of(&host);
    // A first-party proxy sits on the site's own domain: name its host.
    let host_part = if site == Some(reg.as_str()) {
        host.clone()
    } else {
        reg
    };
    let mut options = Vec::new();
    if let Some(s) = site {
        options.push(format!("domain={s}"));
    }
    if !extra.is_empty() {
        options.push(extra.to_owned());
    }
    let opt = if options.is_empty() {
        String::new()
    } else {
        format!("${}", options.join(","))
    };
    let mut out = Vec::new();
    if let Some(c) = engine.classify(url) {
        let spec = c
            .product
            .endpoints
            .iter()
            .find(|e| e.kind == EndpointKind::Event && e.matches(parts.path));
        match spec {
            Some(e) => {
                if let Some(p) = e.path_prefix.as_deref().map(literal) {
                    // `/tr` → `/tr^` when this request has a separator
                    // there (`/tr/`, `/tr?`); `/activity` stays a prefix
                    // for `/activityi;src=…`.
                    let next = parts.path.get(p.len()..).and_then(|r| r.chars().next());
                    let sep = match next {
                        Some(c) if c.is_ascii_alphanumeric() || c == '_' => "",
                        _ => sep_after(p),
                    };
                    out.push(format!("||{host_part}{p}{sep}{opt}"));
                } else if let Some(s) = e.path_contains.as_deref().map(literal) {
                    out.push(format!("||{host_part}*{s}{opt}"));
                } else if let Some(s) = e.path_suffix.as_deref().map(literal) {
                    out.push(format!("||{host_part}*{s}{}{opt}", sep_after(s)));
                }
            }
            None if c.kind == EndpointKind::Event => out.push(format!("||{host_part}^{opt}")),
            None => {}
        }
    }
    let path = literal(parts.path);
    let path = if path.is_empty() { "/" } else { path };
    out.push(format!("||{host}{path}^{opt}"));
    out.dedup();
    out.retain(|r| parse_network(r).is_ok());
    out
}

fn query<'a>(l: &'a Leak<'a>, source: &'a str) -> Query<'a> {
    Query {
        url: l.url,
        source_url: source,
        resource_type: l.rtype,
        method: l.method,
    }
}

fn blocks(b: &Blocker, l: &Leak<'_>) -> bool {
    let source = l.page.unwrap_or(l.url);
    matches!(b.check(&query(l, source)), Verdict::Block { .. })
}

/// Adds a finding to the rule with this text, or a new rule.
fn add_rule(rules: &mut Vec<Rule>, text: &str, kind: RuleKind, f: &Finding, about: String) {
    match rules.iter_mut().find(|r| r.text == text) {
        Some(r) => {
            if !r.findings.contains(&f.id) {
                r.findings.push(f.id.clone());
            }
        }
        None => rules.push(Rule {
            text: text.to_owned(),
            kind,
            findings: vec![f.id.clone()],
            vendor: f.vendor.as_str().into(),
            about,
        }),
    }
}

/// The words for a rule's comment.
fn about(ev: Option<&Event>, vendor: Vendor, site: Option<&str>) -> String {
    let what = ev
        .map(|e| e.product.clone())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| vendor.as_str().to_owned());
    match site {
        Some(s) => format!("{what} events from {s}"),
        None => format!("{what} events"),
    }
}

/// The leak kinds a finding shows, in the words `data/fixes.toml` uses.
fn leak_kinds(f: &Finding) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for h in &f.health {
        let k = if h.field.starts_with("page_url") || h.field.starts_with("referrer") {
            "page_url"
        } else if h.field == "page_title" {
            "page_title"
        } else if h.field.starts_with("ui.form") {
            "form"
        } else if h.field.starts_with("ui.") {
            "button_text"
        } else if h.field.contains("search") {
            "search"
        } else {
            "custom_data"
        };
        out.insert(k.to_owned());
    }
    if f.identifiers
        .iter()
        .any(|i| i.counts && (i.field.starts_with("user_data") || i.field.starts_with("ud[")))
    {
        out.insert("user_data".into());
    }
    out
}

fn gateway_toml(account: Option<&str>, findings: &[&Finding]) -> String {
    let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    let names: BTreeSet<&str> = findings
        .iter()
        .filter(|f| f.health.iter().any(|h| h.field == "event"))
        .map(|f| f.event.as_str())
        .collect();
    let section = match account {
        Some(a) => format!("[policy.pixels.{}]", toml::Value::String(a.to_owned())),
        None => "[policy.default]".to_owned(),
    };
    let mut t = format!(
        "# Server-side events that carried health data: {}.\n\
         # Put the leakscope gateway between your servers and the API (docs/gateway.md);\n\
         # this section blocks events with health terms and sends page addresses as page types.\n\
         {section}\n\
         health_action = \"block\"\n\
         url_mode = \"page-type\"\n",
        ids.join(", ")
    );
    if !names.is_empty() {
        let list: Vec<String> = names
            .iter()
            .map(|n| toml::Value::String((*n).to_owned()).to_string())
            .collect();
        t.push_str(&format!("block_events = [{}]\n", list.join(", ")));
    }
    let consent = format!("{}.consent]", &section[..section.len() - 1]);
    t.push_str(&format!("\n{consent}\nrequired = true\n"));
    t
}

/// The requests that gave each finding: by the sources it cites.
fn leaks_of<'a>(
    f: &'a Finding,
    by_source: &HashMap<&Source, &'a Event>,
    seen: &HashMap<&Source, &'a Exchange>,
) -> Vec<Leak<'a>> {
    let mut sources: Vec<&Source> = vec![&f.source];
    sources.extend(f.occurrences.iter().map(|o| &o.source));
    if let Some(c) = &f.consent_evidence {
        sources.extend(c.after_refusal.examples.iter().map(|r| &r.source));
    }
    let mut out: Vec<Leak<'a>> = Vec::new();
    for s in sources {
        let Some(ev) = by_source.get(s) else { continue };
        if out.iter().any(|l| l.url == ev.request_url) {
            continue;
        }
        let rtype = seen
            .get(s)
            .and_then(|x| x.resource_type.as_deref())
            .map(|t| resource_type(t, false))
            .unwrap_or(if ev.method == "GET" {
                "image"
            } else {
                "xmlhttprequest"
            });
        out.push(Leak {
            url: &ev.request_url,
            method: &ev.method,
            page: ev.page_url.as_deref(),
            rtype,
            event: Some(ev),
        });
        // Meta's privacy-sandbox twin carries the same event: it must be
        // stopped too, or the finding comes back through it.
        for t in &ev.twins {
            if !out.iter().any(|l| l.url == t.request_url) {
                out.push(Leak {
                    url: &t.request_url,
                    method: "GET",
                    page: ev.page_url.as_deref(),
                    rtype: "xmlhttprequest",
                    event: Some(ev),
                });
            }
        }
    }
    if out.is_empty() {
        out.push(Leak {
            url: &f.request_url,
            method: &f.method,
            page: f.page_url.as_deref(),
            rtype: if f.method == "GET" {
                "image"
            } else {
                "xmlhttprequest"
            },
            event: None,
        });
    }
    out
}

/// Builds the plan. `seen` is every request of the capture (for the CSP
/// and for the check that no own-origin request is blocked); without it the
/// check uses the pages the findings name. `detector` proves parameter
/// rules by re-reading the rewritten request.
pub fn plan(
    findings: &[Finding],
    events: &[Event],
    seen: &[Exchange],
    engine: &Engine,
    detector: &Detector,
    db: &TagFixDb,
) -> FixPlan {
    let by_source: HashMap<&Source, &Event> = events.iter().map(|e| (&e.source, e)).collect();
    let seen_by: HashMap<&Source, &Exchange> = seen.iter().map(|x| (&x.source, x)).collect();
    let mut plan = FixPlan::default();
    let mut sites = BTreeSet::new();
    // finding index → (its leaks, candidate rule per leak, chosen index)
    struct Pick<'a> {
        finding: &'a Finding,
        site: Option<String>,
        leak: Leak<'a>,
        candidates: Vec<String>,
        at: usize,
    }
    let mut picks: Vec<Pick<'_>> = Vec::new();
    let mut server: BTreeMap<(Vendor, Option<String>), Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        plan.findings.push(f.id.clone());
        let site = f
            .site
            .as_ref()
            .map(|s| s.site.clone())
            .or_else(|| f.page_url.as_deref().and_then(host_of).map(site_of));
        if let Some(s) = &site {
            sites.insert(s.clone());
        }
        if is_server_side(f.vendor) {
            server
                .entry((f.vendor, f.account_id.clone()))
                .or_default()
                .push(f);
            for by in ["filters", "hosts", "csp"] {
                plan.unanswered.push(Unanswered {
                    finding: f.id.clone(),
                    by: by.into(),
                    why: "sent server to server: no browser rule sees it; the gateway policy below does".into(),
                });
            }
            continue;
        }
        // One pick per leaking request: a finding seen on two endpoints
        // (Google Ads on googleadservices.com and doubleclick.net) needs two
        // rules. Candidates run from the vendor's endpoint to this path.
        for l in leaks_of(f, &by_source, &seen_by) {
            let lsite = l.page.and_then(host_of).map(site_of).or(site.clone());
            let mut cands = candidates(engine, l.url, lsite.as_deref(), "");
            cands.retain(|c| blocks(&Blocker::from_rules([c.as_str()]), &l));
            if cands.is_empty() {
                plan.unanswered.push(Unanswered {
                    finding: f.id.clone(),
                    by: "filters".into(),
                    why: format!("no filter rule stops {}", l.url),
                });
                continue;
            }
            picks.push(Pick {
                finding: f,
                site: lsite,
                leak: l,
                candidates: cands,
                at: 0,
            });
        }
    }
    plan.sites = sites.into_iter().collect();

    // The site's own origins, and the requests to them that must pass.
    let own: BTreeSet<String> = findings
        .iter()
        .filter_map(|f| f.page_url.as_deref())
        .chain(seen.iter().filter_map(|x| x.page_url.as_deref()))
        .filter_map(origin_of)
        .collect();
    let leak_urls: BTreeSet<&str> = picks.iter().map(|p| p.leak.url).collect();
    let mut own_reqs: Vec<Leak<'_>> = seen
        .iter()
        .filter(|x| origin_of(&x.url).is_some_and(|o| own.contains(&o)))
        .filter(|x| !leak_urls.contains(x.url.as_str()))
        .map(|x| Leak {
            url: &x.url,
            method: &x.method,
            page: x.page_url.as_deref(),
            rtype: resource_type(
                x.resource_type.as_deref().unwrap_or("other"),
                x.page_url.as_deref() == Some(x.url.as_str()),
            ),
            event: None,
        })
        .collect();
    if own_reqs.is_empty() {
        for p in findings.iter().filter_map(|f| f.page_url.as_deref()) {
            if !own_reqs.iter().any(|l| l.url == p) {
                own_reqs.push(Leak {
                    url: p,
                    method: "GET",
                    page: Some(p),
                    rtype: "document",
                    event: None,
                });
            }
        }
    }

    // Rules that touch the site's own requests give way to narrower ones.
    let mut dropped: BTreeSet<usize> = BTreeSet::new();
    for _round in 0..4 {
        let live: Vec<(usize, &str)> = picks
            .iter()
            .enumerate()
            .filter(|(i, _)| !dropped.contains(i))
            .map(|(i, p)| (i, p.candidates[p.at].as_str()))
            .collect();
        let b = Blocker::from_rules(live.iter().map(|(_, r)| *r));
        let mut bad: BTreeSet<String> = BTreeSet::new();
        for l in &own_reqs {
            if let Verdict::Block { rule } = b.check(&query(l, l.page.unwrap_or(l.url))) {
                // Attribution is best effort: without it, test each rule.
                match rule {
                    Some(r) => {
                        bad.insert(r);
                    }
                    None => {
                        for (_, r) in &live {
                            if blocks(&Blocker::from_rules([*r]), l) {
                                bad.insert((*r).to_owned());
                            }
                        }
                    }
                }
            }
        }
        if bad.is_empty() {
            break;
        }
        for (i, p) in picks.iter_mut().enumerate() {
            if bad.contains(&p.candidates[p.at]) {
                if p.at + 1 < p.candidates.len() {
                    p.at += 1;
                } else {
                    dropped.insert(i);
                }
            }
        }
    }
    for (i, p) in picks.iter().enumerate() {
        if dropped.contains(&i) {
            plan.unanswered.push(Unanswered {
                finding: p.finding.id.clone(),
                by: "filters".into(),
                why: "every rule that stops it would also block the site's own requests".into(),
            });
        }
    }

    // Group findings by rule.
    let mut rules: Vec<Rule> = Vec::new();
    for (i, p) in picks.iter().enumerate() {
        if dropped.contains(&i) {
            continue;
        }
        add_rule(
            &mut rules,
            &p.candidates[p.at],
            RuleKind::Block,
            p.finding,
            about(p.leak.event, p.finding.vendor, p.site.as_deref()),
        );
    }

    // The replay.
    let all = Blocker::from_rules(rules.iter().map(|r| r.text.as_str()));
    let mut check = Check::default();
    for p in &picks {
        check.leaking += 1;
        if blocks(&all, &p.leak) {
            check.blocked += 1;
        } else {
            check.missed.push(Miss {
                url: p.leak.url.to_owned(),
                finding: Some(p.finding.id.clone()),
                rule: None,
            });
        }
    }
    for l in &own_reqs {
        check.own_origin += 1;
        if let Verdict::Block { rule } = all.check(&query(l, l.page.unwrap_or(l.url))) {
            check.own_blocked.push(Miss {
                url: l.url.to_owned(),
                finding: None,
                rule,
            });
        }
    }

    // Parameter rules, each proved by the detector, else the block rules.
    let mut gentle_rules: Vec<Rule> = Vec::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for (i, p) in picks.iter().enumerate() {
        if dropped.contains(&i) || !done.insert(p.finding.id.as_str()) {
            continue;
        }
        let mine: Vec<(usize, &Pick<'_>)> = picks
            .iter()
            .enumerate()
            .filter(|(j, q)| q.finding.id == p.finding.id && !dropped.contains(j))
            .collect();
        let leaks: Vec<Leak<'_>> = mine.iter().map(|(_, q)| q.leak.clone()).collect();
        let words = about(p.leak.event, p.finding.vendor, p.site.as_deref());
        match gentle::removeparam_rules(engine, detector, p.finding, &leaks, p.site.as_deref()) {
            Some(texts) => {
                check.gentle_proved += 1;
                for t in &texts {
                    add_rule(
                        &mut gentle_rules,
                        t,
                        RuleKind::RemoveParam,
                        p.finding,
                        words.clone(),
                    );
                }
            }
            None => {
                for (_, q) in &mine {
                    add_rule(
                        &mut gentle_rules,
                        &q.candidates[q.at],
                        RuleKind::Block,
                        q.finding,
                        words.clone(),
                    );
                }
            }
        }
    }
    if gentle_rules.iter().any(|r| r.kind == RuleKind::RemoveParam) {
        plan.gentle = gentle_rules;
    }
    plan.filters = rules;
    plan.check = check;

    // Hosts: third-party leak hosts, not a consumer service's main host.
    let mut hosts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &picks {
        {
            let l = &p.leak;
            let Some(h) = host_of(l.url).map(str::to_ascii_lowercase) else {
                continue;
            };
            let reg = site_of(&h);
            if p.site.as_deref() == Some(reg.as_str()) {
                plan.unanswered.push(Unanswered {
                    finding: p.finding.id.clone(),
                    by: "hosts".into(),
                    why: format!(
                        "{h} is the site's own domain; a hosts entry would take the site down"
                    ),
                });
                continue;
            }
            let main = h == reg || h.strip_prefix("www.") == Some(reg.as_str());
            if main && CONSUMER_SITES.contains(&reg.as_str()) {
                plan.unanswered.push(Unanswered {
                    finding: p.finding.id.clone(),
                    by: "hosts".into(),
                    why: format!(
                        "a hosts entry for {h} would block {reg} itself; use the filter list"
                    ),
                });
                continue;
            }
            let ids = hosts.entry(h).or_default();
            if !ids.contains(&p.finding.id) {
                ids.push(p.finding.id.clone());
            }
        }
    }
    plan.hosts = hosts
        .into_iter()
        .filter(|(h, _)| parse_network(&format!("0.0.0.0 {h}")).is_ok())
        .map(|(host, findings)| HostRule { host, findings })
        .collect();
    plan.unanswered.dedup();

    // CSP, from what the site's pages loaded.
    if !seen.is_empty() {
        let leak_set: BTreeSet<String> = leak_urls.iter().map(|u| (*u).to_owned()).collect();
        let seen_dirs: Vec<Seen<'_>> = seen
            .iter()
            .filter(|x| {
                x.page_url
                    .as_deref()
                    .and_then(origin_of)
                    .is_some_and(|o| own.contains(&o))
            })
            .filter_map(|x| {
                let main = x.page_url.as_deref() == Some(x.url.as_str());
                let d = directive_of(x.resource_type.as_deref()?, main)?;
                Some(Seen {
                    url: &x.url,
                    directive: d,
                })
            })
            .collect();
        plan.csp = Some(Csp::build(&seen_dirs, &leak_set, &own));
        for p in &picks {
            if origin_of(p.leak.url).is_some_and(|o| own.contains(&o)) {
                plan.unanswered.push(Unanswered {
                    finding: p.finding.id.clone(),
                    by: "csp".into(),
                    why: "it goes to the site's own origin, which the policy must allow".into(),
                });
            }
        }
    }

    // Tag-level fixes, per tag.
    let mut tags: BTreeMap<(Vendor, Option<String>), Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        tags.entry((f.vendor, f.account_id.clone()))
            .or_default()
            .push(f);
    }
    for ((vendor, account), fs) in tags {
        let leaks: BTreeSet<String> = fs.iter().flat_map(|f| leak_kinds(f)).collect();
        let fixes = db.select(vendor.as_str(), &leaks, account.as_deref());
        if fixes.is_empty() {
            continue;
        }
        plan.tag_fixes.push(TagFixUse {
            vendor: vendor.as_str().into(),
            account_id: account,
            findings: fs.iter().map(|f| f.id.clone()).collect(),
            leaks: leaks.into_iter().collect(),
            fixes,
        });
    }
    for ((vendor, account), fs) in server {
        plan.gateway.push(GatewayFix {
            vendor: vendor.as_str().into(),
            toml: gateway_toml(account.as_deref(), &fs),
            account_id: account,
            findings: fs.iter().map(|f| f.id.clone()).collect(),
        });
    }
    plan
}
