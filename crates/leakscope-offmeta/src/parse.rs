//! The off-Meta activity file, in every layout Meta has shipped, from bytes:
//! JSON keyed `off_facebook_activity` (2020), `off_facebook_activity_v2`
//! (2021–25), `apps_and_websites_off_meta_activity` (Instagram's export),
//! the 2026 `label_values` records, and the HTML export's business pages.
//! Unknown fields are ignored; a file that is none of these says so.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One business and the events Meta received from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Business {
    pub name: String,
    /// Event types (`PURCHASE`, `SEARCH`, `CUSTOM`…) with the time each was
    /// received (Unix seconds; 0 when the export gave none), in file order.
    pub events: Vec<(String, i64)>,
}

/// Which layout a file was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    OffFacebookActivity,
    OffFacebookActivityV2,
    AppsAndWebsitesOffMetaActivity,
    LabelValues,
    Html,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::OffFacebookActivity => "off_facebook_activity",
            Layout::OffFacebookActivityV2 => "off_facebook_activity_v2",
            Layout::AppsAndWebsitesOffMetaActivity => "apps_and_websites_off_meta_activity",
            Layout::LabelValues => "label_values",
            Layout::Html => "html",
        }
    }
}

/// Why a file is not an off-Meta activity file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotActivity {
    /// Not JSON at all: the parser's message.
    BadJson(String),
    /// JSON, but none of the known shapes.
    OtherJson,
}

#[derive(Deserialize)]
struct KeyedBiz {
    #[serde(default)]
    name: String,
    #[serde(default)]
    events: Vec<KeyedEvent>,
}

#[derive(Deserialize)]
struct KeyedEvent {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    timestamp: Option<serde_json::Number>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    label_values: Vec<LabelValue>,
}

#[derive(Deserialize)]
struct LabelValue {
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    timestamp_value: Option<serde_json::Number>,
    #[serde(default)]
    vec: Vec<DictHolder>,
}

#[derive(Deserialize)]
struct DictHolder {
    #[serde(default)]
    dict: Vec<LabelValue>,
}

/// Meta's JSON exports write each UTF-8 byte of a non-ASCII character as
/// its own `\u00XX` escape ("Café" arrives as "CafÃ©"). When every
/// character fits a byte and those bytes are valid UTF-8, that is what was
/// meant.
pub fn fix_mojibake(s: &str) -> String {
    if s.is_ascii() || s.chars().any(|c| c as u32 > 0xFF) {
        return s.to_owned();
    }
    let bytes: Vec<u8> = s.chars().map(|c| c as u32 as u8).collect();
    match String::from_utf8(bytes) {
        Ok(fixed) => fixed,
        Err(_) => s.to_owned(),
    }
}

fn secs(n: Option<&serde_json::Number>) -> i64 {
    n.and_then(|n| n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)))
        .unwrap_or(0)
}

fn keyed(list: Vec<KeyedBiz>) -> Vec<Business> {
    list.into_iter()
        .map(|b| Business {
            name: fix_mojibake(b.name.trim()),
            events: b
                .events
                .into_iter()
                .map(|e| {
                    (
                        e.kind
                            .map(|k| fix_mojibake(&k))
                            .unwrap_or_else(|| "UNKNOWN".into()),
                        secs(e.timestamp.as_ref()),
                    )
                })
                .collect(),
        })
        .collect()
}

fn record(r: Record) -> Option<Business> {
    let events_lv = r.label_values.iter().find(|l| {
        l.label
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("events"))
    });
    // Other sections of the 2026 export use the same record shape: only a
    // record with an "Events" list is a business.
    let events_lv = events_lv?;
    let name = fix_mojibake(r.title?.trim());
    let mut events = Vec::new();
    for d in &events_lv.vec {
        let mut kind = None;
        let mut at = 0;
        for f in &d.dict {
            match f.label.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("event" | "type" | "event type") => {
                    kind = f.value.as_ref().and_then(|v| v.as_str()).map(str::to_owned)
                }
                Some("received on" | "time" | "timestamp") => {
                    at = secs(f.timestamp_value.as_ref());
                }
                _ => {}
            }
        }
        events.push((kind.unwrap_or_else(|| "UNKNOWN".into()), at));
    }
    Some(Business { name, events })
}

