//! The test farm: hundreds of made-up websites on loopback, each of a known
//! kind with its outcome known in advance, for exercising `leakscope survey`.
//!
//! [`farm`]`(n)` lists `n` sites, deterministically: the kinds of
//! [`FarmKind`] in fixed proportions (mostly ordinary sites, a few percent
//! of each way a site fails to load), so any `n >= 14` holds every kind.
//! [`start_farm`] serves them, with the tracker endpoints of
//! [`crate::trackers`], on one [`SiteServer`] port, plus two more loopback
//! ports: one whose "TLS" answers in plain text and one bound but not
//! listening. [`Farm::chrome_args`] points Chromium at all three and makes
//! the DNS-failure sites unresolvable.
//!
//! Each site is its own registrable domain (`s017-farm.test`), as separate
//! sites in a real survey are: party, site context and renderer process are
//! per site. Pages reuse the look-alike tags of [`crate::trackers`], the
//! drug catalogue of [`crate::pharmacy`] and its OneTrust look-alike banner
//! (`assets/pharmacy/consent.js`, which autoconsent's built-in rule drives).
//! Organisations, places and pages are invented; nothing leaves the machine.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};

use crate::pharmacy::{DRUGS, Drug, esc};
use crate::trackers::{gtag_snippet, meta_base_code, meta_snippet, tiktok_snippet, with_trackers};
use crate::{HostRouter, SiteError, SiteServer};

/// How long a [`FarmKind::Slow`] site takes to answer its page.
pub const SLOW_MS: u64 = 2000;
/// V8 heap limit [`Farm::chrome_args`] gives renderers, so the
/// [`FarmKind::CrashRenderer`] page dies fast and small.
pub const JS_HEAP_FLAG: &str = "--js-flags=--max-old-space-size=32";
/// Most the crash page allocates (MiB) should Chromium run without
/// [`JS_HEAP_FLAG`]: it then loads, holding this much, rather than eat the
/// machine's memory.
pub const CRASH_CAP_MIB: usize = 256;
/// A [`FarmKind::ConsentIgnored`] page sends its Meta event again every
/// this many ms after the banner choice, [`AFTER_CHOICE_SHOTS`] times: the
/// scanner stamps requests `rejected` once it has seen the refusal confirmed
/// (tens of ms, more on a loaded machine), and ends a load-only run when the
/// network has been quiet 400 ms, so the shots come after the stamp and
/// before the run ends.
const AFTER_CHOICE_MS: u32 = 250;
const AFTER_CHOICE_SHOTS: u32 = 4;

/// What a farm site is, and so how a scan of it must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FarmKind {
    /// An ordinary page without trackers.
    Clean,
    /// A non-health shop with a Meta Pixel `PageView`.
    PixelOnly,
    /// A pharmacy or clinic page naming a drug or condition in its path and
    /// title, sent to Meta with the `_fbp` cookie: health with identity.
    HealthLeak,
    /// A crisis line / helpline / recovery centre home page with a Meta Pixel:
    /// no health word in what the pixel sends, the site itself is sensitive
    /// (`sensitive_site_page_view`).
    SensitiveSite,
    /// A consent banner gating the Meta Pixel: nothing without "Accept".
    ConsentRespected,
    /// A consent banner for show: the pixel fires on load and again after
    /// "Reject All".
    ConsentIgnored,
    /// A shop with a Meta Pixel whose page takes [`SLOW_MS`] to answer.
    Slow,
    /// Accepts the connection, never answers (`timeout`).
    Hanging,
    /// Allocates until the renderer dies (`crash`; needs [`JS_HEAP_FLAG`]).
    CrashRenderer,
    /// `/` → `/a` → `/b` → `/a` … (`redirect`).
    RedirectLoop,
    /// `https` to a port that answers a ClientHello in plain text (`tls`).
    TlsError,
    /// The start page answers 500 or 404 (`http`).
    HttpError,
    /// The host does not resolve (`dns`).
    DnsFailure,
    /// The host resolves to a loopback port nobody listens on (`refused`).
    Refused,
}

