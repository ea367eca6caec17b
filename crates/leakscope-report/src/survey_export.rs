//! A survey's tables as files for analysis: `sites`, `runs`, `events` and
//! `findings`, each as CSV, JSON Lines or Parquet, readable by DuckDB and
//! pandas as they are (`read_csv`, `read_json(lines=True)`, `read_parquet`).
//!
//! One column definition (`Table`) feeds the three formats, so a column has
//! the same name and meaning in each: the fields of `leakscope_core::survey`'s
//! row types, in their order, and for `sites` the site list's own columns
//! after them (renamed `list_<name>` when a name clashes with a built-in
//! column, compared ignoring ASCII case as DuckDB does).
//!
//! - CSV: one header row; absent values are empty cells; lists are joined
//!   with `;` (no item of ours contains one: vendor ids, identifier kinds,
//!   health categories and lexicon terms); booleans `true`/`false`. A text
//!   cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR
//!   first) gets a leading `'`, as in the findings CSV: captured text must not
//!   execute in Excel. JSON Lines and Parquet carry the exact values.
//! - JSON Lines: one object per row, every key on every line (absent values
//!   are `null`), lists as arrays.
//! - Parquet: typed columns (see `parquet_type`), Snappy-compressed.
//!
//! Each file is written under a temporary name and renamed into place, so a
//! reader never sees half a table.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use leakscope_core::survey::SurveyData;
use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use serde_json::{Map, Value};

use crate::Error;

/// A file format the survey tables can be exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExportFormat {
    Csv,
    Jsonl,
    Parquet,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 3] = [
        ExportFormat::Csv,
        ExportFormat::Jsonl,
        ExportFormat::Parquet,
    ];

    /// The name users type, which is also the file extension.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Parquet => "parquet",
        }
    }

    /// `csv`, `jsonl` (or `ndjson`), `parquet`, ignoring ASCII case and
    /// surrounding spaces.
    pub fn parse(s: &str) -> Option<ExportFormat> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "ndjson" => Some(ExportFormat::Jsonl),
            _ => ExportFormat::ALL.into_iter().find(|f| f.as_str() == s),
        }
    }
}

/// The table names, in the order files are written.
pub const TABLES: [&str; 4] = ["sites", "runs", "events", "findings"];

/// Writes `sites.<ext>`, `runs.<ext>`, `events.<ext>` and `findings.<ext>`
/// into `dir` (created if missing) for each format, replacing files of the
/// same name. Returns the paths written, per format in `formats` order
/// (a format given twice is written once), tables in [`TABLES`] order.
pub fn write_exports(
    data: &SurveyData,
    dir: &Path,
    formats: &[ExportFormat],
) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    let tables = tables(data);
    let mut done: Vec<ExportFormat> = Vec::new();
    let mut written = Vec::new();
    for &format in formats {
        if done.contains(&format) {
            continue;
        }
        done.push(format);
        for t in &tables {
            let path = dir.join(format!("{}.{}", t.name, format.as_str()));
            write_one(t, &path, format, data)?;
            written.push(path);
        }
    }
    Ok(written)
}

