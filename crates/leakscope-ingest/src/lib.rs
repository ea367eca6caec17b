//! Ingest: reads captured traffic into [`leakscope_core::Exchange`]s, streaming.
//!
//! The format is always detected from the content ([`detect`]), never from the
//! file name; gzip is recognised by its magic bytes and undone transparently.
//! Exchanges are handed to a callback as soon as they are read, so a 2 GB HAR is
//! read in bounded memory (one chunk plus the largest single entry).
//! [`read_path`] also takes a folder, such as `leakscope scan --out DIR`
//! writes, and reads the HARs in it.
//!
//! Errors come in two kinds: a [`Warning`] for one bad entry or line (it is
//! skipped, reading goes on) and an [`IngestError`] for a file that cannot be
//! read at all (unreadable, unknown format, not a capture, broken JSON
//! structure). A file that is something else (an image, an archive, UTF-16
//! text) is named as such, never shown as garbled bytes.

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use leakscope_core::Exchange;

mod cdp;
mod chunked;
mod har;
mod lines;
mod reqlist;
mod sniff;

use chunked::Chunked;

/// Capture formats leakscope reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// HAR 1.2 (`log.entries[]`), plain or gzip.
    Har,
    /// Chrome DevTools protocol log: Lighthouse `devtoolslog`, sitespeed.io / chromedriver `perflog`.
    DevtoolsLog,
    /// One http(s) URL per line.
    UrlList,
    /// JSON Lines, one request object (`method`, `url`, `body`, ...) per line.
    JsonLines,
    /// adblock-rust style JSON array of `{url, sourceUrl, type}`.
    RequestList,
    /// qutebrowser style TSV whose header row is `url<TAB>source_url<TAB>type`.
    TsvList,
}

impl Format {
    pub fn as_str(&self) -> &'static str {
        match self {
            Format::Har => "har",
            Format::DevtoolsLog => "devtools-log",
            Format::UrlList => "url-list",
            Format::JsonLines => "json-lines",
            Format::RequestList => "request-list",
            Format::TsvList => "tsv-list",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in a file: `entry` is the 0-based HAR entry / log record / line index
/// (the same number as `Source.entry`), `line` the 1-based line number as an
/// editor shows it, `byte` the 0-based offset in the (decompressed) content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub entry: Option<u64>,
    pub line: Option<u64>,
    pub byte: Option<u64>,
}

impl Position {
    pub fn byte(byte: u64) -> Self {
        Position {
            byte: Some(byte),
            ..Position::default()
        }
    }

    pub fn entry(entry: u64, byte: u64) -> Self {
        Position {
            entry: Some(entry),
            line: None,
            byte: Some(byte),
        }
    }

    /// A line-based record: entry is the 0-based line index.
    pub fn line(index: u64, byte: u64) -> Self {
        Position {
            entry: None,
            line: Some(index + 1),
            byte: Some(byte),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.entry, self.line, self.byte) {
            (Some(e), _, Some(b)) => write!(f, "entry {e} (byte {b})"),
            (Some(e), _, None) => write!(f, "entry {e}"),
            (None, Some(l), _) => write!(f, "line {l}"),
            (None, None, Some(b)) => write!(f, "byte {b}"),
            (None, None, None) => f.write_str("start of file"),
        }
    }
}

const ACCEPTED: &str = "leakscope reads HAR 1.2 (plain or gzip; DevTools Network tab > \"Save all as HAR\"), \
Chrome DevTools protocol logs (Lighthouse devtoolslog, sitespeed.io/chromedriver perflog), \
JSON Lines of requests ({\"method\",\"url\",\"body\"} per line), request lists (JSON array of \
{url, sourceUrl, type}; TSV with header url<TAB>source_url<TAB>type) and plain lists of http(s) URLs, one per line";

/// What to do after an I/O error, chosen from what failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoAdvice {
    /// The path: "check the path".
    Path,
    /// Permissions: "check that you may read it".
    Permissions,
    /// gzip data that does not decompress: damaged or cut short.
    Gzip,
    /// A folder that cannot be listed.
    Folder,
    /// Anything else.
    Other,
}

impl IoAdvice {
    fn of(e: &io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => IoAdvice::Path,
            io::ErrorKind::PermissionDenied => IoAdvice::Permissions,
            _ => IoAdvice::Other,
        }
    }
}

