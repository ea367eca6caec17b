//! `leakscope gateway ...` and `leakscope audit ...`: argument parsing and
//! printing only; the work is in leakscope-gateway (`ops`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use leakscope_gateway::audit::{AuditFilter, AuditKind, parse_time, write_table};
use leakscope_gateway::ops;

/// `leakscope gateway`.
#[derive(Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:
  leakscope gateway mock                                   a mock Graph API on 127.0.0.1:9100 (one terminal)
  leakscope gateway --upstream http://127.0.0.1:9100 --log-format text
                                                           the gateway on 127.0.0.1:8787, store ./leakscope-gateway.db
  leakscope gateway --config gateway.toml                  production: keys, token, store from the file
  leakscope gateway check --config gateway.toml --dry-run event.json --pixel 1234567891234567

Without --config: listens on 127.0.0.1:8787, stores its queue and audit log in
leakscope-gateway.db in the current directory, sends to https://graph.facebook.com.
See docs/gateway.md and docs/gateway-policy.md."
)]
pub struct GatewayArgs {
    #[command(subcommand)]
    cmd: Option<GatewayCmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct RunArgs {
    /// The gateway's configuration (TOML, docs/gateway.md). Without one the
    /// safe defaults apply: listen on 127.0.0.1:8787, store in
    /// ./leakscope-gateway.db, the default policy.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Upstream Graph API base URL (overrides upstream.base_url), e.g. the
    /// mock: http://127.0.0.1:9100.
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// Address to listen on (overrides listen) [default: 127.0.0.1:8787].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    dry: DryRun,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Json)]
    log_format: LogFormat,
}

/// `--dry-run EVENT.json [--pixel ID]`, on `gateway` and `gateway check`.
#[derive(Args)]
struct DryRun {
    /// Print the policy's decision (JSON) for the events in this file and exit.
    #[arg(long, value_name = "EVENT.json")]
    dry_run: Option<PathBuf>,
    /// With --dry-run: the pixel (dataset) id the events are for, which picks
    /// its [policy.pixels."ID"] section [default: [policy.default]].
    #[arg(
        long,
        value_name = "ID",
        default_value = "0",
        hide_default_value = true
    )]
    pixel: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Json,
    Text,
}

#[derive(Subcommand)]
enum GatewayCmd {
    /// Validate a configuration and its policy, or dry-run events with it.
    ///
    /// With --dry-run, print the decision the gateway would make for the
    /// events in a file.
    #[command(after_help = "Examples:
  leakscope gateway check --config gateway.toml
  leakscope gateway check --config gateway.toml --dry-run event.json
  leakscope gateway check --config gateway.toml --dry-run event.json --pixel 1234567891234567

EVENT.json holds one event, an array of events, or a request body {\"data\": [...]}.
--dry-run reads the store's consent records if the store exists and writes nothing.")]
    Check {
        /// The gateway's configuration (TOML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[command(flatten)]
        dry: DryRun,
    },
    /// Move dead letters back to the delivery queue.
    #[command(after_help = "Examples:
  leakscope gateway replay --config gateway.toml
  leakscope gateway replay --config gateway.toml --pixel 1234567891234567")]
    Replay {
        /// The gateway's configuration (TOML); it names the store.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Only this pixel's dead letters.
        #[arg(long, value_name = "ID")]
        pixel: Option<String>,
    },
    /// Print the SHA-256 of a client key, for `[[keys]] sha256`.
    #[command(after_help = "Examples:
  leakscope gateway hash-key 'a-long-random-client-key'
  leakscope gateway hash-key \"$(openssl rand -hex 32)\"")]
    HashKey {
        /// The client key: a secret you choose and give to the site's
        /// backend, which sends it as access_token. Only its hash goes in
        /// the configuration.
        key: String,
    },
    /// Run a mock Graph API on loopback (first steps, tests, benchmarks).
    ///
    /// It logs one line per request on standard error and lists the events it
    /// received at GET /__mock/events (docs/gateway.md, "The mock").
    #[command(after_help = "Examples:
  leakscope gateway mock
  leakscope gateway mock --listen 127.0.0.1:9200
  curl -s http://127.0.0.1:9100/__mock/events          the events received so far (JSON)")]
    Mock {
        /// Address to listen on (port 0: any free port, printed at start).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9100")]
        listen: SocketAddr,
    },
}

