//! Northwind Pharmacy: the made-up demo site, served on loopback with its
//! tracker tags (see [`crate::trackers`]).
//!
//! It reproduces the leak patterns of the Kroger-style complaints on journeys a
//! patient takes: a site search for "plan b", drug pages, a prescription refill
//! form, appointment booking (e.g. "HIV PrEP consultation"), an "Add to cart"
//! button and a "Call pharmacist" link, plus non-health pages.
//!
//! Consent: a OneTrust look-alike banner (`assets/pharmacy/consent.js`) that
//! `@duckduckgo/autoconsent`'s built-in "Onetrust" rule drives. Meta Pixel
//! (targeting, C0004) and GA4 (performance, C0002) run only after "Accept";
//! the TikTok tag was pasted outside the consent manager and fires whatever
//! the visitor chose: the bug the demo exposes. Meta alone also honours
//! Global Privacy Control (realistic partial compliance).
//!
//! Consent fixtures live on the same host under `/fixtures/` (see
//! [`FIXTURE_CONSENT_RESPECTED`], [`FIXTURE_CONSENT_IGNORED`],
//! [`FIXTURE_BUTTON_TEXT`], [`FIXTURE_CONSENT_FRAME`], [`FIXTURE_CONSENT_DELAYED`]).

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::Router;
use axum::extract::{Form, Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::trackers::{
    GA4_ID, META_PIXEL_ID, TIKTOK_CODE, gtag_base_code, gtag_src, meta_base_code_with_user,
    tiktok_base_code, with_trackers,
};
use crate::{HostRouter, SiteError, SiteServer};

/// The demo site's host name (resolved to loopback by `SiteServer::chrome_args`).
pub const PHARMACY_HOST: &str = "northwind-pharmacy.test";
/// Banner that gates all three tags correctly (nothing is sent before "Accept").
pub const FIXTURE_CONSENT_RESPECTED: &str = "/fixtures/consent-respected";
/// Banner shown, but every tag fires anyway, before and after "Reject All".
pub const FIXTURE_CONSENT_IGNORED: &str = "/fixtures/consent-ignored";
/// The signed-in patient of [`FIXTURE_CONSENT_IGNORED`]: the page hands this
/// email to Meta (`fbq('init', id, {em})`) and TikTok (`ttq.identify`).
pub const FIXTURE_PATIENT_EMAIL: &str = "jane.canary+rx7@example.com";
/// The value of the `nw_session` cookie [`FIXTURE_CONSENT_IGNORED`] sets: a
/// credential no scan output may keep.
pub const FIXTURE_SESSION_COOKIE: &str = "nwsess-4f8Kq2ZpX9cV7bN1mT6yR3wE";
/// No banner; a Meta Pixel sends the clicked button's text (`cd[buttonText]`).
pub const FIXTURE_BUTTON_TEXT: &str = "/fixtures/button-text";
/// The banner lives in a cross-site iframe ([`CMP_HOST`]), like Sourcepoint's
/// or TrustArc's: a look-alike of the Piano banner that autoconsent's
/// frame-only "piano.io" rule drives. The Meta Pixel loads only once the
/// frame reports "Accept".
pub const FIXTURE_CONSENT_FRAME: &str = "/fixtures/consent-frame";
/// [`FIXTURE_CONSENT_RESPECTED`] whose banner shows only after
/// [`CONSENT_DELAY_MS`], as delayed consent platforms do: the scanner must
/// not wait for it, yet still answer it when it comes.
pub const FIXTURE_CONSENT_DELAYED: &str = "/fixtures/consent-delayed";
/// How late the banner of [`FIXTURE_CONSENT_DELAYED`] appears.
pub const CONSENT_DELAY_MS: u32 = 2500;
/// Host of the consent frame of [`FIXTURE_CONSENT_FRAME`] (its own site, so
/// Chromium runs it out of process).
pub const CMP_HOST: &str = "consent.northwind-cmp.test";

/// The refill form's hidden CSRF token: a credential that DOM snapshots
/// must not keep (tests look for it in the evidence).
pub const REFILL_CSRF_TOKEN: &str = "nw-csrf-Q7k2VbW4tN0pL7xR1sY9dE3f";

const CONSENT_JS: &str = include_str!("../assets/pharmacy/consent.js");
const SITE_JS: &str = include_str!("../assets/pharmacy/site.js");
const SITE_CSS: &str = include_str!("../assets/pharmacy/site.css");

/// One product in the made-up catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Drug {
    pub slug: &'static str,
    pub name: &'static str,
    pub sku: &'static str,
    /// Condition or department shown on the page and sent as category.
    pub category: &'static str,
    pub price: f64,
    pub prescription: bool,
    pub summary: &'static str,
    /// Extra words the site search matches.
    pub keywords: &'static str,
}