fn write_one(t: &Table, path: &Path, format: ExportFormat, data: &SurveyData) -> Result<(), Error> {
    let what = path.display().to_string();
    let tmp = path.with_file_name(format!(".{}.{}.tmp", t.name, format.as_str()));
    let file = File::create(&tmp).map_err(|e| Error::io(&what, e))?;
    let mut w = BufWriter::new(file);
    let result = match format {
        ExportFormat::Csv => write_csv(t, &mut w),
        ExportFormat::Jsonl => write_jsonl(t, &mut w).map_err(|e| Error::io(&what, e)),
        ExportFormat::Parquet => write_parquet(t, &mut w, data).map_err(|e| Error::Parquet {
            what: what.clone(),
            source: e,
        }),
    }
    .and_then(|()| w.flush().map_err(|e| Error::io(&what, e)));
    drop(w);
    match result {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|e| Error::io(&what, e)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// One column's values, typed as every format writes them.
enum Col<'a> {
    Int(Vec<i64>),
    OptInt(Vec<Option<i64>>),
    Bool(Vec<bool>),
    Str(Vec<&'a str>),
    OptStr(Vec<Option<&'a str>>),
    List(Vec<&'a [String]>),
}

/// One table, column by column.
struct Table<'a> {
    name: &'static str,
    rows: usize,
    columns: Vec<(String, Col<'a>)>,
}

impl<'a> Table<'a> {
    fn new(name: &'static str, rows: usize) -> Self {
        Table {
            name,
            rows,
            columns: Vec::new(),
        }
    }

    fn add(&mut self, name: impl Into<String>, col: Col<'a>) {
        self.columns.push((name.into(), col));
    }

    /// A name not yet taken, ignoring ASCII case (DuckDB's column names do).
    fn free_name(&self, wanted: &str) -> String {
        let taken = |n: &str| self.columns.iter().any(|(c, _)| c.eq_ignore_ascii_case(n));
        let mut name = wanted.to_owned();
        if name.is_empty() || taken(&name) {
            name = format!("list_{wanted}");
        }
        while taken(&name) {
            name = format!("list_{name}");
        }
        name
    }
}

/// Saturating: counts never reach `i64::MAX`, but a cast must not wrap.
fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn tables(d: &SurveyData) -> [Table<'_>; 4] {
    [sites(d), runs(d), events(d), findings(d)]
}

fn sites(d: &SurveyData) -> Table<'_> {
    let s = &d.sites;
    let mut t = Table::new("sites", s.len());
    t.add("id", Col::Int(s.iter().map(|r| r.id).collect()));
    t.add("url", Col::Str(s.iter().map(|r| r.url.as_str()).collect()));
    t.add(
        "domain",
        Col::Str(s.iter().map(|r| r.domain.as_str()).collect()),
    );
    t.add(
        "status",
        Col::OptStr(s.iter().map(|r| r.status.map(|x| x.as_str())).collect()),
    );
    t.add(
        "failure_kind",
        Col::OptStr(s.iter().map(|r| r.failure_kind.as_deref()).collect()),
    );
    t.add(
        "failure_message",
        Col::OptStr(s.iter().map(|r| r.failure_message.as_deref()).collect()),
    );
    t.add(
        "attempts",
        Col::Int(s.iter().map(|r| i64::from(r.attempts)).collect()),
    );
    t.add(
        "category",
        Col::OptStr(s.iter().map(|r| r.category.as_deref()).collect()),
    );
    t.add(
        "started",
        Col::OptStr(s.iter().map(|r| r.started.as_deref()).collect()),
    );
    t.add(
        "finished",
        Col::OptStr(s.iter().map(|r| r.finished.as_deref()).collect()),
    );
    t.add(
        "duration_ms",
        Col::OptInt(s.iter().map(|r| r.duration_ms.map(i64_of)).collect()),
    );
    t.add(
        "worker",
        Col::OptStr(s.iter().map(|r| r.worker.as_deref()).collect()),
    );
    t.add(
        "evidence",
        Col::OptStr(s.iter().map(|r| r.evidence.as_deref()).collect()),
    );
    t.add(
        "requests",
        Col::Int(s.iter().map(|r| i64_of(r.requests)).collect()),
    );
    t.add(
        "vendors",
        Col::List(s.iter().map(|r| r.vendors.as_slice()).collect()),
    );
    t.add(
        "meta_pixel",
        Col::Bool(s.iter().map(|r| r.meta_pixel).collect()),
    );
    t.add(
        "findings",
        Col::Int(s.iter().map(|r| i64::from(r.findings)).collect()),
    );
    t.add(
        "max_severity",
        Col::OptStr(s.iter().map(|r| r.max_severity.as_deref()).collect()),
    );
    t.add(
        "health_with_identity",
        Col::Bool(s.iter().map(|r| r.health_with_identity).collect()),
    );
    t.add(
        "tracking_after_reject",
        Col::Bool(s.iter().map(|r| r.tracking_after_reject).collect()),
    );
    for name in list_columns(d) {
        let values = s
            .iter()
            .map(|r| {
                r.columns
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.as_str())
            })
            .collect();
        let header = t.free_name(name);
        t.add(header, Col::OptStr(values));
    }
    t
}

/// The site list's own columns: `meta.columns` in file order, then any name
/// a site carries that the metadata does not list (first seen first).
pub(crate) fn list_columns(d: &SurveyData) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut seen = BTreeSet::new();
    let names = d.meta.columns.iter().map(String::as_str).chain(
        d.sites
            .iter()
            .flat_map(|s| s.columns.iter().map(|(k, _)| k.as_str())),
    );
    for n in names {
        if seen.insert(n) {
            out.push(n);
        }
    }
    out
}

fn runs(d: &SurveyData) -> Table<'_> {
    let s = &d.runs;
    let mut t = Table::new("runs", s.len());
    t.add("site_id", Col::Int(s.iter().map(|r| r.site_id).collect()));
    t.add(
        "name",
        Col::Str(s.iter().map(|r| r.name.as_str()).collect()),
    );
    t.add(
        "consent",
        Col::Str(s.iter().map(|r| r.consent.as_str()).collect()),
    );
    t.add(
        "status",
        Col::Str(s.iter().map(|r| r.status.as_str()).collect()),
    );
    t.add(
        "failure_kind",
        Col::OptStr(s.iter().map(|r| r.failure_kind.as_deref()).collect()),
    );
    t.add(
        "failure_message",
        Col::OptStr(s.iter().map(|r| r.failure_message.as_deref()).collect()),
    );
    t.add(
        "requests",
        Col::Int(s.iter().map(|r| i64_of(r.requests)).collect()),
    );
    t.add(
        "consent_note",
        Col::OptStr(s.iter().map(|r| r.consent_note.as_deref()).collect()),
    );
    t
}