/// `leakscope audit`.
#[derive(Subcommand)]
pub enum AuditCmd {
    /// Check the hash chain; names the first bad record (exit 1).
    #[command(after_help = "Examples:
  leakscope audit verify --config gateway.toml
  leakscope audit verify --db leakscope-gateway.db")]
    Verify {
        /// The gateway's configuration (TOML); it names the store.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The gateway's SQLite database (instead of --config).
        #[arg(long, value_name = "FILE")]
        db: Option<PathBuf>,
    },
    /// Print records, e.g. what was sent about /pharmacy pages last week.
    #[command(after_help = "Examples:
  leakscope audit show --config gateway.toml --path-prefix /pharmacy --since 7d --kind delivered
  leakscope audit show --db leakscope-gateway.db --kind blocked --since 24h --format json")]
    Show {
        /// The gateway's configuration (TOML); it names the store.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The gateway's SQLite database (instead of --config).
        #[arg(long, value_name = "FILE")]
        db: Option<PathBuf>,
        /// Only this pixel's records.
        #[arg(long, value_name = "ID")]
        pixel: Option<String>,
        /// From: 2026-11-22, 2026-11-22T10:00:00Z, or an age (7d, 24h).
        #[arg(long)]
        since: Option<String>,
        /// Until (exclusive), same forms.
        #[arg(long)]
        until: Option<String>,
        /// Only pages whose path starts with this, e.g. /pharmacy.
        #[arg(long)]
        path_prefix: Option<String>,
        /// Only these kinds (received, blocked, redacted, forwarded,
        /// duplicate, delivered, retried, dead_lettered, replayed, consent).
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ShowFormat::Table)]
        format: ShowFormat,
        /// At most this many records.
        #[arg(long, default_value_t = 10_000)]
        limit: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ShowFormat {
    Table,
    Json,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn init_logs(f: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LEAKSCOPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only on a terminal: a log file must stay greppable.
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match f {
        LogFormat::Json => b.json().flatten_event(true).try_init(),
        LogFormat::Text => b.try_init(),
    };
}

/// Runs `leakscope gateway ...`.
pub fn gateway(a: GatewayArgs) -> anyhow::Result<()> {
    match a.cmd {
        Some(GatewayCmd::Check { config, dry }) => {
            let cfg = ops::load_config(Some(&config), None, None)?;
            match dry.dry_run {
                // The decision alone on stdout, so it can be piped to jq;
                // it compiles the policy, so a bad one still fails here.
                Some(path) => dry_run_print(&cfg, &dry.pixel, &path),
                None => {
                    print!("{}", ops::check(&cfg)?);
                    Ok(())
                }
            }
        }
        Some(GatewayCmd::Replay { config, pixel }) => {
            let cfg = ops::load_config(config.as_deref(), None, None)?;
            let n = runtime()?.block_on(ops::replay(&cfg, pixel))?;
            println!("{n} dead letter(s) moved back to the queue");
            Ok(())
        }
        Some(GatewayCmd::HashKey { key }) => {
            println!("{}", leakscope_gateway::config::sha256_hex(key.as_bytes()));
            Ok(())
        }
        Some(GatewayCmd::Mock { listen }) => {
            init_logs(LogFormat::Text);
            runtime()?.block_on(async {
                let m = leakscope_gateway::mock::MockGraph::start(listen).await?;
                eprintln!("mock Graph API on {}", m.base_url());
                leakscope_gateway::shutdown_signal().await;
                anyhow::Ok(())
            })
        }
        None => {
            let r = a.run;
            let cfg = ops::load_config(r.config.as_deref(), r.upstream.as_deref(), r.listen)?;
            if let Some(path) = &r.dry.dry_run {
                return dry_run_print(&cfg, &r.dry.pixel, path);
            }
            init_logs(r.log_format);
            runtime()?.block_on(async move {
                let l = tokio::net::TcpListener::bind(cfg.listen)
                    .await
                    .with_context(|| format!("cannot listen on {}", cfg.listen))?;
                leakscope_gateway::serve(cfg, l, leakscope_gateway::shutdown_signal()).await?;
                anyhow::Ok(())
            })
        }
    }
}

/// `--dry-run EVENT.json`: the decisions as JSON on stdout.
fn dry_run_print(
    cfg: &leakscope_gateway::GatewayConfig,
    pixel: &str,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let out = runtime()?.block_on(ops::dry_run(cfg, pixel, &text))?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn audit_config(
    config: Option<PathBuf>,
    db: Option<PathBuf>,
) -> anyhow::Result<leakscope_gateway::GatewayConfig> {
    let mut cfg = ops::load_config(config.as_deref(), None, None)?;
    if let Some(db) = db {
        cfg.store.sqlite = db;
        cfg.store.postgres = None;
    }
    Ok(cfg)
}

/// Runs `leakscope audit ...`; returns false when verification failed.
pub fn audit(c: AuditCmd) -> anyhow::Result<bool> {
    let now = leakscope_gateway::store::now_ms();
    match c {
        AuditCmd::Verify { config, db } => {
            let cfg = audit_config(config, db)?;
            let r = runtime()?.block_on(ops::audit_verify(&cfg))?;
            match r.first_bad {
                None => {
                    println!("audit log OK: {} records, head {}", r.records, r.head);
                    Ok(true)
                }
                Some((seq, why)) => {
                    println!(
                        "audit log BROKEN at record {seq}: {why} ({} records before it check out)",
                        r.records
                    );
                    Ok(false)
                }
            }
        }
        AuditCmd::Show {
            config,
            db,
            pixel,
            since,
            until,
            path_prefix,
            kinds,
            format,
            limit,
        } => {
            let cfg = audit_config(config, db)?;
            let t = |s: Option<String>| -> anyhow::Result<Option<i64>> {
                s.map(|s| parse_time(&s, now).map_err(anyhow::Error::msg))
                    .transpose()
            };
            let kinds = kinds
                .iter()
                .map(|k| AuditKind::parse(k).with_context(|| format!("unknown kind {k:?}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let filter = AuditFilter {
                pixel_id: pixel,
                since_ms: t(since)?,
                until_ms: t(until)?,
                path_prefix,
                kinds,
            };
            let recs = runtime()?.block_on(ops::audit_show(&cfg, filter, limit))?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            match format {
                ShowFormat::Table => write_table(&mut out, &recs)?,
                ShowFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &recs)?;
                    writeln!(out)?;
                }
            }
            out.flush()?;
            Ok(true)
        }
    }
}