/// The catalogue: health-revealing products plus ordinary ones.
pub const DRUGS: &[Drug] = &[
    Drug {
        slug: "levonorgestrel-1-5mg",
        name: "Plan B One-Step (levonorgestrel 1.5 mg)",
        sku: "NW-100150",
        category: "Emergency contraception",
        price: 49.99,
        prescription: false,
        summary: "Emergency contraceptive tablet. Take as soon as possible within 72 hours after unprotected sex or contraceptive failure.",
        keywords: "plan b morning after pill emergency contraceptive",
    },
    Drug {
        slug: "sertraline-50mg",
        name: "Sertraline 50 mg tablets (Zoloft)",
        sku: "NW-200050",
        category: "Depression & anxiety",
        price: 12.40,
        prescription: true,
        summary: "Selective serotonin reuptake inhibitor (SSRI) used for depression, panic disorder, OCD and PTSD.",
        keywords: "zoloft ssri antidepressant depression anxiety panic",
    },
    Drug {
        slug: "truvada",
        name: "Truvada (emtricitabine/tenofovir DF 200/300 mg)",
        sku: "NW-300300",
        category: "HIV PrEP",
        price: 60.00,
        prescription: true,
        summary: "Used with safer-sex practices for HIV-1 pre-exposure prophylaxis (PrEP), and with other medicines to treat HIV-1.",
        keywords: "prep hiv pre-exposure prophylaxis emtricitabine tenofovir",
    },
    Drug {
        slug: "valacyclovir-1g",
        name: "Valacyclovir 1 g tablets (Valtrex)",
        sku: "NW-400100",
        category: "Genital herpes",
        price: 18.75,
        prescription: true,
        summary: "Antiviral for cold sores, shingles and genital herpes outbreaks.",
        keywords: "valtrex herpes antiviral cold sores",
    },
    Drug {
        slug: "naltrexone-50mg",
        name: "Naltrexone 50 mg tablets",
        sku: "NW-500050",
        category: "Alcohol & opioid dependence",
        price: 32.10,
        prescription: true,
        summary: "Helps people recovering from alcohol or opioid dependence stay abstinent.",
        keywords: "alcohol opioid addiction recovery dependence",
    },
    Drug {
        slug: "home-pregnancy-test",
        name: "Early Result Pregnancy Test (2 tests)",
        sku: "NW-600002",
        category: "Pregnancy tests",
        price: 14.99,
        prescription: false,
        summary: "Detects the pregnancy hormone hCG up to 6 days before a missed period.",
        keywords: "pregnancy test hcg pregnant",
    },
    Drug {
        slug: "ibuprofen-200mg",
        name: "Ibuprofen 200 mg (100 tablets)",
        sku: "NW-700200",
        category: "Pain relief",
        price: 7.49,
        prescription: false,
        summary: "Relieves minor aches and pains, headache and fever.",
        keywords: "advil pain headache fever",
    },
    Drug {
        slug: "vitamin-d3-1000iu",
        name: "Vitamin D3 1000 IU (120 softgels)",
        sku: "NW-800120",
        category: "Vitamins",
        price: 9.99,
        prescription: false,
        summary: "Daily vitamin D supplement.",
        keywords: "vitamin supplement",
    },
];

/// Appointment reasons: `(value, label)`.
pub const APPOINTMENT_SERVICES: &[(&str, &str)] = &[
    ("hiv-prep-consultation", "HIV PrEP consultation"),
    ("birth-control-consultation", "Birth control consultation"),
    (
        "mental-health-medication-review",
        "Mental health medication review",
    ),
    ("sti-testing", "STI testing"),
    ("flu-shot", "Flu shot"),
    ("covid-19-vaccine", "COVID-19 vaccine"),
    ("travel-health", "Travel health consultation"),
];

const STORES: &[(&str, &str)] = &[
    ("0421", "Northwind Pharmacy – Harbor Street"),
    ("0187", "Northwind Pharmacy – Elm Park"),
];

/// Routes for the site host plus every tracker host.
pub fn pharmacy() -> HostRouter {
    with_trackers(
        HostRouter::new()
            .host(PHARMACY_HOST, site())
            .host(CMP_HOST, Router::new().fallback(cmp_frame)),
    )
}

/// The same routes: the consent fixtures are pages of the pharmacy host.
pub fn consent_fixtures() -> HostRouter {
    pharmacy()
}

/// Starts the demo on a loopback port.
pub async fn start_demo() -> Result<SiteServer, SiteError> {
    SiteServer::start(pharmacy()).await
}

fn site() -> Router {
    Router::new()
        .route("/", get(home))
        .route("/search", get(search))
        .route("/drugs", get(drug_index))
        .route("/drugs/{slug}", get(drug_page))
        .route("/pharmacy/refill", get(refill_form).post(refill_submit))
        .route("/pharmacy/refill/confirmation", get(refill_done))
        .route(
            "/appointments/book",
            get(appointment_form).post(appointment_submit),
        )
        .route("/appointments/confirmation", get(appointment_done))
        .route("/about", get(about))
        .route("/store-hours", get(store_hours))
        .route("/privacy", get(privacy))
        .route("/api/cart", post(add_to_cart))
        .route(
            "/static/site.css",
            get(|| async { asset("text/css", SITE_CSS) }),
        )
        .route("/static/site.js", get(|| async { asset(JS, SITE_JS) }))
        .route(
            "/static/otSDKStub.js",
            get(|| async { asset(JS, CONSENT_JS) }),
        )
        .route(FIXTURE_CONSENT_RESPECTED, get(fixture_respected))
        .route(FIXTURE_CONSENT_IGNORED, get(fixture_ignored))
        .route(FIXTURE_BUTTON_TEXT, get(fixture_button))
        .route(FIXTURE_CONSENT_FRAME, get(fixture_frame))
        .route(FIXTURE_CONSENT_DELAYED, get(fixture_delayed))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .fallback(not_found)
}

