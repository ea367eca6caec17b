//! Parsing a Conversions API request exactly as Meta accepts it: a JSON body,
//! or a form body (urlencoded, or multipart as in Meta's own `curl -F`
//! examples) whose `data` field is a JSON array; `access_token` and the other
//! request parameters in the query string or the body.

use serde_json::Value;

use crate::graph::GraphError;

/// Meta's limit on events per request.
pub const MAX_EVENTS: usize = 1000;

/// A parsed `/{version}/{pixel_id}/events` request.
#[derive(Debug, Clone, Default)]
pub struct EventsRequest {
    /// The key the client sent as `access_token` (a gateway key, never forwarded).
    pub access_token: Option<String>,
    /// `test_event_code`, passed upstream.
    pub test_event_code: Option<String>,
    /// The events, each a JSON object.
    pub events: Vec<Value>,
}

/// Which body encoding a request used.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Encoding {
    Json,
    Form,
    Multipart(String),
}

fn encoding(content_type: Option<&str>, body: &[u8]) -> Result<Encoding, GraphError> {
    let ct = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    match ct.as_str() {
        "application/json" | "text/json" => Ok(Encoding::Json),
        "application/x-www-form-urlencoded" => Ok(Encoding::Form),
        "multipart/form-data" => content_type
            .and_then(|c| multer::parse_boundary(c).ok())
            .map(Encoding::Multipart)
            .ok_or_else(|| {
                GraphError::invalid(
                    "multipart/form-data without a boundary parameter in Content-Type",
                )
            }),
        // No or a generic type: look at the first byte.
        "" | "text/plain" | "application/octet-stream" => {
            match body.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'{') => Ok(Encoding::Json),
                _ => Ok(Encoding::Form),
            }
        }
        other => Err(GraphError::invalid(format!(
            "unsupported Content-Type {other:?}: send application/json or application/x-www-form-urlencoded"
        ))),
    }
}

/// Request-level parameters gathered from the query and the body.
#[derive(Default)]
struct Params {
    access_token: Option<String>,
    test_event_code: Option<String>,
    data: Option<Value>,
}

impl Params {
    fn set(&mut self, key: &str, value: Value, where_: &str) -> Result<(), GraphError> {
        // Meta's Node SDK sends unset parameters as null: the same as absent.
        if value.is_null() {
            return Ok(());
        }
        let as_string = |v: Value, name: &str| -> Result<String, GraphError> {
            match v {
                Value::String(s) => Ok(s),
                other => Err(GraphError::invalid(format!(
                    "{where_}: parameter {name} must be a string, got {}",
                    type_name(&other)
                ))),
            }
        };
        match key {
            "access_token" => self.access_token = Some(as_string(value, key)?),
            "test_event_code" => self.test_event_code = Some(as_string(value, key)?),
            "data" => self.data = Some(value),
            // partner_agent, namespace_id, upload_* and appsecret_proof are
            // about the client's own token and integration; the gateway sends
            // its own request upstream.
            _ => {}
        }
        Ok(())
    }
}

/// The text fields of a multipart body, in order. A part sent as a file
/// (`curl -F data=@events.json`) counts as its field's text.
fn multipart_fields(body: &[u8], boundary: String) -> Result<Vec<(String, String)>, GraphError> {
    let chunk = bytes::Bytes::copy_from_slice(body);
    let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(chunk) });
    let mut mp = multer::Multipart::new(stream, boundary);
    // The whole body is already in memory, so every future below is ready at
    // once: block_on never waits.
    futures::executor::block_on(async move {
        let mut out = Vec::new();
        let mut i = 0usize;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    return Err(GraphError::invalid(format!(
                        "the multipart body is malformed at part {i}: {e}"
                    )));
                }
            };
            let name = field.name().unwrap_or("").to_owned();
            let bytes = field.bytes().await.map_err(|e| {
                GraphError::invalid(format!("multipart part {i} ({name:?}) is unreadable: {e}"))
            })?;
            let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                GraphError::invalid(format!("multipart part {i} ({name:?}) is not UTF-8 text"))
            })?;
            out.push((name, text));
            i += 1;
        }
        Ok(out)
    })
}