fn events(d: &SurveyData) -> Table<'_> {
    let s = &d.events;
    let mut t = Table::new("events", s.len());
    t.add("site_id", Col::Int(s.iter().map(|r| r.site_id).collect()));
    t.add("run", Col::Str(s.iter().map(|r| r.run.as_str()).collect()));
    t.add(
        "vendor",
        Col::Str(s.iter().map(|r| r.vendor.as_str()).collect()),
    );
    t.add(
        "organisation",
        Col::Str(s.iter().map(|r| r.organisation.as_str()).collect()),
    );
    t.add(
        "event",
        Col::Str(s.iter().map(|r| r.event.as_str()).collect()),
    );
    t.add(
        "account_id",
        Col::OptStr(s.iter().map(|r| r.account_id.as_deref()).collect()),
    );
    t.add(
        "page_url",
        Col::OptStr(s.iter().map(|r| r.page_url.as_deref()).collect()),
    );
    t.add(
        "request_url",
        Col::Str(s.iter().map(|r| r.request_url.as_str()).collect()),
    );
    t.add(
        "method",
        Col::Str(s.iter().map(|r| r.method.as_str()).collect()),
    );
    t.add(
        "consent",
        Col::OptStr(s.iter().map(|r| r.consent.as_deref()).collect()),
    );
    t.add(
        "identifiers",
        Col::List(s.iter().map(|r| r.identifiers.as_slice()).collect()),
    );
    t
}

fn findings(d: &SurveyData) -> Table<'_> {
    let s = &d.findings;
    let mut t = Table::new("findings", s.len());
    t.add("site_id", Col::Int(s.iter().map(|r| r.site_id).collect()));
    t.add("id", Col::Str(s.iter().map(|r| r.id.as_str()).collect()));
    t.add(
        "rule",
        Col::Str(s.iter().map(|r| r.rule.as_str()).collect()),
    );
    t.add(
        "severity",
        Col::Str(s.iter().map(|r| r.severity.as_str()).collect()),
    );
    t.add(
        "vendor",
        Col::Str(s.iter().map(|r| r.vendor.as_str()).collect()),
    );
    t.add(
        "organisation",
        Col::Str(s.iter().map(|r| r.organisation.as_str()).collect()),
    );
    t.add(
        "event",
        Col::Str(s.iter().map(|r| r.event.as_str()).collect()),
    );
    t.add(
        "page_url",
        Col::OptStr(s.iter().map(|r| r.page_url.as_deref()).collect()),
    );
    t.add(
        "health_categories",
        Col::List(s.iter().map(|r| r.health_categories.as_slice()).collect()),
    );
    t.add(
        "health_terms",
        Col::List(s.iter().map(|r| r.health_terms.as_slice()).collect()),
    );
    t.add(
        "identifiers",
        Col::List(s.iter().map(|r| r.identifiers.as_slice()).collect()),
    );
    t.add(
        "run",
        Col::OptStr(s.iter().map(|r| r.run.as_deref()).collect()),
    );
    t.add(
        "explanation",
        Col::Str(s.iter().map(|r| r.explanation.as_str()).collect()),
    );
    t
}

// ---------------------------------------------------------------- CSV

/// A text cell a spreadsheet would not run as a formula.
fn defuse(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}

fn csv_cell(col: &Col<'_>, i: usize) -> String {
    match col {
        Col::Int(v) => v[i].to_string(),
        Col::OptInt(v) => v[i].map(|n| n.to_string()).unwrap_or_default(),
        Col::Bool(v) => v[i].to_string(),
        Col::Str(v) => defuse(v[i]),
        Col::OptStr(v) => v[i].map(defuse).unwrap_or_default(),
        Col::List(v) => defuse(&v[i].join(";")),
    }
}