impl FarmKind {
    pub const ALL: [FarmKind; 14] = [
        FarmKind::Clean,
        FarmKind::PixelOnly,
        FarmKind::HealthLeak,
        FarmKind::SensitiveSite,
        FarmKind::ConsentRespected,
        FarmKind::ConsentIgnored,
        FarmKind::Slow,
        FarmKind::Hanging,
        FarmKind::CrashRenderer,
        FarmKind::RedirectLoop,
        FarmKind::TlsError,
        FarmKind::HttpError,
        FarmKind::DnsFailure,
        FarmKind::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FarmKind::Clean => "clean",
            FarmKind::PixelOnly => "pixel_only",
            FarmKind::HealthLeak => "health_leak",
            FarmKind::SensitiveSite => "sensitive_site",
            FarmKind::ConsentRespected => "consent_respected",
            FarmKind::ConsentIgnored => "consent_ignored",
            FarmKind::Slow => "slow",
            FarmKind::Hanging => "hanging",
            FarmKind::CrashRenderer => "crash_renderer",
            FarmKind::RedirectLoop => "redirect_loop",
            FarmKind::TlsError => "tls_error",
            FarmKind::HttpError => "http_error",
            FarmKind::DnsFailure => "dns_failure",
            FarmKind::Refused => "refused",
        }
    }

    /// The failure kind a scan reports (`leakscope_core::scan::LoadFailure`),
    /// `None` for a site that loads.
    pub fn failure_kind(self) -> Option<&'static str> {
        Some(match self {
            FarmKind::Hanging => "timeout",
            FarmKind::CrashRenderer => "crash",
            FarmKind::RedirectLoop => "redirect",
            FarmKind::TlsError => "tls",
            FarmKind::HttpError => "http",
            FarmKind::DnsFailure => "dns",
            FarmKind::Refused => "refused",
            _ => return None,
        })
    }

    /// What a load-only scan with `--consent none,reject` must find.
    pub fn expected(self) -> Expected {
        let failure_kind = self.failure_kind();
        Expected {
            status: if failure_kind.is_some() {
                "unreachable"
            } else {
                "done"
            },
            failure_kind,
            meta_pixel: matches!(
                self,
                FarmKind::PixelOnly
                    | FarmKind::HealthLeak
                    | FarmKind::SensitiveSite
                    | FarmKind::ConsentIgnored
                    | FarmKind::Slow
            ),
            health_with_identity: self == FarmKind::HealthLeak,
            tracking_after_reject: self == FarmKind::ConsentIgnored,
            rules: match self {
                // A drug page's automatic Microdata event also names the
                // refill (a care action); see `expected_of` for the pages.
                FarmKind::HealthLeak => &["health_with_identity"],
                FarmKind::SensitiveSite => &["sensitive_site_page_view"],
                FarmKind::ConsentIgnored => &["consent.ignored"],
                _ => &[],
            },
        }
    }
}

/// The outcome of a load-only survey scan (`--consent none,reject`) of a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// `done` or `unreachable`.
    pub status: &'static str,
    /// As `LoadFailure::kind` names it: `timeout`, `crash`, `redirect`,
    /// `tls`, `http`, `dns`, `refused`.
    pub failure_kind: Option<&'static str>,
    /// Some run captured a Meta Pixel event.
    pub meta_pixel: bool,
    /// A finding with health data and an identifier.
    pub health_with_identity: bool,
    /// A `consent.ignored` finding: a tracker kept receiving events after
    /// the banner was refused.
    pub tracking_after_reject: bool,
    /// The distinct rules of the site's findings, sorted.
    pub rules: &'static [&'static str],
}