const JS: &str = "application/javascript; charset=utf-8";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// HTML-escapes text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON value safe to embed in an inline `<script>`.
fn js_value(v: &serde_json::Value) -> String {
    v.to_string()
        .replace("</", "<\\/")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// How a page's tags relate to the consent banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagMode {
    /// The demo: Meta + GA4 gated (Meta also by GPC), TikTok not gated.
    Site,
    /// Everything gated (targeting/performance groups).
    Respected,
    /// Banner shown, nothing gated.
    Ignored,
    /// No banner, only the Meta Pixel, ungated.
    MetaOnly,
    /// The banner is a cross-site iframe; only the Meta Pixel, loaded when
    /// the frame posts "accepted".
    Framed,
}

/// Page-specific tracking calls, per vendor (JavaScript statements).
#[derive(Default)]
struct Tracking {
    meta: Vec<String>,
    ga4: Vec<String>,
    tiktok: Vec<String>,
}

struct Page {
    title: String,
    description: String,
    head_extra: String,
    body: String,
    tracking: Tracking,
    mode: TagMode,
    /// Manual advanced matching for the Meta Pixel (a signed-in visitor).
    meta_user: Option<String>,
    /// The consent banner starts this late (0: at DOM ready).
    consent_delay_ms: u32,
}

impl Page {
    fn new(title: impl Into<String>, body: String) -> Self {
        Page {
            title: title.into(),
            description:
                "Northwind Pharmacy: prescriptions, refills, vaccines and everyday health products."
                    .into(),
            head_extra: String::new(),
            body,
            tracking: Tracking::default(),
            mode: TagMode::Site,
            meta_user: None,
            consent_delay_ms: 0,
        }
    }
}

/// `<script>` for `code`, gated on OneTrust groups when `groups` is non-empty.
fn script(code: &str, groups: &[&str], gpc: bool) -> String {
    if groups.is_empty() {
        return format!("<script>\n{code}\n</script>\n");
    }
    let classes: Vec<String> = groups
        .iter()
        .map(|g| format!("optanon-category-{g}"))
        .collect();
    let gpc = if gpc { " data-gpc-optout" } else { "" };
    format!(
        "<script type=\"text/plain\" class=\"{}\"{gpc}>\n{code}\n</script>\n",
        classes.join(" ")
    )
}

fn script_src(src: &str, groups: &[&str]) -> String {
    if groups.is_empty() {
        return format!("<script async src=\"{}\"></script>\n", esc(src));
    }
    let classes: Vec<String> = groups
        .iter()
        .map(|g| format!("optanon-category-{g}"))
        .collect();
    format!(
        "<script type=\"text/plain\" class=\"{}\" src=\"{}\"></script>\n",
        classes.join(" "),
        esc(src)
    )
}

fn tags(page: &Page) -> String {
    let (meta_g, ga_g, tt_g, meta_gpc): (&[&str], &[&str], &[&str], bool) = match page.mode {
        TagMode::Site => (&["C0004"], &["C0002"], &[], true),
        TagMode::Respected => (&["C0004"], &["C0002"], &["C0004"], false),
        TagMode::Ignored | TagMode::MetaOnly | TagMode::Framed => (&[], &[], &[], false),
    };
    let only_meta = matches!(page.mode, TagMode::MetaOnly | TagMode::Framed);
    let mut out = String::new();
    if !only_meta {
        let delay = match page.consent_delay_ms {
            0 => String::new(),
            ms => format!(" data-delay-ms=\"{ms}\""),
        };
        out.push_str(&format!(
            "<script src=\"/static/otSDKStub.js\" data-domain-script=\"nw-demo-0001\"{delay}></script>\n",
        ));
        if page.mode == TagMode::Site {
            // Marketing pasted this outside the consent manager.
            out.push_str("<!-- TikTok Pixel Code -->\n");
        }
        let mut tt = tiktok_base_code(TIKTOK_CODE);
        for call in &page.tracking.tiktok {
            tt.push('\n');
            tt.push_str(call);
        }
        out.push_str(&script(&tt, tt_g, false));
    }
    out.push_str("<!-- Meta Pixel Code -->\n");
    let mut m = meta_base_code_with_user(META_PIXEL_ID, page.meta_user.as_deref());
    for call in &page.tracking.meta {
        m.push('\n');
        m.push_str(call);
    }
    if page.mode == TagMode::Framed {
        m = framed_consent(&m);
    }
    out.push_str(&script(&m, meta_g, meta_gpc));
    if !only_meta {
        out.push_str("<!-- Google tag (gtag.js) -->\n");
        out.push_str(&script_src(&gtag_src(GA4_ID), ga_g));
        let mut g = gtag_base_code(GA4_ID);
        for call in &page.tracking.ga4 {
            g.push('\n');
            g.push_str(call);
        }
        out.push_str(&script(&g, ga_g, false));
    }
    out
}

