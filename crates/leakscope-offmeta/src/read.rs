//! Finding the off-Meta activity in what the person has: the zip as Meta
//! delivers it (one part or several), a folder unpacked from it, or the
//! single JSON or HTML file. Hostile archives are bounded: an entry may not
//! inflate past `Limits::max_entry` whatever its header says, nor all of
//! them past `max_total`. No network, ever: only the files named.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::parse::{self, Business, HtmlPage, Layout, NotActivity};

/// Size limits for reading an export.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest single file, inflated.
    pub max_entry: u64,
    /// All off-Meta files together, inflated.
    pub max_total: u64,
    /// Entries looked at in one archive.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entry: 1 << 30,
            max_total: 2 << 30,
            max_entries: 1_000_000,
        }
    }
}

/// Why an export could not be read. Each names the file, and the entry
/// inside an archive, and says what was expected.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: cannot read it: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: not a zip archive (expected Meta's export zip, a folder unpacked from it, or its off-Meta activity JSON or HTML file)"
    )]
    NotAZip { path: String },
    #[error("{path}: the zip archive is damaged ({message}); download it again from Meta")]
    CorruptZip { path: String, message: String },
    #[error(
        "{path}: {entry} would inflate to more than {limit} bytes: refused (a damaged or hostile archive)"
    )]
    TooLarge {
        path: String,
        entry: String,
        limit: u64,
    },
    #[error("{path}{}: not valid JSON ({message})", entry.as_deref().map(|e| format!(": {e}")).unwrap_or_default())]
    BadJson {
        path: String,
        entry: Option<String>,
        message: String,
    },
    #[error(
        "{path}: no off-Meta activity in it (looked at {looked} file(s) for `off_facebook_activity`, `your_activity_off_meta_technologies` or its HTML pages); in Meta's Download Your Information, choose \"Your activity off Meta technologies\""
    )]
    NoActivity { path: String, looked: usize },
    #[error(
        "{path}: the HTML index names {n} business(es) but their pages are not here; give the whole export folder or zip"
    )]
    HtmlPagesMissing { path: String, n: usize },
}

/// What was read.
#[derive(Debug, Clone, Default)]
pub struct Export {
    pub layout: Option<Layout>,
    /// The files the activity came from (`archive.zip!path` inside archives).
    pub files: Vec<String>,
    pub businesses: Vec<Business>,
}

/// Paths inside an export that hold the off-Meta activity, by name: every
/// layout's folder or file name has one of these.
fn is_candidate(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    (p.ends_with(".json") || p.ends_with(".html") || p.ends_with(".htm"))
        && [
            "off_facebook",
            "off-facebook",
            "off_meta",
            "off_of_facebook",
            "off_of_instagram",
        ]
        .iter()
        .any(|k| p.contains(k))
}

struct Acc {
    export: Export,
    /// HTML business pages already read: an export can hold the same page
    /// twice (numbered and named), and it must count once.
    pages: std::collections::HashSet<u64>,
    total: u64,
    index_names: usize,
    looked: usize,
}

