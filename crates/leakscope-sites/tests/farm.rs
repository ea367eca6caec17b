//! The test farm without Chromium: the list (kinds, ids, hosts, CSV) and
//! each kind's behaviour over loopback with a plain HTTP client.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use leakscope_sites::farm::{
    CRASH_CAP_MIB, Farm, FarmKind, FarmSite, JS_HEAP_FLAG, SLOW_MS, farm, site_list_csv, start_farm,
};

fn first(sites: &[FarmSite], kind: FarmKind) -> &FarmSite {
    sites
        .iter()
        .find(|s| s.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} site"))
}

#[test]
fn fourteen_sites_cover_every_kind_and_200_keep_the_proportions() {
    let kinds: HashSet<FarmKind> = farm(14).iter().map(|s| s.kind).collect();
    assert_eq!(kinds.len(), FarmKind::ALL.len());

    let mut count: BTreeMap<FarmKind, usize> = BTreeMap::new();
    for s in farm(200) {
        *count.entry(s.kind).or_default() += 1;
    }
    use FarmKind::*;
    let want = [
        (Clean, 36),
        (PixelOnly, 32),
        (HealthLeak, 32),
        (SensitiveSite, 24),
        (ConsentRespected, 16),
        (ConsentIgnored, 16),
        (Slow, 8),
        (Hanging, 4),
        (CrashRenderer, 4),
        (RedirectLoop, 4),
        (TlsError, 4),
        (HttpError, 8),
        (DnsFailure, 8),
        (Refused, 4),
    ];
    assert_eq!(count, want.into_iter().collect::<BTreeMap<_, _>>());
}

#[test]
fn the_list_is_deterministic_with_unique_ids_and_hosts() {
    let sites = farm(200);
    assert_eq!(sites, farm(200));
    assert_eq!(farm(14)[..], sites[..14]);
    let hosts: HashSet<&str> = sites.iter().map(|s| s.host.as_str()).collect();
    assert_eq!(hosts.len(), 200);
    let orgs: HashSet<&str> = sites.iter().map(|s| s.organisation.as_str()).collect();
    assert_eq!(orgs.len(), 200, "organisations are unique too");
    for (i, s) in sites.iter().enumerate() {
        assert_eq!(s.id, i + 1);
        let rest = s
            .url
            .strip_prefix("http://")
            .or_else(|| s.url.strip_prefix("https://"))
            .unwrap();
        assert!(rest.starts_with(&format!("{}/", s.host)), "{}", s.url);
        assert!(s.host.ends_with("-farm.test"), "{}", s.host);
        assert_eq!(s.state.len(), 2);
        // The kind decides the outcome; a health leak's page variant adds
        // the care-action rule (drug pages).
        let mut by_kind = s.kind.expected();
        by_kind.rules = s.expected.rules;
        assert_eq!(s.expected, by_kind);
        if s.kind == FarmKind::HealthLeak {
            assert_eq!(
                s.expected.rules.contains(&"care_action_with_identity"),
                s.url.contains("/drugs/"),
                "{}",
                s.url
            );
        }
        let unreachable = s.expected.status == "unreachable";
        assert_eq!(unreachable, s.expected.failure_kind.is_some(), "{s:?}");
        assert_eq!(
            s.url.starts_with("https://"),
            s.kind == FarmKind::TlsError
                || s.id.is_multiple_of(7)
                    && matches!(
                        s.kind,
                        FarmKind::Clean | FarmKind::PixelOnly | FarmKind::HealthLeak
                    )
        );
    }
    // Some rows carry a category, most do not.
    let with_cat = sites.iter().filter(|s| s.category.is_some()).count();
    assert!(with_cat > 5 && with_cat < 50, "{with_cat}");
    // Health leaks name the drug or service in the path.
    for s in sites.iter().filter(|s| s.kind == FarmKind::HealthLeak) {
        assert!(
            s.url.contains("/drugs/") || s.url.contains("/services/"),
            "{}",
            s.url
        );
    }
    // Every variant of the ordinary kinds appears.
    let suffixes: HashSet<String> = sites
        .iter()
        .map(|s| s.organisation.split_once(' ').unwrap().1.to_owned())
        .collect();
    for v in [
        "Pharmacy",
        "Community Clinic",
        "Crisis Services",
        "Family Helpline",
        "Recovery Center",
        "Outfitters",
        "Tea Merchants",
        "Toys",
    ] {
        assert!(suffixes.contains(v), "{v} missing from {suffixes:?}");
    }
    let leak_paths: HashSet<&str> = sites
        .iter()
        .filter(|s| s.kind == FarmKind::HealthLeak)
        .map(|s| s.url.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(leak_paths.len(), 9, "{leak_paths:?}");
}

#[test]
fn the_site_list_is_csv_with_the_survey_header() {
    let sites = farm(200);
    let text = site_list_csv(&sites);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        r.headers().unwrap(),
        vec!["url", "organisation", "state", "category"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), sites.len());
    for (row, s) in rows.iter().zip(&sites) {
        assert_eq!(&row[0], s.url);
        assert_eq!(&row[1], s.organisation);
        assert_eq!(&row[2], s.state);
        assert_eq!(&row[3], s.category.as_deref().unwrap_or(""));
    }
}

