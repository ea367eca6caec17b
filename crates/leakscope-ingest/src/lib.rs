//! Ingest: reads captured traffic into [`leakscope_core::Exchange`]s, streaming.
//!
//! The format is always detected from the content ([`detect`]), never from the
//! file name; gzip is recognised by its magic bytes and undone transparently.
//! Exchanges are handed to a callback as soon as they are read, so a 2 GB HAR is
//! read in bounded memory (one chunk plus the largest single entry).
//!
//! Errors come in two kinds: a [`Warning`] for one bad entry or line (it is
//! skipped, reading goes on) and an [`IngestError`] for a file that cannot be
//! read at all (unreadable, unknown format, broken JSON structure).

use std::fmt;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use leakscope_core::Exchange;

mod cdp;
mod chunked;
mod har;
mod lines;
mod reqlist;

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

/// A file that cannot be read at all. Every message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(
        "{file}: cannot read: {source}; check the path and permissions (and, for a .gz file, that the download is complete)"
    )]
    Io {
        file: String,
        #[source]
        source: io::Error,
    },
    #[error("{file}: unknown capture format ({found}). {hint}{ACCEPTED}")]
    UnknownFormat {
        file: String,
        found: String,
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

/// Reads one capture file. `label` is the file name as the user gave it; it goes into `Source.file`.
pub fn read_path(
    path: &Path,
    label: &str,
    on_exchange: &mut dyn FnMut(Exchange),
    on_warning: &mut dyn FnMut(Warning),
) -> Result<Summary, IngestError> {
    let file = std::fs::File::open(path).map_err(|source| IngestError::Io {
        file: label.to_string(),
        source,
    })?;
    read_reader(file, label, on_exchange, on_warning)
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
    let io_err = |source| IngestError::Io {
        file: label.to_string(),
        source,
    };
    let head = read_head(&mut r, HEAD).map_err(io_err)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::read::MultiGzDecoder::new(io::Cursor::new(head).chain(r));
        run(gz, label, opts, on_exchange, on_warning)
    } else {
        run(
            io::Cursor::new(head).chain(r),
            label,
            opts,
            on_exchange,
            on_warning,
        )
    }
}

fn run<R: Read>(
    mut r: R,
    label: &str,
    opts: Options,
    on_exchange: &mut dyn FnMut(Exchange),
    on_warning: &mut dyn FnMut(Warning),
) -> Result<Summary, IngestError> {
    let head = read_head(&mut r, HEAD).map_err(|source| IngestError::Io {
        file: label.to_string(),
        source,
    })?;
    let Some(format) = detect_plain(&head) else {
        return Err(unknown(label, &head));
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

fn unknown(label: &str, head: &[u8]) -> IngestError {
    let text = String::from_utf8_lossy(&head[..head.len().min(48)]);
    let snippet: String = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(32)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let found = if head.is_empty() {
        "the file is empty".to_string()
    } else {
        format!("it starts with {snippet:?}")
    };
    let blacklight = memchr::memmem::find(head, b"\"Blacklight").is_some()
        || memchr::memmem::find(head, b"\"uri_ins\"").is_some();
    let hint = if blacklight {
        "This is a Blacklight inspection.json (labels, not traffic): read the requests.har beside it. "
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
