//! Declarative journeys (`--journey FILE`): what an investigator would do on
//! a site, step by step, in TOML.
//!
//! ```toml
//! [[step]]
//! goto = "/pharmacy/refill"          # relative to the scanned URL, or absolute
//! [[step]]
//! fill = { "#email" = "{canary.email}", "Date of birth" = "{canary.dob}" }
//! [[step]]
//! click = "Refill prescription"      # by accessible name
//! [[step]]
//! search = "{canary.search}"
//! [[step]]
//! wait-for-request = "facebook.com/tr"
//! timeout = 10                       # seconds, default 10
//! [[step]]
//! screenshot = "after-refill"
//! ```
//!
//! Each step has exactly one action key. `fill` keys starting with `#`, `.`,
//! `[` or containing `=`, `>` or a space-free `tag.class` are CSS selectors;
//! anything else is a label or accessible name. Values may use
//! `{canary.email}`, `{canary.phone}`, `{canary.name}`… (the scan's persona).

use std::time::Duration;

use crate::ScanError;

/// One journey step.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Goto(String),
    Click(String),
    /// (selector or label, value template)
    Fill(Vec<(FieldRef, String)>),
    Search(String),
    WaitForRequest {
        pattern: String,
        timeout: Duration,
    },
    Screenshot(String),
    /// Pause (seconds), to let late tags fire.
    Wait(Duration),
}

/// How a `fill` key names its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldRef {
    Selector(String),
    Label(String),
}

impl FieldRef {
    fn parse(key: &str) -> FieldRef {
        let k = key.trim();
        let css = k.starts_with(['#', '.', '['])
            || k.contains(['=', '>'])
            || (k.contains('.') && !k.contains(' '));
        if css {
            FieldRef::Selector(k.to_owned())
        } else {
            FieldRef::Label(k.to_owned())
        }
    }
}

