#!/usr/bin/env python3
"""Writes demo/northwind-pharmacy.har: the built-in demo capture.

Northwind Pharmacy (www.northwind-pharmacy.example) is made up, and so is its
customer, Jane Canary. The requests imitate what real tags send (Meta Pixel
with automatic button clicks and Microdata, its privacy-sandbox twin, GA4
batched POSTs, TikTok JSON, LinkedIn) on the journeys the Kroger complaints
describe: a Plan B search, a drug page, a refill form, appointment booking.
Re-run after editing; the output is committed so the demo needs no Python.
"""
import hashlib, json, urllib.parse, sys, os

SITE = "https://www.northwind-pharmacy.example"
PIXEL = "1234567890123456"
GA = "G-NWPDEMO01"
TT = "CDEMO0NORTHWIND00001"
LI = "5550100"
FBP = "fb.1.1732000000000.1122334455"
GA_CID = "1987654321.1732000000"
TTP = "2pDemoTtpCanary0000000000"
EMAIL = "jane.canary@example.com"
EM_SHA = hashlib.sha256(EMAIL.encode()).hexdigest()
FN_SHA = hashlib.sha256(b"jane").hexdigest()
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
T0 = 1732000000000

entries, pages = [], []
clock = [0]

def q(d):
    return "&".join(f"{k}={urllib.parse.quote(str(v), safe='[]')}" for k, v in d)

def add(page, method, url, *, mime=None, body=None, params=None, rtype="image", cookies="", referer=None, status=200, resp_mime="image/gif"):
    clock[0] += 137
    headers = [{"name": "User-Agent", "value": UA}]
    if referer is not None:
        headers.append({"name": "Referer", "value": referer})
    if cookies:
        headers.append({"name": "Cookie", "value": cookies})
    req = {"method": method, "url": url, "httpVersion": "HTTP/2", "headers": headers,
           "queryString": [], "cookies": [], "headersSize": -1, "bodySize": len(body or "")}
    if body is not None or params is not None:
        req["postData"] = {"mimeType": mime or "", "text": body or ""}
        if params is not None:
            req["postData"]["params"] = params
        headers.append({"name": "Content-Type", "value": mime or ""})
    entries.append({
        "pageref": page, "startedDateTime": f"2024-11-19T07:{clock[0] // 60000 % 60:02d}:{clock[0] // 1000 % 60:02d}.{clock[0] % 1000:03d}Z",
        "time": 42, "request": req,
        "response": {"status": status, "statusText": "OK", "httpVersion": "HTTP/2", "headers": [{"name": "Content-Type", "value": resp_mime}],
                     "cookies": [], "content": {"size": 0, "mimeType": resp_mime, "text": ""}, "redirectURL": "", "headersSize": -1, "bodySize": 0},
        "cache": {}, "timings": {"send": 0, "wait": 40, "receive": 2}, "_resourceType": rtype,
    })

def page(pid, path, title):
    url = SITE + path
    pages.append({"startedDateTime": "2024-11-19T07:00:00.000Z", "id": pid, "title": url, "pageTimings": {}})
    add(pid, "GET", url, rtype="document", resp_mime="text/html", cookies=f"_fbp={FBP}; _ga=GA1.1.{GA_CID}; _ttp={TTP}")
    add(pid, "GET", SITE + "/static/site.css", rtype="stylesheet", resp_mime="text/css", referer=url)
    add(pid, "GET", SITE + "/static/app.js", rtype="script", resp_mime="text/javascript", referer=url)
    add(pid, "GET", "https://cdn.northwind-pharmacy.example/img/logo.svg", resp_mime="image/svg+xml", referer=url)
    return url, title

def pixel(pid, url, title, ev, extra=(), twin=False, ec=0):
    ts = T0 + clock[0]
    base = [("id", PIXEL), ("ev", ev), ("dl", url), ("rl", SITE + "/"), ("if", "false"), ("ts", ts)]
    tail = [("sw", 1920), ("sh", 1080), ("v", "2.9.176"), ("r", "stable"), ("ec", ec), ("o", 4126), ("fbp", FBP),
            ("pmd[title]", title), ("it", T0), ("coo", "false"), ("rqm", "GET")]
    query = q(base + list(extra) + tail)
    add(pid, "GET", "https://www.facebook.com/tr/?" + query, referer=SITE + "/", cookies="c_user=100000000000001; fr=0demoFrCookie")
    if twin:
        add(pid, "GET", "https://www.facebook.com/privacy_sandbox/pixel/register/trigger/?" + query.replace("rqm=GET", "rqm=FGET"), referer=SITE + "/")

