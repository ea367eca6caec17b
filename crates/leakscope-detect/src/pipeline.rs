//! The whole analysis of a stream of exchanges: decode (engine), scan for
//! canaries, read page documents for site context, link twins, then judge
//! every event, and judge again by who the site is (`site.rs`) the events
//! the health rules let pass. What `analyze` and `scan` both run.

use std::collections::HashMap;

use leakscope_core::{
    Category, DecodeError, Engine, Event, Exchange, Party, Source, Transport, Ui, Vendor,
    engine::{link_meta_twins, split_url},
    party,
};

use crate::site::{SiteCollector, SiteProfile, site_of_url};
use crate::{Detector, Finding, canary::CanaryScanner, finding::SiteContext};

/// Everything one run found.
#[derive(Debug, Default)]
pub struct Report {
    pub events: Vec<Event>,
    pub findings: Vec<Finding>,
    pub errors: Vec<DecodeError>,
    pub exchanges: u64,
    /// Who each site is: one profile per site whose pages sent events.
    pub sites: Vec<SiteProfile>,
}

pub struct Pipeline<'a> {
    engine: &'a Engine,
    detector: &'a Detector,
    /// One scanner for the run: it skips values already read clean.
    canaries: CanaryScanner<'a>,
    events: Vec<Event>,
    /// Capture time of each exchange that gave an event, for occurrences.
    times: HashMap<Source, String>,
    errors: Vec<DecodeError>,
    exchanges: u64,
    /// Evidence of who each site is, from the page documents fed.
    sites: SiteCollector,
}

impl<'a> Pipeline<'a> {
    pub fn new(engine: &'a Engine, detector: &'a Detector) -> Pipeline<'a> {
        Pipeline {
            engine,
            detector,
            canaries: detector.canaries.scanner(),
            events: Vec::new(),
            times: HashMap::new(),
            errors: Vec::new(),
            exchanges: 0,
            sites: SiteCollector::new(),
        }
    }

    /// Page HTML for site context, when a scan has it outside a capture
    /// (DOM snapshots): the same as a document response in a HAR.
    pub fn feed_document(&mut self, url: &str, html: &str) {
        self.sites.document(url, html);
    }

    pub fn feed(&mut self, ex: &Exchange) {
        self.exchanges += 1;
        if let Some(html) = ex.response.as_ref().and_then(|r| r.body.as_deref()) {
            self.sites.document(&ex.url, html);
        }
        let start = self.events.len();
        self.decode(ex, start);
        if self.events.len() > start
            && let Some(t) = &ex.timestamp
        {
            self.times.insert(ex.source.clone(), t.clone());
        }
    }

    fn decode(&mut self, ex: &Exchange, start: usize) {
        if let Err(e) = self.engine.decode(ex, &mut self.events) {
            self.errors.push(e);
        }
        if self.detector.canaries.is_empty() {
            return;
        }
        let hits = self.canaries.scan(ex);
        if hits.is_empty() {
            return;
        }
        if self.events.len() > start {
            for ev in &mut self.events[start..] {
                ev.canaries.extend(hits.iter().cloned());
            }
        } else if let Some(ev) = unknown_recipient_event(self.engine, ex, hits) {
            // A planted value sent to a host no decoder knows: still a leak.
            self.events.push(ev);
        }
    }

    pub fn finish(mut self) -> Report {
        link_meta_twins(&mut self.events);
        let mut assessed: Vec<Option<Finding>> = self
            .events
            .iter()
            .map(|e| self.detector.assess(e))
            .collect();
        let sites = self.site_context(&mut assessed);
        let mut findings: Vec<Finding> = assessed.into_iter().flatten().collect();
        for f in &mut findings {
            for o in &mut f.occurrences {
                o.time = self.times.get(&o.source).cloned();
            }
        }
        let mut findings = merge_by_id(findings);
        // Trackers that kept sending after a refusal (scans stamp consent states).
        findings.extend(crate::consent::ignored(&self.events, self.detector));
        // Most severe first; ties in capture order.
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.source.cmp(&b.source))
        });
        Report {
            events: self.events,
            findings,
            errors: self.errors,
            exchanges: self.exchanges,
            sites,
        }
    }

    /// Profiles every site whose pages sent events; on a health site, an
    /// event the health rules let pass is judged by `verdict::judge_site`,
    /// and a finding they made names the site as extra evidence.
    fn site_context(&mut self, assessed: &mut [Option<Finding>]) -> Vec<SiteProfile> {
        let mut event_sites = std::collections::BTreeSet::new();
        for ev in &self.events {
            let Some(page) = ev.page_url.as_deref() else {
                continue;
            };
            if let Some(site) = site_of_url(page) {
                event_sites.insert(site);
            }
            self.sites.site(page);
            if let Some(t) = ev.page_title.as_deref().filter(|t| !t.trim().is_empty()) {
                self.sites.page_title(page, t);
            }
        }
        let profiles: Vec<SiteProfile> = self
            .sites
            .profiles(&self.detector.sites, &self.detector.health)
            .into_iter()
            .filter(|p| event_sites.contains(&p.site))
            .collect();
        let by_site: HashMap<&str, &SiteProfile> = profiles
            .iter()
            .filter(|p| p.is_sensitive())
            .map(|p| (p.site.as_str(), p))
            .collect();
        if by_site.is_empty() {
            return profiles;
        }
        for (ev, f) in self.events.iter().zip(assessed.iter_mut()) {
            let Some(profile) = ev
                .page_url
                .as_deref()
                .and_then(site_of_url)
                .and_then(|s| by_site.get(s.as_str()).copied())
            else {
                continue;
            };
            match f {
                Some(f) => f.site = Some(SiteContext::of(profile)),
                None => *f = crate::verdict::judge_site(ev, profile, crate::identity::identify(ev)),
            }
        }
        profiles
    }
}