/// JSON type name for error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses a request. `query` is the raw query string.
pub fn parse_events_request(
    content_type: Option<&str>,
    query: Option<&str>,
    body: &[u8],
) -> Result<EventsRequest, GraphError> {
    let mut p = Params::default();
    if let Some(q) = query {
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            let v = if k == "data" {
                parse_data_text(&v, "query parameter data")?
            } else {
                Value::String(v.into_owned())
            };
            p.set(&k, v, "query string")?;
        }
    }
    if !body.iter().all(u8::is_ascii_whitespace) {
        match encoding(content_type, body)? {
            Encoding::Json => {
                let v: Value = serde_json::from_slice(body)
                    .map_err(|e| GraphError::invalid(format!("the body is not valid JSON: {e}")))?;
                let Value::Object(m) = v else {
                    return Err(GraphError::invalid(format!(
                        "the JSON body must be an object like {{\"data\": [...]}}, got {}",
                        type_name(&v)
                    )));
                };
                for (k, v) in m {
                    let v = match (k.as_str(), v) {
                        // Some clients send data as a JSON string even in a JSON body.
                        ("data", Value::String(s)) => parse_data_text(&s, "body field data")?,
                        (_, v) => v,
                    };
                    p.set(&k, v, "JSON body")?;
                }
            }
            Encoding::Form => {
                if std::str::from_utf8(body).is_err() {
                    return Err(GraphError::invalid("the form body is not UTF-8"));
                }
                for (k, v) in url::form_urlencoded::parse(body) {
                    let v = if k == "data" {
                        parse_data_text(&v, "form field data")?
                    } else {
                        Value::String(v.into_owned())
                    };
                    p.set(&k, v, "form body")?;
                }
            }
            Encoding::Multipart(boundary) => {
                for (k, v) in multipart_fields(body, boundary)? {
                    let v = if k == "data" {
                        parse_data_text(&v, "multipart field data")?
                    } else {
                        Value::String(v)
                    };
                    p.set(&k, v, "multipart body")?;
                }
            }
        }
    }
    let data = p
        .data
        .ok_or_else(|| GraphError::invalid("(#100) The parameter data is required"))?;
    let Value::Array(items) = data else {
        return Err(GraphError::invalid(format!(
            "(#100) param data must be an array of events, got {}",
            type_name(&data)
        )));
    };
    if items.is_empty() {
        return Err(GraphError::invalid(
            "(#100) data must contain at least one event",
        ));
    }
    if items.len() > MAX_EVENTS {
        return Err(GraphError::invalid(format!(
            "(#100) data holds {} events; at most {MAX_EVENTS} are accepted per request",
            items.len()
        )));
    }
    let mut events = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let ev = match item {
            Value::Object(_) => item,
            // Meta's Python SDK (sync path) sends each event as a JSON string.
            Value::String(s) => match serde_json::from_str::<Value>(&s) {
                Ok(v @ Value::Object(_)) => v,
                Ok(other) => {
                    return Err(GraphError::invalid(format!(
                        "data[{i}] must be an event object, got a string holding {}",
                        type_name(&other)
                    )));
                }
                Err(e) => {
                    return Err(GraphError::invalid(format!(
                        "data[{i}] is a string that is not a JSON event object: {e}"
                    )));
                }
            },
            other => {
                return Err(GraphError::invalid(format!(
                    "data[{i}] must be an event object, got {}",
                    type_name(&other)
                )));
            }
        };
        events.push(ev);
    }
    Ok(EventsRequest {
        access_token: p.access_token.filter(|t| !t.is_empty()),
        test_event_code: p.test_event_code.filter(|t| !t.is_empty()),
        events,
    })
}

/// The fuzz and property-test body for everything a client controls: the
/// first byte picks a Content-Type (multipart included), the next chunk is
/// the query string, the rest the body; every parsed event then goes through
/// both the default policy and a permissive one. Must never panic.
#[doc(hidden)]
pub fn fuzz_request(data: &[u8]) {
    use std::sync::OnceLock;
    static POLICIES: OnceLock<[leakscope_policy::Policy; 2]> = OnceLock::new();
    const TYPES: &[&str] = &[
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=X",
        "multipart/form-data",
        "text/plain",
        "",
    ];
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let ct = TYPES[usize::from(pick) % TYPES.len()];
    let split = rest.iter().position(|&b| b == 0).unwrap_or(0);
    let query = std::str::from_utf8(&rest[..split]).ok();
    let body = rest.get(split + 1..).unwrap_or(&[]);
    let Ok(req) = parse_events_request((!ct.is_empty()).then_some(ct), query, body) else {
        return;
    };
    let policies = POLICIES.get_or_init(|| {
        // Lets every text field through to the detector, and consent-less
        // events past step 1, so the fuzzer reaches every later step.
        let permissive = r#"
[default]
custom_data_allow = ["value", "currency", "content_name", "content_category", "contents",
                     "content_ids", "search_string", "num_items"]
contents_allow = ["id", "quantity", "item_price", "title"]
url_mode = "keep-if-clean"
[default.consent]
required = false
"#;
        let compile = |t: &str| leakscope_policy::Policy::from_toml(t).expect("fixed policy");
        [compile(""), compile(permissive)]
    });
    for ev in &req.events {
        for p in policies {
            let _ = p.evaluate_at("1234567891234567", ev, None, 1_730_000_000);
        }
    }
}

