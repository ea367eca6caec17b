//! The whole analysis of a stream of exchanges: decode (engine), scan for
//! canaries, link twins, then judge every event. What `analyze` and `scan`
//! both run.

use std::collections::HashMap;

use leakscope_core::{
    Category, DecodeError, Engine, Event, Exchange, Party, Source, Transport, Ui, Vendor,
    engine::{link_meta_twins, split_url},
    party,
};

use crate::{Detector, Finding, canary::CanaryScanner};

/// Everything one run found.
#[derive(Debug, Default)]
pub struct Report {
    pub events: Vec<Event>,
    pub findings: Vec<Finding>,
    pub errors: Vec<DecodeError>,
    pub exchanges: u64,
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
        }
    }

    pub fn feed(&mut self, ex: &Exchange) {
        self.exchanges += 1;
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
        let mut findings: Vec<Finding> = self
            .events
            .iter()
            .filter_map(|e| self.detector.assess(e))
            .collect();
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
        }
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
