//! Driving DuckDuckGo's autoconsent (vendored, MPL-2.0, `vendor/autoconsent/`)
//! to find a site's consent banner and refuse or accept like a person would.
//!
//! Protocol (docs/design/scanner-notes.md §5): the bundle, injected in every
//! document, calls `window.autoconsentSendMessage(obj)`. A CDP binding takes
//! only a string, so [`SHIM`] turns the object into JSON for the binding
//! [`BINDING`]. We answer `init` with `initResp` (config + the full rules) and
//! `eval` with `evalResp`, by evaluating `window.autoconsentReceiveMessage(…)`
//! in the page. `optOutResult`/`optInResult` with `result: true`, or
//! `autoconsentDone`, mark the moment the choice was made: from then on the
//! run's requests are stamped `rejected` or `accepted`.
//!
//! The state machine here is pure ([`Driver::handle`]); the scanner feeds it
//! binding payloads and evaluates what it returns.

use serde_json::{Value, json};

/// The page-injection bundle, unmodified.
pub const BUNDLE: &str = include_str!("../../../vendor/autoconsent/autoconsent.playwright.js");
/// The full rule set (`{"autoconsent": [...]}`), unmodified.
pub const RULES: &str = include_str!("../../../vendor/autoconsent/rules.json");
/// Version note of the vendored files.
pub const VERSION: &str = include_str!("../../../vendor/autoconsent/VERSION");

/// Binding name the shim calls (one string argument: the message as JSON).
pub const BINDING: &str = "__leakscopeAutoconsent";

/// Init script, injected before [`BUNDLE`]: the bundle's send function.
pub const SHIM: &str = r#"(() => {
  const send = window.__leakscopeAutoconsent;
  if (typeof send !== "function") return;
  window.autoconsentSendMessage = (msg) => {
    try { send(JSON.stringify(msg)); } catch (e) {}
    return Promise.resolve();
  };
})();"#;

/// What the run asks of the banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Find the banner, click nothing (the `none` and `gpc` states).
    Detect,
    OptOut,
    OptIn,
}

/// A message from the page, the part we act on.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Init { url: String },
    Eval { id: String, code: String },
    CmpDetected { cmp: String },
    PopupFound { cmp: String },
    OptOutResult { cmp: String, result: bool },
    OptInResult { cmp: String, result: bool },
    Done { cmp: Option<String>, clicks: u64 },
    Error { details: String },
    Other(String),
}

impl Msg {
    /// Reads a binding payload. Pages are hostile: anything malformed is an error, not a panic.
    pub fn parse(payload: &str) -> Result<Msg, String> {
        let v: Value = serde_json::from_str(payload)
            .map_err(|e| format!("autoconsent message is not JSON: {e}"))?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let ty = v
            .get("type")
            .and_then(Value::as_str)
            .ok_or("autoconsent message without a type")?;
        Ok(match ty {
            "init" => Msg::Init { url: s("url") },
            "eval" => {
                let id = s("id");
                if id.is_empty() {
                    return Err("eval message without an id".into());
                }
                Msg::Eval {
                    id,
                    code: s("code"),
                }
            }
            "cmpDetected" => Msg::CmpDetected { cmp: s("cmp") },
            "popupFound" => Msg::PopupFound { cmp: s("cmp") },
            "optOutResult" => Msg::OptOutResult {
                cmp: s("cmp"),
                result: v.get("result").and_then(Value::as_bool).unwrap_or(false),
            },
            "optInResult" => Msg::OptInResult {
                cmp: s("cmp"),
                result: v.get("result").and_then(Value::as_bool).unwrap_or(false),
            },
            "autoconsentDone" => Msg::Done {
                cmp: v.get("cmp").and_then(Value::as_str).map(str::to_owned),
                clicks: v.get("totalClicks").and_then(Value::as_u64).unwrap_or(0),
            },
            "autoconsentError" => Msg::Error {
                details: v
                    .get("details")
                    .map(|d| d.to_string())
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect(),
            },
            other => Msg::Other(other.to_owned()),
        })
    }
}

/// What the scanner must do after a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Nothing,
    /// Evaluate this expression in the page (a `autoconsentReceiveMessage` call).
    Evaluate(String),
    /// Evaluate `code` in the page, then [`eval_response`] with its truthiness.
    EvalThenRespond {
        id: String,
        code: String,
    },
}

/// The consent driver of one run.
#[derive(Debug, Clone)]
pub struct Driver {
    pub choice: Choice,
    /// The CMP whose popup was found.
    pub cmp: Option<String>,
    /// autoconsent saw a consent platform (detected or its popup found).
    pub detected: bool,
    /// The choice was made (clicked and confirmed by autoconsent).
    pub decided: bool,
    /// A click was attempted and reported as failed.
    pub failed: bool,
    pub errors: Vec<String>,
    /// Human-readable trail for `RunInfo::consent_note`.
    pub log: Vec<String>,
}

impl Driver {
    pub fn new(choice: Choice) -> Driver {
        Driver {
            choice,
            cmp: None,
            detected: false,
            decided: false,
            failed: false,
            errors: Vec::new(),
            log: Vec::new(),
        }
    }

