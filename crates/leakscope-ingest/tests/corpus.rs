//! Every capture in the shared corpus reads without error and yields exactly the
//! number of requests the corpus README documents for it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use leakscope_core::Exchange;
use leakscope_ingest::{Format, IngestError, Summary, Warning, read_path};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

fn read(rel: &str) -> (Summary, Vec<Exchange>, Vec<Warning>) {
    let mut exs = Vec::new();
    let mut warns = Vec::new();
    let s = read_path(
        &Path::new(CORPUS).join(rel),
        rel,
        &mut |e| exs.push(e),
        &mut |w| warns.push(w),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (s, exs, warns)
}

/// `file -> requests` from the README's per-source tables
/// (`| \`file\` | source path | bytes | sha256 | requests | vendors |`).
fn documented_counts() -> BTreeMap<String, u64> {
    let readme =
        std::fs::read_to_string(Path::new(CORPUS).join("README.md")).expect("corpus README");
    let mut out = BTreeMap::new();
    for line in readme.lines() {
        let cols: Vec<&str> = line.split(" | ").collect();
        if cols.len() < 6 || !cols[0].starts_with("| `") || cols[3].len() != 66 {
            continue;
        }
        let file = cols[0].trim_start_matches("| `").trim_end_matches('`');
        let digits: String = cols[4].chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse() {
            out.insert(file.to_string(), n);
        }
    }
    out
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("corpus dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn is_label_file(rel: &str) -> bool {
    rel.ends_with("inspection.json")
        || rel.ends_with(".csv")
        || rel == "vendor_counts.json"
        || rel == "manifest.json"
}

#[test]
fn every_capture_reads_and_matches_the_documented_count() {
    let counts = documented_counts();
    assert!(
        counts.len() > 80,
        "README tables not found ({} rows)",
        counts.len()
    );
    let mut files = Vec::new();
    all_files(Path::new(CORPUS), &mut files);
    files.sort();
    let mut checked = 0;
    for path in files {
        let rel = path
            .strip_prefix(CORPUS)
            .expect("prefix")
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "README.md" {
            continue;
        }
        let mut n = 0u64;
        let res = read_path(&path, &rel, &mut |_| n += 1, &mut |w| {
            panic!("unexpected warning: {w}")
        });
        if is_label_file(&rel) {
            match res {
                Err(e @ IngestError::UnknownFormat { .. }) => {
                    let msg = e.to_string();
                    assert!(msg.starts_with(&rel) && msg.contains("HAR 1.2"), "{msg}");
                    if rel.ends_with("inspection.json") && msg.contains("Blacklight") {
                        assert!(msg.contains("requests.har"), "{msg}");
                    }
                }
                other => panic!("{rel}: label file should be rejected as unknown, got {other:?}"),
            }
            continue;
        }
        let s = res.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.exchanges, n);
        let expected_format = if rel.ends_with(".har") {
            Format::Har
        } else if rel.contains("devtoolslog") || rel.contains("perflog") {
            Format::DevtoolsLog
        } else if rel.ends_with(".jsonl") {
            Format::JsonLines
        } else if rel.ends_with(".txt") {
            Format::UrlList
        } else if rel.ends_with(".tsv") || rel.ends_with(".tsv.gz") {
            Format::TsvList
        } else {
            Format::RequestList
        };
        assert_eq!(s.format, expected_format, "{rel}");
        if let Some(&want) = counts.get(&rel) {
            // HARs: one exchange per entry. DevTools logs: one per requestWillBeSent
            // (each redirect hop), without data: URLs. Lists: one per row.
            assert_eq!(s.exchanges, want, "{rel}");
            checked += 1;
        }
    }
    assert!(checked >= 55, "only {checked} files had documented counts");
}

#[test]
fn meta_pixel_posts_keep_their_bodies() {
    let (s, exs, warns) = read("meta_pixel_posts.jsonl");
    assert_eq!((s.format, s.exchanges), (Format::JsonLines, 31));
    assert!(warns.is_empty());
    assert!(
        exs.iter()
            .all(|e| e.method == "POST" && e.url.starts_with("https://www.facebook.com/tr"))
    );
    let ct = |p: &str| {
        exs.iter()
            .filter(|e| e.content_type().is_some_and(|c| c.starts_with(p)))
            .count()
    };
    assert_eq!(ct("multipart/form-data"), 20);
    assert_eq!(ct("application/x-www-form-urlencoded"), 11);
    assert!(
        exs.iter()
            .all(|e| e.body.as_ref().is_some_and(|b| !b.bytes.is_empty()))
    );
}

#[test]
fn har_pixel_posts_bodies_pages_and_initiators() {
    let (_, exs, _) = read("health/fb-pixel-inspector/mylabbox.requests-merged.har");
    let posts: Vec<&Exchange> = exs
        .iter()
        .filter(|e| e.method == "POST" && e.url.contains("facebook.com/tr"))
        .collect();
    assert_eq!(posts.len(), 6);
    assert!(posts.iter().all(|e| {
        e.body
            .as_ref()
            .is_some_and(|b| !b.bytes.is_empty() || !b.params.is_empty())
    }));
    assert!(exs.iter().all(|e| e.timestamp.is_some()));
    assert!(
        exs.iter()
            .enumerate()
            .all(|(i, e)| e.source.entry == i as u64)
    );

    let (_, exs, _) = read("health/markup-nonprofit-privacy/plannedparenthood.org/requests.har");
    assert!(exs.iter().any(|e| {
        e.page_url
            .as_deref()
            .is_some_and(|p| p.contains("plannedparenthood.org"))
    }));
    assert!(exs.iter().filter(|e| e.initiator.is_some()).count() > 10);
}

#[test]
fn devtools_logs_hops_cookies_and_status() {
    let (s, exs, _) = read("general/lighthouse/cnn.devtoolslog.json.gz");
    assert_eq!(s.exchanges, 1299);
    // Cookie headers only appear through requestWillBeSentExtraInfo.
    assert!(exs.iter().any(|e| e.header("cookie").is_some()));
    assert!(exs.iter().filter(|e| e.response.is_some()).count() > 1000);

    let (_, exs, _) = read("general/sitespeedio-chrome-har/ryan.perflog.json");
    let redirects = exs
        .iter()
        .filter(|e| {
            e.response
                .as_ref()
                .is_some_and(|r| (300..400).contains(&r.status))
        })
        .count();
    assert!(redirects >= 20, "redirect hops: {redirects}");
    assert!(exs.iter().all(|e| e.page_url.is_some()));
}

#[test]
fn request_lists_carry_page_and_type() {
    let (s, exs, _) = read("lists/adblock-rust/matching-test-requests.json");
    assert_eq!((s.format, s.exchanges), (Format::RequestList, 8276));
    assert_eq!(exs[0].url, "https://www.google-analytics.com/analytics.js");
    assert_eq!(exs[0].resource_type.as_deref(), Some("script"));
    assert_eq!(exs[0].page_url.as_deref(), Some("http://"));

    let (s, exs, _) = read("lists/qutebrowser/ublock-matches.tsv.gz");
    assert_eq!((s.format, s.exchanges), (Format::TsvList, 30000));
    assert_eq!(exs[0].url, "https://www.guildwars2.com/");
    assert_eq!(
        exs[0].source.entry, 1,
        "entry is the line index; line 0 is the header"
    );
    assert_eq!(exs[0].resource_type.as_deref(), Some("sub_frame"));
}
