//! Site lists: a text file of URLs or domains (one per line, `#` comments),
//! or a CSV with a `url` or `domain` column and any other columns
//! (organisation, state, category…), which are kept with the results.
//! A list is untrusted input: every rejected line is named with its number.

use leakscope_detect::SiteCategory;

use crate::SurveyError;

/// One site of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedSite {
    /// Line number in the file (from 1), for messages.
    pub line: usize,
    /// Normalised start URL (`https://domain/` for a bare domain).
    pub url: String,
    /// Registrable domain.
    pub domain: String,
    /// The list's other columns, in `SiteList::columns` order.
    pub columns: Vec<(String, String)>,
    /// From a `category` column holding a site category name: says who
    /// the site is, overriding what the pages suggest.
    pub category: Option<SiteCategory>,
}

/// A parsed list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteList {
    /// Other column names, in file order (empty for a plain list).
    pub columns: Vec<String>,
    pub sites: Vec<ListedSite>,
    /// Lines skipped as duplicates of an earlier URL.
    pub duplicates: usize,
}

/// Parses a list; `name` is used in messages (the file path).
pub fn parse(name: &str, text: &str) -> Result<SiteList, SurveyError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let header: Vec<String> = first
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let is_csv = first.contains(',') || header.iter().any(|h| h == "url" || h == "domain");
    let mut list = if is_csv {
        parse_csv(name, text)?
    } else {
        parse_plain(name, text)?
    };
    let mut seen = std::collections::HashSet::new();
    let before = list.sites.len();
    list.sites.retain(|s| seen.insert(s.url.clone()));
    list.duplicates = before - list.sites.len();
    if list.sites.is_empty() {
        return Err(SurveyError::List {
            name: name.into(),
            line: 0,
            reason: "no site in it: expected one URL or domain per line, or a CSV with a `url` or `domain` column".into(),
        });
    }
    Ok(list)
}

fn parse_plain(name: &str, text: &str) -> Result<SiteList, SurveyError> {
    let mut list = SiteList::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (url, domain) = normalise(line).map_err(|reason| SurveyError::List {
            name: name.into(),
            line: i + 1,
            reason,
        })?;
        list.sites.push(ListedSite {
            line: i + 1,
            url,
            domain,
            columns: Vec::new(),
            category: None,
        });
    }
    Ok(list)
}

fn parse_csv(name: &str, text: &str) -> Result<SiteList, SurveyError> {
    let err = |line: usize, reason: String| SurveyError::List {
        name: name.into(),
        line,
        reason,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| err(1, format!("unreadable header: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let lower: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    let key = lower
        .iter()
        .position(|h| h == "url")
        .or_else(|| lower.iter().position(|h| h == "domain"))
        .ok_or_else(|| {
            err(
                1,
                format!(
                    "no `url` or `domain` column (columns: {})",
                    headers.join(", ")
                ),
            )
        })?;
    let category_col = lower.iter().position(|h| h == "category");
    let columns: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != key)
        .map(|(i, h)| (i, h.clone()))
        .collect();
    let mut list = SiteList {
        columns: columns.iter().map(|(_, h)| h.clone()).collect(),
        ..SiteList::default()
    };
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
            err(line, format!("unreadable row: {e}"))
        })?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        let cell = rec.get(key).unwrap_or("").trim();
        if cell.is_empty() {
            if rec.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            return Err(err(line, format!("empty `{}` cell", headers[key])));
        }
        let (url, domain) = normalise(cell).map_err(|r| err(line, r))?;
        let category = match category_col.and_then(|c| rec.get(c)).map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(SiteCategory::parse(v).ok_or_else(|| {
                err(
                    line,
                    format!(
                        "unknown site category {v:?} (known: {})",
                        SiteCategory::ALL
                            .iter()
                            .map(|c| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?),
        };
        list.sites.push(ListedSite {
            line,
            url,
            domain,
            columns: columns
                .iter()
                .map(|(i, h)| (h.clone(), rec.get(*i).unwrap_or("").to_owned()))
                .collect(),
            category,
        });
    }
    Ok(list)
}

/// A URL or a bare domain → (start URL, registrable domain).
fn normalise(cell: &str) -> Result<(String, String), String> {
    let with_scheme = if cell.contains("://") {
        cell.to_owned()
    } else {
        format!("https://{cell}")
    };
    let url = url::Url::parse(&with_scheme)
        .map_err(|e| format!("{cell:?} is not a URL or domain: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{cell:?}: only http and https sites can be scanned"
        ));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{cell:?} has no host"))?;
    if !cell.contains("://") && !host.contains('.') {
        return Err(format!("{cell:?} is not a domain (no dot)"));
    }
    let domain = leakscope_core::party::site_of(host);
    Ok((url.to_string(), domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lists_take_urls_and_domains() {
        let l = parse(
            "sites.txt",
            "# hospitals\nexample-hospital.org\n\nhttps://www.clinic.example/contact?x=1\nexample-hospital.org\n",
        )
        .unwrap();
        assert_eq!(l.sites.len(), 2);
        assert_eq!(l.duplicates, 1);
        assert_eq!(l.sites[0].url, "https://example-hospital.org/");
        assert_eq!(l.sites[0].domain, "example-hospital.org");
        assert_eq!(l.sites[1].domain, "clinic.example");
        assert_eq!(l.sites[1].line, 4);
    }

    #[test]
    fn csv_keeps_its_columns_and_reads_categories() {
        let l = parse(
            "sites.csv",
            "Organisation,URL,State,category\n\"Harbor, Inc\",harbor.example,WA,crisis_line\nPlain Shop,https://shop.example/,OR,\n",
        )
        .unwrap();
        assert_eq!(l.columns, ["Organisation", "State", "category"]);
        assert_eq!(
            l.sites[0].columns[0],
            ("Organisation".into(), "Harbor, Inc".into())
        );
        assert_eq!(l.sites[0].category, Some(SiteCategory::CrisisMentalHealth));
        assert_eq!(l.sites[1].category, None);
        assert_eq!(l.sites[1].url, "https://shop.example/");
    }

    #[test]
    fn bad_lines_are_named() {
        let e = parse(
            "s.csv",
            "url,state\nharbor.example,WA\nftp://x.example/,OR\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("s.csv") && e.contains("line 3") && e.contains("http and https"),
            "{e}"
        );
        let e = parse("s.csv", "name,state\nA,WA\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `url` or `domain` column"), "{e}");
        let e = parse("s.csv", "url,category\na.example,bakery\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown site category \"bakery\""), "{e}");
        let e = parse("s.txt", "\n# nothing\n").unwrap_err().to_string();
        assert!(e.contains("no site"), "{e}");
        let e = parse("s.txt", "localhost\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("not a domain"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errs_without_panic(s in "\\PC{0,200}") {
            let _ = parse("fuzz", &s);
        }
    }
}
