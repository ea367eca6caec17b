//! `--evidence DIR` and `leakscope verify DIR`: the CLI side of
//! `leakscope_report::bundle` (which files go in, where keys live, what is printed).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use leakscope_report::bundle::{self, BundleFile, BundleRedaction, Provenance};
use leakscope_report::{Results, har, html};

use crate::{EXIT_OK, EXIT_VERIFY, SimpleFormat};

/// A capture to copy (redacted) into the bundle.
pub enum Capture<'a> {
    Path(&'a Path),
    /// Compiled-in bytes (the demo) under a label.
    Bytes(&'a str, &'a [u8]),
}

/// `captures/<name>` unique within the bundle; `.gz` dropped (copies are plain).
fn capture_name(label: &str, taken: &mut Vec<String>) -> String {
    let base = Path::new(label)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty() && n != "-")
        .unwrap_or_else(|| "capture".into());
    let base = base.strip_suffix(".gz").unwrap_or(&base).to_owned();
    let mut name = format!("captures/{base}");
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("captures/{n}-{base}");
        n += 1;
    }
    taken.push(name.clone());
    name
}

pub fn write(
    dir: &Path,
    r: &Results,
    base: Option<&Path>,
    captures: &[Capture<'_>],
    signing_key: Option<&Path>,
) -> anyhow::Result<()> {
    let mut files = Vec::new();
    let mut redactions = Vec::new();
    let mut taken = Vec::new();
    let mut add_capture =
        |label: &str, bytes: &[u8], files: &mut Vec<BundleFile>| -> anyhow::Result<()> {
            let (copy, notes) = har::redact_bytes(bytes, label)?;
            let path = capture_name(label, &mut taken);
            redactions.extend(notes.into_iter().map(|n| BundleRedaction {
                file: path.clone(),
                redaction: n,
            }));
            files.push(BundleFile { path, bytes: copy });
            Ok(())
        };
    for c in captures {
        match c {
            Capture::Path(p) if p.as_os_str() == "-" => {
                eprintln!("leakscope: note: standard input is not copied into the evidence bundle");
            }
            Capture::Path(p) => {
                let bytes = std::fs::read(p).with_context(|| {
                    format!("cannot read {} for the evidence bundle", p.display())
                })?;
                add_capture(&p.display().to_string(), &bytes, &mut files)?;
            }
            Capture::Bytes(label, bytes) => add_capture(label, bytes, &mut files)?,
        }
    }
    // A scan's own evidence, at the same relative paths the results name.
    if let (Some(scan), Some(base)) = (&r.scan, base) {
        let mut rels: Vec<&str> = Vec::new();
        for run in &scan.runs {
            rels.extend(run.har.as_deref());
            for s in &run.steps {
                rels.extend(s.screenshot.as_deref());
                rels.extend(s.dom.as_deref());
            }
        }
        for rel in rels {
            if files.iter().any(|f| f.path == rel) {
                continue;
            }
            let Some(full) = safe_join(base, rel) else {
                eprintln!(
                    "leakscope: warning: evidence path {rel:?} leaves the scan directory; not copied"
                );
                continue;
            };
            let bytes = match std::fs::read(&full) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!(
                        "leakscope: warning: {}: {e}; not in the bundle",
                        full.display()
                    );
                    continue;
                }
            };
            let bytes = if rel.ends_with(".har") || rel.ends_with(".har.gz") {
                let (copy, notes) = har::redact_bytes(&bytes, rel)?;
                redactions.extend(notes.into_iter().map(|n| BundleRedaction {
                    file: rel.to_owned(),
                    redaction: n,
                }));
                copy
            } else if rel.ends_with(".html") {
                // DOM snapshots: the scanner writes them redacted already;
                // this also covers older scans (a second pass changes nothing).
                let text = String::from_utf8_lossy(&bytes);
                let r = leakscope_core::html::redact_secrets(&text);
                redactions.extend(r.kinds.iter().map(|k| BundleRedaction {
                    file: rel.to_owned(),
                    redaction: har::Redaction {
                        entry: None,
                        location: "dom".into(),
                        kind: (*k).to_owned(),
                    },
                }));
                match r.html {
                    std::borrow::Cow::Borrowed(_) => bytes,
                    std::borrow::Cow::Owned(s) => s.into_bytes(),
                }
            } else {
                bytes
            };
            files.push(BundleFile {
                path: rel.to_owned(),
                bytes,
            });
        }
    }
    let mut results_json = serde_json::to_vec_pretty(r)?;
    results_json.push(b'\n');
    files.insert(
        0,
        BundleFile {
            path: "results.json".into(),
            bytes: results_json,
        },
    );
    let page = html::render(
        r,
        &html::Assets {
            base: base.map(Path::to_path_buf),
            ..Default::default()
        },
    )?;
    files.insert(
        1,
        BundleFile {
            path: "report.html".into(),
            bytes: page.into_bytes(),
        },
    );

    let mut prov = Provenance::new(
        env!("CARGO_PKG_VERSION"),
        r.inputs.iter().map(|i| i.file.clone()).collect(),
        r.scan.as_ref(),
    );
    prov.redactions = redactions;

    let key = match signing_key {
        Some(p) => bundle::read_signing_key(p)?,
        None => {
            let key = bundle::generate_key();
            let path = key_path(dir);
            bundle::write_signing_key(&path, &key)?;
            eprintln!(
                "leakscope: new signing key saved to {} (keep it private; it is not in the bundle)",
                path.display()
            );
            key
        }
    };
    let m = bundle::write(dir, &files, &prov, &key)?;
    eprintln!(
        "leakscope: evidence bundle {}: {} files, {} value(s) redacted, key fingerprint {}",
        dir.display(),
        m.files.len(),
        prov.redactions.len(),
        bundle::fingerprint(&key.verifying_key())
    );
    Ok(())
}

