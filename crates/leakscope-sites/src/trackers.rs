//! Look-alike tracker hosts: our own tag scripts (Meta Pixel, GA4 gtag,
//! TikTok pixel) and the collection endpoints they send to, answering the way
//! the real ones do (1×1 GIF, 204, small JSON) and never failing: a tracker
//! endpoint that errors would change what the page does next.
//!
//! Shared by the demo site and by test fixtures. Every host named here is
//! reached only through `SiteServer::chrome_args` (resolver mapped to
//! loopback); nothing leaves the machine.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

use crate::HostRouter;

/// Meta Pixel id used by the demo (same as `demo/northwind-pharmacy.har`).
pub const META_PIXEL_ID: &str = "1234567890123456";
/// GA4 measurement id used by the demo.
pub const GA4_ID: &str = "G-NWPDEMO01";
/// TikTok pixel code used by the demo.
pub const TIKTOK_CODE: &str = "CDEMO0NORTHWIND00001";

/// Hosts this module answers for (exact names and `*.` patterns).
pub const TRACKER_HOSTS: &[&str] = &[
    "connect.facebook.net",
    "*.facebook.com",
    "www.googletagmanager.com",
    "*.google-analytics.com",
    "analytics.tiktok.com",
];

const SHA256_JS: &str = include_str!("../assets/trackers/sha256.js");
const FBEVENTS_JS: &str = include_str!("../assets/trackers/fbevents.js");
const GTAG_JS: &str = include_str!("../assets/trackers/gtag.js");
const TTQ_JS: &str = include_str!("../assets/trackers/ttq.js");

/// The smallest transparent GIF, as pixel endpoints return.
const GIF_1X1: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// Adds every tracker host to `routes`.
pub fn with_trackers(routes: HostRouter) -> HostRouter {
    routes
        .host("connect.facebook.net", meta_cdn())
        .host("*.facebook.com", meta_collect())
        .host("www.googletagmanager.com", google_tag())
        .host("*.google-analytics.com", google_collect())
        .host("analytics.tiktok.com", tiktok())
}

/// The Meta Pixel base code for `pixel_id` (JavaScript, no `<script>`
/// element) that loads our fbevents.js, then `init` and `PageView`.
pub fn meta_base_code(pixel_id: &str) -> String {
    meta_base_code_with_user(pixel_id, None)
}

/// [`meta_base_code`] with manual advanced matching: `user` is a JSON object
/// literal (`{"em":"..."}`) passed to `fbq('init', id, user)`, which the tag
/// hashes before sending. The caller makes it safe for an inline script.
pub fn meta_base_code_with_user(pixel_id: &str, user: Option<&str>) -> String {
    let init = match user {
        Some(u) => format!("fbq('init','{pixel_id}',{u});"),
        None => format!("fbq('init','{pixel_id}');"),
    };
    format!(
        "(function(w,d){{if(w.fbq)return;var n=w.fbq=function(){{n.callMethod?\
n.callMethod.apply(n,arguments):n.queue.push(arguments)}};if(!w._fbq)w._fbq=n;n.push=n;\
n.loaded=true;n.version='2.0';n.queue=[];var t=d.createElement('script');t.async=true;\
t.src='https://connect.facebook.net/en_US/fbevents.js';var s=d.getElementsByTagName('script')[0];\
s.parentNode.insertBefore(t,s)}})(window,document);\n{init}\nfbq('track','PageView');"
    )
}

/// [`meta_base_code`] in a `<script>` element.
pub fn meta_snippet(pixel_id: &str) -> String {
    format!("<script>\n{}\n</script>", meta_base_code(pixel_id))
}

/// URL of the gtag.js loader for a GA4 stream.
pub fn gtag_src(ga4_id: &str) -> String {
    format!("https://www.googletagmanager.com/gtag/js?id={ga4_id}")
}

/// The inline half of the gtag snippet: `dataLayer`, `gtag()`, `config`.
pub fn gtag_base_code(ga4_id: &str) -> String {
    format!(
        "window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments);}}\n\
gtag('js',new Date());\ngtag('config','{ga4_id}');"
    )
}

/// The gtag.js snippet for a GA4 stream (loader + inline code).
pub fn gtag_snippet(ga4_id: &str) -> String {
    format!(
        "<script async src=\"{}\"></script>\n<script>\n{}\n</script>",
        gtag_src(ga4_id),
        gtag_base_code(ga4_id)
    )
}