/// One finding per id: the same leak seen several times (two views of a
/// page, the same event in two runs) becomes one finding whose occurrences
/// list every request. The representative is the most severe, the first in
/// capture order among equals; its occurrence comes first, the others follow
/// in capture order.
pub fn merge_by_id(findings: Vec<Finding>) -> Vec<Finding> {
    let mut groups: Vec<Vec<Finding>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for f in findings {
        match index.get(&f.id) {
            Some(&i) => groups[i].push(f),
            None => {
                index.insert(f.id.clone(), groups.len());
                groups.push(vec![f]);
            }
        }
    }
    groups
        .into_iter()
        .filter_map(|mut group| {
            // First of the most severe: `max_by_key` keeps the last maximum,
            // so compare on (severity, reversed position).
            let rep = group
                .iter()
                .enumerate()
                .max_by_key(|(i, f)| (f.severity, std::cmp::Reverse(*i)))
                .map(|(i, _)| i)?;
            let mut best = group.remove(rep);
            for other in group {
                best.occurrences.extend(other.occurrences);
            }
            Some(best)
        })
        .collect()
}

/// An event for a request that carried planted values to a host with no
/// decoder, unless that host is the site's own.
fn unknown_recipient_event(
    engine: &Engine,
    ex: &Exchange,
    hits: Vec<leakscope_core::CanaryHit>,
) -> Option<Event> {
    let host = split_url(&ex.url)?.host.to_ascii_lowercase();
    let page = ex
        .page_url
        .clone()
        .or_else(|| ex.header("referer").map(str::to_owned))
        .filter(|p| !p.is_empty());
    let party = party::party_of(&host, page.as_deref());
    if party == Party::FirstParty {
        return None;
    }
    let (organisation, product, category) = match engine.classify(&ex.url) {
        Some(c) => (
            c.product.organisation.clone(),
            c.product.name.clone(),
            c.product.category,
        ),
        None => (
            party::site_of(&host),
            "unknown third party".to_owned(),
            Category::Other,
        ),
    };
    Some(Event {
        vendor: Vendor::Other,
        organisation,
        product,
        category,
        party,
        account_id: None,
        event: "request".into(),
        page_url: page,
        referrer: None,
        page_title: None,
        request_url: leakscope_core::decode::redact_url(&ex.url).into_owned(),
        method: ex.method.clone(),
        server_side: false,
        custom_data: Default::default(),
        user_data: Vec::new(),
        ids: Vec::new(),
        ui: Ui::default(),
        transport: Transport {
            method: ex.method.clone(),
            content_type: ex.content_type().map(str::to_owned),
            format: "unknown".into(),
            encodings: Vec::new(),
        },
        source: ex.source.clone(),
        twins: Vec::new(),
        canaries: hits,
        raw: Vec::new(),
        consent: ex.consent.clone(),
        step: ex.step.clone(),
    })
}