fn write_csv(t: &Table<'_>, w: &mut dyn Write) -> Result<(), Error> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(t.columns.iter().map(|(n, _)| n.as_str()))?;
    for i in 0..t.rows {
        out.write_record(t.columns.iter().map(|(_, c)| csv_cell(c, i)))?;
    }
    out.flush()
        .map_err(|e| Error::io(format!("{}.csv", t.name), e))?;
    Ok(())
}

// ---------------------------------------------------------- JSON Lines

fn json_cell(col: &Col<'_>, i: usize) -> Value {
    match col {
        Col::Int(v) => Value::from(v[i]),
        Col::OptInt(v) => v[i].map_or(Value::Null, Value::from),
        Col::Bool(v) => Value::Bool(v[i]),
        Col::Str(v) => Value::from(v[i]),
        Col::OptStr(v) => v[i].map_or(Value::Null, Value::from),
        Col::List(v) => Value::Array(v[i].iter().map(|s| Value::from(s.as_str())).collect()),
    }
}

fn write_jsonl(t: &Table<'_>, w: &mut dyn Write) -> std::io::Result<()> {
    for i in 0..t.rows {
        let row: Map<String, Value> = t
            .columns
            .iter()
            .map(|(n, c)| (n.clone(), json_cell(c, i)))
            .collect();
        serde_json::to_writer(&mut *w, &row)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

// ------------------------------------------------------------- Parquet

/// Rows per row group: a survey's events table can hold millions of rows;
/// readers parallelise and skip by row group.
const ROW_GROUP: usize = 128 * 1024;

/// The Parquet type of a column:
///
/// - ids and counts: `required INT64`;
/// - flags: `required BOOLEAN`;
/// - text: `BYTE_ARRAY` annotated `STRING`, `optional` when the field is an
///   `Option` (absent is null, not an empty string);
/// - lists: the standard three-level `LIST` of required `STRING` elements
///   (`required group vendors (LIST) { repeated group list { required binary
///   element (STRING) } }`), not `;`-joined text: DuckDB reads it as
///   `VARCHAR[]` (`list_contains(vendors, 'meta_pixel')`, `unnest`),
///   pandas/pyarrow as a list column (`explode`), with no splitting rule to
///   agree on. The CSV, which has no lists, joins them with `;`.
fn parquet_type(name: &str, col: &Col<'_>) -> parquet::errors::Result<Type> {
    let prim = |physical, rep, logical| {
        Type::primitive_type_builder(name, physical)
            .with_repetition(rep)
            .with_logical_type(logical)
            .build()
    };
    match col {
        Col::Int(_) => prim(PhysicalType::INT64, Repetition::REQUIRED, None),
        Col::OptInt(_) => prim(PhysicalType::INT64, Repetition::OPTIONAL, None),
        Col::Bool(_) => prim(PhysicalType::BOOLEAN, Repetition::REQUIRED, None),
        Col::Str(_) => prim(
            PhysicalType::BYTE_ARRAY,
            Repetition::REQUIRED,
            Some(LogicalType::String),
        ),
        Col::OptStr(_) => prim(
            PhysicalType::BYTE_ARRAY,
            Repetition::OPTIONAL,
            Some(LogicalType::String),
        ),
        Col::List(_) => {
            let element = Type::primitive_type_builder("element", PhysicalType::BYTE_ARRAY)
                .with_repetition(Repetition::REQUIRED)
                .with_logical_type(Some(LogicalType::String))
                .build()?;
            let list = Type::group_type_builder("list")
                .with_repetition(Repetition::REPEATED)
                .with_fields(vec![Arc::new(element)])
                .build()?;
            Type::group_type_builder(name)
                .with_repetition(Repetition::REQUIRED)
                .with_logical_type(Some(LogicalType::List))
                .with_fields(vec![Arc::new(list)])
                .build()
        }
    }
}

/// Writes one table as a Parquet file (Snappy, dictionary-encoded where the
/// writer finds it pays), the survey's metadata as JSON under the file's
/// `leakscope.survey` key.
fn write_parquet<W: Write + Send>(
    t: &Table<'_>,
    w: W,
    data: &SurveyData,
) -> parquet::errors::Result<()> {
    let fields = t
        .columns
        .iter()
        .map(|(n, c)| parquet_type(n, c).map(Arc::new))
        .collect::<parquet::errors::Result<Vec<_>>>()?;
    let schema = Type::group_type_builder(t.name)
        .with_fields(fields)
        .build()?;
    let meta = serde_json::json!({
        "name": data.meta.name,
        "list": data.meta.list,
        "created": data.meta.created,
        "tool_version": data.meta.tool_version,
        "table": t.name,
    });
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "leakscope.survey".to_owned(),
            meta.to_string(),
        )]))
        .build();
    let mut writer = SerializedFileWriter::new(w, Arc::new(schema), Arc::new(props))?;
    let mut start = 0;
    // An empty table still gets its schema (and no row group).
    while start < t.rows {
        let end = (start + ROW_GROUP).min(t.rows);
        let mut rg = writer.next_row_group()?;
        for (_, col) in &t.columns {
            let Some(mut cw) = rg.next_column()? else {
                return Err(parquet::errors::ParquetError::General(
                    "fewer Parquet columns than table columns".into(),
                ));
            };
            match col {
                Col::Int(v) => {
                    cw.typed::<Int64Type>()
                        .write_batch(&v[start..end], None, None)?;
                }
                Col::OptInt(v) => {
                    let rows = &v[start..end];
                    let values: Vec<i64> = rows.iter().flatten().copied().collect();
                    let def: Vec<i16> = rows.iter().map(|x| i16::from(x.is_some())).collect();
                    cw.typed::<Int64Type>()
                        .write_batch(&values, Some(&def), None)?;
                }
                Col::Bool(v) => {
                    cw.typed::<BoolType>()
                        .write_batch(&v[start..end], None, None)?;
                }
                Col::Str(v) => {
                    let values: Vec<ByteArray> =
                        v[start..end].iter().map(|s| ByteArray::from(*s)).collect();
                    cw.typed::<ByteArrayType>()
                        .write_batch(&values, None, None)?;
                }
                Col::OptStr(v) => {
                    let rows = &v[start..end];
                    let values: Vec<ByteArray> =
                        rows.iter().flatten().map(|s| ByteArray::from(*s)).collect();
                    let def: Vec<i16> = rows.iter().map(|x| i16::from(x.is_some())).collect();
                    cw.typed::<ByteArrayType>()
                        .write_batch(&values, Some(&def), None)?;
                }
                Col::List(v) => {
                    // Levels for `required group (LIST) { repeated group list
                    // { required element } }`: max definition 1 (an element is
                    // there), max repetition 1. An empty list is one (0, 0)
                    // slot with no value; the first element of a row starts it
                    // (rep 0), the next ones continue it (rep 1).
                    let mut values = Vec::new();
                    let mut def = Vec::new();
                    let mut rep = Vec::new();
                    for items in &v[start..end] {
                        if items.is_empty() {
                            def.push(0);
                            rep.push(0);
                        }
                        for (k, s) in items.iter().enumerate() {
                            values.push(ByteArray::from(s.as_str()));
                            def.push(1);
                            rep.push(i16::from(k > 0));
                        }
                    }
                    cw.typed::<ByteArrayType>()
                        .write_batch(&values, Some(&def), Some(&rep))?;
                }
            }
            cw.close()?;
        }
        rg.close()?;
        start = end;
    }
    writer.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakscope_core::survey::SiteRow;

    #[test]
    fn formats_parse() {
        for f in ExportFormat::ALL {
            assert_eq!(ExportFormat::parse(f.as_str()), Some(f));
        }
        assert_eq!(
            ExportFormat::parse(" Parquet "),
            Some(ExportFormat::Parquet)
        );
        assert_eq!(ExportFormat::parse("ndjson"), Some(ExportFormat::Jsonl));
        assert_eq!(ExportFormat::parse("xlsx"), None);
    }

    #[test]
    fn list_columns_never_shadow_built_ins() {
        let mut d = SurveyData::default();
        d.meta.columns = vec![
            "state".into(),
            "category".into(),
            "ID".into(),
            "list_category".into(),
            String::new(),
        ];
        d.sites.push(SiteRow {
            id: 1,
            columns: vec![("state".into(), "CA".into())],
            ..SiteRow::default()
        });
        let t = sites(&d);
        let names: Vec<&str> = t.columns.iter().map(|(n, _)| n.as_str()).collect();
        let tail = &names[names.len() - 5..];
        assert_eq!(
            tail,
            [
                "state",
                "list_category",
                "list_ID",
                "list_list_category",
                "list_"
            ]
        );
    }

    #[test]
    fn csv_cells_defuse_formulas_and_join_lists() {
        let list = vec!["meta_pixel".to_owned(), "ga4".to_owned()];
        assert_eq!(csv_cell(&Col::List(vec![&list]), 0), "meta_pixel;ga4");
        assert_eq!(csv_cell(&Col::Str(vec!["=cmd()"]), 0), "'=cmd()");
        assert_eq!(csv_cell(&Col::OptStr(vec![None]), 0), "");
        assert_eq!(csv_cell(&Col::OptInt(vec![Some(-3)]), 0), "-3");
    }
}