#[test]
fn expected_outcomes_per_kind() {
    use FarmKind::*;
    for k in FarmKind::ALL {
        let e = k.expected();
        match k {
            Clean | ConsentRespected => assert!(!e.meta_pixel && e.failure_kind.is_none()),
            PixelOnly | SensitiveSite | Slow => {
                assert!(e.meta_pixel && !e.health_with_identity && !e.tracking_after_reject)
            }
            HealthLeak => assert!(e.meta_pixel && e.health_with_identity),
            ConsentIgnored => assert!(e.meta_pixel && e.tracking_after_reject),
            _ => assert_eq!(e.status, "unreachable"),
        }
    }
    assert_eq!(Hanging.expected().failure_kind, Some("timeout"));
    assert_eq!(CrashRenderer.expected().failure_kind, Some("crash"));
    assert_eq!(Refused.expected().failure_kind, Some("refused"));
}

/// A client that resolves every farm host the way `Farm::chrome_args` makes
/// Chromium resolve it (DNS-failure hosts left out: they do not resolve).
fn client(f: &Farm, sites: &[FarmSite], timeout: Duration) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(true)
        .no_proxy()
        .timeout(timeout);
    for s in sites {
        let to = match s.kind {
            FarmKind::TlsError => f.bad_tls,
            FarmKind::Refused => f.refused,
            FarmKind::DnsFailure => continue,
            _ => f.server.addr,
        };
        b = b.resolve(&s.host, to);
    }
    b.resolve("connect.facebook.net", f.server.addr)
        .build()
        .unwrap()
}

