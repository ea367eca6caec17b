//! `leakscope offmeta EXPORT`: a person's own Meta export, read on their
//! machine. Reads files only: nothing in this path opens a connection.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use leakscope_offmeta::{BusinessReport, Classifier, Limits, Report};
use leakscope_report::offmeta::Jurisdiction;

use crate::{EXIT_OK, EXIT_USAGE};

#[derive(Args)]
pub struct OffmetaArgs {
    /// Your export: the zip as Meta delivers it, the folder unpacked from it
    /// (or holding the parts of a split export), or its single "off-Meta
    /// activity" JSON or HTML file.
    #[arg(value_name = "EXPORT")]
    export: PathBuf,
    /// Output: a table, JSON (schema `leakscope-offmeta/1`), or the HTML
    /// report with what to do next and the letters.
    #[arg(long, value_enum, default_value_t = OffmetaFormat::Table)]
    format: OffmetaFormat,
    /// Write the output here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The law the letters invoke: ccpa (California), mhmda (Washington),
    /// gdpr (EU/UK).
    #[arg(long, default_value = "ccpa", value_parser = parse_jurisdiction)]
    jurisdiction: JurisdictionArg,
    /// Your name, for the letters (left as a blank to fill in otherwise).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
}

#[derive(Clone, Copy)]
struct JurisdictionArg(Jurisdiction);

fn parse_jurisdiction(s: &str) -> Result<JurisdictionArg, String> {
    Jurisdiction::parse(s)
        .map(JurisdictionArg)
        .ok_or_else(|| format!("{s:?} is not one of ccpa, mhmda, gdpr"))
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum OffmetaFormat {
    Table,
    Json,
    Html,
}

fn line(b: &BusinessReport) -> String {
    leakscope_report::html::clip(&leakscope_report::offmeta::events_line(b), 160)
}

fn table(w: &mut dyn Write, r: &Report) -> std::io::Result<()> {
    let clip = |s: &str, n| leakscope_report::html::clip(s, n);
    writeln!(
        w,
        "{} businesses sent Meta {} events about you: {} health, {} sensitive in another way, {} ordinary.",
        r.businesses,
        r.events,
        r.health.len(),
        r.sensitive.len(),
        r.ordinary.len()
    )?;
    if !r.health.is_empty() {
        writeln!(w, "\nHEALTH BUSINESSES")?;
        for b in &r.health {
            writeln!(
                w,
                "  {}  [{}, {} confidence: {}]",
                clip(&b.name, 60),
                b.classified
                    .category
                    .as_deref()
                    .unwrap_or("")
                    .replace('_', " "),
                b.classified
                    .confidence
                    .map(|c| format!("{c:?}").to_lowercase())
                    .unwrap_or_default(),
                clip(&b.classified.why, 100)
            )?;
            writeln!(w, "    {}", line(b))?;
        }
    }
    if !r.sensitive.is_empty() {
        writeln!(w, "\nSENSITIVE IN ANOTHER WAY")?;
        for b in &r.sensitive {
            writeln!(
                w,
                "  {}  [{}]  {}",
                clip(&b.name, 60),
                b.classified.category.as_deref().unwrap_or(""),
                line(b)
            )?;
        }
    }
    if !r.ordinary.is_empty() {
        let names: Vec<String> = r.ordinary.iter().map(|b| clip(&b.name, 40)).collect();
        writeln!(w, "\nORDINARY ({}): {}", names.len(), names.join(", "))?;
    }
    if !r.health.is_empty() {
        writeln!(
            w,
            "\nWhat to do next: `--format html -o report.html` gives the steps to clear this at Meta, and access and deletion letters to each health business (--jurisdiction ccpa|mhmda|gdpr)."
        )?;
    }
    Ok(())
}

pub fn offmeta(a: OffmetaArgs) -> anyhow::Result<u8> {
    let export = match leakscope_offmeta::read(&a.export, &Limits::default()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("leakscope: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let report = leakscope_offmeta::analyze(export, &Classifier::builtin());
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    match a.format {
        OffmetaFormat::Table => table(&mut out, &report)?,
        OffmetaFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        OffmetaFormat::Html => {
            let page = leakscope_report::offmeta::html(
                &report,
                a.jurisdiction.0,
                a.name.as_deref().unwrap_or(""),
            )?;
            out.write_all(page.as_bytes())?;
        }
    }
    out.flush()?;
    Ok(EXIT_OK)
}