/// One made-up site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FarmSite {
    /// From 1, its position in the list.
    pub id: usize,
    /// `s017-farm.test`: a registrable domain of its own.
    pub host: String,
    /// The start URL: `http://s017-farm.test/` (https for the TLS-error site
    /// and some ordinary ones; a drug or service page for a health leak).
    pub url: String,
    pub kind: FarmKind,
    /// Made up.
    pub organisation: String,
    /// A US state code, for grouping.
    pub state: String,
    /// A site-category value (`leakscope_detect::site::SiteCategory` ids)
    /// for some rows, as a survey list may carry; `None` for most.
    pub category: Option<String>,
    pub expected: Expected,
}

/// One letter per kind, in [`FarmKind::ALL`] order: clean, pixel-only,
/// health leak, sensitive site, consent respected, consent ignored, slow
/// (wait), hanging, crash (x), redirect loop, TLS error, HTTP error, DNS
/// failure, refused (nobody listening).
const KIND_LETTERS: &[u8; 14] = b"cphsriwgxltedn";
/// Kinds (`KIND_LETTERS`) by position in a cycle of 50: the first 14 are one
/// of each kind, so `farm(14)` already covers them all. Per 50: clean 9,
/// pixel-only 8, health leak 8, sensitive site 6, consent respected 4,
/// consent ignored 4, slow 2, HTTP error 2, DNS failure 2, hanging, crash,
/// redirect loop, TLS error and refused 1 each (18% of sites unreachable).
const CYCLE: &[u8; 50] = b"cphsriwedgltxnchpscihpcreshcpwhicspdhrcpshicprshcp";

const STATES: [&str; 12] = [
    "CA", "NY", "TX", "WA", "FL", "IL", "PA", "OH", "GA", "NC", "MI", "AZ",
];
/// Invented place names: prefix × suffix, unique for 240 ids.
const PLACE_A: [&str; 20] = [
    "Quill", "Bramble", "Fennick", "Harrow", "Larkspur", "Mossgate", "Nettle", "Oriel", "Pellow",
    "Quarry", "Rookwood", "Sable", "Thistle", "Umber", "Vellum", "Wren", "Yarrow", "Zephyr",
    "Cobble", "Drift",
];
const PLACE_B: [&str; 12] = [
    "marsh", "ford", "haven", "mere", "stead", "brook", "field", "holt", "wick", "combe", "ridge",
    "vale",
];

/// Ordinary shops: (trade, tagline, three products). No health words.
const SHOPS: [(&str, &str, [&str; 3]); 10] = [
    (
        "Outfitters",
        "Boots, tents and trail gear for every season",
        ["Two-person tent", "Trail boots", "Camp stove"],
    ),
    (
        "Books",
        "New and used books, maps and prints",
        ["Atlas of rivers", "Poetry paperback", "Hand-drawn map"],
    ),
    (
        "Bakery",
        "Sourdough, rye and seasonal pastries",
        ["Country loaf", "Rye bread", "Apple turnover"],
    ),
    (
        "Hardware",
        "Tools, paint, screws and garden supplies",
        ["Claw hammer", "Garden hose", "Wood screws"],
    ),
    (
        "Cycles",
        "Bicycles, parts and repairs",
        ["Touring bicycle", "Bike lights", "Inner tube"],
    ),
    (
        "Tea Merchants",
        "Loose-leaf tea by the ounce",
        ["Smoky black tea", "Jasmine green tea", "Clay teapot"],
    ),
    (
        "Stationers",
        "Notebooks, pens and paper goods",
        ["Dotted notebook", "Fountain pen", "Letter paper"],
    ),
    (
        "Records",
        "Vinyl records and turntables",
        ["Jazz reissue", "Turntable", "Record sleeves"],
    ),
    (
        "Kitchenware",
        "Pots, pans and knives",
        ["Cast pan", "Chef's knife", "Stock pot"],
    ),
    (
        "Toys",
        "Wooden toys and board games",
        ["Wooden train", "Board game", "Puzzle box"],
    ),
];