/// `DIR.signing-key.pem` beside the bundle directory.
fn key_path(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "evidence".into());
    dir.with_file_name(format!("{name}.signing-key.pem"))
}

fn safe_join(base: &Path, rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    p.components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
        .then(|| base.join(p))
}

pub fn verify(dir: &Path, key: Option<&Path>, format: SimpleFormat) -> anyhow::Result<u8> {
    let trusted = match key {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read public key {}", p.display()))?;
            Some(bundle::parse_public_key(&text, &p.display().to_string())?)
        }
        None => None,
    };
    let r = bundle::verify_with_key(dir, trusted.as_ref());
    let mut out = std::io::stdout().lock();
    if format == SimpleFormat::Json {
        serde_json::to_writer_pretty(&mut out, &r)?;
        writeln!(out)?;
    } else {
        let fp = r.key_fingerprint.as_deref().unwrap_or("(no key)");
        writeln!(out, "bundle    {}", dir.display())?;
        writeln!(
            out,
            "signature {}",
            if r.signature_valid {
                "valid"
            } else {
                "INVALID"
            }
        )?;
        match r.key_trusted {
            Some(true) => writeln!(out, "key       {fp} (matches the key given)")?,
            Some(false) => writeln!(out, "key       {fp} (NOT the key given)")?,
            None => writeln!(
                out,
                "key       {fp} (compare with the signer's published fingerprint)"
            )?,
        }
        writeln!(
            out,
            "chain     {}",
            if r.chain_valid { "valid" } else { "BROKEN" }
        )?;
        writeln!(out, "files     {} checked", r.files_checked)?;
        for p in &r.changed {
            writeln!(out, "changed   {p}")?;
        }
        for p in &r.missing {
            writeln!(out, "missing   {p}")?;
        }
        for p in &r.added {
            writeln!(out, "added     {p}")?;
        }
        for p in &r.problems {
            writeln!(out, "problem   {p}")?;
        }
        writeln!(out, "{}", if r.ok() { "OK" } else { "FAILED" })?;
    }
    Ok(if r.ok() { EXIT_OK } else { EXIT_VERIFY })
}
