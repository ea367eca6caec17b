//! The queue's promises, without a browser: leases expire and are taken
//! over, a result from a lost lease is dropped, transient failures come
//! back after their backoff, nothing is finished twice. On SQLite, and on
//! PostgreSQL when LEAKSCOPE_TEST_PG is set.

use std::time::Duration;

use leakscope_core::survey::{SiteRow, SiteStatus, SurveyMeta};
use leakscope_survey::queue::{self, Outcome};
use leakscope_survey::{Store, list};

fn meta(name: &str) -> SurveyMeta {
    SurveyMeta {
        name: name.into(),
        list: "sites.csv".into(),
        created: "2026-12-04T21:00:00.000Z".into(),
        settings: vec![("consent".into(), "none,reject".into())],
        columns: vec!["state".into()],
        browser: String::new(),
        tool_version: "test".into(),
    }
}

fn done(id: i64) -> Outcome {
    Outcome::Final {
        site: Box::new(SiteRow {
            id,
            status: Some(SiteStatus::Done),
            meta_pixel: true,
            vendors: vec!["meta_pixel".into()],
            finished: Some("2026-12-04T21:00:01.000Z".into()),
            worker: Some("test".into()),
            ..SiteRow::default()
        }),
        runs: Vec::new(),
        events: Vec::new(),
        findings: Vec::new(),
    }
}

async fn exercise(store: &Store, name: &str) {
    let l = list::parse(
        "sites.csv",
        "url,state\na.example,WA\nb.example,OR\nc.example,WA\nd.example,CA\n",
    )
    .unwrap();
    assert!(queue::create(store, &meta(name), &l).await.unwrap());
    // Creating it again keeps what is there.
    assert!(!queue::create(store, &meta(name), &l).await.unwrap());

    let ttl = Duration::from_millis(300);
    let a = queue::lease(store, name, "host-a:1", 2, ttl, 3)
        .await
        .unwrap();
    let b = queue::lease(store, name, "host-b:2", 5, ttl, 3)
        .await
        .unwrap();
    assert_eq!(a.iter().map(|l| l.site_id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(b.iter().map(|l| l.site_id).collect::<Vec<_>>(), [3, 4]);
    assert!(
        queue::lease(store, name, "host-c:3", 5, ttl, 3)
            .await
            .unwrap()
            .is_empty()
    );

    // Worker a finishes site 1, sends site 2 back for a retry, then "dies".
    assert!(queue::complete(store, name, &a[0], &done(1)).await.unwrap());
    let retry = Outcome::Retry {
        kind: "timeout".into(),
        message: "slow".into(),
        retry_after: Duration::from_millis(200),
    };
    assert!(queue::complete(store, name, &a[1], &retry).await.unwrap());
    // Worker b keeps its leases alive; c cannot take them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        queue::heartbeat(store, name, "host-b:2", ttl)
            .await
            .unwrap(),
        2
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let c = queue::lease(store, name, "host-c:3", 5, ttl, 3)
        .await
        .unwrap();
    // Site 2's backoff is over; 3 and 4 are still b's.
    assert_eq!(c.iter().map(|l| l.site_id).collect::<Vec<_>>(), [2]);
    assert_eq!(c[0].attempt, 2);

    // b stops renewing: its leases expire and c takes them over.
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            queue::heartbeat(store, name, "host-c:3", ttl)
                .await
                .unwrap(),
            1
        );
    }
    let c2 = queue::lease(store, name, "host-c:3", 5, ttl, 3)
        .await
        .unwrap();
    assert_eq!(c2.iter().map(|l| l.site_id).collect::<Vec<_>>(), [3, 4]);
    // b comes back to life with a result for site 3: dropped, lease lost.
    assert!(!queue::complete(store, name, &b[0], &done(3)).await.unwrap());
    for l in c.iter().chain(&c2) {
        assert!(
            queue::complete(store, name, l, &done(l.site_id))
                .await
                .unwrap()
        );
    }
    let n = queue::counts(store, name).await.unwrap();
    assert_eq!((n.total, n.done, n.left()), (4, 4, 0));
    let rows = store
        .query(
            "SELECT id, completions FROM sites WHERE survey = $1 ORDER BY id",
            &[name.into()],
        )
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r[1].int() == 1), "{rows:?}");

    // The data reads back with the list's columns.
    let data = queue::read(store, Some(name)).await.unwrap();
    assert_eq!(data.sites.len(), 4);
    assert_eq!(
        data.sites[3].columns,
        [("state".to_string(), "CA".to_string())]
    );
    assert!(
        data.sites
            .iter()
            .all(|s| s.meta_pixel && s.status == Some(SiteStatus::Done))
    );

    // retry --all puts them back.
    assert_eq!(queue::retry(store, name, true).await.unwrap(), 4);
    assert_eq!(queue::counts(store, name).await.unwrap().pending, 4);
}

#[tokio::test]
async fn sqlite_queue_keeps_its_promises() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db").to_str().unwrap())
        .await
        .unwrap();
    exercise(&store, "farm").await;
}

#[tokio::test]
async fn a_site_that_outlives_every_attempt_ends_as_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db").to_str().unwrap())
        .await
        .unwrap();
    let l = list::parse("s.txt", "killer.example\n").unwrap();
    queue::create(&store, &meta("k"), &l).await.unwrap();
    let ttl = Duration::from_millis(50);
    for attempt in 1..=2 {
        let got = queue::lease(&store, "k", "w:1", 1, ttl, 2).await.unwrap();
        assert_eq!(got[0].attempt, attempt);
        tokio::time::sleep(Duration::from_millis(80)).await;
    }
    assert!(
        queue::lease(&store, "k", "w:1", 1, ttl, 2)
            .await
            .unwrap()
            .is_empty()
    );
    let data = queue::read(&store, Some("k")).await.unwrap();
    assert_eq!(data.sites[0].status, Some(SiteStatus::Error));
    assert_eq!(data.sites[0].failure_kind.as_deref(), Some("scanner"));
}

#[tokio::test]
async fn postgres_queue_keeps_its_promises() {
    let Ok(url) = std::env::var("LEAKSCOPE_TEST_PG") else {
        eprintln!("skipped: set LEAKSCOPE_TEST_PG=postgres://... to run the PostgreSQL queue test");
        return;
    };
    let store = Store::open(&url).await.unwrap();
    exercise(&store, &format!("queue-test-{}", std::process::id())).await;
}

#[tokio::test]
async fn unreachable_databases_say_where() {
    let e = match Store::open("postgres://survey:hunter2@127.0.0.1:1/leaks").await {
        Ok(_) => panic!("port 1 answered"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("127.0.0.1:1") && !e.contains("hunter2"), "{e}");
    let e = match Store::open("/proc/nope/survey.db").await {
        Ok(_) => panic!("opened"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("/proc/nope"), "{e}");
}