/// The TikTok pixel base code (queue stub + loader) with `ttq.page()`,
/// JavaScript only.
pub fn tiktok_base_code(code: &str) -> String {
    format!(
        "(function(w,d,name){{w.TiktokAnalyticsObject=name;var q=w[name]=w[name]||[];\
['page','track','identify','holdConsent','revokeConsent','grantConsent','enableCookie','disableCookie']\
.forEach(function(m){{q[m]=function(){{q.push([m].concat([].slice.call(arguments)))}}}});\
q.load=function(id){{q._i=q._i||{{}};q._i[id]=[];q._t=q._t||{{}};q._t[id]=+new Date;\
var s=d.createElement('script');s.async=true;s.src='https://analytics.tiktok.com/i18n/pixel/events.js?sdkid='+id+'&lib='+name;\
var f=d.getElementsByTagName('script')[0];f.parentNode.insertBefore(s,f)}};\
q.load('{code}');q.page();}})(window,document,'ttq');"
    )
}

/// [`tiktok_base_code`] in a `<script>` element.
pub fn tiktok_snippet(code: &str) -> String {
    format!("<script>\n{}\n</script>", tiktok_base_code(code))
}

fn js(body: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn gif() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/gif"),
            (header::CACHE_CONTROL, "no-cache, must-revalidate"),
        ],
        GIF_1X1,
    )
        .into_response()
}

/// Any request the real host would answer: 200, empty, so pages never see errors.
async fn empty_ok() -> Response {
    (StatusCode::OK, "").into_response()
}

fn meta_cdn() -> Router {
    Router::new()
        .route(
            "/{locale}/fbevents.js",
            get(|| async { js(format!("{SHA256_JS}\n{FBEVENTS_JS}")) }),
        )
        .route(
            "/signals/config/{pixel}",
            get(|Path(pixel): Path<String>| async move {
                // Digits only: the id is echoed into JavaScript.
                let id: String = pixel.chars().filter(char::is_ascii_digit).collect();
                js(format!(
                    "window.fbq&&fbq.__nwConfig&&fbq.__nwConfig('{id}',\
{{\"buttonClick\":true,\"automaticMatching\":true,\"microdata\":true}});\n"
                ))
            }),
        )
        .fallback(|| async { js(String::new()) })
}

fn meta_collect() -> Router {
    Router::new()
        .route("/tr", any(tr))
        .route("/tr/", any(tr))
        .fallback(empty_ok)
}

async fn tr(method: axum::http::Method) -> Response {
    // The iframe form POST gets an empty page; image GETs get the GIF.
    if method == axum::http::Method::POST {
        (StatusCode::OK, [(header::CONTENT_TYPE, "text/html")], "").into_response()
    } else {
        gif()
    }
}

fn google_tag() -> Router {
    Router::new()
        .route(
            "/gtag/js",
            get(|| async { js(format!("{SHA256_JS}\n{GTAG_JS}")) }),
        )
        .fallback(|| async { js(String::new()) })
}

fn google_collect() -> Router {
    Router::new()
        .route("/g/collect", any(no_content))
        .fallback(no_content)
}

async fn no_content() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

fn tiktok() -> Router {
    Router::new()
        .route(
            "/i18n/pixel/events.js",
            get(|| async { js(format!("{SHA256_JS}\n{TTQ_JS}")) }),
        )
        .route("/api/v2/pixel", any(tiktok_ok))
        .route("/api/v2/pixel/{kind}", any(tiktok_ok))
        .fallback(tiktok_ok)
}

async fn tiktok_ok() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        r#"{"code":0,"message":"OK","data":{}}"#,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_name_their_ids_and_tag_urls() {
        assert!(meta_snippet("42").contains("fbq('init','42')"));
        assert!(meta_snippet("42").contains("connect.facebook.net/en_US/fbevents.js"));
        assert!(gtag_snippet("G-X").contains("gtag/js?id=G-X"));
        assert!(tiktok_snippet("CODE").contains("q.load('CODE');q.page()"));
    }

    #[test]
    fn gif_is_a_gif() {
        assert!(GIF_1X1.starts_with(b"GIF89a"));
        assert_eq!(GIF_1X1.last(), Some(&0x3b));
    }
}
