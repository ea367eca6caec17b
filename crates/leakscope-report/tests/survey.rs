//! Survey outputs on a small made-up survey: the exports read back (Parquet
//! with the parquet crate's own reader, CSV with the csv crate, JSON Lines
//! line by line), the HTML report as a snapshot, hostile values kept as
//! text, an empty survey, and the page in headless Chromium (its sort script
//! runs under the CSP, no payload does, no request leaves the page).

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use leakscope_core::survey::{
    EventRow, FindingRow, RunRow, SiteRow, SiteStatus, SurveyData, SurveyMeta,
};
use leakscope_report::{ExportFormat, SurveyHtmlOptions, render_survey_html, write_exports};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use sha2::{Digest, Sha256};

use common::chromium::{CHROMIUM, dump_dom, requests_from_page, sink};

fn s(x: &str) -> String {
    x.to_owned()
}

fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| s(x)).collect()
}

fn cols(state: &str, category: &str) -> Vec<(String, String)> {
    vec![(s("state"), s(state)), (s("category"), s(category))]
}

/// Five made-up sites: two with leaks, one clean, one unreachable (DNS),
/// one the scanner failed on. The list's own columns are `state` and
/// `category` (which clashes with the built-in `category`).
fn survey() -> SurveyData {
    let done = |id: i64, domain: &str, state: &str, cat: &str| SiteRow {
        id,
        url: format!("https://{domain}/"),
        domain: s(domain),
        columns: cols(state, cat),
        status: Some(SiteStatus::Done),
        attempts: 1,
        category: Some(s("health")),
        started: Some(format!("2026-11-30T09:0{id}:00Z")),
        finished: Some(format!("2026-11-30T09:0{id}:40Z")),
        duration_ms: Some(40_000 + id as u64),
        worker: Some(s("scan-01:4242")),
        evidence: Some(format!("sites/{id:04}-{domain}")),
        ..SiteRow::default()
    };
    let sites = vec![
        SiteRow {
            requests: 214,
            vendors: strings(&["meta_pixel", "ga4", "tiktok"]),
            meta_pixel: true,
            findings: 2,
            max_severity: Some(s("critical")),
            health_with_identity: true,
            tracking_after_reject: true,
            ..done(1, "northwind-clinic.example", "CA", "clinic")
        },
        SiteRow {
            requests: 96,
            vendors: strings(&["ga4"]),
            findings: 1,
            max_severity: Some(s("medium")),
            ..done(2, "harbor-pharmacy.example", "NY", "pharmacy")
        },
        SiteRow {
            id: 3,
            url: s("https://gone-hospital.example/"),
            domain: s("gone-hospital.example"),
            columns: cols("CA", "hospital"),
            status: Some(SiteStatus::Unreachable),
            failure_kind: Some(s("dns")),
            failure_message: Some(s(
                "DNS lookup failed for https://gone-hospital.example/ (net::ERR_NAME_NOT_RESOLVED)",
            )),
            attempts: 3,
            ..SiteRow::default()
        },
        SiteRow {
            id: 4,
            url: s("https://slow-therapy.example/"),
            domain: s("slow-therapy.example"),
            columns: cols("TX", "therapy"),
            status: Some(SiteStatus::Error),
            failure_kind: Some(s("scanner")),
            failure_message: Some(s("browser stopped answering during step 3")),
            attempts: 3,
            ..SiteRow::default()
        },
        SiteRow {
            requests: 12,
            ..done(5, "quiet-dental.example", "NY", "dental")
        },
    ];
    let run = |site_id: i64, consent: &str, requests: u64| RunRow {
        site_id,
        name: format!("{site_id}-{consent}"),
        consent: s(consent),
        status: s("loaded"),
        requests,
        consent_note: (consent == "rejected").then(|| s("refused with the banner's own button")),
        ..RunRow::default()
    };
    let runs = vec![
        run(1, "none", 130),
        run(1, "rejected", 84),
        run(2, "none", 50),
        run(2, "rejected", 46),
        RunRow {
            site_id: 3,
            name: s("3-none"),
            consent: s("none"),
            status: s("not_loaded"),
            failure_kind: Some(s("dns")),
            failure_message: Some(s("net::ERR_NAME_NOT_RESOLVED")),
            ..RunRow::default()
        },
        run(5, "none", 12),
        run(5, "rejected", 0),
    ];
    let event =
        |site_id: i64, run: &str, vendor: &str, org: &str, ev: &str, ids: &[&str]| EventRow {
            site_id,
            run: s(run),
            vendor: s(vendor),
            organisation: s(org),
            event: s(ev),
            page_url: Some(format!("https://site{site_id}.example/book")),
            request_url: format!("https://tracker.example/{vendor}?ev={ev}"),
            method: s("GET"),
            consent: Some(s(run.split('-').nth(1).unwrap_or("none"))),
            identifiers: strings(ids),
            ..EventRow::default()
        };
    let events = vec![
        EventRow {
            account_id: Some(s("1234567890123456")),
            ..event(
                1,
                "1-none",
                "meta_pixel",
                "Meta Platforms",
                "Schedule",
                &["email", "fbp"],
            )
        },
        event(1, "1-none", "ga4", "Google", "page_view", &["ga_client_id"]),
        event(1, "1-rejected", "tiktok", "TikTok", "ViewContent", &["ttp"]),
        EventRow {
            account_id: Some(s("G-ABC123")),
            page_url: None,
            ..event(2, "2-none", "ga4", "Google", "view_item", &[])
        },
    ];
    let findings = vec![
        FindingRow {
            site_id: 1,
            id: s("f-0001"),
            rule: s("health_with_identity"),
            severity: s("critical"),
            vendor: s("meta_pixel"),
            organisation: s("Meta Platforms"),
            event: s("Schedule"),
            page_url: Some(s("https://northwind-clinic.example/hiv-testing/book")),
            health_categories: strings(&["sexual.sti_hiv", "care.appointment"]),
            health_terms: strings(&["hiv test", "book appointment"]),
            identifiers: strings(&["email", "fbp"]),
            run: Some(s("1-none")),
            explanation: s("Meta received that this visitor booked an HIV test, with their email."),
        },
        FindingRow {
            site_id: 1,
            id: s("f-0002"),
            rule: s("health_with_identity"),
            severity: s("high"),
            vendor: s("tiktok"),
            organisation: s("TikTok"),
            event: s("ViewContent"),
            page_url: Some(s("https://northwind-clinic.example/hiv-testing")),
            health_categories: strings(&["sexual.sti_hiv"]),
            health_terms: strings(&["hiv"]),
            identifiers: strings(&["ttp"]),
            run: Some(s("1-rejected")),
            explanation: s("TikTok received the HIV testing page after the banner was refused."),
        },
        FindingRow {
            site_id: 2,
            id: s("f-0003"),
            rule: s("health_no_identity"),
            severity: s("medium"),
            vendor: s("ga4"),
            organisation: s("Google"),
            event: s("view_item"),
            page_url: None,
            health_categories: strings(&["medication.rx"]),
            health_terms: strings(&["sertraline"]),
            identifiers: vec![],
            run: None,
            explanation: s("Google received a prescription medication name."),
        },
    ];
    SurveyData {
        meta: SurveyMeta {
            name: s("US clinics 2026"),
            list: s("lists/us-clinics.csv"),
            created: s("2026-11-30T08:55:00Z"),
            settings: vec![
                (s("consent"), s("none, rejected")),
                (s("device"), s("desktop")),
                (s("journey"), s("default")),
                (s("retries"), s("2")),
            ],
            columns: strings(&["state", "category"]),
            browser: s("Chromium 156.0.7390.54"),
            tool_version: s("0.1.0"),
        },
        sites,
        runs,
        events,
        findings,
    }
}