/// Drugs of the pharmacy catalogue whose page reveals health.
const LEAK_DRUGS: [&str; 6] = [
    "truvada",
    "sertraline-50mg",
    "levonorgestrel-1-5mg",
    "naltrexone-50mg",
    "valacyclovir-1g",
    "home-pregnancy-test",
];

/// Clinic service pages: (slug, title, text).
const CLINIC_SERVICES: [(&str, &str, &str); 3] = [
    (
        "hiv-testing",
        "Free HIV testing and PrEP",
        "Walk-in HIV testing with results in 20 minutes, and PrEP prescriptions the same day.",
    ),
    (
        "sti-testing",
        "STI testing, same day",
        "Confidential STI testing for chlamydia, gonorrhea and syphilis.",
    ),
    (
        "genital-herpes",
        "Genital herpes treatment",
        "Antiviral treatment and advice for genital herpes outbreaks.",
    ),
];

/// Sensitive organisations: (name suffix, category id, title tagline,
/// heading). The phrase in the name ("crisis services", "helpline",
/// "recovery center") tells leakscope's site context who the site is, yet
/// is no health term: the pixel's own fields carry none, so only the
/// site-context rule can find the page view.
const SENSITIVE: [(&str, &str, &str, &str); 3] = [
    (
        "Crisis Services",
        "crisis_mental_health",
        "Talk to someone now",
        "You are not alone",
    ),
    (
        "Family Helpline",
        "crisis_mental_health",
        "Someone to listen, any time",
        "We are here to listen",
    ),
    (
        "Recovery Center",
        "addiction_treatment",
        "Start today",
        "A new start, today",
    ),
];

/// `n` sites, ids from 1, kinds in the proportions of `CYCLE`.
pub fn farm(n: usize) -> Vec<FarmSite> {
    (1..=n).map(site).collect()
}

fn site(id: usize) -> FarmSite {
    let letter = CYCLE[(id - 1) % CYCLE.len()];
    let kind = KIND_LETTERS
        .iter()
        .position(|l| *l == letter)
        .map_or(FarmKind::Clean, |i| FarmKind::ALL[i]);
    let host = format!("s{id:03}-farm.test");
    let place = format!(
        "{}{}",
        PLACE_A[(id - 1) % PLACE_A.len()],
        PLACE_B[((id - 1) / PLACE_A.len()) % PLACE_B.len()]
    );
    let (organisation, category) = match kind {
        FarmKind::HealthLeak => match leak_page(id) {
            LeakPage::Drug(_) => (
                format!("{place} Pharmacy"),
                id.is_multiple_of(4).then(|| "pharmacy".to_owned()),
            ),
            LeakPage::Service(..) => (
                format!("{place} Community Clinic"),
                id.is_multiple_of(4).then(|| "clinic".to_owned()),
            ),
        },
        FarmKind::SensitiveSite => {
            let (suffix, cat, _, _) = SENSITIVE[variant(id, SENSITIVE.len())];
            // Half the rows say who they are in the list, half leave it to
            // the scan's site context.
            (
                format!("{place} {suffix}"),
                id.is_multiple_of(2).then(|| cat.to_owned()),
            )
        }
        _ => (format!("{place} {}", shop(id).0), None),
    };
    let tls = kind == FarmKind::TlsError
        || (id.is_multiple_of(7)
            && matches!(
                kind,
                FarmKind::Clean | FarmKind::PixelOnly | FarmKind::HealthLeak
            ));
    let scheme = if tls { "https" } else { "http" };
    let path = match (kind, leak_page(id)) {
        (FarmKind::HealthLeak, LeakPage::Drug(d)) => format!("/drugs/{}", d.slug),
        (FarmKind::HealthLeak, LeakPage::Service(slug, ..)) => format!("/services/{slug}"),
        _ => "/".to_owned(),
    };
    FarmSite {
        id,
        url: format!("{scheme}://{host}{path}"),
        host,
        kind,
        organisation,
        state: STATES[(id * 5) % STATES.len()].to_owned(),
        category,
        expected: expected_of(kind, id),
    }
}