impl fmt::Display for IoAdvice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IoAdvice::Path => "check the path",
            IoAdvice::Permissions => "check that you may read it (file permissions)",
            IoAdvice::Gzip => {
                "the file is gzip-compressed and its data is damaged or cut short \
(an incomplete download or copy?): download or export it again"
            }
            IoAdvice::Folder => "check that the folder exists and that you may list it",
            IoAdvice::Other => "check the path and that you may read the file",
        })
    }
}

/// A file that cannot be read at all. Every message names the file and what to do.
///
/// Each message is complete in itself: an I/O error is part of the text and
/// deliberately not a [`std::error::Error::source`], because printers of the
/// whole chain (anyhow's `{:#}`) would show it twice. [`IngestError::io_error`]
/// gives it to code that needs it.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{file}: cannot read: {error}; {advice}")]
    Io {
        file: String,
        error: io::Error,
        advice: IoAdvice,
    },
    #[error("{file}: unknown capture format ({found}). {hint}{ACCEPTED}")]
    UnknownFormat {
        file: String,
        found: String,
        hint: String,
    },
    /// Binary content: an image, an archive, a program, or bytes we cannot name.
    #[error("{file}: this is {what}, not a capture; {advice}. {ACCEPTED}")]
    NotACapture {
        file: String,
        /// "a binary file", "a ZIP archive", "a gzip-compressed tar archive".
        what: String,
        advice: String,
    },
    /// A folder given as input holds no HAR files.
    #[error(
        "{dir}: no HAR files in this folder; leakscope looked for {pattern} (the HARs `leakscope scan --out` writes), not in subfolders. {hint}Pass a capture file, or a folder that holds .har files"
    )]
    NoCaptures {
        dir: String,
        /// What was looked for, e.g. `out/*.har`.
        pattern: String,
        hint: String,
    },
    #[error(
        "{file}: {position}: broken {format} file: {message}; the file is damaged or not what it claims to be, re-export the capture"
    )]
    Syntax {
        file: String,
        format: Format,
        position: Position,
        message: String,
    },
    #[error(
        "{file}: {position}: the file ends in the middle of the data; it is truncated (interrupted export or download?), re-export or re-download it"
    )]
    Truncated { file: String, position: Position },
    #[error(
        "{file}: {position}: a single record is larger than {limit} bytes; leakscope refuses it to stay in bounded memory (strip response bodies from the capture)"
    )]
    TooLarge {
        file: String,
        position: Position,
        limit: usize,
    },
}

impl IngestError {
    /// An I/O error on `file`, with advice chosen from its kind.
    pub(crate) fn io(file: &str, error: io::Error) -> Self {
        IngestError::Io {
            file: file.to_string(),
            advice: IoAdvice::of(&error),
            error,
        }
    }

    /// The I/O error behind an [`IngestError::Io`].
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            IngestError::Io { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Errors the gzip decoder raises (bad header, corrupt deflate stream,
    /// cut short) get gzip advice; other I/O errors keep theirs.
    fn in_gzip(self) -> Self {
        match self {
            IngestError::Io {
                file,
                error,
                advice: _,
            } if matches!(
                error.kind(),
                io::ErrorKind::InvalidInput
                    | io::ErrorKind::InvalidData
                    | io::ErrorKind::UnexpectedEof
            ) =>
            {
                IngestError::Io {
                    file,
                    error,
                    advice: IoAdvice::Gzip,
                }
            }
            e => e,
        }
    }
}

/// One record that was skipped or read only in part; reading went on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: String,
    pub position: Position,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.position, self.message)
    }
}

/// What a read produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub format: Format,
    pub exchanges: u64,
    /// Records skipped (each with a warning, except non-network `data:` requests in DevTools logs).
    pub skipped: u64,
}

/// Tunables; only tests shrink them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Bytes read per refill.
    pub chunk: usize,
    /// Largest single record (HAR entry, log record, line) kept in memory.
    pub max_record: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            chunk: 8 << 20,
            max_record: 512 << 20,
        }
    }
}

/// How far into the content detection looks.
const HEAD: usize = 64 << 10;