const SITES_COLUMNS: [&str; 22] = [
    "id",
    "url",
    "domain",
    "status",
    "failure_kind",
    "failure_message",
    "attempts",
    "category",
    "started",
    "finished",
    "duration_ms",
    "worker",
    "evidence",
    "requests",
    "vendors",
    "meta_pixel",
    "findings",
    "max_severity",
    "health_with_identity",
    "tracking_after_reject",
    "state",
    "list_category",
];
const RUNS_COLUMNS: [&str; 8] = [
    "site_id",
    "name",
    "consent",
    "status",
    "failure_kind",
    "failure_message",
    "requests",
    "consent_note",
];
const EVENTS_COLUMNS: [&str; 11] = [
    "site_id",
    "run",
    "vendor",
    "organisation",
    "event",
    "account_id",
    "page_url",
    "request_url",
    "method",
    "consent",
    "identifiers",
];
const FINDINGS_COLUMNS: [&str; 13] = [
    "site_id",
    "id",
    "rule",
    "severity",
    "vendor",
    "organisation",
    "event",
    "page_url",
    "health_categories",
    "health_terms",
    "identifiers",
    "run",
    "explanation",
];

fn expected(d: &SurveyData) -> [(&'static str, &'static [&'static str], usize); 4] {
    [
        ("sites", &SITES_COLUMNS, d.sites.len()),
        ("runs", &RUNS_COLUMNS, d.runs.len()),
        ("events", &EVENTS_COLUMNS, d.events.len()),
        ("findings", &FINDINGS_COLUMNS, d.findings.len()),
    ]
}

/// Every row of a Parquet file, as column name → value.
fn parquet_rows(path: &Path) -> (Vec<String>, Vec<BTreeMap<String, Field>>) {
    let reader = SerializedFileReader::new(File::open(path).expect("open")).expect("parquet");
    let names: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    let rows = reader
        .get_row_iter(None)
        .expect("rows")
        .map(|r| r.expect("row").into_columns().into_iter().collect())
        .collect();
    (names, rows)
}

fn list(f: &Field) -> Vec<String> {
    match f {
        Field::ListInternal(l) => l
            .elements()
            .iter()
            .map(|e| match e {
                Field::Str(s) => s.clone(),
                other => panic!("list element {other:?}"),
            })
            .collect(),
        other => panic!("not a list: {other:?}"),
    }
}

#[test]
fn exports_read_back_in_every_format() {
    let d = survey();
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("exports");
    let written = write_exports(
        &d,
        &out,
        &[
            ExportFormat::Csv,
            ExportFormat::Jsonl,
            ExportFormat::Parquet,
            ExportFormat::Csv,
        ],
    )
    .expect("exports");
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "sites.csv",
            "runs.csv",
            "events.csv",
            "findings.csv",
            "sites.jsonl",
            "runs.jsonl",
            "events.jsonl",
            "findings.jsonl",
            "sites.parquet",
            "runs.parquet",
            "events.parquet",
            "findings.parquet"
        ]
    );
    // Nothing else is left in the folder (no temporary files).
    assert_eq!(std::fs::read_dir(&out).expect("dir").count(), 12);
    // To open the files with DuckDB or pandas by hand:
    // LEAKSCOPE_SURVEY_EXPORTS=/tmp/x cargo test -p leakscope-report --test survey exports_
    if let Some(keep) = std::env::var_os("LEAKSCOPE_SURVEY_EXPORTS") {
        write_exports(&d, Path::new(&keep), &ExportFormat::ALL).expect("exports kept");
    }

    for (table, columns, rows) in expected(&d) {
        // Parquet, with the parquet crate's own reader.
        let (names, prows) = parquet_rows(&out.join(format!("{table}.parquet")));
        assert_eq!(names, columns, "{table}.parquet columns");
        assert_eq!(prows.len(), rows, "{table}.parquet rows");
        // CSV: one header row, then the rows.
        let mut r = csv::Reader::from_path(out.join(format!("{table}.csv"))).expect("csv");
        let header: Vec<String> = r
            .headers()
            .expect("header")
            .iter()
            .map(String::from)
            .collect();
        assert_eq!(header, columns, "{table}.csv header");
        let records: Vec<csv::StringRecord> = r.records().map(|x| x.expect("record")).collect();
        assert_eq!(records.len(), rows, "{table}.csv rows");
        // JSON Lines: one object per row, every key on every line.
        let text = std::fs::read_to_string(out.join(format!("{table}.jsonl"))).expect("jsonl");
        assert_eq!(text.lines().count(), rows, "{table}.jsonl lines");
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("json line");
            let keys: Vec<&str> = v
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, columns, "{table}.jsonl keys");
        }
    }

    // A few values, typed.
    let (_, sites) = parquet_rows(&out.join("sites.parquet"));
    assert_eq!(sites[0]["id"], Field::Long(1));
    assert_eq!(sites[0]["status"], Field::Str(s("done")));
    assert_eq!(sites[0]["failure_kind"], Field::Null);
    assert_eq!(sites[0]["requests"], Field::Long(214));
    assert_eq!(sites[0]["duration_ms"], Field::Long(40_001));
    assert_eq!(list(&sites[0]["vendors"]), ["meta_pixel", "ga4", "tiktok"]);
    assert_eq!(sites[0]["meta_pixel"], Field::Bool(true));
    assert_eq!(sites[0]["tracking_after_reject"], Field::Bool(true));
    assert_eq!(sites[0]["category"], Field::Str(s("health")));
    assert_eq!(sites[0]["state"], Field::Str(s("CA")));
    assert_eq!(sites[0]["list_category"], Field::Str(s("clinic")));
    assert_eq!(sites[2]["status"], Field::Str(s("unreachable")));
    assert_eq!(sites[2]["failure_kind"], Field::Str(s("dns")));
    assert_eq!(sites[2]["attempts"], Field::Long(3));
    assert_eq!(sites[2]["duration_ms"], Field::Null);
    assert!(list(&sites[2]["vendors"]).is_empty());
    assert_eq!(sites[4]["meta_pixel"], Field::Bool(false));
    let (_, findings) = parquet_rows(&out.join("findings.parquet"));
    assert_eq!(
        list(&findings[0]["health_categories"]),
        ["sexual.sti_hiv", "care.appointment"]
    );
    assert!(list(&findings[2]["identifiers"]).is_empty());
    assert_eq!(findings[2]["run"], Field::Null);
    let (_, events) = parquet_rows(&out.join("events.parquet"));
    assert_eq!(events[3]["account_id"], Field::Str(s("G-ABC123")));
    assert_eq!(events[3]["page_url"], Field::Null);

    // The survey's metadata travels with each Parquet file.
    let reader =
        SerializedFileReader::new(File::open(out.join("runs.parquet")).expect("open")).expect("pq");
    let kv = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .expect("key-value metadata");
    let meta = kv
        .iter()
        .find(|k| k.key == "leakscope.survey")
        .and_then(|k| k.value.as_deref())
        .expect("survey metadata");
    let meta: serde_json::Value = serde_json::from_str(meta).expect("json");
    assert_eq!(meta["name"], "US clinics 2026");
    assert_eq!(meta["table"], "runs");

    // CSV: lists joined with `;`, absent values empty, flags as words.
    let mut r = csv::Reader::from_path(out.join("sites.csv")).expect("csv");
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("record")).collect();
    assert_eq!(&rows[0][14], "meta_pixel;ga4;tiktok");
    assert_eq!(&rows[0][15], "true");
    assert_eq!(&rows[0][21], "clinic");
    assert_eq!(&rows[2][3], "unreachable");
    assert_eq!(&rows[2][4], "dns");
    assert_eq!(&rows[2][10], "");
    assert_eq!(&rows[2][14], "");

    // JSON Lines: lists as arrays, absent values null.
    let first = std::fs::read_to_string(out.join("findings.jsonl")).expect("jsonl");
    let last: serde_json::Value =
        serde_json::from_str(first.lines().last().expect("a line")).expect("json");
    assert_eq!(last["health_terms"], serde_json::json!(["sertraline"]));
    assert_eq!(last["page_url"], serde_json::Value::Null);
    assert_eq!(last["site_id"], 2);
}