/// `FarmKind::expected`, with the findings of the page variant site `id` shows.
fn expected_of(kind: FarmKind, id: usize) -> Expected {
    let mut e = kind.expected();
    if kind == FarmKind::HealthLeak && matches!(leak_page(id), LeakPage::Drug(_)) {
        e.rules = &["care_action_with_identity", "health_with_identity"];
    }
    e
}

/// Which of `len` variants site `id` shows (spread over the ids of a kind).
fn variant(id: usize, len: usize) -> usize {
    (id / 3 + id) % len
}

fn shop(id: usize) -> (&'static str, &'static str, [&'static str; 3]) {
    SHOPS[variant(id, SHOPS.len())]
}

enum LeakPage {
    Drug(&'static Drug),
    /// (slug, title, text)
    Service(&'static str, &'static str, &'static str),
}

fn leak_page(id: usize) -> LeakPage {
    let i = variant(id, LEAK_DRUGS.len() + CLINIC_SERVICES.len());
    match LEAK_DRUGS
        .get(i)
        .and_then(|slug| DRUGS.iter().find(|d| d.slug == *slug))
    {
        Some(d) => LeakPage::Drug(d),
        None => {
            let (slug, title, text) =
                CLINIC_SERVICES[i.saturating_sub(LEAK_DRUGS.len()) % CLINIC_SERVICES.len()];
            LeakPage::Service(slug, title, text)
        }
    }
}

/// The site list a survey reads: `url,organisation,state,category`.
pub fn site_list_csv(sites: &[FarmSite]) -> String {
    let mut out = String::from("url,organisation,state,category\n");
    for s in sites {
        let row = [
            s.url.as_str(),
            s.organisation.as_str(),
            s.state.as_str(),
            s.category.as_deref().unwrap_or(""),
        ];
        let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The farm, running: its sites on [`Farm::server`], the broken-TLS and
/// refusing ports beside it. Dropping it stops everything.
pub struct Farm {
    pub server: SiteServer,
    /// Answers a TLS ClientHello with a plain-text HTTP error ([`FarmKind::TlsError`]).
    pub bad_tls: SocketAddr,
    /// Bound, never listening: connections are refused ([`FarmKind::Refused`]).
    pub refused: SocketAddr,
    /// `MAP host target` rules that go before the catch-all.
    rules: Vec<String>,
    bad_tls_task: tokio::task::JoinHandle<()>,
    /// Holds the refused port so no one else takes it.
    _closed: TcpSocket,
}

impl Farm {
    /// Every Chromium flag the farm needs: the resolver rules (per-host rules
    /// for the TLS-error, refused and DNS-failure sites before the catch-all
    /// `MAP *` to the farm's port), the self-signed certificate accepted, and
    /// the small V8 heap ([`JS_HEAP_FLAG`]).
    pub fn chrome_args(&self) -> Vec<String> {
        let mut args = self.server.chrome_args();
        for a in &mut args {
            if let Some(rest) = a.strip_prefix("--host-resolver-rules=")
                && !self.rules.is_empty()
            {
                *a = format!("--host-resolver-rules={}, {rest}", self.rules.join(", "));
            }
        }
        args.push(JS_HEAP_FLAG.to_owned());
        args
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }
}

impl Drop for Farm {
    fn drop(&mut self) {
        self.bad_tls_task.abort();
    }
}

/// Serves `sites` (and the tracker endpoints) on loopback.
pub async fn start_farm(sites: &[FarmSite]) -> Result<Farm, SiteError> {
    let mut routes = HostRouter::new();
    for s in sites {
        if matches!(
            s.kind,
            FarmKind::TlsError | FarmKind::DnsFailure | FarmKind::Refused
        ) {
            continue; // never reach this server
        }
        let site = Arc::new(s.clone());
        routes = routes.host(
            &s.host,
            Router::new().fallback(move |req: Request| serve(site.clone(), req)),
        );
    }
    let server = SiteServer::start(with_trackers(routes)).await?;

    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let bad_tls = listener.local_addr()?;
    let bad_tls_task = tokio::spawn(plain_text_tls(listener));

    let closed = TcpSocket::new_v4()?;
    closed.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let refused = closed.local_addr()?;

    let rules = sites
        .iter()
        .filter_map(|s| match s.kind {
            FarmKind::TlsError => Some(format!("MAP {} {bad_tls}", s.host)),
            FarmKind::Refused => Some(format!("MAP {} {refused}", s.host)),
            FarmKind::DnsFailure => Some(format!("MAP {} ~NOTFOUND", s.host)),
            _ => None,
        })
        .collect();
    Ok(Farm {
        server,
        bad_tls,
        refused,
        rules,
        bad_tls_task,
        _closed: closed,
    })
}

/// Reads what a client sends first (a TLS ClientHello) and answers in plain
/// HTTP, as a misconfigured port 443 does: Chromium gives
/// `ERR_SSL_PROTOCOL_ERROR`.
async fn plain_text_tls(listener: TcpListener) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let _ = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await;
            let _ = s
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 36\r\nConnection: close\r\n\r\nThis port speaks plain HTTP, not TLS",
                )
                .await;
            let _ = s.shutdown().await;
        });
    }
}

