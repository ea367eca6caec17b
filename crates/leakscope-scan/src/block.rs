//! `scan --block`: a [`BlockList`] applied in the browser. A filter list is
//! matched by Brave's adblock engine (`leakscope-rules`) on every paused
//! request; a CSP is put in the page as the site would, and Chromium
//! enforces it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use leakscope_browser::{FilterDecision, PausedRequest, RequestFilter};
use leakscope_rules::{BlockList, Query, Verdict, resource_type};

#[derive(Debug)]
pub(crate) struct Blocking {
    list: Arc<BlockList>,
    /// Requests decided, and the time the engine took for them: what the
    /// rules cost a scan (`LEAKSCOPE_LOG=leakscope_scan=debug`).
    checked: AtomicU64,
    nanos: AtomicU64,
}

impl Blocking {
    pub(crate) fn new(list: Arc<BlockList>) -> Blocking {
        Blocking {
            list,
            checked: AtomicU64::new(0),
            nanos: AtomicU64::new(0),
        }
    }

    /// (requests decided, engine time in nanoseconds).
    pub(crate) fn cost(&self) -> (u64, u64) {
        (
            self.checked.load(Ordering::Relaxed),
            self.nanos.load(Ordering::Relaxed),
        )
    }
}

impl RequestFilter for Blocking {
    fn decide(&self, r: &PausedRequest<'_>) -> FilterDecision {
        let BlockList::Filters(b) = &*self.list else {
            return FilterDecision::Continue;
        };
        let t = Instant::now();
        let v = b.check(&Query {
            url: r.url,
            source_url: r.page_url,
            resource_type: resource_type(r.resource_type, r.main_frame),
            method: r.method,
        });
        self.nanos
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.checked.fetch_add(1, Ordering::Relaxed);
        match v {
            Verdict::Allow => FilterDecision::Continue,
            Verdict::Block { .. } => FilterDecision::Block,
            Verdict::Rewrite { url, .. } => FilterDecision::Rewrite(url),
        }
    }
}

/// A script run in every frame before the page's own: in the top-level
/// document it puts the policy in a `<meta http-equiv>` as the first
/// element of `<head>`, from where Chromium enforces it on everything the
/// page loads or sends afterwards. (Chromium honours neither header changes
/// made with `Fetch.continueResponse` for a document's policy, and a
/// document served again with `Fetch.fulfillRequest` loses its
/// subresources, so the header route is closed to a CDP client.) The meta
/// goes in when `<head>` appears: a mutation observer runs before the
/// parser executes the first script.
pub(crate) fn csp_script(policy: &str) -> String {
    let p = serde_json::to_string(policy).expect("a string serialises");
    format!(
        r#"(() => {{
  if (window.top !== window) return;
  const put = (head) => {{
    const m = document.createElement('meta');
    m.httpEquiv = 'Content-Security-Policy';
    m.content = {p};
    head.insertBefore(m, head.firstChild);
  }};
  if (document.head) {{ put(document.head); return; }}
  const o = new MutationObserver(() => {{
    if (document.head) {{ o.disconnect(); put(document.head); }}
  }});
  o.observe(document, {{ childList: true, subtree: true }});
}})();"#
    )
}