def ga4(pid, url, title, lines):
    shared = q([("v", 2), ("tid", GA), ("gtm", "45je4b10v"), ("_p", 1732000000123), ("cid", GA_CID), ("ul", "en-us"), ("sr", "1920x1080"),
                ("sid", 1732000000), ("sct", 3), ("seg", 1), ("dl", url), ("dr", SITE + "/"), ("dt", title)])
    body = "\r\n".join(q(l) for l in lines)
    add(pid, "POST", "https://region1.google-analytics.com/g/collect?" + shared, mime="text/plain;charset=UTF-8", body=body, rtype="ping", referer=SITE + "/")

def tiktok(pid, url, event, props):
    body = {"event": event, "event_id": f"evt-{clock[0]}", "message_id": f"messageId-{clock[0]}",
            "context": {"ad": {}, "device": {"platform": "pc"}, "library": {"name": "pixel.js", "version": "2.2.1"},
                        "page": {"url": url, "referrer": SITE + "/"}, "pixel": {"code": TT},
                        "user": {"anonymous_id": TTP, "email": EM_SHA}, "userAgent": UA},
            "properties": props, "timestamp": "2024-11-19T07:00:00.000Z"}
    add(pid, "POST", "https://analytics.tiktok.com/api/v2/pixel", mime="text/plain;charset=UTF-8", body=json.dumps(body), rtype="ping", referer=SITE + "/")

# 1. Home page.
url, title = page("page_1", "/", "Northwind Pharmacy | Prescriptions, refills and vaccines")
add("page_1", "GET", "https://connect.facebook.net/en_US/fbevents.js", rtype="script", resp_mime="text/javascript", referer=url)
add("page_1", "GET", f"https://connect.facebook.net/signals/config/{PIXEL}?v=2.9.176&r=stable&domain=www.northwind-pharmacy.example", rtype="script", resp_mime="text/javascript", referer=url)
add("page_1", "GET", f"https://www.googletagmanager.com/gtag/js?id={GA}", rtype="script", resp_mime="text/javascript", referer=url)
pixel("page_1", url, title, "PageView", twin=True)
ga4("page_1", url, title, [[("en", "page_view"), ("_ee", 1)]])

# 2. Search for Plan B.
url, title = page("page_2", "/search?q=plan+b+morning+after+pill", "Search results for \u201cplan b morning after pill\u201d | Northwind Pharmacy")
pixel("page_2", url, title, "PageView", twin=True)
pixel("page_2", url, title, "Search", [("cd[search_string]", "plan b morning after pill")], ec=1)
ga4("page_2", url, title, [[("en", "page_view")], [("en", "view_search_results"), ("ep.search_term", "plan b morning after pill")]])
tiktok("page_2", url, "Search", {"query": "plan b morning after pill"})

# 3. Drug page, add to cart.
url, title = page("page_3", "/drugs/levonorgestrel-1-5-mg-tablet", "Levonorgestrel 1.5 mg Tablet (Plan B One-Step) | Northwind Pharmacy")
pixel("page_3", url, title, "PageView")
micro = [("id", PIXEL), ("ev", "Microdata"), ("dl", url), ("rl", SITE + "/search?q=plan+b+morning+after+pill"), ("if", "false"), ("ts", T0 + clock[0]),
         ("cd[DataLayer]", "[]"),
         ("cd[Meta]", json.dumps({"title": title, "meta:description": "Emergency contraceptive. Order online, pick up in store today."})),
         ("cd[OpenGraph]", json.dumps({"og:title": "Levonorgestrel 1.5 mg Tablet", "og:type": "product"})),
         ("cd[Schema.org]", "[]"),
         ("cd[JSON-LD]", json.dumps([{"@type": "Product", "name": "Levonorgestrel 1.5 mg Tablet", "category": "Emergency contraception"}])),
         ("sw", 1920), ("sh", 1080), ("v", "2.9.176"), ("r", "stable"), ("ec", 1), ("o", 4126), ("fbp", FBP), ("it", T0), ("coo", "false"), ("es", "automatic"), ("tm", 3), ("rqm", "SB")]