const HTML: &str = "text/html; charset=utf-8";
const CONSENT_JS: &str = include_str!("../assets/pharmacy/consent.js");

async fn serve(site: Arc<FarmSite>, req: Request) -> Response {
    let path = req.uri().path();
    match (site.kind, path) {
        (_, "/favicon.ico") => StatusCode::NO_CONTENT.into_response(),
        (FarmKind::ConsentRespected | FarmKind::ConsentIgnored, "/static/otSDKStub.js") => (
            [(
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            )],
            CONSENT_JS,
        )
            .into_response(),
        (FarmKind::Hanging, _) => std::future::pending::<Response>().await,
        (FarmKind::RedirectLoop, "/a") => Redirect::to("/b").into_response(),
        (FarmKind::RedirectLoop, _) => Redirect::to("/a").into_response(),
        (FarmKind::HttpError, _) => {
            let status = if site.id.is_multiple_of(2) {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            let title = status.canonical_reason().unwrap_or("Error");
            let page = Page::new(&site, title, format!("<h1>{title}</h1>"));
            (status, [(header::CONTENT_TYPE, HTML)], page.render()).into_response()
        }
        (FarmKind::Slow, "/") => {
            tokio::time::sleep(Duration::from_millis(SLOW_MS)).await;
            html(shop_page(&site))
        }
        (FarmKind::HealthLeak, "/") => html(health_home(&site)),
        (FarmKind::HealthLeak, p) if site.url.ends_with(p) => html(health_page(&site)),
        (FarmKind::SensitiveSite, "/") => html(sensitive_page(&site)),
        (FarmKind::CrashRenderer, "/") => html(crash_page(&site)),
        (_, "/") => html(shop_page(&site)),
        _ => {
            let page = Page::new(&site, "Page not found", "<h1>Page not found</h1>".into());
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, HTML)],
                page.render(),
            )
                .into_response()
        }
    }
}

fn html(page: Page) -> Response {
    ([(header::CONTENT_TYPE, HTML)], page.render()).into_response()
}

/// Per-site tracker accounts, so a survey can tell the sites' pixels apart.
fn pixel_id(site: &FarmSite) -> String {
    format!("77{:014}", site.id)
}

/// One page of a farm site.
struct Page<'a> {
    site: &'a FarmSite,
    /// Before " | organisation".
    title: String,
    description: String,
    jsonld: Option<serde_json::Value>,
    /// Tag markup for `<head>`.
    tags: String,
    body: String,
}

