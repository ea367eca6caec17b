//! Findings as CSV, one row per finding, for spreadsheets and ticket imports.
//! Cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
//! CR first) get a leading `'`: captured text must not execute in Excel.

use std::io::Write;

use crate::{Error, Results};

pub const HEADER: [&str; 19] = [
    "id",
    "severity",
    "rule",
    "vendor",
    "organisation",
    "account_id",
    "event",
    "page_url",
    "request_url",
    "method",
    "step",
    "health_categories",
    "health_terms",
    "identifiers",
    "canaries",
    "frameworks",
    "explanation",
    // After the rest, so readers of the older 17 columns read on unchanged.
    "base_severity",
    "modifiers",
];

fn cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}

fn join<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let mut seen = Vec::new();
    for s in it {
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    seen.join("; ")
}

pub fn write(w: &mut dyn Write, r: &Results) -> Result<(), Error> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(HEADER)?;
    for f in &r.findings {
        let health: Vec<_> = f.health.iter().filter(|h| crate::html::counts(h)).collect();
        let ids: Vec<String> = f
            .identifiers
            .iter()
            .filter(|i| i.counts)
            .map(|i| i.label())
            .collect();
        let canaries: Vec<String> = f
            .canaries
            .iter()
            .map(|c| format!("{} in {}", c.value_kind, c.field))
            .collect();
        // `custom_configured: raised`, as the detector listed them.
        let modifiers: Vec<String> = f
            .modifiers
            .iter()
            .map(|m| {
                let effect = match m.effect {
                    leakscope_detect::Effect::Raised => "raised",
                    leakscope_detect::Effect::Lowered => "lowered",
                    leakscope_detect::Effect::Unchanged => "unchanged",
                };
                format!("{}: {effect}", m.id)
            })
            .collect();
        let row = [
            f.id.clone(),
            f.severity.as_str().to_owned(),
            f.rule.clone(),
            f.vendor.as_str().to_owned(),
            f.organisation.clone(),
            f.account_id.clone().unwrap_or_default(),
            f.event.clone(),
            f.page_url.clone().unwrap_or_default(),
            f.request_url.clone(),
            f.method.clone(),
            f.step.clone().unwrap_or_default(),
            join(health.iter().map(|h| h.category.as_str())),
            join(health.iter().map(|h| h.term.as_str())),
            join(ids.iter().map(String::as_str)),
            join(canaries.iter().map(String::as_str)),
            join(f.frameworks.iter().map(|x| x.id.as_str())),
            f.explanation.clone(),
            f.base_severity
                .map(|b| b.as_str().to_owned())
                .unwrap_or_default(),
            join(modifiers.iter().map(String::as_str)),
        ];
        out.write_record(row.iter().map(|s| cell(s)))?;
    }
    out.flush().map_err(|e| Error::io("CSV output", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_defused() {
        assert_eq!(super::cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(super::cell("-1+2"), "'-1+2");
        assert_eq!(super::cell("PageView"), "PageView");
    }
}
