//! `leakscope`: see, prove and stop health data flowing to ad-tech.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use leakscope_core::{DecodeErrorKind, Engine};
use leakscope_detect::{Canary, Detector, Pipeline, Report};

mod gateway_cmd;
mod output;

// Decoding is allocation-bound; mimalloc measured +10% on the corpus mix and
// +27% on Meta Pixel requests over glibc malloc (cargo bench -p leakscope-core).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes are part of the interface: scripts and CI depend on them.
const EXIT_OK: u8 = 0;
const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "leakscope",
    version,
    about = "See, prove and stop health data flowing to ad-tech."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode every tracker request in captured traffic and report where
    /// health information and a person's identity reached a third party.
    /// Inputs: HAR, DevTools logs, URL lists, JSON Lines of requests; gzip or
    /// plain; the format is read from the content.
    Analyze {
        /// Capture files. `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        out: OutputArgs,
        #[command(flatten)]
        canaries: CanaryArgs,
    },
    /// Analyze the built-in demo capture: a made-up online pharmacy whose
    /// pages send refill, search and appointment activity to trackers.
    Demo {
        #[command(flatten)]
        out: OutputArgs,
    },
    /// The privacy gateway: a Graph-API-compatible endpoint that applies the
    /// policy, queues durably and delivers to Meta's Conversions API.
    Gateway(gateway_cmd::GatewayArgs),
    /// The gateway's hash-chained audit log.
    #[command(subcommand)]
    Audit(gateway_cmd::AuditCmd),
}

#[derive(Args)]
struct OutputArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the output here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct CanaryArgs {
    /// A value you planted (made-up email, phone, name or search term); found
    /// in any encoding a tracker uses. Repeatable.
    #[arg(long = "canary", value_name = "VALUE")]
    values: Vec<String>,
    /// A file of canaries, one per line (`#` comments).
    #[arg(long = "canary-file", value_name = "FILE")]
    canary_files: Vec<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Format {
    /// Findings, then events, grouped per page: for people.
    Table,
    /// One JSON document: {"events": [...], "findings": [...]}.
    Json,
    /// One JSON event per line, then one {"finding": {...}} per line.
    Jsonl,
    /// A Markdown report.
    Md,
}

/// The demo capture, compiled in so the demo needs nothing beside the binary.
const DEMO_HAR: &[u8] = include_bytes!("../../../demo/northwind-pharmacy.har");
const DEMO_LABEL: &str = "demo/northwind-pharmacy.har";

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("leakscope: error: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let engine = Engine::new();
    match cli.command {
        Command::Analyze {
            files,
            out,
            canaries,
        } => {
            let detector = Detector::new(&load_canaries(&canaries)?)?;
            let mut pipeline = Pipeline::new(&engine, &detector);
            let mut inputs = Vec::new();
            for f in &files {
                let label = f.display().to_string();
                let summary = read_input(f, &label, &mut pipeline)?;
                inputs.push(output::InputSummary::new(label, &summary));
            }
            finish(pipeline.finish(), &inputs, &out)
        }
        Command::Demo { out } => {
            let detector = Detector::new(&[])?;
            let mut pipeline = Pipeline::new(&engine, &detector);
            let summary = leakscope_ingest::read_reader(
                DEMO_HAR,
                DEMO_LABEL,
                &mut |ex| pipeline.feed(&ex),
                &mut |w| eprintln!("leakscope: warning: {w}"),
            )
            .context("the built-in demo capture did not read")?;
            let inputs = vec![output::InputSummary::new(DEMO_LABEL.into(), &summary)];
            finish(pipeline.finish(), &inputs, &out)
        }
        Command::Gateway(a) => gateway_cmd::gateway(a),
        Command::Audit(c) => {
            if !gateway_cmd::audit(c)? {
                // Exit 1: the audit log does not verify (distinct from usage errors).
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

fn load_canaries(args: &CanaryArgs) -> anyhow::Result<Vec<Canary>> {
    let mut values = args.values.clone();
    for f in &args.canary_files {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read canary file {}", f.display()))?;
        values.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
    }
    Ok(values.into_iter().map(Canary::new).collect())
}

fn finish(report: Report, inputs: &[output::InputSummary], out: &OutputArgs) -> anyhow::Result<()> {
    report_decode_errors(&report);
    let format = out.format;
    match &out.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut w = io::BufWriter::new(file);
            output::write(&mut w, format_of(format), &report, inputs, false)?;
            w.flush()?;
        }
        None => {
            // anstream strips colour when stdout is not a terminal or NO_COLOR is set.
            let mut w = anstream::AutoStream::auto(io::stdout().lock());
            let color = !matches!(w.current_choice(), anstream::ColorChoice::Never);
            let mut w = io::BufWriter::new(&mut w);
            match output::write(&mut w, format_of(format), &report, inputs, color)
                .and_then(|_| w.flush())
            {
                // A closed pipe (`| head`) is not an error worth a message.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                r => r.context("cannot write to standard output")?,
            }
        }
    }
    Ok(())
}

fn format_of(f: Format) -> output::Format {
    match f {
        Format::Table => output::Format::Table,
        Format::Json => output::Format::Json,
        Format::Jsonl => output::Format::Jsonl,
        Format::Md => output::Format::Markdown,
    }
}

fn read_input(
    path: &Path,
    label: &str,
    pipeline: &mut Pipeline<'_>,
) -> anyhow::Result<leakscope_ingest::Summary> {
    let mut on_ex = |ex: leakscope_core::Exchange| pipeline.feed(&ex);
    let mut on_warn = |w: leakscope_ingest::Warning| eprintln!("leakscope: warning: {w}");
    let res = if path.as_os_str() == "-" {
        leakscope_ingest::read_reader(io::stdin().lock(), label, &mut on_ex, &mut on_warn)
    } else {
        leakscope_ingest::read_path(path, label, &mut on_ex, &mut on_warn)
    };
    Ok(res?)
}

/// Malformed tracker requests are warned about one by one; requests with
/// nothing in them (truncated URL lists, bodies a capture dropped) are many
/// and alike, so they get one line with the first example.
fn report_decode_errors(r: &Report) {
    let mut empty = r.errors.iter().filter(|e| e.kind == DecodeErrorKind::Empty);
    for e in r
        .errors
        .iter()
        .filter(|e| e.kind == DecodeErrorKind::Malformed)
    {
        eprintln!("leakscope: warning: {e}");
    }
    if let Some(first) = empty.next() {
        eprintln!(
            "leakscope: note: {} tracker request(s) carried nothing to decode (no query and no body captured), e.g. {first}",
            1 + empty.count()
        );
    }
}