fn parse_data_text(s: &str, what: &str) -> Result<Value, GraphError> {
    serde_json::from_str(s)
        .map_err(|e| GraphError::invalid(format!("{what} is not a JSON array of events: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EV: &str =
        r#"{"event_name":"Purchase","event_time":1730578362,"action_source":"website"}"#;

    #[test]
    fn json_body_with_token_in_body() {
        let body = format!(r#"{{"data":[{EV}],"access_token":"k1","test_event_code":"TEST1"}}"#);
        let r = parse_events_request(Some("application/json"), None, body.as_bytes()).unwrap();
        assert_eq!(r.access_token.as_deref(), Some("k1"));
        assert_eq!(r.test_event_code.as_deref(), Some("TEST1"));
        assert_eq!(r.events.len(), 1);
    }

    #[test]
    fn form_body_with_string_items_and_token_in_query() {
        // The Python SDK's sync shape: data = JSON array of JSON strings.
        let data = serde_json::to_string(&vec![EV, EV]).unwrap();
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("data", &data)
            .finish();
        let r = parse_events_request(
            Some("application/x-www-form-urlencoded"),
            Some("access_token=k2&appsecret_proof=abc"),
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(r.access_token.as_deref(), Some("k2"));
        assert_eq!(r.events.len(), 2);
        assert_eq!(r.events[1]["event_name"], "Purchase");
    }

    #[test]
    fn clear_errors() {
        let err = |ct: Option<&str>, b: &str| {
            parse_events_request(ct, None, b.as_bytes())
                .unwrap_err()
                .message
        };
        assert!(err(Some("application/json"), "{\"data\": [").contains("not valid JSON"));
        assert!(err(Some("application/json"), "[1]").contains("must be an object"));
        assert!(err(Some("application/json"), r#"{"data": {"a":1}}"#).contains("must be an array"));
        assert!(
            err(Some("application/json"), r#"{"data": [1]}"#)
                .contains("data[0] must be an event object, got a number")
        );
        assert!(err(Some("application/json"), r#"{"data": []}"#).contains("at least one"));
        assert!(
            err(
                Some("application/json"),
                r#"{"access_token": 5, "data": []}"#
            )
            .contains("access_token must be a string")
        );
        assert!(
            err(Some("application/x-www-form-urlencoded"), "data=%5Bnope")
                .contains("form field data")
        );
        assert!(err(Some("application/json"), r#"{}"#).contains("data is required"));
        assert!(err(Some("text/xml"), "<x/>").contains("unsupported Content-Type"));
        let many = format!(r#"{{"data":[{}]}}"#, vec![EV; 1001].join(","));
        assert!(err(Some("application/json"), &many).contains("at most 1000"));
        assert!(err(Some("multipart/form-data"), "--X\r\n").contains("without a boundary"));
        assert!(
            err(
                Some("multipart/form-data; boundary=X"),
                "--X\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n[1"
            )
            .contains("multipart")
        );
    }

    /// Meta's documented `curl -F 'data=[...]' -F 'access_token=...'`, with
    /// `data` also sent as a file part (`-F data=@events.json`).
    #[test]
    fn multipart_body_as_curl_sends_it() {
        for data_part in [
            "Content-Disposition: form-data; name=\"data\"".to_owned(),
            "Content-Disposition: form-data; name=\"data\"; filename=\"events.json\"\r\nContent-Type: application/json".to_owned(),
        ] {
            let body = format!(
                "--b0undary\r\n{data_part}\r\n\r\n[{EV}]\r\n--b0undary\r\n\
                 Content-Disposition: form-data; name=\"access_token\"\r\n\r\nk3\r\n--b0undary--\r\n"
            );
            let r = parse_events_request(
                Some("multipart/form-data; boundary=b0undary"),
                None,
                body.as_bytes(),
            )
            .unwrap();
            assert_eq!(r.access_token.as_deref(), Some("k3"));
            assert_eq!(r.events.len(), 1);
            assert_eq!(r.events[0]["event_name"], "Purchase");
        }
    }

    #[test]
    fn fuzz_body_survives_odd_inputs() {
        for d in [
            &b""[..],
            b"\x02\x00--X\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n[{}]\r\n--X--",
            b"\x00access_token=a\x00{\"data\":[{\"event_name\":\"Purchase\",\"custom_data\":{\"content_name\":\"plan b\"}}]}",
            b"\x01\x00data=%5B%7B%7D%5D",
        ] {
            fuzz_request(d);
        }
    }
}
