//! Tag-level fixes: what a site owner changes in a vendor's tag so health
//! information stops leaving with it. Data, not code: `data/fixes.toml`,
//! written from the vendors' own documentation, each fix with its source.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::RulesError;

/// The built-in fixes, shipped with the crate.
pub const BUILTIN_FIXES_TOML: &str = include_str!("../../../data/fixes.toml");

/// One fix for one vendor's tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagFix {
    /// Stable leakscope vendor id (`meta_pixel`, `ga4`…).
    pub vendor: String,
    pub id: String,
    pub title: String,
    /// Which leaks it answers: `page_url`, `page_title`, `button_text`,
    /// `form`, `search`, `custom_data`, `user_data`, or `all`.
    pub answers: Vec<String>,
    /// `browser` (tag code), `setting` (a switch in the vendor's console),
    /// `server` (server-side API).
    #[serde(rename = "where")]
    pub place: String,
    #[serde(default)]
    pub code: String,
    pub explanation: String,
    #[serde(default)]
    pub source: String,
    pub verified: bool,
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixFile {
    fix: Vec<TagFix>,
}

/// Every fix, by vendor.
#[derive(Debug, Clone)]
pub struct TagFixDb {
    fixes: Vec<TagFix>,
}

const LEAKS: [&str; 8] = [
    "page_url",
    "page_title",
    "button_text",
    "form",
    "search",
    "custom_data",
    "user_data",
    "all",
];

impl TagFixDb {
    pub fn builtin() -> TagFixDb {
        // The built-in file is tested; failing here is a build defect.
        TagFixDb::from_toml(BUILTIN_FIXES_TOML).expect("data/fixes.toml is valid")
    }

    pub fn from_toml(s: &str) -> Result<TagFixDb, RulesError> {
        let file: FixFile = toml::from_str(s).map_err(|e| RulesError::FixDb(e.to_string()))?;
        let mut ids = BTreeSet::new();
        for f in &file.fix {
            if !ids.insert(f.id.as_str()) {
                return Err(RulesError::FixDb(format!("fix id {:?} twice", f.id)));
            }
            if leakscope_core::model::Vendor::parse(&f.vendor).is_none() {
                return Err(RulesError::FixDb(format!(
                    "fix {:?}: unknown vendor {:?}",
                    f.id, f.vendor
                )));
            }
            if let Some(a) = f.answers.iter().find(|a| !LEAKS.contains(&a.as_str())) {
                return Err(RulesError::FixDb(format!(
                    "fix {:?}: unknown leak kind {a:?} (one of {})",
                    f.id,
                    LEAKS.join(", ")
                )));
            }
        }
        Ok(TagFixDb { fixes: file.fix })
    }

    /// The fixes for what leaked through one tag: those answering one of
    /// `leaks` first (checked against the vendor's documentation before
    /// the others), then the ones that stop the tag on health pages
    /// altogether. `{account_id}` is filled in.
    pub fn select(
        &self,
        vendor: &str,
        leaks: &BTreeSet<String>,
        account: Option<&str>,
    ) -> Vec<TagFix> {
        let mine = self.fixes.iter().filter(|f| f.vendor == vendor);
        let mut specific: Vec<&TagFix> = mine
            .clone()
            .filter(|f| !f.answers.iter().any(|a| a == "all"))
            .filter(|f| f.answers.iter().any(|a| leaks.contains(a)))
            .collect();
        specific.sort_by_key(|f| !f.verified);
        let whole = mine.filter(|f| f.answers.iter().any(|a| a == "all"));
        let id = account.unwrap_or("YOUR_TAG_ID");
        specific
            .into_iter()
            .chain(whole)
            .map(|f| TagFix {
                code: f.code.replace("{account_id}", id),
                ..f.clone()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_fixes_load_and_every_decoded_vendor_has_one() {
        let db = TagFixDb::builtin();
        for v in leakscope_core::model::Vendor::ALL {
            if v == leakscope_core::model::Vendor::Other {
                continue;
            }
            let all = BTreeSet::from(["all".to_owned()]);
            assert!(
                !db.select(v.as_str(), &all, None).is_empty(),
                "no fix for {}",
                v.as_str()
            );
        }
    }

    #[test]
    fn selection_fills_the_id_and_puts_answers_first() {
        let db = TagFixDb::builtin();
        let leaks = BTreeSet::from(["button_text".to_owned()]);
        let got = db.select("meta_pixel", &leaks, Some("1234567890"));
        assert!(got.len() >= 2);
        assert!(
            got[0].answers.iter().any(|a| a == "button_text"),
            "{:?}",
            got[0]
        );
        assert!(got.iter().any(|f| f.code.contains("1234567890")));
        assert!(got.iter().all(|f| !f.code.contains("{account_id}")));
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let e = TagFixDb::from_toml(
            "[[fix]]\nvendor='nope'\nid='a'\ntitle='t'\nanswers=['all']\nwhere='browser'\nexplanation='e'\nverified=true\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown vendor"), "{e}");
    }
}