impl<'a> Page<'a> {
    fn new(site: &'a FarmSite, title: &str, body: String) -> Page<'a> {
        Page {
            site,
            title: title.to_owned(),
            description: String::new(),
            jsonld: None,
            tags: String::new(),
            body,
        }
    }

    fn render(&self) -> String {
        let org = esc(&self.site.organisation);
        let desc = if self.description.is_empty() {
            String::new()
        } else {
            format!(
                "<meta name=\"description\" content=\"{}\">\n",
                esc(&self.description)
            )
        };
        let ld = self.jsonld.as_ref().map_or(String::new(), |v| {
            format!(
                "<script type=\"application/ld+json\">{}</script>\n",
                v.to_string().replace("</", "<\\/")
            )
        });
        format!(
            r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | {org}</title>
{desc}<meta property="og:site_name" content="{org}">
{ld}{tags}</head>
<body>
<header><a href="/">{org}</a></header>
<main>
{body}
</main>
<footer><p>{org} is made up: site {id} of the leakscope test farm.</p></footer>
</body>
</html>
"#,
            title = esc(&self.title),
            tags = self.tags,
            body = self.body,
            id = self.site.id,
        )
    }
}

/// A shop's home page; its tags depend on the kind.
fn shop_page(site: &FarmSite) -> Page<'_> {
    let (_, tagline, products) = shop(site.id);
    let items: String = products
        .iter()
        .map(|p| format!("<li>{}</li>", esc(p)))
        .collect();
    let body = format!(
        "<h1>{}</h1>\n<p>{}. Open every day, in town and online.</p>\n<h2>Best sellers</h2>\n<ul>{items}</ul>",
        esc(&site.organisation),
        esc(tagline)
    );
    let mut page = Page::new(site, tagline, body);
    page.description = format!("{tagline}, from {}.", site.organisation);
    let pixel = pixel_id(site);
    page.tags = match site.kind {
        FarmKind::PixelOnly => {
            let mut t = meta_snippet(&pixel);
            match site.id % 3 {
                1 => t.push_str(&gtag_snippet(&format!("G-FARM{:06}", site.id))),
                2 => t.push_str(&tiktok_snippet(&format!("CFARM{:015}", site.id))),
                _ => {}
            }
            t
        }
        FarmKind::Slow => meta_snippet(&pixel),
        FarmKind::ConsentRespected => format!(
            "{}<script type=\"text/plain\" class=\"optanon-category-C0004\">\n{}\n</script>\n",
            consent_platform(site),
            meta_base_code(&pixel)
        ),
        FarmKind::ConsentIgnored => format!(
            "{}{}\n<script>\n// The choice handler was wired backwards: whatever the visitor chose,\n\
// the pixel is granted and told about it, a few times over.\n\
window.OptanonWrapper = function () {{\n  fbq('consent', 'grant');\n  var sent = 0;\n  \
var timer = setInterval(function () {{\n    \
fbq('trackCustom', 'CookieChoice', {{active_groups: window.OnetrustActiveGroups || ''}});\n    \
if (++sent >= {AFTER_CHOICE_SHOTS}) clearInterval(timer);\n  }}, {AFTER_CHOICE_MS});\n}};\n</script>\n",
            consent_platform(site),
            meta_snippet(&pixel)
        ),
        _ => String::new(),
    };
    page
}

/// The OneTrust look-alike of the demo pharmacy, served by the site itself.
fn consent_platform(site: &FarmSite) -> String {
    format!(
        "<script src=\"/static/otSDKStub.js\" data-domain-script=\"farm-{:04}\"></script>\n",
        site.id
    )
}

