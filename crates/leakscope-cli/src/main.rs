//! `leakscope`: see, prove and stop health data flowing to ad-tech.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use leakscope_core::{Analysis, DecodeErrorKind, Engine};

mod output;

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
    /// Decode every tracker request in captured traffic (HAR, DevTools logs,
    /// URL lists, JSON Lines of requests; gzip or plain; format read from content).
    Analyze {
        /// Capture files. `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write the output here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Analyze the built-in demo capture: a made-up online pharmacy whose
    /// pages send refill, search and appointment activity to trackers.
    Demo {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Format {
    /// A table per page: which vendors got which events, carrying what.
    Table,
    /// One JSON document: {"events": [...], "findings": [...]}.
    Json,
    /// One JSON event per line.
    Jsonl,
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
            format,
            output,
        } => {
            let mut inputs = Vec::new();
            let mut analyzer = engine.analyzer();
            for f in &files {
                let label = f.display().to_string();
                let summary = read_input(f, &label, &mut analyzer)?;
                inputs.push(output::InputSummary {
                    file: label,
                    format: summary.format.as_str().to_owned(),
                    exchanges: summary.exchanges,
                    skipped: summary.skipped,
                });
            }
            let analysis = analyzer.finish();
            report_decode_errors(&analysis);
            match output {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    let mut w = io::BufWriter::new(file);
                    output::write(&mut w, format_of(format), &analysis, &inputs)?;
                    w.flush()?;
                }
                None => write_stdout(format, &analysis, &inputs)?,
            }
        }
        Command::Demo { format } => {
            let mut analyzer = engine.analyzer();
            let summary = leakscope_ingest::read_reader(
                DEMO_HAR,
                DEMO_LABEL,
                &mut |ex| analyzer.feed(&ex),
                &mut |w| eprintln!("leakscope: warning: {w}"),
            )
            .context("the built-in demo capture did not read")?;
            let analysis = analyzer.finish();
            report_decode_errors(&analysis);
            let inputs = vec![output::InputSummary {
                file: DEMO_LABEL.into(),
                format: summary.format.as_str().into(),
                exchanges: summary.exchanges,
                skipped: summary.skipped,
            }];
            write_stdout(format, &analysis, &inputs)?;
        }
    }
    Ok(())
}

fn format_of(f: Format) -> output::Format {
    match f {
        Format::Table => output::Format::Table,
        Format::Json => output::Format::Json,
        Format::Jsonl => output::Format::Jsonl,
    }
}

fn write_stdout(
    format: Format,
    analysis: &Analysis,
    inputs: &[output::InputSummary],
) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    match output::write(&mut w, format_of(format), analysis, inputs).and_then(|_| w.flush()) {
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to standard output"),
    }
}

fn read_input(
    path: &std::path::Path,
    label: &str,
    analyzer: &mut leakscope_core::Analyzer<'_>,
) -> anyhow::Result<leakscope_ingest::Summary> {
    let mut on_ex = |ex: leakscope_core::Exchange| analyzer.feed(&ex);
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
fn report_decode_errors(a: &Analysis) {
    let mut empty = a.errors.iter().filter(|e| e.kind == DecodeErrorKind::Empty);
    for e in a
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