const NAV: &[(&str, &str)] = &[
    ("/", "Home"),
    ("/drugs", "Medicines"),
    ("/pharmacy/refill", "Refill a prescription"),
    ("/appointments/book", "Book an appointment"),
    ("/store-hours", "Store hours"),
    ("/about", "About us"),
];

fn render(page: &Page, gpc_header: bool) -> Html<String> {
    let gpc = if gpc_header { "1" } else { "0" };
    let mut nav = String::new();
    for (href, label) in NAV {
        let _ = write!(nav, "<li><a href=\"{href}\">{label}</a></li>");
    }
    let footer_settings = if matches!(page.mode, TagMode::MetaOnly | TagMode::Framed) {
        ""
    } else {
        "<button type=\"button\" id=\"ot-sdk-btn\" class=\"ot-sdk-show-settings\">Cookie Settings</button>"
    };
    Html(format!(
        r#"<!doctype html>
<html lang="en" data-gpc="{gpc}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | Northwind Pharmacy</title>
<meta name="description" content="{desc}">
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="Northwind Pharmacy">
<link rel="stylesheet" href="/static/site.css">
{head_extra}{tags}</head>
<body>
<header class="site-header">
<a class="brand" href="/">Northwind Pharmacy</a>
<nav class="site-nav" aria-label="Main"><ul>{nav}</ul></nav>
<a class="call" href="tel:+15555550142" aria-label="Call pharmacist at 555-555-0142">Call pharmacist</a>
</header>
<main id="main">
{body}
</main>
<footer class="site-footer">
<span>© Northwind Pharmacy (a made-up company for the leakscope demo)</span>
<a href="/privacy">Privacy notice</a>
{footer_settings}
<a href="/store-hours">Store hours</a>
</footer>
<script src="/static/site.js"></script>
</body>
</html>
"#,
        title = esc(&page.title),
        desc = esc(&page.description),
        head_extra = page.head_extra,
        tags = tags(page),
        body = page.body,
    ))
}

fn gpc_header(headers: &HeaderMap) -> bool {
    headers
        .get("sec-gpc")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "1")
}

fn search_form(q: &str) -> String {
    format!(
        r#"<form role="search" action="/search" method="get" aria-label="Search medicines and health products">
<label for="site-search" class="visually-hidden">Search</label>
<input type="search" id="site-search" name="q" value="{}" placeholder="Search medicines, conditions, services" autocomplete="off">
<button type="submit">Search</button>
</form>"#,
        esc(q)
    )
}

fn drug_card(d: &Drug) -> String {
    let rx = if d.prescription {
        " <span class=\"rx-badge\">Rx</span>"
    } else {
        ""
    };
    format!(
        "<li class=\"card\"><a href=\"/drugs/{}\">{}</a>{rx}<br><span class=\"muted\">{}</span></li>",
        d.slug,
        esc(d.name),
        esc(d.category)
    )
}

async fn home(headers: HeaderMap) -> Html<String> {
    let cards: String = DRUGS.iter().take(6).map(drug_card).collect();
    let body = format!(
        r#"<h1>Your neighbourhood pharmacy, online</h1>
<p>Refill prescriptions, book a consultation with a pharmacist, or shop health essentials for pickup today.</p>
{search}
<section aria-labelledby="quick-links"><h2 id="quick-links">Quick links</h2>
<ul>
<li><a href="/pharmacy/refill">Refill a prescription</a></li>
<li><a href="/appointments/book?service=birth-control-consultation">Birth control consultation</a></li>
<li><a href="/appointments/book?service=hiv-prep-consultation">HIV PrEP consultation</a></li>
<li><a href="/appointments/book?service=flu-shot">Get a flu shot</a></li>
</ul></section>
<section aria-labelledby="popular"><h2 id="popular">Popular right now</h2>
<ul class="card-list">{cards}</ul></section>"#,
        search = search_form(""),
    );
    render(
        &Page::new("Pharmacy, prescriptions & health", body),
        gpc_header(&headers),
    )
}

fn matches(d: &Drug, q: &str) -> bool {
    let hay = format!("{} {} {} {}", d.name, d.category, d.keywords, d.slug).to_lowercase();
    q.split_whitespace()
        .all(|w| hay.contains(&w.to_lowercase()))
}

