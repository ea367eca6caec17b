//! `leakscope survey` over the made-up site farm on loopback (real
//! Chromium, nothing leaves the machine): every site gets its expected
//! status and findings; a survey killed with SIGKILL resumes with every
//! site finished exactly once; two workers on one PostgreSQL, one killed
//! mid-lease, finish every site exactly once.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use leakscope_sites::farm::{FarmSite, farm, site_list_csv, start_farm};

const CHROME: &str = "/usr/lib/chromium/chromium";

fn chromium() -> bool {
    let ok = Path::new(CHROME).exists();
    if !ok {
        eprintln!("skipped: no Chromium at {CHROME}");
    }
    ok
}

/// Options every test survey uses: short timeouts, quick retries.
fn survey_opts(chrome_args: &[String]) -> Vec<String> {
    let mut v: Vec<String> = [
        "--page-timeout",
        "6",
        "--site-budget",
        "40",
        "--attempts",
        "2",
        "--backoff",
        "1",
        "--lease-ttl",
        "6",
        "--chrome",
        CHROME,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for a in chrome_args {
        v.push(format!("--chrome-arg={a}"));
    }
    v
}

/// The binary in its own process group, so a SIGKILL of the group takes
/// its Chromium with it, as a crashed machine or container would.
fn spawn(args: &[String], log: &Path) -> Child {
    let log = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("binary runs")
}

fn kill_group(child: &mut Child) {
    let pid = child.id() as i32;
    assert!(pid > 1);
    // `--` first: procps' kill reads `-PID` after `-KILL` as another
    // option, and a bare `-1` would mean every process.
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{pid}")])
        .status();
    let _ = child.wait();
}

fn wait(child: &mut Child, limit: Duration, log: &Path) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            kill_group(child);
            panic!(
                "survey ran longer than {limit:?}; log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// (status, failure_kind, meta_pixel, health_with_identity,
/// tracking_after_reject, completions) per site id, read with SQL as a
/// user would.
type Row = (String, Option<String>, bool, bool, bool, i64);

fn rows(db: &Path) -> Vec<(i64, Row)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT id, status, failure_kind, meta_pixel, health_with_identity, tracking_after_reject, completions FROM sites ORDER BY id")
        .unwrap();
    st.query_map([], |r| {
        Ok((
            r.get(0)?,
            (
                r.get(1)?,
                r.get(2)?,
                r.get::<_, i64>(3)? != 0,
                r.get::<_, i64>(4)? != 0,
                r.get::<_, i64>(5)? != 0,
                r.get(6)?,
            ),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn expected(s: &FarmSite) -> Row {
    (
        s.expected.status.to_owned(),
        s.expected.failure_kind.map(str::to_owned),
        s.expected.meta_pixel,
        s.expected.health_with_identity,
        s.expected.tracking_after_reject,
        1,
    )
}

/// `n` farm sites served on loopback, and their list in a scratch folder.
struct Setup {
    sites: Vec<FarmSite>,
    farm: leakscope_sites::farm::Farm,
    tmp: tempfile::TempDir,
    list: PathBuf,
    // Serves the farm; dropped last.
    _rt: tokio::runtime::Runtime,
}

fn setup(n: usize) -> Setup {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sites = farm(n);
    let farm = rt.block_on(start_farm(&sites)).expect("farm starts");
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("farm.csv");
    std::fs::write(&list, site_list_csv(&sites)).unwrap();
    Setup {
        sites,
        farm,
        tmp,
        list,
        _rt: rt,
    }
}

#[test]
fn survey_of_200_sites_gives_each_its_expected_status_and_findings() {
    if !chromium() {
        return;
    }
    let Setup {
        sites,
        farm: f,
        tmp,
        list,
        _rt,
    } = setup(200);
    let out = tmp.path().join("survey");
    let log = tmp.path().join("survey.log");
    let mut args = vec![
        "survey".to_string(),
        list.display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--parallel".into(),
        "4".into(),
    ];
    args.extend(survey_opts(&f.chrome_args()));
    let mut child = spawn(&args, &log);
    let code = wait(&mut child, Duration::from_secs(900), &log);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, 0, "{text}");
    let got = rows(&out.join("survey.db"));
    assert_eq!(got.len(), sites.len());
    let mut wrong = Vec::new();
    for (s, (id, row)) in sites.iter().zip(&got) {
        assert_eq!(*id, s.id as i64);
        if *row != expected(s) {
            wrong.push(format!(
                "{} {:?}: expected {:?}, got {:?}",
                s.url,
                s.kind,
                expected(s),
                row
            ));
        }
    }
    // And exactly the expected findings: the distinct rules per site.
    let c = rusqlite::Connection::open(out.join("survey.db")).unwrap();
    for s in &sites {
        let mut st = c
            .prepare("SELECT DISTINCT rule FROM findings WHERE site_id = ?1 ORDER BY rule")
            .unwrap();
        let rules: Vec<String> = st
            .query_map([s.id as i64], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        if rules != s.expected.rules {
            wrong.push(format!(
                "{} {:?}: rules {:?}, expected {:?}",
                s.url, s.kind, rules, s.expected.rules
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} site(s) differ:\n{}\n\nlog:\n{text}",
        wrong.len(),
        wrong.join("\n")
    );
    // Each scanned site has its evidence and report; the survey has its report.
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("Content-Security-Policy"));
    let evidence: Vec<String> = c
        .prepare("SELECT evidence FROM sites WHERE status = 'done'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!evidence.is_empty());
    for e in evidence {
        let d = out.join(&e);
        assert!(d.join("results.json").is_file(), "{}", d.display());
        assert!(d.join("report.html").is_file(), "{}", d.display());
    }
    // The views answer on real data.
    let leaks: i64 = c
        .query_row("SELECT COUNT(*) FROM sites_health_to_meta", [], |r| {
            r.get(0)
        })
        .unwrap();
    let want = sites
        .iter()
        .filter(|s| s.expected.health_with_identity)
        .count() as i64;
    assert!(leaks > 0 && leaks <= want, "{leaks} vs {want}");
    drop(f);
}

#[test]
fn killed_survey_resumes_with_every_site_finished_once() {
    if !chromium() {
        return;
    }
    let Setup {
        sites,
        farm: f,
        tmp,
        list,
        _rt,
    } = setup(40);
    let out = tmp.path().join("survey");
    let db = out.join("survey.db");
    let mut args = vec![
        "survey".to_string(),
        list.display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--parallel".into(),
        "3".into(),
    ];
    args.extend(survey_opts(&f.chrome_args()));
    let log = tmp.path().join("first.log");
    let mut child = spawn(&args, &log);
    // Kill it with sites finished and sites in flight.
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let finished = if db.exists() {
            rusqlite::Connection::open(&db)
                .and_then(|c| {
                    c.query_row(
                        "SELECT COUNT(*) FROM sites WHERE status IN ('done', 'unreachable', 'error')",
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                })
                .unwrap_or(0)
        } else {
            0
        };
        if finished >= 8 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no progress: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    kill_group(&mut child);
    let before = rows(&db);
    let running = before.iter().filter(|(_, r)| r.0 == "running").count();
    let done_before: Vec<i64> = before
        .iter()
        .filter(|(_, r)| r.0 != "running" && r.0 != "pending")
        .map(|(id, _)| *id)
        .collect();
    assert!(!done_before.is_empty() && done_before.len() < sites.len());
    eprintln!(
        "killed with {} finished and {running} in flight",
        done_before.len()
    );

    let log2 = tmp.path().join("resume.log");
    let mut resume = vec![
        "survey".to_string(),
        "resume".into(),
        "--out".into(),
        out.display().to_string(),
        "--parallel".into(),
        "3".into(),
    ];
    resume.extend(["--chrome".to_string(), CHROME.to_string()]);
    let mut child = spawn(&resume, &log2);
    let code = wait(&mut child, Duration::from_secs(600), &log2);
    assert_eq!(
        code,
        0,
        "{}",
        std::fs::read_to_string(&log2).unwrap_or_default()
    );
    let after = rows(&db);
    for (s, (_, row)) in sites.iter().zip(&after) {
        assert_eq!(*row, expected(s), "{} {:?}", s.url, s.kind);
    }
    // Finished before the kill: kept as they were, not scanned again.
    for id in done_before {
        assert_eq!(after[id as usize - 1].1.5, 1);
    }
    drop(f);
}

#[test]
fn two_workers_on_postgres_one_killed_mid_lease_finish_every_site_once() {
    let Ok(pg) = std::env::var("LEAKSCOPE_TEST_PG") else {
        eprintln!(
            "skipped: set LEAKSCOPE_TEST_PG=postgres://... (scripts/start-test-postgres.sh) to run the two-worker test"
        );
        return;
    };
    if !chromium() {
        return;
    }
    let Setup {
        sites,
        farm: f,
        tmp,
        list,
        _rt,
    } = setup(36);
    let name = format!("farm-{}", std::process::id());
    let mut create = vec![
        "survey".to_string(),
        list.display().to_string(),
        "--db".into(),
        pg.clone(),
        "--name".into(),
        name.clone(),
        "--no-work".into(),
        "--out".into(),
        tmp.path().join("w").display().to_string(),
    ];
    create.extend(survey_opts(&f.chrome_args()));
    let log0 = tmp.path().join("create.log");
    let mut c = spawn(&create, &log0);
    assert_eq!(
        wait(&mut c, Duration::from_secs(60), &log0),
        0,
        "{}",
        std::fs::read_to_string(&log0).unwrap()
    );

    let worker = |n: usize| {
        let args = vec![
            "survey".to_string(),
            "work".into(),
            "--db".into(),
            pg.clone(),
            "--name".into(),
            name.clone(),
            "--out".into(),
            tmp.path().join(format!("w{n}")).display().to_string(),
            "--parallel".into(),
            "2".into(),
            "--chrome".into(),
            CHROME.into(),
        ];
        let log = tmp.path().join(format!("w{n}.log"));
        (spawn(&args, &log), log)
    };
    let (mut w1, log1) = worker(1);
    let (mut w2, log2) = worker(2);
    let rt2 = tokio::runtime::Runtime::new().unwrap();
    let (client, conn) = rt2
        .block_on(tokio_postgres::connect(&pg, tokio_postgres::NoTls))
        .unwrap();
    rt2.spawn(conn);
    let query = |sql: &str| -> Vec<tokio_postgres::Row> {
        rt2.block_on(client.query(sql, &[&name])).unwrap()
    };
    // Kill worker 1 while it holds a lease.
    let start = Instant::now();
    let pid1 = w1.id();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let held = query(&format!(
            "SELECT COUNT(*) FROM sites WHERE survey = $1 AND status = 'running' AND lease_owner LIKE '%:{pid1}:%'"
        ))[0]
            .get::<_, i64>(0);
        let finished = query("SELECT COUNT(*) FROM sites WHERE survey = $1 AND status <> 'pending' AND status <> 'running'")[0]
            .get::<_, i64>(0);
        if held > 0 && finished >= 4 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "worker 1 never held a lease: {}",
            std::fs::read_to_string(&log1).unwrap_or_default()
        );
    }
    kill_group(&mut w1);
    let orphaned: Vec<i64> = query(&format!(
        "SELECT id FROM sites WHERE survey = $1 AND status = 'running' AND lease_owner LIKE '%:{pid1}:%'"
    ))
    .iter()
    .map(|r| r.get(0))
    .collect();
    let code = wait(&mut w2, Duration::from_secs(600), &log2);
    assert_eq!(
        code,
        0,
        "{}",
        std::fs::read_to_string(&log2).unwrap_or_default()
    );
    let rows = query(
        "SELECT id, status, completions, lease_owner FROM sites WHERE survey = $1 ORDER BY id",
    );
    assert_eq!(rows.len(), sites.len());
    for r in &rows {
        let status: String = r.get(1);
        let completions: i64 = r.get(2);
        assert!(
            matches!(status.as_str(), "done" | "unreachable"),
            "site {}: {status}",
            r.get::<_, i64>(0)
        );
        assert_eq!(
            completions,
            1,
            "site {} finished {completions} times",
            r.get::<_, i64>(0)
        );
        assert!(r.get::<_, Option<String>>(3).is_none());
    }
    // The killed worker's sites were finished by the other one.
    for id in orphaned {
        let w: Option<String> = rt2
            .block_on(client.query_one(
                "SELECT worker FROM sites WHERE survey = $1 AND id = $2",
                &[&name, &id],
            ))
            .unwrap()
            .get(0);
        assert!(w.is_some_and(|w| !w.contains(&format!(":{pid1}:"))));
    }
    drop(f);
}
