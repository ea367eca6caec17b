//! SARIF 2.1.0 (OASIS): one run, one rule per verdict rule, one result per
//! finding. Rule ids are the verdict's base rule (`care_action_with_identity`;
//! older results documents wrote `critical.care_action_with_identity+…`),
//! stable across releases; the base severity and the modifiers
//! (`server_side`…, each with its effect) go in result properties.
//! Locations: the page URL as the artifact, the request as a logical location,
//! and the capture entry (`file#entry`) as a second artifact. The finding's
//! stable id is the partial fingerprint, so code-scanning UIs track it across runs.

use std::collections::BTreeMap;

use leakscope_detect::{Finding, Severity};
use serde_json::{Value, json};

use crate::Results;

/// Where tools and people find the SARIF 2.1.0 schema this output follows.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn base_rule(rule: &str) -> &str {
    rule.split('+')
        .next()
        .unwrap_or(rule)
        .split('-')
        .next()
        .unwrap_or(rule)
}

/// `+server_side-informational_page` → `["+server_side", "-informational_page"]`.
fn modifiers(s: &str) -> Vec<&str> {
    let starts: Vec<usize> = s.match_indices(['+', '-']).map(|(i, _)| i).collect();
    starts
        .iter()
        .enumerate()
        .map(|(n, &i)| &s[i..starts.get(n + 1).copied().unwrap_or(s.len())])
        .collect()
}

/// A URI reference SARIF consumers accept: bytes outside RFC 3986's
/// unreserved and reserved sets (spaces, quotes, `<>`, non-ASCII) percent-encoded.
fn uri_ref(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning reads `security-severity` (0–10) to rank alerts.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.5",
    }
}

/// Plain words for a base rule; unknown rules (a newer detector) still get one.
fn describe(rule: &str, base: Option<Severity>) -> String {
    let (sev, name) = match rule.split_once('.') {
        Some((s, n)) if Severity::parse(s).is_some() => (Some(s.to_owned()), n),
        _ => (base.map(|b| b.as_str().to_owned()), rule),
    };
    let words = name.replace(['_', '.'], " ");
    match sev {
        Some(sev) => format!("{words} ({sev} before modifiers)"),
        None => words,
    }
}

/// The modifiers of a finding: from `modifiers` when the detector lists them
/// apart, else parsed from an older document's rule suffix.
fn modifier_values(f: &Finding) -> Vec<Value> {
    if !f.modifiers.is_empty() {
        return f
            .modifiers
            .iter()
            .map(|m| json!({"id": m.id, "effect": m.effect, "why": m.why}))
            .collect();
    }
    let rule = base_rule(&f.rule);
    modifiers(f.rule.strip_prefix(rule).unwrap_or(""))
        .into_iter()
        .map(|m| {
            let (effect, id) = match m.split_at(1) {
                ("+", id) => ("raised", id),
                (_, id) => ("lowered", id),
            };
            json!({"id": id, "effect": effect})
        })
        .collect()
}

pub fn to_value(r: &Results) -> Value {
    let mut rules: BTreeMap<String, (Severity, Option<Severity>)> = BTreeMap::new();
    for f in &r.findings {
        let e = rules
            .entry(base_rule(&f.rule).to_owned())
            .or_insert((f.severity, f.base_severity));
        e.0 = e.0.max(f.severity);
    }
    let index: BTreeMap<&str, usize> = rules
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let rule_objs: Vec<Value> = rules
        .iter()
        .map(|(id, (sev, base))| {
            json!({
                "id": id,
                "name": id.replace(['.', '_'], " "),
                "shortDescription": {"text": describe(id, *base)},
                "fullDescription": {"text": format!(
                    "A tracker request carried health information and, for most rules, an identifier of the person to a third party. Rule: {}.",
                    describe(id, *base))},
                "defaultConfiguration": {"level": level(*sev)},
                "properties": {"tags": ["privacy", "health-data"], "security-severity": security_severity(*sev)}
            })
        })
        .collect();
    let results: Vec<Value> = r.findings.iter().map(|f| result(f, &index)).collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "leakscope",
                "version": r.version,
                "informationUri": "https://github.com/leakscope/leakscope",
                "rules": rule_objs
            }},
            "results": results,
            "columnKind": "unicodeCodePoints"
        }]
    })
}

fn result(f: &Finding, index: &BTreeMap<&str, usize>) -> Value {
    let rule = base_rule(&f.rule);
    let modifiers = modifier_values(f);
    let categories: Vec<&str> = {
        let mut v: Vec<&str> = f
            .health
            .iter()
            .filter(|h| crate::html::counts(h))
            .map(|h| h.category.as_str())
            .collect();
        v.dedup();
        v
    };
    let mut locations = Vec::new();
    let page = f.page_url.as_deref().unwrap_or(&f.request_url);
    locations.push(json!({
        "physicalLocation": {"artifactLocation": {"uri": uri_ref(page), "description": {"text": "page that sent the request"}}},
        "logicalLocations": [{
            "name": format!("{} {}", f.vendor.as_str(), f.event),
            "fullyQualifiedName": format!("{} {}", f.method, f.request_url),
            "kind": "request"
        }]
    }));
    let related = vec![json!({
        "id": 0,
        "physicalLocation": {"artifactLocation": {"uri": uri_ref(&f.source.file)}},
        "message": {"text": format!("captured request {}", f.source)}
    })];
    json!({
        "ruleId": rule,
        "ruleIndex": index.get(rule).copied().unwrap_or(0),
        "level": level(f.severity),
        "message": {"text": f.explanation},
        "locations": locations,
        "relatedLocations": related,
        "partialFingerprints": {"leakscopeFindingId/v1": f.id},
        "properties": {
            "id": f.id,
            "severity": f.severity.as_str(),
            "baseSeverity": f.base_severity.map(Severity::as_str),
            "security-severity": security_severity(f.severity),
            "modifiers": modifiers,
            "vendor": f.vendor.as_str(),
            "organisation": f.organisation,
            "event": f.event,
            "healthCategories": categories,
            "step": f.step,
            "frameworks": f.frameworks.iter().map(|x| x.id.as_str()).collect::<Vec<_>>()
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn uris_are_encoded_not_dropped() {
        assert_eq!(
            super::uri_ref("https://a.example/p q?x=<b>"),
            "https://a.example/p%20q?x=%3Cb%3E"
        );
        assert_eq!(
            super::uri_ref("https://a.example/é"),
            "https://a.example/%C3%A9"
        );
    }

    #[test]
    fn rule_ids_drop_modifiers() {
        let r = "critical.care_action_with_identity+server_side-informational_page";
        assert_eq!(super::base_rule(r), "critical.care_action_with_identity");
        assert_eq!(
            super::modifiers(r.strip_prefix(super::base_rule(r)).unwrap()),
            ["+server_side", "-informational_page"]
        );
    }
}