async fn search(headers: HeaderMap, Query(params): Query<HashMap<String, String>>) -> Html<String> {
    let q = params.get("q").map(|s| s.trim()).unwrap_or_default();
    let mut hits: Vec<&Drug> = DRUGS.iter().filter(|d| matches(d, q)).collect();
    if hits.is_empty() && !q.is_empty() {
        // Loose fallback: any word, like most site searches.
        hits = DRUGS
            .iter()
            .filter(|d| q.split_whitespace().any(|w| w.len() > 2 && matches(d, w)))
            .collect();
    }
    let list = if q.is_empty() {
        "<p>Type a medicine, condition or service.</p>".to_owned()
    } else if hits.is_empty() {
        format!("<p>No results for “{}”.</p>", esc(q))
    } else {
        format!(
            "<p>{} result(s) for “{}”.</p><ul class=\"card-list\" aria-label=\"Search results\">{}</ul>",
            hits.len(),
            esc(q),
            hits.iter().map(|d| drug_card(d)).collect::<String>()
        )
    };
    let body = format!(
        "<h1>Search</h1>\n{}\n<section id=\"results\">{list}</section>",
        search_form(q)
    );
    let mut page = Page::new(
        if q.is_empty() {
            "Search".to_owned()
        } else {
            format!("Search results for {q}")
        },
        body,
    );
    if !q.is_empty() {
        let qv = json!(q);
        page.tracking.meta.push(format!(
            "fbq('track','Search',{});",
            js_value(&json!({"search_string": q, "content_category": "site_search"}))
        ));
        page.tracking.ga4.push(format!(
            "gtag('event','search',{});",
            js_value(&json!({"search_term": qv}))
        ));
        page.tracking.tiktok.push(format!(
            "ttq.track('Search',{});",
            js_value(&json!({"query": q}))
        ));
    }
    render(&page, gpc_header(&headers))
}

async fn drug_index(headers: HeaderMap) -> Html<String> {
    let cards: String = DRUGS.iter().map(drug_card).collect();
    let body = format!(
        "<h1>Medicines & health products</h1>\n{}\n<ul class=\"card-list\">{cards}</ul>",
        search_form("")
    );
    render(&Page::new("Medicines", body), gpc_header(&headers))
}

async fn drug_page(headers: HeaderMap, Path(slug): Path<String>) -> Response {
    let Some(d) = DRUGS.iter().find(|d| d.slug == slug) else {
        return not_found().await;
    };
    let rx = if d.prescription {
        "<p><span class=\"rx-badge\">Prescription required</span> We'll contact your prescriber if needed.</p>"
    } else {
        "<p>Available without a prescription.</p>"
    };
    let body = format!(
        r#"<nav aria-label="Breadcrumb"><a href="/drugs">Medicines</a> › {cat}</nav>
<article itemscope itemtype="https://schema.org/Drug">
<h1 itemprop="name">{name}</h1>
<p class="muted">{cat} · SKU {sku}</p>
<p itemprop="description">{summary}</p>
{rx}
<p class="price">${price:.2}</p>
<button type="button" class="add-to-cart" data-add-to-cart data-sku="{sku}" data-name="{name}" data-category="{cat}" data-price="{price:.2}">Add to cart</button>
<p id="cart-status" role="status" aria-live="polite"></p>
<p><a class="button" href="/pharmacy/refill?medication={slug}">Refill this prescription</a>
 or <a href="tel:+15555550142">Call pharmacist</a> with questions.</p>
</article>"#,
        cat = esc(d.category),
        name = esc(d.name),
        sku = esc(d.sku),
        summary = esc(d.summary),
        price = d.price,
        slug = d.slug,
    );
    let mut page = Page::new(d.name, body);
    page.description = format!("{} – {}. {}", d.name, d.category, d.summary);
    let ld = json!({
        "@context": "https://schema.org", "@type": "Drug", "name": d.name,
        "description": d.summary, "sku": d.sku, "category": d.category,
        "prescriptionStatus": if d.prescription { "PrescriptionOnly" } else { "OTC" },
        "offers": {"@type": "Offer", "price": format!("{:.2}", d.price), "priceCurrency": "USD"}
    });
    page.head_extra = format!(
        "<script type=\"application/ld+json\">{}</script>\n",
        js_value(&ld)
    );
    page.tracking.meta.push(format!(
        "fbq('track','ViewContent',{});",
        js_value(&json!({
            "content_name": d.name, "content_ids": [d.sku], "content_type": "product",
            "content_category": d.category, "value": d.price, "currency": "USD"
        }))
    ));
    page.tracking.ga4.push(format!(
        "gtag('event','view_item',{});",
        js_value(&json!({
            "currency": "USD", "value": d.price,
            "items": [{"item_id": d.sku, "item_name": d.name, "item_category": d.category, "price": d.price}]
        }))
    ));
    page.tracking.tiktok.push(format!(
        "ttq.track('ViewContent',{});",
        js_value(&json!({
            "contents": [{"content_id": d.sku, "content_name": d.name, "content_category": d.category, "price": d.price}],
            "content_type": "product", "value": d.price, "currency": "USD"
        }))
    ));
    render(&page, gpc_header(&headers)).into_response()
}

fn options(items: &[(&str, &str)], selected: &str) -> String {
    items
        .iter()
        .map(|(v, l)| {
            let sel = if *v == selected { " selected" } else { "" };
            format!("<option value=\"{}\"{sel}>{}</option>", esc(v), esc(l))
        })
        .collect()
}