    /// The `initResp` expression. Once the choice is made, later pages only
    /// detect: the CMP remembers it, and clicking again would blur the moment.
    pub fn init_response(&self) -> String {
        let auto_action = match (self.choice, self.decided) {
            (Choice::OptOut, false) => json!("optOut"),
            (Choice::OptIn, false) => json!("optIn"),
            _ => Value::Null,
        };
        let config = json!({
            "enabled": true,
            "autoAction": auto_action,
            "disabledCmps": [],
            "enablePrehide": false,
            "enableCosmeticRules": true,
            "enableGeneratedRules": true,
            "enableHeuristicDetection": true,
            "heuristicMode": "tier2",
            "detectRetries": 20,
            // Injected into the page's own world: snippets run inline.
            "isMainWorld": true,
            "prehideTimeout": 2000,
            "enableFilterList": false,
            "visualTest": false,
            "logs": {"lifecycle": false, "rulesteps": false, "detectionsteps": false,
                     "evals": false, "errors": false, "messages": false, "waits": false},
        });
        // RULES is JSON text, hence a JS literal as it stands.
        format!(
            "window.autoconsentReceiveMessage && window.autoconsentReceiveMessage({{type: \"initResp\", config: {config}, rules: {RULES}}})"
        )
    }

    /// Acts on one binding payload.
    pub fn handle(&mut self, payload: &str) -> Reply {
        let msg = match Msg::parse(payload) {
            Ok(m) => m,
            Err(e) => {
                self.errors.push(e);
                return Reply::Nothing;
            }
        };
        match msg {
            Msg::Init { .. } => Reply::Evaluate(self.init_response()),
            Msg::Eval { id, code } => Reply::EvalThenRespond { id, code },
            Msg::CmpDetected { cmp } => {
                self.detected = true;
                self.note(format!("CMP detected: {cmp}"));
                Reply::Nothing
            }
            Msg::PopupFound { cmp } => {
                self.detected = true;
                if self.cmp.is_none() {
                    self.note(format!("banner found: {cmp}"));
                    self.cmp = Some(cmp);
                }
                Reply::Nothing
            }
            Msg::OptOutResult { cmp, result } | Msg::OptInResult { cmp, result } => {
                let what = if self.choice == Choice::OptIn {
                    "accept"
                } else {
                    "reject"
                };
                if result {
                    if !self.decided {
                        self.note(format!("{what} clicked in {cmp}"));
                    }
                    self.decided = true;
                } else if !self.decided {
                    self.failed = true;
                    self.note(format!("{what} failed in {cmp}"));
                }
                Reply::Nothing
            }
            Msg::Done { cmp, clicks } => {
                if self.choice != Choice::Detect && clicks > 0 && !self.failed {
                    self.decided = true;
                }
                if let Some(c) = cmp {
                    self.cmp.get_or_insert(c);
                }
                Reply::Nothing
            }
            Msg::Error { details } => {
                self.errors.push(details);
                Reply::Nothing
            }
            Msg::Other(_) => Reply::Nothing,
        }
    }

    fn note(&mut self, s: String) {
        if !self.log.contains(&s) {
            self.log.push(s);
        }
    }

    /// One line for the run record.
    pub fn summary(&self) -> String {
        if self.log.is_empty() {
            return "no consent banner found".into();
        }
        self.log.join("; ")
    }
}

/// The `evalResp` expression for an `eval` request.
pub fn eval_response(id: &str, result: bool) -> String {
    format!(
        "window.autoconsentReceiveMessage && window.autoconsentReceiveMessage({{type: \"evalResp\", id: {}, result: {result}}})",
        Value::String(id.to_owned())
    )
}

/// Wraps an `eval` request's code so it yields a boolean and never throws.
pub fn eval_wrapper(code: &str) -> String {
    format!(
        "(async () => {{ try {{ return !!(await ({code})); }} catch (e) {{ return false; }} }})()"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_files_are_present_and_rules_parse() {
        assert!(BUNDLE.contains("autoconsentReceiveMessage"));
        let rules: Value = serde_json::from_str(RULES).unwrap();
        assert!(rules["autoconsent"].as_array().unwrap().len() > 100);
        assert!(VERSION.contains("16.23.0"));
    }

    #[test]
    fn reject_flow() {
        let mut d = Driver::new(Choice::OptOut);
        let Reply::Evaluate(init) = d.handle(r#"{"type":"init","url":"https://x.test/"}"#) else {
            panic!()
        };
        assert!(init.contains("\"autoAction\":\"optOut\"") && init.contains("\"autoconsent\""));
        assert_eq!(
            d.handle(r#"{"type":"eval","id":"7","code":"(() => 1)()"}"#),
            Reply::EvalThenRespond {
                id: "7".into(),
                code: "(() => 1)()".into()
            }
        );
        d.handle(r#"{"type":"popupFound","cmp":"Cookiebot"}"#);
        assert!(!d.decided);
        d.handle(r#"{"type":"optOutResult","cmp":"Cookiebot","result":true}"#);
        assert!(d.decided);
        assert_eq!(d.cmp.as_deref(), Some("Cookiebot"));
        assert!(d.summary().contains("reject clicked in Cookiebot"));
        // Next page: detection only.
        assert!(d.init_response().contains("\"autoAction\":null"));
    }

    #[test]
    fn hostile_payloads_are_errors_not_panics() {
        let mut d = Driver::new(Choice::OptIn);
        for p in ["", "nul", "[]", "{\"type\":5}", "{\"type\":\"eval\"}"] {
            assert_eq!(d.handle(p), Reply::Nothing, "{p}");
        }
        assert_eq!(d.errors.len(), 5);
        assert!(!d.decided);
        assert_eq!(d.summary(), "no consent banner found");
        d.handle(r#"{"type":"optInResult","cmp":"x","result":false}"#);
        assert!(d.failed && !d.decided);
    }

    #[test]
    fn eval_response_quotes_the_id() {
        let r = eval_response("a\"b", true);
        assert!(r.contains(r#"id: "a\"b""#), "{r}");
    }
}
