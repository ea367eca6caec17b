//! PostgreSQL store: two gateway instances share one queue. Runs only when
//! LEAKSCOPE_TEST_PG holds a connection string to a scratch database (the
//! test drops and recreates the gateway's tables); .ci/run sets it.

use std::time::Duration;

use leakscope_gateway::config::{GatewayConfig, KeyConfig, Secret, sha256_hex};
use leakscope_gateway::mock::MockGraph;
use serde_json::json;

const KEY: &str = "pg-key-0001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_a_postgres_queue_and_deliver_once() {
    let Ok(url) = std::env::var("LEAKSCOPE_TEST_PG") else {
        eprintln!("skipped: set LEAKSCOPE_TEST_PG=postgres://... to run the PostgreSQL store test");
        return;
    };
    let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    c.batch_execute("DROP TABLE IF EXISTS queue, dedup, consent, audit")
        .await
        .unwrap();
    drop(c);

    let mock = MockGraph::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut stops = Vec::new();
    let mut tasks = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..2 {
        let mut cfg = GatewayConfig::default();
        cfg.upstream.base_url = mock.base_url();
        cfg.upstream.access_token = Secret::new("pg-meta-token");
        cfg.store.postgres = Some(url.clone());
        cfg.delivery.batch_size = 5;
        cfg.delivery.poll_ms = 10;
        cfg.delivery.initial_backoff_ms = 20;
        cfg.keys.push(KeyConfig {
            name: "pg".into(),
            sha256: sha256_hex(KEY.as_bytes()),
            pixels: vec![],
        });
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}", l.local_addr().unwrap()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        stops.push(tx);
        tasks.push(tokio::spawn(async move {
            leakscope_gateway::serve(cfg, l, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        }));
    }
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let now = leakscope_gateway::store::now_ms() / 1000;
    for i in 0..60 {
        let ev = json!({"event_name": "Purchase", "event_time": now, "event_id": format!("pg-{i}"), "action_source": "website",
            "event_source_url": "https://shop.example/checkout", "leakscope_consent": "granted",
            "user_data": {"external_id": "u", "client_ip_address": "203.0.113.1", "client_user_agent": "UA"},
            "custom_data": {"currency": "USD", "value": 1.0}});
        let r = http
            .post(format!("{}/v25.0/123/events", urls[i % 2]))
            .json(&json!({"data": [ev], "access_token": KEY}))
            .send()
            .await
            .unwrap();
        let st = r.status().as_u16();
        assert_eq!(st, 200, "{}", r.text().await.unwrap_or_default());
    }
    for _ in 0..400 {
        if mock.received().len() >= 60 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ids: Vec<_> = mock
        .received()
        .into_iter()
        .filter_map(|r| r.event_id)
        .collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!(
        (n, ids.len()),
        (60, 60),
        "each event delivered exactly once"
    );
    for s in stops {
        let _ = s.send(());
    }
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(20), t)
            .await
            .unwrap()
            .unwrap();
    }
    let cfg = GatewayConfig {
        store: leakscope_gateway::config::StoreConfig {
            postgres: Some(url),
            ..Default::default()
        },
        ..Default::default()
    };
    let v = leakscope_gateway::ops::audit_verify(&cfg).await.unwrap();
    assert!(v.first_bad.is_none(), "{v:?}");
    assert!(v.records >= 60 * 3, "{v:?}");
}