async fn refill_form(
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Html<String> {
    let med = params.get("medication").map(String::as_str).unwrap_or("");
    let rx = params.get("rx").map(String::as_str).unwrap_or("");
    let meds: Vec<(&str, &str)> = std::iter::once(("", "Choose a medication"))
        .chain(
            DRUGS
                .iter()
                .filter(|d| d.prescription)
                .map(|d| (d.slug, d.name)),
        )
        .collect();
    let body = format!(
        r#"<h1>Refill a prescription</h1>
<p>Ready for pickup in as little as 2 hours. We'll text you when it's ready.</p>
<form id="refill-form" name="prescription_refill" action="/pharmacy/refill" method="post" aria-labelledby="refill-title">
<input type="hidden" name="csrf_token" value="{REFILL_CSRF_TOKEN}">
<h2 id="refill-title" class="visually-hidden">Refill details</h2>
<div class="form-grid">
<div><label for="first_name">First name</label><input id="first_name" name="first_name" autocomplete="given-name" required></div>
<div><label for="last_name">Last name</label><input id="last_name" name="last_name" autocomplete="family-name" required></div>
<div><label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" placeholder="you@example.com" required></div>
<div><label for="phone">Mobile phone</label><input id="phone" name="phone" type="tel" autocomplete="tel" placeholder="(555) 555-0100"></div>
<div><label for="dob">Date of birth</label><input id="dob" name="dob" type="date" required></div>
<div><label for="rx_number">Prescription (Rx) number</label><input id="rx_number" name="rx_number" value="{rx}" placeholder="RX-0000000" required></div>
<div><label for="medication">Medication</label><select id="medication" name="medication">{meds}</select></div>
<div><label for="store">Pickup store</label><select id="store" name="store">{stores}</select></div>
<div class="field-wide"><label for="notes">Symptoms or notes for the pharmacist</label><textarea id="notes" name="notes" rows="3" placeholder="Anything we should know (side effects, new symptoms, allergies)"></textarea></div>
</div>
<p><button type="submit" id="refill-submit">Refill prescription</button></p>
</form>"#,
        rx = esc(rx),
        meds = options(&meds, med),
        stores = options(STORES, "0421"),
    );
    render(
        &Page::new("Refill a prescription", body),
        gpc_header(&headers),
    )
}

/// Posted form fields, kept only long enough to build the redirect.
type Fields = HashMap<String, String>;

/// Keeps a query value to a safe, short token (the redirect is ours).
fn token(s: Option<&String>) -> String {
    s.map(|v| {
        v.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(64)
            .collect()
    })
    .unwrap_or_default()
}

async fn refill_submit(Form(f): Form<Fields>) -> Redirect {
    // Like many real sites, the confirmation URL repeats what was ordered:
    // every tag on the next page receives it in `dl` / `page.url`.
    Redirect::to(&format!(
        "/pharmacy/refill/confirmation?rx={}&medication={}&store={}",
        token(f.get("rx_number")),
        token(f.get("medication")),
        token(f.get("store"))
    ))
}

async fn refill_done(headers: HeaderMap, Query(q): Query<Fields>) -> Html<String> {
    let med = q
        .get("medication")
        .and_then(|m| DRUGS.iter().find(|d| d.slug == m))
        .map_or("your medication", |d| d.name);
    let body = format!(
        "<h1>Refill requested</h1>\n<p>We received your refill request for <strong>{}</strong> (Rx {}). We'll text you when it's ready.</p>\n<p><a href=\"/\">Back to home</a></p>",
        esc(med),
        esc(q.get("rx").map_or("", String::as_str))
    );
    let mut page = Page::new("Refill requested", body);
    page.tracking.meta.push(format!(
        "fbq('track','SubmitApplication',{});",
        js_value(&json!({"content_name": med}))
    ));
    render(&page, gpc_header(&headers))
}

async fn appointment_form(
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Html<String> {
    let service = params.get("service").map(String::as_str).unwrap_or("");
    let store = params.get("store").map(String::as_str).unwrap_or("0421");
    let services: Vec<(&str, &str)> = std::iter::once(("", "Choose a reason"))
        .chain(APPOINTMENT_SERVICES.iter().copied())
        .collect();
    let body = format!(
        r#"<h1>Book an appointment</h1>
<p>Private consultations with a pharmacist, in store or by video.</p>
<form id="appointment-form" name="appointment" action="/appointments/book" method="post">
<div class="form-grid">
<div><label for="service">Reason for visit</label><select id="service" name="service" required>{services}</select></div>
<div><label for="store">Store</label><select id="store" name="store">{stores}</select></div>
<div><label for="date">Date</label><input id="date" name="date" type="date" required></div>
<div><label for="time">Time</label><select id="time" name="time"><option>09:00</option><option>11:30</option><option>14:00</option><option>16:30</option></select></div>
<div><label for="first_name">First name</label><input id="first_name" name="first_name" autocomplete="given-name" required></div>
<div><label for="last_name">Last name</label><input id="last_name" name="last_name" autocomplete="family-name" required></div>
<div><label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" required></div>
<div><label for="phone">Phone</label><input id="phone" name="phone" type="tel" autocomplete="tel"></div>
<div class="field-wide"><label for="notes">Anything the pharmacist should know?</label><textarea id="notes" name="notes" rows="3"></textarea></div>
</div>
<p><button type="submit" id="book-submit">Book appointment</button></p>
</form>"#,
        services = options(&services, service),
        stores = options(STORES, store),
    );
    render(
        &Page::new("Book an appointment", body),
        gpc_header(&headers),
    )
}

async fn appointment_submit(Form(f): Form<Fields>) -> Redirect {
    Redirect::to(&format!(
        "/appointments/confirmation?service={}&date={}&store={}",
        token(f.get("service")),
        token(f.get("date")),
        token(f.get("store"))
    ))
}

async fn appointment_done(headers: HeaderMap, Query(q): Query<Fields>) -> Html<String> {
    let label = q
        .get("service")
        .and_then(|s| APPOINTMENT_SERVICES.iter().find(|(v, _)| v == s))
        .map_or("your appointment", |(_, l)| l);
    let body = format!(
        "<h1>You're booked</h1>\n<p><strong>{}</strong> on {}. A confirmation email is on its way.</p>\n<p><a href=\"/\">Back to home</a></p>",
        esc(label),
        esc(q.get("date").map_or("the chosen date", String::as_str))
    );
    let mut page = Page::new("Appointment confirmed", body);
    page.tracking.meta.push(format!(
        "fbq('track','Schedule',{});",
        js_value(&json!({"content_name": label, "status": "confirmed"}))
    ));
    page.tracking.tiktok.push(format!(
        "ttq.track('Contact',{});",
        js_value(&json!({"content_name": label}))
    ));
    render(&page, gpc_header(&headers))
}

async fn about(headers: HeaderMap) -> Html<String> {
    let body = "<h1>About Northwind Pharmacy</h1>\n<p>Northwind Pharmacy is a made-up, family-run chain of two stores, invented for the leakscope demo. Any resemblance to a real pharmacy is intended only in the tracking set-up.</p>\n<p><a href=\"/store-hours\">Find store hours</a></p>".to_owned();
    render(&Page::new("About us", body), gpc_header(&headers))
}

async fn store_hours(headers: HeaderMap) -> Html<String> {
    let mut rows = String::new();
    for (id, name) in STORES {
        let _ = write!(
            rows,
            "<tr><th scope=\"row\">{} (store {id})</th><td>Mon–Fri 8:00–21:00</td><td>Sat–Sun 9:00–18:00</td></tr>",
            esc(name)
        );
    }
    let body = format!(
        "<h1>Store hours</h1>\n<table><thead><tr><th>Store</th><th>Weekdays</th><th>Weekends</th></tr></thead><tbody>{rows}</tbody></table>"
    );
    render(&Page::new("Store hours", body), gpc_header(&headers))
}

async fn privacy(headers: HeaderMap) -> Html<String> {
    let body = "<h1>Privacy notice</h1>\n<p>We use cookies and similar technologies for site operation, analytics and advertising. You can change your choices at any time with “Cookie Settings” at the bottom of every page.</p>".to_owned();
    render(&Page::new("Privacy notice", body), gpc_header(&headers))
}

async fn add_to_cart(body: axum::body::Bytes) -> Response {
    // The cart is pretend: answer with a count so the page can update.
    let ok = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("sku").and_then(|s| s.as_str()).map(str::to_owned))
        .is_some();
    if ok {
        axum::Json(json!({"ok": true, "items": 1})).into_response()
    } else {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"ok": false, "error": "body must be JSON with a `sku` string"})),
        )
            .into_response()
    }
}