async fn get(c: &reqwest::Client, url: &str) -> (u16, String, String) {
    let r = c
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

#[tokio::test]
async fn every_kind_behaves_over_loopback() {
    let sites = farm(50);
    let f = start_farm(&sites).await.unwrap();
    let c = client(&f, &sites, Duration::from_secs(10));
    let pixel = |s: &FarmSite| format!("fbq('init','77{:014}')", s.id);

    let s = first(&sites, FarmKind::Clean);
    let (st, _, body) = get(&c, &s.url).await;
    assert_eq!(st, 200);
    assert!(body.contains(&s.organisation), "{body}");
    assert!(
        !body.contains("fbq(") && !body.contains("<script"),
        "{body}"
    );

    // An https one, on the same port.
    let s = sites
        .iter()
        .find(|s| s.url.starts_with("https://") && s.kind == FarmKind::Clean)
        .unwrap();
    assert_eq!(get(&c, &s.url).await.0, 200);
    assert!(f.server.sink.to_host(&s.host).iter().any(|r| r.tls));

    for kind in [FarmKind::PixelOnly, FarmKind::Slow] {
        let s = first(&sites, kind);
        let t0 = Instant::now();
        let (st, _, body) = get(&c, &s.url).await;
        assert_eq!(st, 200, "{kind:?}");
        assert!(body.contains(&pixel(s)), "{body}");
        assert!(body.contains("fbq('track','PageView')"), "{body}");
        let slow = t0.elapsed() >= Duration::from_millis(SLOW_MS - 100);
        assert_eq!(slow, kind == FarmKind::Slow, "{kind:?} {:?}", t0.elapsed());
    }

    let s = first(&sites, FarmKind::HealthLeak);
    let (st, _, body) = get(&c, &s.url).await;
    assert_eq!(st, 200);
    assert!(body.contains(&pixel(s)), "{body}");
    let title = body
        .split("<title>")
        .nth(1)
        .unwrap()
        .split("</title>")
        .next()
        .unwrap();
    let slug = s.url.rsplit('/').next().unwrap();
    assert!(
        slug.split('-')
            .filter(|w| w.len() > 3)
            .any(|w| title.to_lowercase().contains(w)),
        "{title} does not name {slug}"
    );
    // Its home page links there.
    let home = format!(
        "{}/",
        s.url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/")
    );
    let (st, _, body) = get(&c, &home).await;
    assert_eq!(st, 200);
    assert!(body.contains(slug), "{body}");

    let s = first(&sites, FarmKind::SensitiveSite);
    let (st, _, body) = get(&c, &s.url).await;
    assert_eq!(st, 200);
    assert!(body.contains(&pixel(s)));
    assert!(body.contains("\"@type\":\"MedicalOrganization\""), "{body}");
    assert!(
        body.contains(&format!("content=\"{}\"", s.organisation)),
        "{body}"
    );

    let s = first(&sites, FarmKind::ConsentRespected);
    let (_, _, body) = get(&c, &s.url).await;
    assert!(body.contains("src=\"/static/otSDKStub.js\""), "{body}");
    assert!(
        body.contains("<script type=\"text/plain\" class=\"optanon-category-C0004\">"),
        "{body}"
    );
    assert!(
        !body.contains("<script>\n(function(w,d){if(w.fbq)"),
        "{body}"
    );
    let (st, _, js) = get(&c, &format!("http://{}/static/otSDKStub.js", s.host)).await;
    assert_eq!(st, 200);
    assert!(js.contains("onetrust-reject-all-handler"));

    let s = first(&sites, FarmKind::ConsentIgnored);
    let (_, _, body) = get(&c, &s.url).await;
    assert!(body.contains("src=\"/static/otSDKStub.js\""));
    assert!(
        body.contains("<script>\n(function(w,d){if(w.fbq)"),
        "{body}"
    );
    assert!(body.contains("window.OptanonWrapper"), "{body}");

    let s = first(&sites, FarmKind::CrashRenderer);
    let (st, _, body) = get(&c, &s.url).await;
    assert_eq!(st, 200);
    assert!(
        body.contains(&format!("i < {}", CRASH_CAP_MIB * 2)),
        "{body}"
    );

    let s = first(&sites, FarmKind::RedirectLoop);
    let base = s.url.trim_end_matches('/');
    let mut hops = Vec::new();
    let mut url = s.url.clone();
    for _ in 0..4 {
        let (st, to, _) = get(&c, &url).await;
        assert_eq!(st / 100, 3, "{url}");
        hops.push(to.clone());
        url = format!("{base}{to}");
    }
    assert_eq!(hops, ["/a", "/b", "/a", "/b"]);

    let mut statuses = HashSet::new();
    for s in sites.iter().filter(|s| s.kind == FarmKind::HttpError) {
        statuses.insert(get(&c, &s.url).await.0);
    }
    assert_eq!(statuses, HashSet::from([404, 500]));

    // The tags themselves come from the tracker hosts on the same port.
    let (st, _, js) = get(&c, "https://connect.facebook.net/en_US/fbevents.js").await;
    assert_eq!(st, 200);
    assert!(js.contains("fbq"));
}

#[tokio::test]
async fn hanging_sites_never_answer() {
    let sites = farm(14);
    let f = start_farm(&sites).await.unwrap();
    let c = client(&f, &sites, Duration::from_millis(800));
    let s = first(&sites, FarmKind::Hanging);
    let t0 = Instant::now();
    let e = c.get(&s.url).send().await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(t0.elapsed() >= Duration::from_millis(700));
    // The connection was accepted and the request read: the page just never comes.
    assert_eq!(f.server.sink.to_host(&s.host).len(), 1);
}

#[tokio::test]
async fn broken_tls_refused_and_unresolvable_sites() {
    let sites = farm(14);
    let f = start_farm(&sites).await.unwrap();
    let c = client(&f, &sites, Duration::from_secs(5));

    let tls = first(&sites, FarmKind::TlsError);
    assert!(tls.url.starts_with("https://"));
    let e = c.get(&tls.url).send().await.unwrap_err();
    assert!(e.is_connect() || e.is_request(), "{e:?}");
    // What the port says instead of a ServerHello.
    let mut s = tokio::net::TcpStream::connect(f.bad_tls).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 1, 0, 0, 1, 0])
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");

    let refused = first(&sites, FarmKind::Refused);
    let e = c.get(&refused.url).send().await.unwrap_err();
    assert!(e.is_connect(), "{e:?}");
    let err = tokio::net::TcpStream::connect(f.refused).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);

    // None of the three is served by the farm's own port.
    let dns = first(&sites, FarmKind::DnsFailure);
    let direct = reqwest::Client::builder()
        .resolve(&dns.host, f.server.addr)
        .no_proxy()
        .build()
        .unwrap();
    let r = direct.get(&dns.url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.text().await.unwrap(), "no site for this host");

    // Chromium's resolver rules: the three per-host rules, then the catch-all.
    let args = f.chrome_args();
    let rules = args
        .iter()
        .find_map(|a| a.strip_prefix("--host-resolver-rules="))
        .unwrap();
    let list: Vec<&str> = rules.split(", ").collect();
    assert_eq!(list.len(), 4, "{rules}");
    assert!(
        list.contains(&format!("MAP {} ~NOTFOUND", dns.host).as_str()),
        "{rules}"
    );
    assert!(
        list.contains(&format!("MAP {} {}", tls.host, f.bad_tls).as_str()),
        "{rules}"
    );
    assert!(
        list.contains(&format!("MAP {} {}", refused.host, f.refused).as_str()),
        "{rules}"
    );
    assert_eq!(list[3], format!("MAP * 127.0.0.1:{}", f.port()));
    assert!(args.iter().any(|a| a == JS_HEAP_FLAG));
    assert!(args.iter().any(|a| a == "--ignore-certificate-errors"));
}