impl Acc {
    fn file(
        &mut self,
        root: &str,
        entry: Option<&str>,
        bytes: &[u8],
        single: bool,
    ) -> Result<(), ReadError> {
        self.looked += 1;
        let name = entry.unwrap_or(root).to_ascii_lowercase();
        let label = match entry {
            Some(e) => format!("{root}!{e}"),
            None => root.to_owned(),
        };
        if name.ends_with(".html") || name.ends_with(".htm") {
            let text = String::from_utf8_lossy(bytes);
            match parse::html(&text) {
                HtmlPage::Business(b) => {
                    use std::hash::{Hash, Hasher};
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    (b.name.to_lowercase(), &b.events).hash(&mut h);
                    if !self.pages.insert(h.finish()) {
                        return Ok(());
                    }
                    self.export.layout.get_or_insert(Layout::Html);
                    self.export.files.push(label);
                    self.export.businesses.push(b);
                }
                HtmlPage::Index(links) => self.index_names = self.index_names.max(links.len()),
                HtmlPage::Other => {}
            }
            return Ok(());
        }
        match parse::json(bytes) {
            Ok((layout, list)) => {
                self.export.layout.get_or_insert(layout);
                self.export.files.push(label);
                self.export.businesses.extend(list);
                Ok(())
            }
            Err(NotActivity::OtherJson) => Ok(()),
            // A broken file that is not named like the activity is someone
            // else's problem; the activity file itself must read.
            Err(NotActivity::BadJson(m)) if single || is_candidate(&name) => {
                Err(ReadError::BadJson {
                    path: root.to_owned(),
                    entry: entry.map(str::to_owned),
                    message: m,
                })
            }
            Err(NotActivity::BadJson(_)) => Ok(()),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReadError + '_ {
    move |source| ReadError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn read_zip(path: &Path, limits: &Limits, acc: &mut Acc) -> Result<(), ReadError> {
    let shown = path.display().to_string();
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let mut magic = [0u8; 4];
    let n = f.read(&mut magic).map_err(io(path))?;
    if n < 4 || &magic[..2] != b"PK" {
        return Err(ReadError::NotAZip { path: shown });
    }
    let f = std::fs::File::open(path).map_err(io(path))?;
    let mut zip =
        zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(|e| ReadError::CorruptZip {
            path: shown.clone(),
            message: e.to_string(),
        })?;
    for i in 0..zip.len().min(limits.max_entries) {
        let mut e = zip.by_index(i).map_err(|e| ReadError::CorruptZip {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let name = e.name().to_owned();
        if e.is_dir() || !is_candidate(&name) {
            continue;
        }
        let too_large = |limit| ReadError::TooLarge {
            path: shown.clone(),
            entry: name.clone(),
            limit,
        };
        let room = limits
            .max_entry
            .min(limits.max_total.saturating_sub(acc.total));
        if e.size() > room {
            return Err(too_large(room));
        }
        // The header may lie: read one byte past the room, never more.
        let mut bytes = Vec::with_capacity(e.size().min(room) as usize);
        (&mut e)
            .take(room + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| ReadError::CorruptZip {
                path: shown.clone(),
                message: format!("{name}: {err}"),
            })?;
        if bytes.len() as u64 > room {
            return Err(too_large(room));
        }
        acc.total += bytes.len() as u64;
        acc.file(&shown, Some(&name), &bytes, false)?;
    }
    Ok(())
}

fn read_file(path: &Path, limits: &Limits, acc: &mut Acc, single: bool) -> Result<(), ReadError> {
    let shown = path.display().to_string();
    let lower = shown.to_ascii_lowercase();
    if lower.ends_with(".zip") {
        return read_zip(path, limits, acc);
    }
    let len = std::fs::metadata(path).map_err(io(path))?.len();
    let room = limits
        .max_entry
        .min(limits.max_total.saturating_sub(acc.total));
    if len > room {
        return Err(ReadError::TooLarge {
            path: shown,
            entry: "the file".into(),
            limit: room,
        });
    }
    let bytes = std::fs::read(path).map_err(io(path))?;
    acc.total += bytes.len() as u64;
    acc.file(&shown, None, &bytes, single)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// Reads an export: a zip, a folder (unpacked, or holding the parts of a
/// split export), or the single off-Meta file.
pub fn read(path: &Path, limits: &Limits) -> Result<Export, ReadError> {
    let shown = path.display().to_string();
    let mut acc = Acc {
        export: Export::default(),
        pages: Default::default(),
        total: 0,
        index_names: 0,
        looked: 0,
    };
    if path.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files)?;
        for f in files {
            let s = f.display().to_string();
            if s.to_ascii_lowercase().ends_with(".zip") || is_candidate(&s) {
                read_file(&f, limits, &mut acc, false)?;
            }
        }
    } else {
        read_file(path, limits, &mut acc, true)?;
    }
    if acc.export.layout.is_none() {
        if acc.index_names > 0 {
            return Err(ReadError::HtmlPagesMissing {
                path: shown,
                n: acc.index_names,
            });
        }
        return Err(ReadError::NoActivity {
            path: shown,
            looked: acc.looked,
        });
    }
    acc.export.businesses = parse::merge(std::mem::take(&mut acc.export.businesses));
    Ok(acc.export)
}