async fn not_found() -> Response {
    let page = Page::new(
        "Page not found",
        "<h1>Page not found</h1><p><a href=\"/\">Back to home</a></p>".into(),
    );
    (StatusCode::NOT_FOUND, render(&page, false)).into_response()
}

fn fixture_page(title: &str, mode: TagMode, body: &str, headers: &HeaderMap) -> Html<String> {
    let mut page = Page::new(title, body.to_owned());
    page.mode = mode;
    render(&page, gpc_header(headers))
}

async fn fixture_respected(headers: HeaderMap) -> Html<String> {
    fixture_page(
        "Consent respected",
        TagMode::Respected,
        "<h1>Consent respected</h1><p>Meta Pixel, GA4 and TikTok all wait for “Accept All Cookies”. After “Reject All” nothing reaches a tracker.</p>",
        &headers,
    )
}

async fn fixture_ignored(headers: HeaderMap) -> Response {
    let mut page = Page::new(
        "Consent ignored",
        "<h1>Consent ignored</h1><p>Signed in as Jane. The banner is for show: Meta Pixel, GA4 and TikTok fire on load and keep firing after “Reject All”.</p><p><a href=\"/fixtures/consent-ignored?page=2\">Next page</a></p>".to_owned(),
    );
    page.mode = TagMode::Ignored;
    // A signed-in patient: both tags are handed her email, which they hash.
    page.meta_user = Some(js_value(&json!({ "em": FIXTURE_PATIENT_EMAIL })));
    page.tracking.tiktok.push(format!(
        "ttq.identify({});",
        js_value(&json!({ "email": FIXTURE_PATIENT_EMAIL }))
    ));
    page.tracking.tiktok.push(format!(
        "ttq.track('ViewContent',{});",
        js_value(&json!({ "content_name": "Lab results" }))
    ));
    // Signed in: a session cookie, which every later request carries.
    (
        [(
            header::SET_COOKIE,
            format!("nw_session={FIXTURE_SESSION_COOKIE}; Path=/; HttpOnly"),
        )],
        render(&page, gpc_header(&headers)),
    )
        .into_response()
}