/// Reads one capture file, or every HAR in a folder (see [`capture_files`]).
/// `label` is the path as the user gave it; it goes into `Source.file`, and for
/// a folder each HAR's label is `label/name.har`, its entries numbered from 0.
pub fn read_path(
    path: &Path,
    label: &str,
    on_exchange: &mut dyn FnMut(Exchange),
    on_warning: &mut dyn FnMut(Warning),
) -> Result<Summary, IngestError> {
    let meta = std::fs::metadata(path).map_err(|e| IngestError::io(label, e))?;
    if !meta.is_dir() {
        let file = std::fs::File::open(path).map_err(|e| IngestError::io(label, e))?;
        return read_reader(file, label, on_exchange, on_warning);
    }
    let mut total: Option<Summary> = None;
    for file in capture_files(path, label)? {
        let name = file.file_name().unwrap_or_default();
        let file_label = Path::new(label).join(name).display().to_string();
        let f = std::fs::File::open(&file).map_err(|e| IngestError::io(&file_label, e))?;
        let s = read_reader(f, &file_label, on_exchange, on_warning)?;
        total = Some(match total {
            None => s,
            Some(t) => Summary {
                format: t.format,
                exchanges: t.exchanges + s.exchanges,
                skipped: t.skipped + s.skipped,
            },
        });
    }
    // capture_files never returns an empty list.
    total.ok_or_else(|| no_captures(path, label))
}

/// The capture files `path` stands for: itself if it is a file; for a folder
/// (such as `leakscope scan --out DIR` writes), the files directly in it whose
/// names end in `.har` (any case; hidden files skipped), sorted by name. Its
/// `results.json` and `steps/` are not captures and are left alone. A folder
/// with no HAR is an error saying what was looked for. `label` names `path`
/// in errors.
pub fn capture_files(path: &Path, label: &str) -> Result<Vec<PathBuf>, IngestError> {
    let meta = std::fs::metadata(path).map_err(|e| IngestError::io(label, e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let folder_err = |error: io::Error| IngestError::Io {
        file: label.to_string(),
        error,
        advice: IoAdvice::Folder,
    };
    let mut hars = Vec::new();
    for entry in std::fs::read_dir(path).map_err(folder_err)? {
        let entry = entry.map_err(folder_err)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let is_har = name.len() > 4
            && name.is_char_boundary(name.len() - 4)
            && name[name.len() - 4..].eq_ignore_ascii_case(".har");
        // Hidden files include macOS's `._name.har` resource forks, which are not HARs.
        if !is_har || name.starts_with('.') {
            continue;
        }
        let p = entry.path();
        if p.is_file() {
            hars.push(p);
        }
    }
    if hars.is_empty() {
        return Err(no_captures(path, label));
    }
    hars.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(hars)
}

fn no_captures(path: &Path, label: &str) -> IngestError {
    let results = Path::new(label).join("results.json");
    let hint = if path.join("results.json").is_file() {
        format!(
            "It holds {}: to show those results, run `leakscope report {}`. ",
            results.display(),
            results.display()
        )
    } else {
        String::new()
    };
    IngestError::NoCaptures {
        dir: label.to_string(),
        pattern: Path::new(label).join("*.har").display().to_string(),
        hint,
    }
}

/// Reads a capture from any reader; gzip is sniffed by its magic bytes `1f 8b` and undone.
pub fn read_reader<R: Read>(
    r: R,
    label: &str,
    on_exchange: &mut dyn FnMut(Exchange),
    on_warning: &mut dyn FnMut(Warning),
) -> Result<Summary, IngestError> {
    read_with(r, label, Options::default(), on_exchange, on_warning)
}

/// Everything a format reader needs besides the bytes.
pub(crate) struct Ctx<'a> {
    pub label: &'a str,
    pub file: Arc<str>,
    pub on_exchange: &'a mut dyn FnMut(Exchange),
    pub on_warning: &'a mut dyn FnMut(Warning),
    pub exchanges: u64,
    pub skipped: u64,
}

impl Ctx<'_> {
    pub fn emit(&mut self, ex: Exchange) {
        self.exchanges += 1;
        (self.on_exchange)(ex);
    }

    /// A note about a record that is still emitted.
    pub fn warn(&mut self, position: Position, message: impl Into<String>) {
        (self.on_warning)(Warning {
            file: self.label.to_string(),
            position,
            message: message.into(),
        });
    }

    /// A record dropped, with the reason.
    pub fn skip(&mut self, position: Position, message: impl Into<String>) {
        self.skipped += 1;
        self.warn(position, message);
    }
}

