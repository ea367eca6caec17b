//! Synthetic HAR writer shared by the gen_har example, the bench and tests.
//! Realistic shape: Meta Pixel / GA4 GETs, form and JSON POSTs, and page/script
//! loads with large response bodies full of escapes and braces. All people and
//! values are made up (canary data).

#![allow(dead_code)]

use std::io::{self, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Counting<'a, W: Write> {
    w: &'a mut W,
    n: u64,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = self.w.write(b)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

const JS_LINES: &[&str] = &[
    r#"!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?n.callMethod.apply(n,arguments):n.queue.push(arguments)};"#,
    r#"window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag(\"js\",new Date());"#,
    r#"var cfg={\"pixel\":\"1234567890123456\",\"events\":[\"PageView\",\"Lead\"],\"nested\":{\"a\":[1,2,{\"b\":\"}]\\\"\"}]}};"#,
    r#"document.querySelectorAll(\"form\").forEach(function(f){f.addEventListener(\"submit\",function(){fbq(\"track\",\"Lead\")})});"#,
    r#"/* caf\u00e9 \u2014 r\u00e9sum\u00e9 \ud83d\ude00 */ if(a<b&&c>d){return \"\\\\path\\\\to\"}"#,
];

fn content(rng: &mut Rng, bytes: usize, out: &mut String) {
    while out.len() < bytes {
        out.push_str(JS_LINES[rng.below(JS_LINES.len() as u64) as usize]);
        out.push_str("\\n");
    }
}

/// Writes a HAR of about `target` bytes; returns (bytes written, entries).
pub fn write_har<W: Write>(w: &mut W, target: u64, seed: u64) -> io::Result<(u64, u64)> {
    let mut w = Counting { w, n: 0 };
    let mut rng = Rng(seed | 1);
    write!(
        w,
        r#"{{"log":{{"version":"1.2","creator":{{"name":"leakscope-synth","version":"1"}},"pages":[{{"startedDateTime":"2026-01-05T10:00:00.000Z","id":"page_1","title":"https://clinic.example/appointments","pageTimings":{{"onLoad":812}}}}],"entries":["#
    )?;
    let mut i = 0u64;
    let mut big = String::new();
    while w.n < target {
        if i > 0 {
            w.write_all(b",")?;
        }
        let kind = rng.below(100);
        let ts = 1_767_607_200_000u64 + i * 37;
        let (method, url, post, rtype, mime, resp_len) = if kind < 40 {
            let url = if kind.is_multiple_of(2) {
                format!(
                    "https://www.facebook.com/tr/?id=1234567890123456&ev=PageView&dl=https%3A%2F%2Fclinic.example%2Fappointments%3Fcondition%3Dhiv-test&rl=&if=false&ts={ts}&sw=1920&sh=1080&v=2.9.150&r=stable&ec={i}&o=4126&fbp=fb.1.1767607200000.{n}&it=1767607199000&coo=false&rqm=GET",
                    n = rng.below(1_000_000_000)
                )
            } else {
                format!(
                    "https://region1.google-analytics.com/g/collect?v=2&tid=G-CANARY1234&gtm=45je61&_p={n}&cid=123456789.1767607200&ul=en-us&sr=1920x1080&_s={i}&dl=https%3A%2F%2Fclinic.example%2Fappointments&dt=Book%20an%20HIV%20test&en=page_view&_ee=1",
                    n = rng.below(1_000_000_000)
                )
            };
            ("GET", url, None, "image", "image/gif", 43)
        } else if kind < 55 {
            let body = format!(
                "first_name=Jane&last_name=Doe&email=jane.doe.canary%40example.com&phone=%2B15555550100&condition=hiv-test&slot={i}"
            );
            (
                "POST",
                "https://clinic.example/api/appointments".to_string(),
                Some(("application/x-www-form-urlencoded", body)),
                "document",
                "text/html",
                2_000 + rng.below(20_000) as usize,
            )
        } else if kind < 65 {
            let body = format!(
                r#"{{\"event\":\"CompleteRegistration\",\"event_id\":\"evt-{i}\",\"user_data\":{{\"em\":\"a3f1c6d2e5b4a7980f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2\",\"ph\":null}},\"custom_data\":{{\"content_name\":\"HIV test {{home}}\",\"value\":\"0.00\"}}}}"#
            );
            (
                "POST",
                "https://analytics.tiktok.com/api/v2/pixel".to_string(),
                Some(("application/json", body)),
                "xhr",
                "application/json",
                60,
            )
        } else {
            let url = format!(
                "https://clinic.example/static/js/bundle.{}.js",
                rng.below(100_000)
            );
            let len = 10_000 + rng.below(400_000) as usize;
            ("GET", url, None, "script", "application/javascript", len)
        };
        big.clear();
        content(&mut rng, resp_len, &mut big);
        write!(
            w,
            r#"{{"startedDateTime":"2026-01-05T10:00:{s:02}.{ms:03}Z","time":{t},"pageref":"page_1","_resourceType":"{rtype}","_initiator":{{"type":"script","stack":{{"callFrames":[{{"functionName":"","scriptId":"12","url":"https://connect.facebook.net/en_US/fbevents.js","lineNumber":24,"columnNumber":1021}}]}}}},"request":{{"method":"{method}","url":"{url}","httpVersion":"h2","headers":[{{"name":":authority","value":"clinic.example"}},{{"name":"accept","value":"*/*"}},{{"name":"accept-language","value":"en-US,en;q=0.9"}},{{"name":"referer","value":"https://clinic.example/appointments"}},{{"name":"user-agent","value":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}},{{"name":"sec-fetch-mode","value":"no-cors"}},{{"name":"cookie","value":"_fbp=fb.1.1767607200000.555; _ga=GA1.1.123456789.1767607200"}}],"queryString":[],"cookies":[{{"name":"_fbp","value":"fb.1.1767607200000.555"}},{{"name":"_ga","value":"GA1.1.123456789.1767607200"}}],"headersSize":-1,"bodySize":0"#,
            s = (i / 1000) % 60,
            ms = i % 1000,
            t = rng.below(900),
        )?;
        if let Some((mt, body)) = &post {
            write!(w, r#","postData":{{"mimeType":"{mt}","text":"{body}"}}"#)?;
        }
        write!(
            w,
            r#"}},"response":{{"status":200,"statusText":"OK","httpVersion":"h2","headers":[{{"name":"content-type","value":"{mime}"}},{{"name":"cache-control","value":"max-age=3600"}},{{"name":"server","value":"synth"}},{{"name":"set-cookie","value":"sid=abc{i}; Path=/; Secure; HttpOnly"}}],"cookies":[],"content":{{"size":{len},"mimeType":"{mime}","text":"{big}"}},"redirectURL":"","headersSize":-1,"bodySize":{len},"_transferSize":{len}}},"cache":{{}},"timings":{{"blocked":1.2,"dns":-1,"connect":-1,"send":0.1,"wait":40.5,"receive":2.3,"ssl":-1}},"serverIPAddress":"192.0.2.10","connection":"443"}}"#,
            len = big.len(),
        )?;
        i += 1;
    }
    w.write_all(b"]}}\n")?;
    Ok((w.n, i))
}