async fn fixture_button(headers: HeaderMap) -> Html<String> {
    fixture_page(
        "Test results",
        TagMode::MetaOnly,
        r#"<h1>Your lab results</h1>
<p>Results are ready for one of your tests.</p>
<p><button type="button" id="results-btn" class="btn btn-primary">Check my HIV test results</button></p>
<form id="results-form" action="/fixtures/button-text" method="get" onsubmit="return false">
<label for="results-email">Email</label> <input id="results-email" name="email" type="email" placeholder="you@example.com">
<button type="submit">Email me my results</button>
</form>"#,
        &headers,
    )
}

async fn fixture_delayed(headers: HeaderMap) -> Html<String> {
    let mut page = Page::new(
        "Consent banner, delayed",
        format!(
            "<h1>Consent banner, delayed</h1><p>The cookie banner appears {CONSENT_DELAY_MS} ms after the page has loaded; Meta, GA4 and TikTok wait for “Accept All Cookies”.</p>"
        ),
    );
    page.mode = TagMode::Respected;
    page.consent_delay_ms = CONSENT_DELAY_MS;
    render(&page, gpc_header(&headers))
}

async fn fixture_frame(headers: HeaderMap) -> Html<String> {
    fixture_page(
        "Consent in a frame",
        TagMode::Framed,
        "<h1>Consent in a frame</h1><p>The cookie banner below is served by a consent vendor's own site; the Meta Pixel waits for its “Accept”.</p>\n<div id=\"cmp-slot\"></div>",
        &headers,
    )
}

/// Wraps tag code so it runs once the consent frame says "accepted". The
/// frame is added by the same script, on the page's own scheme and port.
fn framed_consent(code: &str) -> String {
    format!(
        r#"(function () {{
  var f = document.createElement('iframe');
  f.title = 'Cookie consent';
  f.style.cssText = 'width:100%;height:180px;border:1px solid #ccc';
  f.src = location.protocol + '//{CMP_HOST}' + (location.port ? ':' + location.port : '') + '/banner';
  function mount() {{
    (document.getElementById('cmp-slot') || document.body).appendChild(f);
  }}
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount);
  else mount();
  var done = false;
  window.addEventListener('message', function (e) {{
    var host = '';
    try {{ host = new URL(e.origin).hostname; }} catch (err) {{}}
    if (host !== '{CMP_HOST}' || e.data !== 'nw-consent:accepted' || done) return;
    done = true;
{code}
  }});
}})();"#
    )
}

/// The consent vendor's frame: a Piano-like banner (our own markup, with
/// the ids autoconsent's "piano.io" rule looks for) that tells the embedding
/// page what the visitor chose.
async fn cmp_frame() -> Html<&'static str> {
    Html(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cookie consent</title></head>
<body style="font-family:sans-serif;margin:0">
<div id="piano-cookie_banner" style="padding:12px;background:#f4f4f4">
<p>We and our partners use cookies for analytics and advertising.</p>
<button type="button" data-acceptance-button>Accept all</button>
<button type="button" data-close-button>Reject all</button>
</div>
<script>
(function () {
  var banner = document.getElementById('piano-cookie_banner');
  function choose(c) {
    banner.style.display = 'none';
    parent.postMessage('nw-consent:' + c, '*');
  }
  banner.querySelector('[data-acceptance-button]').addEventListener('click', function () { choose('accepted'); });
  banner.querySelector('[data-close-button]').addEventListener('click', function () { choose('rejected'); });
})();
</script>
</body></html>"#,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_script_breakouts() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(js_value(&json!("</script><b>")), "\"<\\/script><b>\"");
    }

    #[test]
    fn search_matches_brand_and_condition_words() {
        let hit = |q: &str| {
            DRUGS
                .iter()
                .filter(|d| matches(d, q))
                .map(|d| d.slug)
                .collect::<Vec<_>>()
        };
        assert_eq!(hit("plan b"), vec!["levonorgestrel-1-5mg"]);
        assert_eq!(hit("PrEP"), vec!["truvada"]);
        assert!(hit("zoloft").contains(&"sertraline-50mg"));
    }

    #[test]
    fn site_mode_gates_meta_and_ga4_but_not_tiktok() {
        let page = Page::new("t", String::new());
        let html = tags(&page);
        assert!(html.contains(
            "class=\"optanon-category-C0004\" data-gpc-optout>\n(function(w,d){if(w.fbq)"
        ));
        assert!(html.contains("type=\"text/plain\" class=\"optanon-category-C0002\" src=\"https://www.googletagmanager.com/gtag/js?id=G-NWPDEMO01\""));
        assert!(html.contains("<script>\n(function(w,d,name){w.TiktokAnalyticsObject"));
    }

    #[test]
    fn redirect_tokens_are_cleaned() {
        assert_eq!(token(Some(&"RX-12<script>".to_owned())), "RX-12script");
        assert_eq!(token(None), "");
    }
}
