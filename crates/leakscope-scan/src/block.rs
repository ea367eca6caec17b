//! `scan --block`: a [`BlockList`] (filter list or CSP) as the browser's
//! request filter. Filter lists are matched by Brave's adblock engine in
//! `leakscope-rules`; a CSP is left to Chromium to enforce.

use std::sync::Arc;

use leakscope_browser::{FilterDecision, PausedRequest, RequestFilter};
use leakscope_rules::{BlockList, Query, Verdict, resource_type};

#[derive(Debug)]
pub(crate) struct Blocking {
    list: Arc<BlockList>,
    /// The header value, rendered once.
    csp: Option<String>,
}

impl Blocking {
    pub(crate) fn new(list: Arc<BlockList>) -> Blocking {
        let csp = match &*list {
            BlockList::Csp(c) => Some(c.header_value()),
            BlockList::Filters(_) => None,
        };
        Blocking { list, csp }
    }
}

impl RequestFilter for Blocking {
    fn decide(&self, r: &PausedRequest<'_>) -> FilterDecision {
        let BlockList::Filters(b) = &*self.list else {
            return FilterDecision::Continue;
        };
        let v = b.check(&Query {
            url: r.url,
            source_url: r.page_url,
            resource_type: resource_type(r.resource_type, r.main_frame),
            method: r.method,
        });
        match v {
            Verdict::Allow => FilterDecision::Continue,
            Verdict::Block { .. } => FilterDecision::Block,
            Verdict::Rewrite { url, .. } => FilterDecision::Rewrite(url),
        }
    }

    fn document_csp(&self) -> Option<&str> {
        self.csp.as_deref()
    }
}