#[test]
fn exports_keep_hostile_text_exact_except_csv_formulas() {
    let mut d = survey();
    d.events[0].organisation = s("=HYPERLINK(\"http://evil.test\",\"x\")");
    d.events[0].event = s("line one\nline \"two\", three");
    let dir = tempfile::tempdir().expect("tmp");
    write_exports(&d, dir.path(), &ExportFormat::ALL).expect("exports");
    let mut r = csv::Reader::from_path(dir.path().join("events.csv")).expect("csv");
    let row = r.records().next().expect("a row").expect("record");
    assert_eq!(&row[3], "'=HYPERLINK(\"http://evil.test\",\"x\")");
    assert_eq!(&row[4], "line one\nline \"two\", three");
    let (_, rows) = parquet_rows(&dir.path().join("events.parquet"));
    assert_eq!(
        rows[0]["organisation"],
        Field::Str(s("=HYPERLINK(\"http://evil.test\",\"x\")"))
    );
    let text = std::fs::read_to_string(dir.path().join("events.jsonl")).expect("jsonl");
    assert_eq!(
        text.lines().count(),
        d.events.len(),
        "newlines stay escaped"
    );
}

#[test]
fn an_empty_survey_exports_empty_tables() {
    let d = SurveyData::default();
    let dir = tempfile::tempdir().expect("tmp");
    let written = write_exports(&d, dir.path(), &ExportFormat::ALL).expect("exports");
    assert_eq!(written.len(), 12);
    let (names, rows) = parquet_rows(&dir.path().join("sites.parquet"));
    assert_eq!(names, SITES_COLUMNS[..20]);
    assert!(rows.is_empty());
    let csv = std::fs::read_to_string(dir.path().join("findings.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 1, "header only");
    let jsonl = std::fs::read_to_string(dir.path().join("runs.jsonl")).expect("jsonl");
    assert!(jsonl.is_empty());
}

/// The page with minijinja's entity escapes undone, so attributes read as a
/// browser reads them (`/` is written `&#x2f;`, `'` `&#x27;`).
fn decoded(page: &str) -> String {
    page.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn opts() -> SurveyHtmlOptions {
    SurveyHtmlOptions {
        generated: s("2026-12-01T10:00:00Z"),
        link_reports: true,
    }
}

#[test]
fn survey_report_snapshot() {
    let page = render_survey_html(&survey(), &opts()).expect("renders");
    insta::assert_snapshot!("survey.html", page);
}

/// The page's one script, and the CSP hash that allows it.
fn script_and_csp(page: &str) -> (&str, &str) {
    let start = page.find("<script>").expect("script") + "<script>".len();
    let end = start + page[start..].find("</script>").expect("script end");
    let csp_at = page
        .find("<meta http-equiv=\"Content-Security-Policy\" content=\"")
        .expect("CSP");
    let csp = &page[csp_at..];
    let csp = &csp[csp.find("content=\"").unwrap() + 9..];
    (&page[start..end], &csp[..csp.find('"').unwrap()])
}

#[test]
fn the_csp_allows_the_sort_script_by_its_hash_and_nothing_else() {
    let page = render_survey_html(&survey(), &opts()).expect("renders");
    let (script, csp) = script_and_csp(&page);
    let csp = decoded(csp);
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
    assert!(csp.starts_with("default-src 'none'; "), "{csp}");
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}'")),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-eval"));
    assert_eq!(page.matches("<script").count(), 1);
}

#[test]
fn survey_report_figures_and_links() {
    let page = render_survey_html(&survey(), &opts()).expect("renders");
    // Headline figures, of the 3 scanned sites.
    assert!(page.contains(
        "5 sites in the list: 3 scanned, 1 could not be reached, 1 failed in the scanner."
    ));
    assert!(page.contains("1 of 3 scanned sites (33%) have a Meta Pixel."));
    assert!(page.contains("1 of 3 scanned sites (33%) sent health information together with something that identifies the visitor to a third party."));
    assert!(page.contains("1 of 3 sites where the cookie banner was refused (33%) kept sending data to trackers after the refusal."));
    assert!(page.contains("3 findings: 1 critical, 1 high, 1 medium."));
    // Charts: vendors in words, categories in words, one per list column.
    for id in [
        "chart-vendors",
        "chart-categories",
        "chart-severity",
        "chart-column-0",
        "chart-column-1",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(page.contains("Meta Platforms (meta_pixel)"));
    let words = leakscope_detect::HealthCategory::SexualStiHiv.describe();
    assert!(
        page.contains(&format!("{words} (sexual.sti_hiv)")),
        "{words}"
    );
    // Each scanned site links to its own report; the others do not.
    let page = decoded(&page);
    assert!(page.contains("href=\"sites/0001-northwind-clinic.example/report.html\""));
    assert_eq!(page.matches("/report.html\"").count(), 3);
    // Failures by kind with their message.
    assert!(page.contains("net::ERR_NAME_NOT_RESOLVED"));
    assert!(page.contains("browser stopped answering during step 3"));
    // Links off: no site link at all.
    let page = render_survey_html(
        &survey(),
        &SurveyHtmlOptions {
            link_reports: false,
            ..opts()
        },
    )
    .expect("renders");
    assert!(!page.contains("report.html\""));
}

const PAYLOADS: &[&str] = &[
    "<script>document.title='PWNED'</script>",
    "\"><img src=x onerror=\"document.title='PWNED'\">",
    "'><svg onload=document.title='PWNED'>",
    "<img src=\"http://sink.evil.test/img.gif\">",
    "</td></tr></table><iframe src=\"http://sink.evil.test/frame\"></iframe>",
    "javascript:document.title='PWNED'",
    "{{ 7*7 }}{% raw %}<b>tpl</b>",
    "<style>body{background:url(http://sink.evil.test/bg.png)}</style>",
];

/// Every text field of the survey carries every payload.
fn hostile_survey() -> SurveyData {
    let p = PAYLOADS.join(" ");
    let mut d = survey();
    d.meta.name = p.clone();
    d.meta.list = p.clone();
    d.meta.created = p.clone();
    d.meta.browser = p.clone();
    d.meta.tool_version = p.clone();
    d.meta.settings.push((p.clone(), p.clone()));
    d.meta.columns.push(p.clone());
    for site in &mut d.sites {
        site.url = format!("javascript:document.title='PWNED'//{p}");
        site.domain = format!("{}.example {p}", site.id);
        site.columns.push((p.clone(), p.clone()));
        site.columns[0].1 = p.clone();
        site.vendors.push(p.clone());
        if site.failure_kind.is_some() {
            site.failure_kind = Some(p.clone());
            site.failure_message = Some(p.clone());
        }
        site.max_severity = site.max_severity.as_ref().map(|_| p.clone());
    }
    d.sites[0].evidence = Some(s("javascript:document.title='PWNED'"));
    d.sites[1].evidence = Some(format!("sites/{}", PAYLOADS[0]));
    for e in &mut d.events {
        e.organisation = p.clone();
        e.vendor = p.clone();
    }
    for f in &mut d.findings {
        f.organisation = p.clone();
        f.health_categories.push(p.clone());
        f.severity = p.clone();
    }
    d
}

#[test]
fn hostile_values_stay_text() {
    let page = render_survey_html(&hostile_survey(), &opts()).expect("renders");
    assert_eq!(page.matches("<script").count(), 1, "only our script");
    assert_eq!(page.matches("<style").count(), 1, "only our style");
    for tag in ["<img", "<iframe", "<svg onload", "<b>tpl</b>"] {
        assert!(!page.contains(tag), "payload became markup: {tag}");
    }
    assert!(page.contains("&lt;script&gt;document.title="));
    assert!(page.contains("<li>3 findings.</li>"), "unknown severities");
    assert!(
        page.contains("{{ 7*7 }}"),
        "template syntax in data was interpreted"
    );
    // Every link is in-page or a plain relative path to a site's report
    // (as a browser reads the attribute: entities decoded).
    let attrs = page.replace("&#x2f;", "/").replace("&#x27;", "'");
    for href in attrs.split("href=\"").skip(1) {
        let href = &href[..href.find('"').expect("attribute ends")];
        assert!(
            href.starts_with('#') || (href.ends_with("/report.html") && !href.contains(':')),
            "unexpected link {href}"
        );
    }
    assert!(!attrs.to_ascii_lowercase().contains("href=\"javascript"));
    // The one site whose evidence path holds the payloads still links, encoded.
    assert!(attrs.contains(
        "href=\"sites/%3Cscript%3Edocument.title%3D%27PWNED%27%3C/script%3E/report.html\""
    ));
}

#[test]
fn an_empty_survey_renders() {
    let page =
        render_survey_html(&SurveyData::default(), &SurveyHtmlOptions::default()).expect("renders");
    assert!(page.contains("0 sites in the list: 0 scanned."));
    assert!(page.contains("No site has been scanned yet"));
    assert!(page.contains("The list has no sites."));
    // Sites waiting, none scanned: no division by zero anywhere.
    let mut d = survey();
    for site in &mut d.sites {
        site.status = Some(SiteStatus::Pending);
    }
    d.findings.clear();
    let page = render_survey_html(&d, &opts()).expect("renders");
    assert!(page.contains("5 sites in the list: 0 scanned, 5 not scanned yet."));
    assert!(!page.contains("NaN"));
}

#[test]
fn in_chromium_the_sort_script_runs_and_no_payload_does() {
    if !Path::new(CHROMIUM).exists() {
        panic!("{CHROMIUM} is missing: run scripts/setup.sh");
    }
    let d = hostile_survey();
    let page = render_survey_html(&d, &opts()).expect("renders");
    let t = tempfile::tempdir().expect("tmp");
    let file = t.path().join("survey.html");
    std::fs::write(&file, &page).expect("write");
    let (port, seen) = sink();
    let profile = tempfile::tempdir().expect("profile");
    let dom = dump_dom(&file, port, profile.path());
    assert!(
        dom.contains("<title>leakscope survey"),
        "title changed or page missing:\n{}",
        &dom[..dom.len().min(600)]
    );
    assert!(!dom.contains("PWNED</title>"), "a payload ran");
    // The sort script ran under the CSP: every header of the sites table
    // got its button (a blocked script leaves none).
    let headers = 3 + d.meta.columns.len() + 4;
    let table = &dom[dom.find("id=\"sites-table\"").expect("table")..];
    let thead = &table[..table.find("</thead>").expect("thead")];
    assert_eq!(
        thead.matches("<button type=\"button\">").count(),
        headers,
        "the sort script did not run: {thead}"
    );
    let lower = dom.to_ascii_lowercase();
    for tag in ["<iframe", "<img", "<svg onload", "<b>tpl</b>"] {
        assert!(!lower.contains(tag), "payload became markup: {tag}");
    }
    assert_eq!(lower.matches("<script").count(), 1, "an injected script");
    assert_eq!(lower.matches("<style").count(), 1, "an injected style");
    std::thread::sleep(Duration::from_millis(300));
    let from_page = requests_from_page(&seen);
    assert!(
        from_page.is_empty(),
        "the page made requests: {from_page:#?}"
    );
}