/// A drug or clinic-service page that names the condition in its path and
/// title, with a Meta Pixel (and GA4 on odd ids).
fn health_page(site: &FarmSite) -> Page<'_> {
    let mut page = match leak_page(site.id) {
        LeakPage::Drug(d) => {
            let body = format!(
                "<h1>{name}</h1>\n<p>{cat}</p>\n<p>{summary}</p>\n<p>${price:.2}</p>\n<p><a href=\"/refill?drug={slug}\">Refill this prescription</a></p>",
                name = esc(d.name),
                cat = esc(d.category),
                summary = esc(d.summary),
                price = d.price,
                slug = d.slug,
            );
            let mut p = Page::new(site, &format!("{} – Refill", d.name), body);
            p.description = format!("{} – {}. {}", d.name, d.category, d.summary);
            p.jsonld = Some(json!({
                "@context": "https://schema.org", "@type": "Drug", "name": d.name,
                "description": d.summary,
            }));
            p
        }
        LeakPage::Service(_, title, text) => {
            let body = format!(
                "<h1>{}</h1>\n<p>{}</p>\n<p><a href=\"/book\">Book a visit</a></p>",
                esc(title),
                esc(text)
            );
            let mut p = Page::new(site, title, body);
            p.description = text.to_owned();
            p.jsonld = Some(json!({
                "@context": "https://schema.org", "@type": "MedicalClinic",
                "name": site.organisation,
            }));
            p
        }
    };
    page.tags = meta_snippet(&pixel_id(site));
    if site.id % 2 == 1 {
        page.tags
            .push_str(&gtag_snippet(&format!("G-FARM{:06}", site.id)));
    }
    page
}

/// The home page of a pharmacy or clinic: a link to its health page, no tags.
fn health_home(site: &FarmSite) -> Page<'_> {
    let path = site.url.splitn(4, '/').nth(3).unwrap_or("");
    let body = format!(
        "<h1>{}</h1>\n<p><a href=\"/{}\">Our most visited page</a></p>",
        esc(&site.organisation),
        esc(path)
    );
    Page::new(site, "Welcome", body)
}

/// A sensitive organisation's home page: headings and body say "988" or
/// "recovery", what the pixel sends (title, description, JSON-LD) names
/// only the organisation.
fn sensitive_page(site: &FarmSite) -> Page<'_> {
    let (_, _, tagline, heading) = SENSITIVE[variant(site.id, SENSITIVE.len())];
    let (h2, text) = if site.organisation.ends_with("Recovery Center") {
        (
            "Call our admissions team",
            "Confidential admissions, 24 hours a day. Detox and residential programs; we check your insurance.",
        )
    } else {
        (
            "Call or text 988",
            "Free, confidential support, day and night. Call or text 988, or chat with a counselor.",
        )
    };
    let body = format!(
        "<h1>{}</h1>\n<h2>{h2}</h2>\n<p>{}</p>\n<p><a href=\"tel:+15555550188\">Call now</a></p>",
        esc(heading),
        esc(text)
    );
    let mut page = Page::new(site, tagline, body);
    page.description = "Free and confidential, day and night.".into();
    page.jsonld = Some(json!({
        "@context": "https://schema.org", "@type": "MedicalOrganization",
        "name": site.organisation,
    }));
    page.tags = meta_snippet(&pixel_id(site));
    page
}

/// A page whose inline script allocates until V8's heap limit kills the
/// renderer (before the load event, so the navigation itself fails).
fn crash_page(site: &FarmSite) -> Page<'_> {
    let mut page = Page::new(
        site,
        "Loading",
        format!(
            "<h1>Loading…</h1>\n<script>\n// Holds ever more memory: with {JS_HEAP_FLAG} the renderer dies at once.\n\
(function () {{\n  var hoard = [];\n  for (var i = 0; i < {chunks}; i++) {{\n    \
hoard.push(new Array(131072).fill(i));\n  }}\n  window.__hoard = hoard;\n}})();\n</script>",
            // 131072 small integers: 512 KiB or more each.
            chunks = CRASH_CAP_MIB * 2,
        ),
    );
    page.description = "Please wait.".into();
    page
}