boundary = "----WebKitFormBoundaryN0rthw1ndD3m0"
mp = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n" for k, v in micro) + f"--{boundary}--\r\n"
add("page_3", "POST", "https://www.facebook.com/tr/", mime=f"multipart/form-data; boundary={boundary}", body=mp, rtype="ping", referer=SITE + "/", cookies="c_user=100000000000001; fr=0demoFrCookie")
pixel("page_3", url, title, "ViewContent", [("cd[content_name]", "Levonorgestrel 1.5 mg Tablet"), ("cd[content_category]", "Emergency contraception"), ("cd[content_ids]", '["NDC-0000-0000-01"]'), ("cd[value]", "49.99"), ("cd[currency]", "USD")], ec=2)
tiktok("page_3", url, "ViewContent", {"content_name": "Levonorgestrel 1.5 mg Tablet", "content_id": "NDC-0000-0000-01", "value": 49.99, "currency": "USD"})
pixel("page_3", url, title, "AddToCart", [("cd[content_name]", "Levonorgestrel 1.5 mg Tablet"), ("cd[value]", "49.99"), ("cd[currency]", "USD")], ec=3)
add("page_3", "POST", SITE + "/api/cart", mime="application/json", body=json.dumps({"sku": "NDC-0000-0000-01", "qty": 1}), rtype="xhr", resp_mime="application/json", referer=url)

# 4. Refill form: the automatic button-click event carries the form's fields and a hashed email.
url, title = page("page_4", "/pharmacy/refill?rx=RX-0000000", "Refill a prescription | Northwind Pharmacy")
pixel("page_4", url, title, "PageView")
feat = {"classList": "btn btn-primary refill-submit", "destination": SITE + "/pharmacy/refill/confirm", "id": "refill-submit", "imageUrl": "",
        "innerText": "Refill prescription", "numChildButtons": 0, "tag": "button", "type": "submit", "name": "", "value": ""}
form = [{"id": "rx-number", "name": "prescription_number", "tag": "input", "inputType": "text", "placeholder": "Rx number", "valueMeaning": "empty"},
        {"id": "dob", "name": "date_of_birth", "tag": "input", "inputType": "date", "placeholder": "Date of birth", "valueMeaning": "empty"},
        {"id": "email", "name": "email", "tag": "input", "inputType": "email", "placeholder": "Email", "valueMeaning": "empty"}]
pixel("page_4", url, title, "SubscribedButtonClick", [("cd[buttonFeatures]", json.dumps(feat)), ("cd[buttonText]", "Refill prescription"),
      ("cd[formFeatures]", json.dumps(form)), ("cd[pageFeatures]", json.dumps({"title": title})), ("cd[parameters]", "[]"),
      ("ud[em]", EM_SHA), ("udff[fn]", FN_SHA), ("es", "automatic"), ("tm", 3)], ec=1)
ga4("page_4", url, title, [[("en", "form_start"), ("ep.form_id", "refill-form"), ("ep.form_destination", SITE + "/pharmacy/refill/confirm")],
                           [("en", "form_submit"), ("ep.form_id", "refill-form"), ("ep.form_submit_text", "Refill prescription")]])

# 5. Appointment booking with the reason in the URL.
url, title = page("page_5", "/appointments/book?service=birth-control-consultation&store=0421", "Book a birth control consultation | Northwind Pharmacy")
pixel("page_5", url, title, "PageView")
pixel("page_5", url, title, "Schedule", [("cd[appointment_type]", "Birth control consultation"), ("cd[store]", "0421")], ec=1)
add("page_5", "GET", "https://px.ads.linkedin.com/collect?" + q([("v", 2), ("fmt", "js"), ("pid", LI), ("time", T0 + clock[0]), ("url", url)]), referer=SITE + "/", cookies="li_sugr=0demo-li-sugr; bcookie=\"v=2&0demo\"")
add("page_5", "GET", SITE + "/favicon.ico", resp_mime="image/x-icon", referer=url)

har = {"log": {"version": "1.2", "creator": {"name": "leakscope demo generator", "version": "1"}, "pages": pages, "entries": entries}}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demo", "northwind-pharmacy.har")
with open(out, "w") as f:
    json.dump(har, f, indent=1)
    f.write("\n")
print(f"wrote {out}: {len(entries)} requests on {len(pages)} pages", file=sys.stderr)
