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
#[command(args_conflicts_with_subcommands = true)]
pub struct GatewayArgs {
    #[command(subcommand)]
    cmd: Option<GatewayCmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct RunArgs {
    /// Configuration file (TOML). Without one, safe defaults apply.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Upstream Graph API base URL (overrides upstream.base_url).
    #[arg(long)]
    upstream: Option<String>,
    /// Address to listen on (overrides listen).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Show the policy's decision for the events in this file and exit.
    #[arg(long, value_name = "EVENT.json")]
    dry_run: Option<PathBuf>,
    /// Pixel id for --dry-run.
    #[arg(long, default_value = "0")]
    pixel: String,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Json)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Json,
    Text,
}

#[derive(Subcommand)]
enum GatewayCmd {
    /// Validate a configuration and its policy.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
    /// Move dead letters back to the delivery queue.
    Replay {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Only this pixel's dead letters.
        #[arg(long)]
        pixel: Option<String>,
    },
    /// Print the SHA-256 of a client key, for `[[keys]] sha256`.
    HashKey { key: String },
    /// Run a mock Graph API (tests and benchmarks; loopback).
    Mock {
        #[arg(long, default_value = "127.0.0.1:9100")]
        listen: SocketAddr,
    },
}

/// `leakscope audit`.
#[derive(Subcommand)]
pub enum AuditCmd {
    /// Check the hash chain; names the first bad record (exit 1).
    Verify {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The gateway's SQLite database (instead of --config).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Print records, e.g. what was sent about /pharmacy pages last week.
    Show {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
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
        #[arg(long, value_enum, default_value_t = ShowFormat::Table)]
        format: ShowFormat,
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
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match f {
        LogFormat::Json => b.json().flatten_event(true).try_init(),
        LogFormat::Text => b.try_init(),
    };
}

/// Runs `leakscope gateway ...`.
pub fn gateway(a: GatewayArgs) -> anyhow::Result<()> {
    match a.cmd {
        Some(GatewayCmd::Check { config }) => {
            let cfg = ops::load_config(Some(&config), None, None)?;
            print!("{}", ops::check(&cfg)?);
            Ok(())
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
            if let Some(path) = r.dry_run {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let out = runtime()?.block_on(ops::dry_run(&cfg, &r.pixel, &text))?;
                println!("{}", serde_json::to_string_pretty(&out)?);
                return Ok(());
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