/// Every top-level key we know, typed, so a large file is read straight
/// into events (no generic JSON tree: memory follows the events, not the
/// bytes).
#[derive(Deserialize)]
struct Top {
    #[serde(default)]
    off_facebook_activity_v2: Option<Vec<KeyedBiz>>,
    #[serde(default)]
    off_facebook_activity: Option<Vec<KeyedBiz>>,
    #[serde(default)]
    apps_and_websites_off_meta_activity: Option<Vec<KeyedBiz>>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    label_values: Option<Vec<LabelValue>>,
}

/// Reads one JSON file.
pub fn json(bytes: &[u8]) -> Result<(Layout, Vec<Business>), NotActivity> {
    let first = bytes
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
    if first == Some(b'[') {
        let items: Vec<Record> =
            serde_json::from_slice(bytes).map_err(|e| classify_err(bytes, e))?;
        let out: Vec<Business> = items.into_iter().filter_map(record).collect();
        if out.is_empty() {
            return Err(NotActivity::OtherJson);
        }
        return Ok((Layout::LabelValues, out));
    }
    let top: Top = serde_json::from_slice(bytes).map_err(|e| classify_err(bytes, e))?;
    if let Some(l) = top.off_facebook_activity_v2 {
        return Ok((Layout::OffFacebookActivityV2, keyed(l)));
    }
    if let Some(l) = top.off_facebook_activity {
        return Ok((Layout::OffFacebookActivity, keyed(l)));
    }
    if let Some(l) = top.apps_and_websites_off_meta_activity {
        return Ok((Layout::AppsAndWebsitesOffMetaActivity, keyed(l)));
    }
    if let Some(lv) = top.label_values {
        let r = Record {
            title: top.title,
            label_values: lv,
        };
        return record(r)
            .map(|b| (Layout::LabelValues, vec![b]))
            .ok_or(NotActivity::OtherJson);
    }
    Err(NotActivity::OtherJson)
}

/// Broken JSON, or JSON of another shape (a typed read fails on both).
fn classify_err(bytes: &[u8], e: serde_json::Error) -> NotActivity {
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Ok(_) => NotActivity::OtherJson,
        Err(_) => NotActivity::BadJson(e.to_string()),
    }
}

/// What an HTML file of the export is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HtmlPage {
    /// A business page: its name and events.
    Business(Business),
    /// The section's index: business names and the pages they link to.
    Index(Vec<(String, String)>),
    Other,
}

/// Dates as the HTML export prints them: `Dec 01, 2024 7:41:14 am`.
fn html_date(s: &str) -> i64 {
    let s = s.trim();
    let mut parts = s.split_whitespace();
    let (Some(mon), Some(day), Some(year)) = (parts.next(), parts.next(), parts.next()) else {
        return 0;
    };
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let Some(m) = MONTHS
        .iter()
        .position(|x| mon.to_ascii_lowercase().starts_with(x))
    else {
        return 0;
    };
    let d: i64 = day.trim_end_matches(',').parse().unwrap_or(0);
    let y: i64 = year.parse().unwrap_or(0);
    if d == 0 || y == 0 {
        return 0;
    }
    // Days from the civil date (Howard Hinnant's algorithm), midnight UTC:
    // the export gives local time without a zone, so the day is what counts.
    let (y2, m2) = if m < 2 {
        (y - 1, m as i64 + 13)
    } else {
        (y, m as i64 + 1)
    };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (m2 - 3) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400
}

