//! A survey's settings, stored with it: every worker (resumed, on another
//! machine) scans the same way. Kept as `name: value` pairs, which the
//! report's methods section shows as they are.

use std::time::Duration;

use leakscope_scan::{ConsentState, Device, ScanOptions};

use crate::SurveyError;
use crate::worker::WorkerOptions;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Consent states, comma-separated (`none,reject`).
    pub consent: String,
    pub device: Device,
    /// The scan's default journey (links, search, forms) instead of loading
    /// the start page only.
    pub full_journey: bool,
    /// A custom journey, as TOML text.
    pub journey: Option<String>,
    pub max_pages: usize,
    pub page_timeout: Duration,
    pub site_budget: Duration,
    pub attempts: u32,
    pub backoff: Duration,
    pub lease_ttl: Duration,
    /// Chromium flags every worker adds (a worker's own flags replace them).
    pub chrome_args: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            consent: "none,reject".into(),
            device: Device::Desktop,
            full_journey: false,
            journey: None,
            max_pages: 0,
            page_timeout: Duration::from_secs(30),
            site_budget: Duration::from_secs(120),
            attempts: 3,
            backoff: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(60),
            chrome_args: Vec::new(),
        }
    }
}

impl Settings {
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("consent".to_owned(), self.consent.clone()),
            ("device".into(), self.device.as_str().into()),
            (
                "journey".into(),
                if self.journey.is_some() {
                    "custom".into()
                } else if self.full_journey {
                    "default (links, search, forms)".into()
                } else {
                    "load only".into()
                },
            ),
            ("max_pages".into(), self.max_pages.to_string()),
            (
                "page_timeout_s".into(),
                self.page_timeout.as_secs().to_string(),
            ),
            (
                "site_budget_s".into(),
                self.site_budget.as_secs().to_string(),
            ),
            ("attempts".into(), self.attempts.to_string()),
            ("backoff_s".into(), self.backoff.as_secs().to_string()),
            ("lease_ttl_s".into(), self.lease_ttl.as_secs().to_string()),
        ];
        if let Some(j) = &self.journey {
            v.push(("journey_toml".into(), j.clone()));
        }
        for a in &self.chrome_args {
            v.push(("chrome_arg".into(), a.clone()));
        }
        v
    }

    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Settings, SurveyError> {
        let mut s = Settings {
            chrome_args: Vec::new(),
            ..Settings::default()
        };
        let bad = |k: &str, v: &str| SurveyError::Db {
            what: "reading the survey's settings".into(),
            message: format!("{k} = {v:?} is not valid"),
        };
        let secs = |k: &str, v: &str| {
            v.parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| bad(k, v))
        };
        for (k, v) in pairs {
            match k.as_str() {
                "consent" => s.consent = v.clone(),
                "device" => {
                    s.device = match v.as_str() {
                        "mobile" => Device::Mobile,
                        _ => Device::Desktop,
                    }
                }
                "journey" => s.full_journey = v.starts_with("default"),
                "journey_toml" => s.journey = Some(v.clone()),
                "max_pages" => s.max_pages = v.parse().map_err(|_| bad(k, v))?,
                "page_timeout_s" => s.page_timeout = secs(k, v)?,
                "site_budget_s" => s.site_budget = secs(k, v)?,
                "attempts" => s.attempts = v.parse().map_err(|_| bad(k, v))?,
                "backoff_s" => s.backoff = secs(k, v)?,
                "lease_ttl_s" => s.lease_ttl = secs(k, v)?,
                "chrome_arg" => s.chrome_args.push(v.clone()),
                // Written by a newer version: ignored, not fatal.
                _ => {}
            }
        }
        Ok(s)
    }

    /// The worker options these settings give, for the survey `name`.
    pub fn worker(&self, name: &str) -> Result<WorkerOptions, SurveyError> {
        let invalid = |m: String| SurveyError::Db {
            what: "reading the survey's settings".into(),
            message: m,
        };
        let journey = match &self.journey {
            Some(text) => Some(
                leakscope_scan::journey::parse(text, "the survey's journey")
                    .map_err(|e| invalid(e.to_string()))?,
            ),
            None if self.full_journey => None,
            None => Some(Vec::new()),
        };
        let consent =
            ConsentState::parse_list(&self.consent).map_err(|e| invalid(e.to_string()))?;
        Ok(WorkerOptions {
            survey: name.to_owned(),
            scan: ScanOptions {
                consent,
                device: self.device,
                max_pages: self.max_pages,
                journey,
                page_timeout: self.page_timeout,
                chrome_args: self.chrome_args.clone(),
                ..ScanOptions::default()
            },
            max_attempts: self.attempts.max(1),
            backoff: self.backoff,
            site_budget: self.site_budget,
            lease_ttl: self.lease_ttl,
            ..WorkerOptions::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_the_database() {
        let s = Settings {
            consent: "none,reject,accept".into(),
            device: Device::Mobile,
            journey: Some("[[step]]\ngoto = \"/refill\"\n".into()),
            page_timeout: Duration::from_secs(7),
            chrome_args: vec![
                "--host-resolver-rules=MAP * 127.0.0.1:1".into(),
                "--x".into(),
            ],
            ..Settings::default()
        };
        assert_eq!(Settings::from_pairs(&s.to_pairs()).unwrap(), s);
        let bad = Settings::from_pairs(&[("attempts".into(), "many".into())]).unwrap_err();
        assert!(bad.to_string().contains("attempts = \"many\""), "{bad}");
    }
}