const ACTIONS: &[&str] = &[
    "goto",
    "click",
    "fill",
    "search",
    "wait-for-request",
    "screenshot",
    "wait",
];
const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Parses a journey file's text. `name` labels errors.
pub fn parse(text: &str, name: &str) -> Result<Vec<Action>, ScanError> {
    let err = |msg: String| ScanError::Journey(format!("{name}: {msg}"));
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| err(e.to_string()))?;
    for key in doc.keys() {
        if key != "step" {
            return Err(err(format!(
                "unknown top-level key {key:?} (expected [[step]] tables)"
            )));
        }
    }
    let Some(steps) = doc.get("step") else {
        return Err(err("no [[step]] in the journey".into()));
    };
    let steps = steps
        .as_array()
        .ok_or_else(|| err("`step` must be an array of tables: write [[step]]".into()))?;
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let n = i + 1;
        let t = s
            .as_table()
            .ok_or_else(|| err(format!("step {n}: must be a table")))?;
        let found: Vec<&str> = ACTIONS
            .iter()
            .copied()
            .filter(|a| t.contains_key(*a))
            .collect();
        for k in t.keys() {
            if !ACTIONS.contains(&k.as_str()) && k != "timeout" {
                return Err(err(format!(
                    "step {n}: unknown key {k:?} (one of {})",
                    ACTIONS.join(", ")
                )));
            }
        }
        let action = match found.as_slice() {
            [a] => *a,
            [] => return Err(err(format!("step {n}: no action ({})", ACTIONS.join(", ")))),
            many => {
                return Err(err(format!(
                    "step {n}: one action per step, found {}",
                    many.join(" and ")
                )));
            }
        };
        let v = &t[action];
        let string = |key: &str| -> Result<String, ScanError> {
            match v.as_str() {
                Some(s) if !s.trim().is_empty() => Ok(s.to_owned()),
                Some(_) => Err(err(format!("step {n}: `{key}` is empty"))),
                None => Err(err(format!(
                    "step {n}: `{key}` must be a string, got {}",
                    v.type_str()
                ))),
            }
        };
        let seconds = |key: &str, v: &toml::Value| -> Result<Duration, ScanError> {
            let s = v
                .as_float()
                .or_else(|| v.as_integer().map(|i| i as f64))
                .ok_or_else(|| err(format!("step {n}: `{key}` must be a number of seconds")))?;
            if !(0.0..=600.0).contains(&s) {
                return Err(err(format!("step {n}: `{key}` = {s} is out of 0–600 s")));
            }
            Ok(Duration::from_secs_f64(s))
        };
        if t.contains_key("timeout") && action != "wait-for-request" {
            return Err(err(format!(
                "step {n}: `timeout` only goes with `wait-for-request`"
            )));
        }
        out.push(match action {
            "goto" => Action::Goto(string("goto")?),
            "click" => Action::Click(string("click")?),
            "search" => Action::Search(string("search")?),
            "screenshot" => Action::Screenshot(string("screenshot")?),
            "wait" => Action::Wait(seconds("wait", v)?),
            "wait-for-request" => Action::WaitForRequest {
                pattern: string("wait-for-request")?,
                timeout: match t.get("timeout") {
                    Some(x) => seconds("timeout", x)?,
                    None => DEFAULT_WAIT_TIMEOUT,
                },
            },
            "fill" => {
                let ft = v.as_table().ok_or_else(|| {
                    err(format!(
                        "step {n}: `fill` must be a table of field = value, e.g. fill = {{ \"#email\" = \"{{canary.email}}\" }}"
                    ))
                })?;
                if ft.is_empty() {
                    return Err(err(format!("step {n}: `fill` names no field")));
                }
                let mut fields = Vec::new();
                for (k, val) in ft {
                    let val = val.as_str().ok_or_else(|| {
                        err(format!("step {n}: fill value for {k:?} must be a string"))
                    })?;
                    fields.push((FieldRef::parse(k), val.to_owned()));
                }
                Action::Fill(fields)
            }
            _ => unreachable!("ACTIONS lists every action"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The journeys the docs point users to must stay valid.
    #[test]
    fn documented_example_journeys_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(&p).unwrap();
                let steps = parse(&text, &p.display().to_string()).unwrap();
                assert!(!steps.is_empty(), "{}", p.display());
                n += 1;
            }
        }
        assert!(n >= 1, "no example journey in {}", dir.display());
    }

    #[test]
    fn parses_every_action() {
        let j = parse(
            r##"
[[step]]
goto = "/pharmacy/refill"
[[step]]
fill = { "#email" = "{canary.email}", "Date of birth" = "{canary.dob}" }
[[step]]
click = "Refill prescription"
[[step]]
search = "insulin"
[[step]]
wait-for-request = "facebook.com/tr"
timeout = 3
[[step]]
screenshot = "done"
[[step]]
wait = 0.5
"##,
            "j.toml",
        )
        .unwrap();
        assert_eq!(j.len(), 7);
        assert_eq!(j[0], Action::Goto("/pharmacy/refill".into()));
        let Action::Fill(f) = &j[1] else { panic!() };
        assert!(f.contains(&(FieldRef::Selector("#email".into()), "{canary.email}".into())));
        assert!(f.contains(&(
            FieldRef::Label("Date of birth".into()),
            "{canary.dob}".into()
        )));
        assert_eq!(
            j[4],
            Action::WaitForRequest {
                pattern: "facebook.com/tr".into(),
                timeout: Duration::from_secs(3)
            }
        );
    }

    #[test]
    fn errors_name_the_step_and_key() {
        let e = |t: &str| parse(t, "j.toml").unwrap_err().to_string();
        assert!(e("[[step]]\nclick = 3\n").contains("step 1: `click` must be a string"));
        assert!(
            e("[[step]]\ngoto = \"/\"\n[[step]]\nclik = \"x\"\n")
                .contains("step 2: unknown key \"clik\"")
        );
        assert!(e("[[step]]\ngoto = \"/\"\nclick = \"x\"\n").contains("one action per step"));
        assert!(e("[[step]]\nscreenshot = \"x\"\ntimeout = 2\n").contains("`timeout` only"));
        assert!(e("[[step]]\nfill = \"x\"\n").contains("`fill` must be a table"));
        assert!(e("goto = 1\n").contains("unknown top-level key"));
        assert!(e("[[step]\n").contains("j.toml"));
        assert!(e("[[step]]\nwait = -1\n").contains("out of"));
    }
}