/// Reads one HTML file of the export.
pub fn html(text: &str) -> HtmlPage {
    let doc = scraper::Html::parse_document(text);
    let sel = |s: &str| scraper::Selector::parse(s).expect("a valid selector");
    let label_sel = sel("td._a6_q");
    let labels: Vec<scraper::ElementRef<'_>> = doc.select(&label_sel).collect();
    if !labels.is_empty() {
        let name = doc
            .select(&sel("h2"))
            .next()
            .map(|h| h.text().collect::<String>().trim().to_owned())
            .or_else(|| {
                doc.select(&sel("title"))
                    .next()
                    .map(|t| t.text().collect::<String>().trim().to_owned())
            })
            .unwrap_or_default();
        let mut events = Vec::new();
        let mut kind: Option<String> = None;
        let mut at = 0;
        for l in labels {
            let label = l.text().collect::<String>().trim().to_ascii_lowercase();
            let value = l
                .next_siblings()
                .filter_map(scraper::ElementRef::wrap)
                .next()
                .map(|v| v.text().collect::<String>().trim().to_owned())
                .unwrap_or_default();
            match label.as_str() {
                "event" | "type" => {
                    if let Some(k) = kind.take() {
                        events.push((k, at));
                        at = 0;
                    }
                    kind = Some(value);
                }
                "received on" | "time" => at = html_date(&value),
                _ => {}
            }
        }
        if let Some(k) = kind {
            events.push((k, at));
        }
        return HtmlPage::Business(Business { name, events });
    }
    let links: Vec<(String, String)> = doc
        .select(&sel("h2 a[href]"))
        .filter_map(|a| {
            Some((
                a.text().collect::<String>().trim().to_owned(),
                a.value().attr("href")?.to_owned(),
            ))
        })
        .filter(|(n, _)| !n.is_empty())
        .collect();
    if links.is_empty() {
        HtmlPage::Other
    } else {
        HtmlPage::Index(links)
    }
}

/// Merges businesses of the same name (a split export, numbered pages).
pub fn merge(list: Vec<Business>) -> Vec<Business> {
    let mut by: BTreeMap<String, Business> = BTreeMap::new();
    for b in list {
        let e = by.entry(b.name.to_lowercase()).or_insert_with(|| Business {
            name: b.name.clone(),
            events: Vec::new(),
        });
        e.events.extend(b.events);
    }
    by.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_json_layout_reads() {
        let v2 = br#"{"off_facebook_activity_v2":[{"name":"Northwind Pharmacy","events":[{"id":1,"type":"PURCHASE","timestamp":1700000000}]}]}"#;
        let (l, b) = json(v2).unwrap();
        assert_eq!(l, Layout::OffFacebookActivityV2);
        assert_eq!(b[0].events, [("PURCHASE".to_owned(), 1_700_000_000)]);
        let rec = br#"[{"title":"Contoso Clinic","label_values":[{"label":"Events","vec":[{"dict":[{"label":"Event","value":"SCHEDULE"},{"label":"Received on","timestamp_value":1700000000}]}]}]}]"#;
        let (l, b) = json(rec).unwrap();
        assert_eq!(l, Layout::LabelValues);
        assert_eq!(b[0].name, "Contoso Clinic");
        assert_eq!(b[0].events[0].0, "SCHEDULE");
        assert!(matches!(
            json(b"{\"profile\":{}}"),
            Err(NotActivity::OtherJson)
        ));
        assert!(matches!(json(b"{oops"), Err(NotActivity::BadJson(_))));
    }

    #[test]
    fn meta_mojibake_is_undone_and_real_latin1_kept() {
        assert_eq!(
            fix_mojibake("Caf\u{c3}\u{a9} Lumi\u{c3}\u{a8}re"),
            "Café Lumière"
        );
        assert_eq!(fix_mojibake("Café"), "Café");
        assert_eq!(fix_mojibake("Zoë’s"), "Zoë’s");
    }

    #[test]
    fn html_dates() {
        assert_eq!(html_date("Dec 01, 2024 7:41:14 am"), 1_733_011_200);
        assert_eq!(html_date("Jan 1, 1970"), 0);
        assert_eq!(html_date("not a date"), 0);
    }
}