pub(crate) fn read_with<R: Read>(
    mut r: R,
    label: &str,
    opts: Options,
    on_exchange: &mut dyn FnMut(Exchange),
    on_warning: &mut dyn FnMut(Warning),
) -> Result<Summary, IngestError> {
    let head = read_head(&mut r, HEAD).map_err(|e| IngestError::io(label, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::read::MultiGzDecoder::new(io::Cursor::new(head).chain(r));
        run(gz, label, true, opts, on_exchange, on_warning).map_err(IngestError::in_gzip)
    } else {
        run(
            io::Cursor::new(head).chain(r),
            label,
            false,
            opts,
            on_exchange,
            on_warning,
        )
    }
}

/// Reads the (un-gzipped) content; `gzip` says whether it was compressed.
fn run<R: Read>(
    mut r: R,
    label: &str,
    gzip: bool,
    opts: Options,
    on_exchange: &mut dyn FnMut(Exchange),
    on_warning: &mut dyn FnMut(Warning),
) -> Result<Summary, IngestError> {
    let head = read_head(&mut r, HEAD).map_err(|e| IngestError::io(label, e))?;
    let Some(format) = detect_plain(&head) else {
        return Err(unknown(label, &head, gzip));
    };
    let mut ctx = Ctx {
        label,
        file: Arc::from(label),
        on_exchange,
        on_warning,
        exchanges: 0,
        skipped: 0,
    };
    let mut c = Chunked::new(r, head, opts);
    match format {
        Format::Har => har::read(&mut c, &mut ctx)?,
        Format::DevtoolsLog => cdp::read(&mut c, &mut ctx)?,
        Format::RequestList => reqlist::read(&mut c, &mut ctx)?,
        Format::UrlList | Format::JsonLines | Format::TsvList => {
            lines::read(&mut c, &mut ctx, format)?
        }
    }
    Ok(Summary {
        format,
        exchanges: ctx.exchanges,
        skipped: ctx.skipped,
    })
}

/// Reads up to `n` bytes (fewer only at end of input).
fn read_head<R: Read>(r: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// The advice for a file that is something else (ACCEPTED, which follows, says how to save one).
const PASS_CAPTURE: &str = "pass the capture file itself";

/// The error for content no format reader recognised: what it is, if we can
/// tell, and what to do. `head` is the content (un-gzipped if `gzip`).
fn unknown(label: &str, head: &[u8], gzip: bool) -> IngestError {
    let gz = if gzip { "gzip-compressed " } else { "" };
    let not_capture = |what: String, advice: &str| IngestError::NotACapture {
        file: label.to_string(),
        what,
        advice: advice.to_string(),
    };
    match sniff::sniff(head) {
        Some(sniff::Kind::Known(k)) => {
            let what = k.what();
            // "a gzip-compressed tar archive", "gzip-compressed zstd-compressed data".
            let what = if gzip {
                match what.strip_prefix("a ").or_else(|| what.strip_prefix("an ")) {
                    Some(rest) => format!("a {gz}{rest}"),
                    None => format!("{gz}{what}"),
                }
            } else {
                what.to_string()
            };
            return not_capture(what, k.advice().unwrap_or(PASS_CAPTURE));
        }
        Some(sniff::Kind::Binary) => {
            let what = if gzip {
                "a gzip-compressed binary file".to_string()
            } else {
                "a binary file".to_string()
            };
            return not_capture(what, PASS_CAPTURE);
        }
        Some(sniff::Kind::Utf16) => {
            return IngestError::UnknownFormat {
                file: label.to_string(),
                found: format!("it is {gz}UTF-16 text"),
                hint: format!(
                    "Convert it to UTF-8, for example `iconv -f UTF-16 -t UTF-8 {label} > capture.har`, \
and pass the result (PowerShell's `>` writes UTF-16; `| Out-File -Encoding utf8` writes UTF-8). "
                ),
            };
        }
        Some(sniff::Kind::Html) | None => {}
    }
    let found = if head.is_empty() {
        format!("the {gz}file is empty")
    } else {
        format!("it starts with {:?}", sniff::snippet(head, 32))
    };
    let blacklight = memchr::memmem::find(head, b"\"Blacklight").is_some()
        || memchr::memmem::find(head, b"\"uri_ins\"").is_some();
    let hint = if blacklight {
        "This is a Blacklight inspection.json (labels, not traffic): read the requests.har beside it. "
    } else if sniff::sniff(head) == Some(sniff::Kind::Html) {
        "This is a web page (HTML), not a capture: a download may have saved a sign-in or error page \
instead of the file. "
    } else if !gzip && label.to_ascii_lowercase().ends_with(".gz") {
        "The name ends in .gz but the content is not gzip-compressed. "
    } else {
        ""
    };
    IngestError::UnknownFormat {
        file: label.to_string(),
        found,
        hint: hint.to_string(),
    }
}

/// Detects the format from the first bytes of a file (64 KiB is plenty).
/// Gzip content is peeked into.
pub fn detect(head: &[u8]) -> Option<Format> {
    if head.starts_with(&[0x1f, 0x8b]) {
        let mut inner = Vec::new();
        // A head cut mid-stream ends in an error after yielding what it could.
        let _ = flate2::read::MultiGzDecoder::new(head)
            .take(HEAD as u64)
            .read_to_end(&mut inner);
        return detect_plain(&inner);
    }
    detect_plain(head)
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b)
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(b.len());
    &b[n..]
}

fn detect_plain(head: &[u8]) -> Option<Format> {
    let head = strip_bom(head);
    let body = skip_ws(head);
    match body.first()? {
        b'{' => detect_object(body),
        b'[' => detect_array(&body[1..]),
        _ => detect_lines(head),
    }
}

fn detect_object(body: &[u8]) -> Option<Format> {
    // HAR: the first key is "log" (every HAR writer puts it first), or a `"log": {`
    // with "entries" somewhere in the head for writers that do not.
    let after = skip_ws(&body[1..]);
    if after.starts_with(b"\"log\"") {
        return Some(Format::Har);
    }
    // JSON Lines: the first line is a whole object with a url.
    let line = match memchr::memchr(b'\n', body) {
        Some(n) => &body[..n],
        None => body,
    };
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(line)
        && m.get("url").is_some_and(|u| u.is_string())
    {
        return Some(Format::JsonLines);
    }
    if has_log_key(body) && memchr::memmem::find(body, b"\"entries\"").is_some() {
        return Some(Format::Har);
    }
    None
}

fn has_log_key(b: &[u8]) -> bool {
    memchr::memmem::find_iter(b, b"\"log\"").any(|i| {
        let rest = skip_ws(&b[i + 5..]);
        rest.first() == Some(&b':') && skip_ws(&rest[1..]).first() == Some(&b'{')
    })
}

fn detect_array(after_bracket: &[u8]) -> Option<Format> {
    let first = skip_ws(after_bracket);
    if first.first() != Some(&b'{') {
        return None;
    }
    let mut it = serde_json::Deserializer::from_slice(first).into_iter::<serde_json::Value>();
    match it.next() {
        Some(Ok(serde_json::Value::Object(m))) => {
            if m.contains_key("method") && m.contains_key("params") {
                return Some(Format::DevtoolsLog);
            }
            if let Some(msg) = m.get("message") {
                // chromedriver performance log: {"message": "<json {message:{method,params}}>", ...}
                let inner = match msg {
                    serde_json::Value::String(s) => s.contains("\"method\""),
                    serde_json::Value::Object(o) => {
                        o.contains_key("method") || o.contains_key("message")
                    }
                    _ => false,
                };
                if inner {
                    return Some(Format::DevtoolsLog);
                }
            }
            if m.get("url").is_some_and(|u| u.is_string())
                && (m.contains_key("sourceUrl") || m.contains_key("type"))
            {
                return Some(Format::RequestList);
            }
            None
        }
        Some(Err(e)) if e.is_eof() => {
            // First element longer than the head: judge by the keys seen so far.
            let has = |k: &[u8]| memchr::memmem::find(first, k).is_some();
            if has(b"\"method\"") && has(b"\"params\"") {
                Some(Format::DevtoolsLog)
            } else if has(b"\"sourceUrl\"") {
                Some(Format::RequestList)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn detect_lines(head: &[u8]) -> Option<Format> {
    for line in head.split(|&c| c == b'\n') {
        let t = line.trim_ascii();
        if t.is_empty() || t.starts_with(b"#") {
            continue;
        }
        if line.starts_with(b"url\t") {
            return Some(Format::TsvList);
        }
        if lines::is_http(t) {
            return Some(Format::UrlList);
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests;
