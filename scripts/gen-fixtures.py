#!/usr/bin/env python3
"""Writes tests/fixtures/cases/: leakscope's own labelled fixture suite.

Every site and every person here is made up (*.example domains; the visitor
is Jane Canary, jane.canary@example.com). Each case is a realistic capture,
HAR 1.2 for what a browser sends and JSON Lines of requests for server-side
Conversions API calls, shaped exactly as the real tags send them
(wire-formats.md; the real corpus in ../shared/corpus), on the journeys of
health-and-law.md §2: the Kroger allegations, hospital scheduling pages, a
telehealth intake, a crisis line, a state exchange, a patient portal; and at
least as many negative controls (carts, careers and parking pages, recipes,
ambiguous words).

Beside each capture, <name>.expected.json holds:
- "findings": the findings the analysis must produce (vendor, event, entry,
  min_severity, categories that must be among the finding's health
  categories), and "max_severity_elsewhere" (or "max_severity" for a
  negative) that no other finding may exceed;
- "labels": for EVERY tracker event in the file, the health categories its
  payload reveals (health-and-law.md §3.1), labelled by hand from what the
  request carries (page URL and title included), independently of what the
  detector does. crates/leakscope-detect/tests/fixtures_quality.rs turns
  them into precision and recall per category.

Re-run after editing; the output is committed so tests need no Python.
"""
import base64, gzip, hashlib, json, os, sys, urllib.parse

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "cases")
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
EMAIL = "jane.canary@example.com"
PHONE = "15555550142"
EM_SHA = hashlib.sha256(EMAIL.encode()).hexdigest()
PH_SHA = hashlib.sha256(PHONE.encode()).hexdigest()
FN_SHA = hashlib.sha256(b"jane").hexdigest()
LN_SHA = hashlib.sha256(b"canary").hexdigest()
DB_SHA = hashlib.sha256(b"19880412").hexdigest()
ZP_SHA = hashlib.sha256(b"45202").hexdigest()
FBP = "fb.1.1732000000000.1480275913"
C_USER = "100000000000042"
FB_COOKIES = f"c_user={C_USER}; xs=42%3AcanaryXs%3A2%3A1732000000%3A-1%3A-1; fr=0canaryFrCookie.AWW; datr=canaryDatrCookie0000000"
GA_CID = "1467823901.1732000000"
TTP = "2pCanaryTtp0000000000000000"
SCID = "4f1c2b7e-0000-4a5b-9c3d-00000000c0de"
LI_COOKIES = 'li_sugr=7c1e2f00-0000-4000-8000-00000000ca11; bcookie="v=2&0c0ffee0-0000-4000-8000-000000000042"; li_fat_id=5a5a5a5a-0000-4000-8000-00000000fa71'
T0 = 1732000000000

LABELLED = {}  # case name -> number of labels, for the summary line


def q(pairs):
    return "&".join(f"{k}={urllib.parse.quote(str(v), safe='[]')}" for k, v in pairs)


def form(pairs):
    return "&".join(f"{urllib.parse.quote_plus(str(k))}={urllib.parse.quote_plus(str(v))}" for k, v in pairs)


class Case:
    """One capture and its labels. Tracker helpers add an entry and a label
    (the categories its payload reveals); `expect` adds an expected finding."""

    def __init__(self, name, site, description, max_elsewhere="low", negative=False):
        self.name, self.site, self.description = name, site, description
        self.max_elsewhere, self.negative = max_elsewhere, negative
        self.entries, self.pages, self.labels, self.findings = [], [], [], []
        self.clock = 0
        self.page_cookies = f"_fbp={FBP}; _ga=GA1.1.{GA_CID}; _ttp={TTP}; _scid={SCID}"

    # -- plumbing ---------------------------------------------------------
    def add(self, page, method, url, *, mime=None, body=None, rtype="image", cookies="", referer=None, resp_mime="image/gif", resp_text=""):
        self.clock += 173
        headers = [{"name": "User-Agent", "value": UA}, {"name": "Accept-Language", "value": "en-US,en;q=0.9"}]
        if referer is not None:
            headers.append({"name": "Referer", "value": referer})
        if cookies:
            headers.append({"name": "Cookie", "value": cookies})
        req = {"method": method, "url": url, "httpVersion": "HTTP/2", "headers": headers,
               "queryString": [], "cookies": [], "headersSize": -1, "bodySize": len(body or "")}
        if body is not None:
            req["postData"] = {"mimeType": mime or "", "text": body}
            headers.append({"name": "Content-Type", "value": mime or ""})
        ms = self.clock
        self.entries.append({
            "pageref": page, "startedDateTime": f"2024-11-19T14:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}Z",
            "time": 38, "request": req,
            "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2",
                         "headers": [{"name": "Content-Type", "value": resp_mime}], "cookies": [],
                         "content": {"size": len(resp_text), "mimeType": resp_mime, "text": resp_text}, "redirectURL": "",
                         "headersSize": -1, "bodySize": len(resp_text)},
            "cache": {}, "timings": {"send": 0, "wait": 36, "receive": 2}, "_resourceType": rtype,
        })
        return len(self.entries) - 1

    def label(self, entry, vendor, event, cats, expect=None, expect_cats=None, rule=None):
        self.labels.append({"entry": entry, "vendor": vendor, "event": event, "categories": list(cats)})
        if expect:
            f = {"vendor": vendor, "event": event, "entry": entry, "min_severity": expect,
                 "categories": list(expect_cats if expect_cats is not None else cats)}
            if rule:
                f["rule"] = rule
            self.findings.append(f)

    def page(self, pid, path, title, scripts=("fb", "gtag"), html=""):
        """html: the document's HTML, kept in the HAR (site context reads it)."""
        url = self.site + path
        self.pages.append({"startedDateTime": "2024-11-19T14:00:00.000Z", "id": pid, "title": title, "pageTimings": {}})
        self.add(pid, "GET", url, rtype="document", resp_mime="text/html; charset=utf-8" if html else "text/html",
                 cookies=self.page_cookies + "; session=canary-session-0001", resp_text=html)
        host = urllib.parse.urlsplit(self.site).hostname
        self.add(pid, "GET", f"{self.site}/assets/main.css", rtype="stylesheet", resp_mime="text/css", referer=url)
        self.add(pid, "GET", f"{self.site}/assets/app.js", rtype="script", resp_mime="text/javascript", referer=url)
        if "fb" in scripts:
            self.add(pid, "GET", "https://connect.facebook.net/en_US/fbevents.js", rtype="script", resp_mime="text/javascript", referer=url)
        if "gtag" in scripts:
            self.add(pid, "GET", "https://www.googletagmanager.com/gtag/js?id=G-CANARY0001", rtype="script", resp_mime="text/javascript", referer=url)
        if "tt" in scripts:
            self.add(pid, "GET", "https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=CCANARY0TIKTOK000001&lib=ttq", rtype="script", resp_mime="text/javascript", referer=url)
        if "li" in scripts:
            self.add(pid, "GET", "https://snap.licdn.com/li.lms-analytics/insight.min.js", rtype="script", resp_mime="text/javascript", referer=url)
        if "snap" in scripts:
            self.add(pid, "GET", "https://sc-static.net/scevent.min.js", rtype="script", resp_mime="text/javascript", referer=url)
        self.add(pid, "GET", f"https://cdn.{host.removeprefix('www.')}/img/logo.svg", resp_mime="image/svg+xml", referer=url)
        return url, title

    # -- trackers -----------------------------------------------------------
    def pixel(self, pid, url, title, ev, cats, extra=(), ec=0, ud=(), expect=None, expect_cats=None, pixel_id="2024111900000001", post=False, rule=None):
        base = [("id", pixel_id), ("ev", ev), ("dl", url), ("rl", self.site + "/"), ("if", "false"), ("ts", T0 + self.clock)]
        tail = [("sw", 1440), ("sh", 900), ("v", "2.9.176"), ("r", "stable"), ("ec", ec), ("o", 4126), ("fbp", FBP),
                ("pmd[title]", title), ("ler", "empty"), ("it", T0), ("coo", "false"), ("rqm", "formPOST" if post else "GET")]
        pairs = base + list(extra) + list(ud) + tail
        if post:
            # Long payloads (automatic button clicks) go as a form POST.
            e = self.add(pid, "POST", "https://www.facebook.com/tr/", mime="application/x-www-form-urlencoded", body=form(pairs),
                         rtype="ping", referer=self.site + "/", cookies=FB_COOKIES)
        else:
            e = self.add(pid, "GET", "https://www.facebook.com/tr/?" + q(pairs), referer=self.site + "/", cookies=FB_COOKIES)
        self.label(e, "meta_pixel", ev, cats, expect, expect_cats, rule)
        return e

    def button_click(self, pid, url, title, text, cats, destination="", form_fields=(), ud=(), expect=None, expect_cats=None, ec=1, rule=None):
        feat = {"classList": "btn btn-primary", "destination": destination, "id": "", "imageUrl": "",
                "innerText": text, "numChildButtons": 0, "tag": "a" if destination else "button",
                "type": None if destination else "submit", "name": "", "value": ""}
        ff = [{"id": n, "name": n, "tag": t, "inputType": it, "placeholder": ph, "valueMeaning": "empty"} for n, t, it, ph in form_fields]
        extra = [("cd[buttonFeatures]", json.dumps(feat)), ("cd[buttonText]", text), ("cd[formFeatures]", json.dumps(ff)),
                 ("cd[pageFeatures]", json.dumps({"title": title})), ("cd[parameters]", "[]"), ("es", "automatic"), ("tm", 3)]
        return self.pixel(pid, url, title, "SubscribedButtonClick", cats, extra, ec=ec, ud=ud, expect=expect, expect_cats=expect_cats, post=True,
                          rule=rule)

    def ga4(self, pid, url, title, events, tid="G-CANARY0001"):
        """events: [(name, [(key, value)...], cats, expect)] sent as one batched POST."""
        shared = q([("v", 2), ("tid", tid), ("gtm", "45je4bi0v9185436212za200"), ("_p", T0 + 123), ("gcd", "13l3l3l3l1l1"), ("npa", 0),
                    ("dma", 0), ("cid", GA_CID), ("ul", "en-us"), ("sr", "1440x900"), ("frm", 0), ("pscdl", "noapi"), ("_s", 1),
                    ("sid", 1732000000), ("sct", 4), ("seg", 1), ("dl", url), ("dr", self.site + "/"), ("dt", title)])
        body = "\r\n".join(q([("en", n)] + list(p)) for n, p, _, _ in events)
        e = self.add(pid, "POST", "https://region1.google-analytics.com/g/collect?" + shared, mime="text/plain;charset=UTF-8",
                     body=body, rtype="ping", referer=self.site + "/")
        for n, _, cats, expect in events:
            self.label(e, "ga4", n, cats, expect)
        return e

    def tiktok(self, pid, url, event, props, cats, expect=None, user=None, expect_cats=None):
        body = {"event": event, "event_id": f"evt-{self.clock}", "message_id": f"messageId-{T0 + self.clock}-4417302967001-CCANARY0TIKTOK000001",
                "is_onsite": False, "timestamp": "2024-11-19T14:00:00.000Z",
                "context": {"ad": {"sdk_env": "external", "jsb_status": 2}, "device": {"platform": "pc"},
                            "user": user or {"anonymous_id": TTP},
                            "pixel": {"code": "CCANARY0TIKTOK000001", "runtime": "1"},
                            "page": {"url": url, "referrer": self.site + "/", "load_progress": "1"},
                            "library": {"name": "pixel.js", "version": "2.2.0"},
                            "session_id": "c0de0000-a6ef-11ef-9ac2-08c0ebb54578::canarySession", "userAgent": UA},
                "properties": props, "_inspection": {}}
        e = self.add(pid, "POST", "https://analytics.tiktok.com/api/v2/pixel", mime="text/plain;charset=UTF-8",
                     body=json.dumps(body), rtype="ping", referer=self.site + "/")
        self.label(e, "tiktok", event, cats, expect, expect_cats)
        return e

    def li_collect(self, pid, url, cats, expect=None, conversion=None):
        pairs = [("v", 2), ("fmt", "js"), ("pid", 7140042), ("time", T0 + self.clock), ("li_adsId", "0a11ce00-0000-4000-8000-0000000000a1"), ("url", url)]
        if conversion:
            pairs.insert(3, ("conversionId", conversion))
        e = self.add(pid, "GET", "https://px.ads.linkedin.com/collect?" + q(pairs), referer=self.site + "/", cookies=LI_COOKIES)
        self.label(e, "linkedin", f"conversion:{conversion}" if conversion else "PageView", cats, expect)
        return e

    def li_click(self, pid, url, title, text, cats, expect=None, gz=False):
        body = {"pids": [7140042], "scriptVersion": 187, "time": T0 + self.clock, "domain": urllib.parse.urlsplit(self.site).hostname,
                "url": url, "pageTitle": title, "websiteSignalRequestId": f"0c1e0000-0000-4000-8000-{self.clock:012d}",
                "isTranslated": False, "liFatId": "", "liGiant": "", "misc": {"psbState": -4}, "isLinkedInApp": False, "hem": None,
                "signalType": "CLICK", "href": "",
                "domAttributes": {"elementSemanticType": None, "elementValue": None, "elementType": "button", "tagName": "BUTTON",
                                  "backgroundImageSrc": None, "imageSrc": None, "imageAlt": None, "innerText": text,
                                  "elementTitle": None, "cursor": "pointer", "formAction": None, "isFormSubmission": False},
                "innerElements": None, "elementCrumbsTree": [{"tagName": "main", "nthChild": 2, "id": "app"}]}
        text_body = json.dumps(body, separators=(",", ":"))
        if gz:
            text_body = base64.b64encode(gzip.compress(text_body.encode(), mtime=0)).decode()
        e = self.add(pid, "POST", "https://px.ads.linkedin.com/wa/", mime="text/plain;charset=UTF-8", body=text_body,
                     rtype="ping", referer=self.site + "/", cookies=LI_COOKIES)
        self.label(e, "linkedin", "CLICK", cats, expect)
        return e

    def snap(self, pid, url, events, pixel="5e1f0c00-0000-4a00-9000-00000000c0de"):
        """events: [(ev, {extra t fields}, cats, expect)] in one JSON POST, as scevent.min.js 3.x sends."""
        ctx = {"bt": "1d53c387", "c1": SCID, "lc": "45689c92-0000-4255-ab27-00000000c0de", "ls": "4e811146-0000-4fa0-825d-00000000c0de",
               "r": f"65b78390-0000-43fa-adaf-{self.clock:012d}", "si": "canarySnapSession", "ss": "3ad7dcaf-0000-4a68-b2da-00000000c0de",
               "bg": False, "sh": 900, "sw": 1440, "ua": UA, "url": url, "v": "3.44.6-2504241707", "pv": 1, "ts": T0 + self.clock,
               "d_bvs": "", "huah": True, "cbt": []}
        req = [{"t": {"pid": pixel, "ev": ev, "u_c1": SCID, **extra, "gat": ["G-CANARY0001"]}, "del": 200} for ev, extra, _, _ in events]
        req.append({"i": {"pids": [pixel]}, "del": 240})
        e = self.add(pid, "POST", "https://tr.snapchat.com/p", mime="text/plain;charset=UTF-8",
                     body=json.dumps({"ctx": ctx, "req": req, "u_scsid": "3ad7dcaf-0000-4a68-b2da-00000000c0de"}, separators=(",", ":")),
                     rtype="ping", referer=self.site + "/")
        for ev, _, cats, expect in events:
            self.label(e, "snap", ev, cats, expect)
        return e

    def gads(self, pid, url, title, data, cats, expect=None, conv="11000000042"):
        pairs = [("random", T0 + self.clock), ("cv", 11), ("fst", T0 + self.clock), ("bg", "ffffff"), ("guid", "ON"), ("async", 1),
                 ("gtm", "45be54n0h1v9214706059za200"), ("gcd", "13l3l3l3l1l1"), ("dma", 0), ("u_w", 1440), ("u_h", 900),
                 ("url", url), ("hn", "www.googleadservices.com"), ("frm", 0), ("tiba", title), ("npa", 0),
                 ("auid", "1553824274.1732000000"), ("fledge", 1), ("data", data), ("rfmt", 3), ("fmt", 4)]
        e = self.add(pid, "GET", f"https://googleads.g.doubleclick.net/pagead/viewthroughconversion/{conv}/?" + q(pairs),
                     referer=self.site + "/", cookies="IDE=AHWqTUcanaryIdeCookie0000")
        ev = dict(kv.split("=", 1) for kv in data.split(";") if "=" in kv).get("event", "")
        self.label(e, "google_ads", ev, cats, expect)
        return e

    def bing(self, pid, url, title, cats, expect=None, extra=()):
        pairs = [("ti", 343000042), ("tm", "gtm002"), ("Ver", 2), ("mid", f"fd5b9ab1-0000-4b02-f4ce-{self.clock:012d}"), ("sid", "0c0de000a6ef11ef"),
                 ("vid", "0c0de001a6ef11ef"), ("vids", 0), ("msclkid", "N"), ("pi", 918639831), ("lg", "en-US"), ("sw", 1440), ("sh", 900),
                 ("sc", 30), ("tl", title), ("p", url), ("r", self.site + "/"), ("lt", 612), ("evt", "pageLoad"), ("sv", 1), ("rn", 306142)] + list(extra)
        e = self.add(pid, "GET", "https://bat.bing.com/action/0?" + q(pairs), referer=self.site + "/", cookies="MUID=0C0DE0000000000000000000CA11")
        self.label(e, "bing", "pageLoad", cats, expect)
        return e

    def pinterest(self, pid, url, event, ed, cats, expect=None):
        pairs = [("event", event), ("ed", json.dumps(ed)), ("tid", "2613000000042"), ("pd", json.dumps({"em": EM_SHA, "np": "gtm"})),
                 ("ad", json.dumps({"loc": url, "ref": self.site + "/", "if": False, "sh": 900, "sw": 1440, "mh": "2a5c0e3f"})), ("cb", T0 + self.clock)]
        e = self.add(pid, "GET", "https://ct.pinterest.com/v3/?" + q(pairs), referer=self.site + "/", cookies="_pinterest_ct_ua=TWc9PSZjYW5hcnk")
        self.label(e, "pinterest", event, cats, expect)
        return e

    def x(self, pid, url, cats, expect=None):
        pairs = [("bci", 4), ("eci", 3), ("event", "{}"), ("event_id", f"78541407-0000-4000-8000-{self.clock:012d}"), ("integration", "gtm"),
                 ("p_id", "Twitter"), ("p_user_id", 0), ("pl_id", "03781d43-0000-4000-8000-00000000c0de"), ("tw_document_href", url),
                 ("tw_iframe_status", 0), ("txn_id", "oc0de"), ("type", "javascript"), ("version", "2.3.33")]
        e = self.add(pid, "GET", "https://analytics.twitter.com/1/i/adsct?" + q(pairs), referer=self.site + "/")
        self.label(e, "x", "pageview", cats, expect)
        return e

    def first_party(self, pid, method, path, body, url):
        # The site's own API: never a finding, never labelled.
        return self.add(pid, method, self.site + path, mime="application/json", body=json.dumps(body), rtype="xhr",
                        resp_mime="application/json", referer=url)

    # -- output -------------------------------------------------------------
    def expected(self):
        doc = {"description": self.description, "findings": self.findings}
        if getattr(self, "site_expect", None):
            doc["site"] = self.site_expect
        doc["max_severity" if self.negative else "max_severity_elsewhere"] = self.max_elsewhere
        doc["labels"] = self.labels
        return doc

    def write(self):
        har = {"log": {"version": "1.2", "creator": {"name": "leakscope fixture generator", "version": "1"},
                       "pages": self.pages, "entries": self.entries}}
        with open(os.path.join(OUT, self.name + ".har"), "w") as f:
            json.dump(har, f, indent=1)
            f.write("\n")
        write_expected(self.name, self.expected())


def write_expected(name, doc):
    LABELLED[name] = doc
    with open(os.path.join(OUT, name + ".expected.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


# ======================================================================
# Positive cases
# ======================================================================
KESTREL = "https://www.kestrel-market.example"
UD_FULL = [("ud[em]", EM_SHA), ("ud[ph]", PH_SHA), ("ud[fn]", FN_SHA), ("ud[ln]", LN_SHA), ("ud[external_id]", hashlib.sha256(b"kestrel-loyalty-4400012345").hexdigest())]


@case
def kroger_refill():
    c = Case("kroger-refill", KESTREL, "Kroger allegation KR-01: a logged-in pharmacy account page where Jane Canary refills a prescription. "
             "Meta Pixel PageView, the automatic SubscribedButtonClick of \"Refill prescription\" with the form's field names "
             "(prescription_number, date_of_birth) and form-harvested hashed email, a custom RefillSubmitted event naming the drug, "
             "and GA4 form events. Authenticated page (/my-account/pharmacy): critical.")
    url, title = c.page("page_1", "/my-account/pharmacy/refill", "Refill prescriptions | Kestrel Market Pharmacy")
    c.pixel("page_1", url, title, "PageView", ["pharmacy.action"], ud=UD_FULL, expect="critical")
    c.button_click("page_1", url, title, "Refill prescription", ["pharmacy.action"],
                   form_fields=[("prescription_number", "input", "text", "Rx number"), ("date_of_birth", "input", "date", "Date of birth"),
                                ("last_name", "input", "text", "Last name")],
                   ud=[("udff[em]", EM_SHA), ("udff[ln]", LN_SHA)], expect="critical")
    c.first_party("page_1", "POST", "/api/pharmacy/refills", {"rx": "RX-0000042", "store": "00421"}, url)
    c.pixel("page_1", url, title, "RefillSubmitted", ["pharmacy.action", "mental.health"],
            [("cd[content_name]", "Sertraline 50 mg tablet"), ("cd[content_type]", "prescription"), ("cd[num_items]", "1"), ("cd[store]", "00421")],
            ec=2, ud=UD_FULL, expect="critical", expect_cats=["mental.health"])
    c.ga4("page_1", url, title, [
        ("page_view", [], ["pharmacy.action"], "high"),
        ("form_submit", [("ep.form_id", "refill-form"), ("ep.form_destination", KESTREL + "/my-account/pharmacy/refill/confirm"),
                         ("ep.form_submit_text", "Refill prescription")], ["pharmacy.action"], "high"),
    ])
    c.write()


@case
def kroger_planb():
    c = Case("kroger-planb-search-cart", KESTREL, "Kroger allegations KR-04..KR-06 (The Markup / KFF Health News): a site search for "
             "Plan B, the product page, add-to-cart of Plan B One-Step, and a pregnancy test added to the cart. Meta Pixel (c_user, _fbp, "
             "hashed email), GA4 view_search_results, Bing UET, Pinterest addtocart. Public pages, care-seeking actions, strong identity.")
    url, title = c.page("page_1", "/search?query=plan%20b&searchType=default_search", "plan b - Search results | Kestrel Market")
    c.pixel("page_1", url, title, "PageView", ["repro.contraception"], ud=[("ud[em]", EM_SHA)], expect="high")
    c.pixel("page_1", url, title, "Search", ["repro.contraception"], [("cd[search_string]", "plan b"), ("cd[content_category]", "search")],
            ec=1, ud=[("ud[em]", EM_SHA)], expect="high")
    c.ga4("page_1", url, title, [("page_view", [], ["repro.contraception"], "medium"),
                                 ("view_search_results", [("ep.search_term", "plan b")], ["repro.contraception"], "medium")])
    c.bing("page_1", url, title, ["repro.contraception"], expect="medium")
    url, title = c.page("page_2", "/p/plan-b-one-step-emergency-contraceptive-tablet/0036850003442",
                        "Plan B One-Step Emergency Contraceptive Tablet, 1 ct | Kestrel Market")
    c.pixel("page_2", url, title, "PageView", ["repro.contraception"], ud=[("ud[em]", EM_SHA)], expect="high")
    c.pixel("page_2", url, title, "ViewContent", ["repro.contraception"],
            [("cd[content_name]", "Plan B One-Step Emergency Contraceptive Tablet"), ("cd[content_ids]", '["0036850003442"]'),
             ("cd[content_type]", "product"), ("cd[value]", "49.99"), ("cd[currency]", "USD")], ec=1, ud=[("ud[em]", EM_SHA)], expect="high")
    c.button_click("page_2", url, title, "Add to Cart", ["repro.contraception"], ec=2, expect="high")
    c.pixel("page_2", url, title, "AddToCart", ["repro.contraception"],
            [("cd[content_name]", "Plan B One-Step Emergency Contraceptive Tablet"), ("cd[content_ids]", '["0036850003442"]'),
             ("cd[value]", "49.99"), ("cd[currency]", "USD")], ec=3, ud=[("ud[em]", EM_SHA)], expect="high")
    c.pinterest("page_2", url, "addtocart", {"value": 49.99, "order_quantity": 1, "currency": "USD",
                "line_items": [{"product_name": "Plan B One-Step Emergency Contraceptive Tablet", "product_id": "0036850003442", "product_price": 49.99, "product_quantity": 1}]},
                ["repro.contraception"], expect="high")
    url, title = c.page("page_3", "/p/clearview-digital-pregnancy-test-2-ct/0007310400122", "ClearView Digital Pregnancy Test, 2 ct | Kestrel Market")
    c.pixel("page_3", url, title, "PageView", ["repro.pregnancy"], ud=[("ud[em]", EM_SHA)], expect="high")
    c.pixel("page_3", url, title, "AddToCart", ["repro.pregnancy"],
            [("cd[content_name]", "ClearView Digital Pregnancy Test, 2 ct"), ("cd[content_ids]", '["0007310400122"]'),
             ("cd[value]", "16.49"), ("cd[currency]", "USD")], ec=1, ud=[("ud[em]", EM_SHA)], expect="high")
    c.first_party("page_3", "POST", "/api/cart/items", {"upc": "0007310400122", "quantity": 1}, url)
    c.write()


@case
def kroger_appointments():
    c = Case("kroger-pharmacy-appointments", KESTREL, "Kroger allegation KR-03 (appointment times, locations and reasons): booking a COVID-19 "
             "vaccination and a birth-control consultation at the pharmacy. The reason is in the page URL, in custom data of a Schedule "
             "event and in the page title the automatic button click carries.")
    url, title = c.page("page_1", "/pharmacy/appointments/book?reason=covid-19-vaccine&store=00421", "Schedule a COVID-19 vaccine | Kestrel Market Pharmacy")
    c.pixel("page_1", url, title, "PageView", ["vaccination", "care.appointment"], expect="medium")
    c.button_click("page_1", url, title, "Book appointment", ["vaccination", "care.appointment"],
                   form_fields=[("first_name", "input", "text", "First name"), ("email", "input", "email", "Email"),
                                ("phone", "input", "tel", "Phone")], ud=[("udff[em]", EM_SHA), ("udff[ph]", PH_SHA)], expect="medium")
    c.pixel("page_1", url, title, "Schedule", ["vaccination", "care.appointment"],
            [("cd[appointment_reason]", "COVID-19 vaccine"), ("cd[appointment_time]", "2024-11-21T09:30"), ("cd[store]", "00421")],
            ec=2, ud=[("ud[em]", EM_SHA)], expect="medium")
    url, title = c.page("page_2", "/pharmacy/appointments/book?reason=birth-control-consultation&store=00421",
                        "Book a birth control consultation | Kestrel Market Pharmacy")
    c.pixel("page_2", url, title, "PageView", ["repro.contraception", "care.appointment"], expect="high", expect_cats=["repro.contraception"])
    c.button_click("page_2", url, title, "Book appointment", ["repro.contraception", "care.appointment"],
                   form_fields=[("first_name", "input", "text", "First name"), ("email", "input", "email", "Email")],
                   ud=[("udff[em]", EM_SHA)], expect="critical", expect_cats=["repro.contraception"])
    c.pixel("page_2", url, title, "Schedule", ["repro.contraception", "care.appointment"],
            [("cd[appointment_type]", "Birth control consultation"), ("cd[appointment_time]", "2024-11-22T16:00"), ("cd[store]", "00421")],
            ec=2, ud=[("ud[em]", EM_SHA)], expect="critical", expect_cats=["repro.contraception"])
    c.ga4("page_2", url, title, [("page_view", [], ["repro.contraception", "care.appointment"], "medium"),
                                 ("appointment_booked", [("ep.appointment_type", "birth_control_consult"), ("ep.store_id", "00421")],
                                  ["repro.contraception", "care.appointment"], "medium")])
    c.write()


@case
def kroger_capi():
    """Server-side Conversions API: JSON Lines of requests."""
    name = "kroger-capi-purchase"
    token = "EAAGcanaryAccessToken0000000000000000ZZ"
    ip, ua = "203.0.113.42", UA
    ud = {"em": [EM_SHA], "ph": [PH_SHA], "fn": [FN_SHA], "ln": [LN_SHA], "db": [DB_SHA], "zp": [ZP_SHA],
          "external_id": [hashlib.sha256(b"kestrel-loyalty-4400012345").hexdigest()],
          "client_ip_address": ip, "client_user_agent": ua, "fbp": FBP}
    lines, labels, findings = [], [], []

    def line(url, body, mime, events):
        lines.append({"method": "POST", "url": url, "headers": {"Content-Type": mime, "User-Agent": "kestrel-capi/3.2 (+python-requests)"},
                      "body": body, "mime": mime})
        for ev, cats, expect, ecats in events:
            labels.append({"entry": len(lines) - 1, "vendor": "meta_capi", "event": ev, "categories": cats})
            if expect:
                findings.append({"vendor": "meta_capi", "event": ev, "entry": len(lines) - 1, "min_severity": expect, "categories": ecats or cats})

    # 0: JSON body, a prescription pickup purchase (Kroger KR-02).
    rx = {"data": [{"event_name": "Purchase", "event_time": 1732024800, "action_source": "website", "event_id": "rx-order-0000042",
                    "event_source_url": KESTREL + "/my-account/pharmacy/checkout/confirmation?order=RX-0000042",
                    "user_data": ud,
                    "custom_data": {"currency": "USD", "value": 12.5, "content_type": "product", "content_category": "Prescription pickup",
                                    "content_name": "Atorvastatin 20 mg tablet",
                                    "contents": [{"id": "NDC-0000-0420-90", "quantity": 30, "item_price": 0.42, "title": "Atorvastatin 20 mg tablet"}],
                                    "order_id": "RX-0000042"}}]}
    line(f"https://graph.facebook.com/v21.0/2024111900000001/events?access_token={token}", json.dumps(rx), "application/json",
         [("Purchase", ["medication.rx", "pharmacy.action"], "critical", ["medication.rx"])])
    # 1: form-encoded batch (data=<JSON array>) as RudderStack sends: a custom pharmacy event and a grocery purchase.
    batch = [{"event_name": "PrescriptionReady", "event_time": 1732028400, "action_source": "system_generated",
              "event_source_url": KESTREL + "/my-account/pharmacy/orders",
              "user_data": ud, "custom_data": {"rx_status": "ready_for_pickup", "drug_name": "Truvada 200 mg/300 mg tablet", "store": "00421"}},
             {"event_name": "Purchase", "event_time": 1732028460, "action_source": "website", "event_source_url": KESTREL + "/checkout/confirmation",
              "user_data": ud, "custom_data": {"currency": "USD", "value": 18.27, "content_type": "product",
                                               "contents": [{"id": "0001111040101", "quantity": 1, "title": "Kestrel Colombian Whole Bean Coffee, 12 oz"},
                                                            {"id": "0000000004011", "quantity": 6, "title": "Bananas"}]}}]
    line("https://graph.facebook.com/v21.0/2024111900000001/events", form([("data", json.dumps(batch)), ("access_token", token)]),
         "application/x-www-form-urlencoded",
         [("PrescriptionReady", ["pharmacy.action", "sexual.sti_hiv"], "critical", ["sexual.sti_hiv"]), ("Purchase", [], None, None)])
    # 2: a grocery-only purchase: health-neutral.
    groc = {"data": [{"event_name": "AddToCart", "event_time": 1732029000, "action_source": "website",
                      "event_source_url": KESTREL + "/p/organic-bananas-3-lb-bag/0000000094011",
                      "user_data": ud, "custom_data": {"currency": "USD", "value": 2.99, "content_name": "Organic Bananas, 3 lb bag",
                                                       "content_ids": ["0000000094011"], "content_type": "product"}}],
            "access_token": token}
    line("https://graph.facebook.com/v21.0/2024111900000001/events", json.dumps(groc), "application/json", [("AddToCart", [], None, None)])
    with open(os.path.join(OUT, name + ".jsonl"), "w") as f:
        for l in lines:
            f.write(json.dumps(l) + "\n")
    write_expected(name, {"description": "Kroger allegation KR-02: the pharmacy's server sends Meta's Conversions API a prescription pickup "
                          "(Atorvastatin) with hashed email, phone, name, date of birth, zip, loyalty id, client IP and user agent; a form-encoded "
                          "batch with a custom PrescriptionReady event naming an HIV PrEP drug and a grocery purchase; and a grocery-only "
                          "AddToCart (negative). Server-side: raised one level.",
                          "findings": findings, "max_severity_elsewhere": "low", "labels": labels})


LAKESHORE = "https://www.lakeshore-health.example"


@case
def hospital_scheduling():
    c = Case("hospital-scheduling", LAKESHORE, "Hospital scheduling (The Markup Pixel Hunt: UH Cleveland, Froedtert): doctor profile pages "
             "with the specialty in the title, the automatic SubscribedButtonClick of \"Schedule Online\" / \"Schedule Online Now\", a "
             "find-a-doctor search for \"oncologist\" and one for \"pregnancy termination\". Meta Pixel with c_user and _fbp; GA4.")
    url, title = c.page("page_1", "/doctors/priya-raman-md", "Priya Raman, MD - Cardiology | Lakeshore Health")
    c.pixel("page_1", url, title, "PageView", ["provider.specialty"], expect="medium")
    c.button_click("page_1", url, title, "Schedule Online", ["provider.specialty", "care.appointment"],
                   destination=LAKESHORE + "/scheduling/priya-raman-md?visit=new-patient", expect="medium")
    c.ga4("page_1", url, title, [("page_view", [], ["provider.specialty"], "low")])
    url, title = c.page("page_2", "/doctors/marcus-ohlin-md", "Marcus Ohlin, MD - Medical Oncology | Lakeshore Health")
    c.pixel("page_2", url, title, "PageView", ["provider.specialty", "condition.diagnosis"], expect="high", expect_cats=["condition.diagnosis"])
    c.button_click("page_2", url, title, "Schedule Online Now", ["provider.specialty", "condition.diagnosis", "care.appointment"],
                   destination=LAKESHORE + "/scheduling/marcus-ohlin-md?visit=second-opinion", expect="critical", expect_cats=["condition.diagnosis"])
    url, title = c.page("page_3", "/find-a-doctor/results?keyword=oncologist&location=60601", "Find a Doctor: oncologist near 60601 | Lakeshore Health")
    c.pixel("page_3", url, title, "PageView", ["provider.specialty", "condition.diagnosis"], expect="high", expect_cats=["condition.diagnosis"])
    c.pixel("page_3", url, title, "Search", ["provider.specialty", "condition.diagnosis"], [("cd[search_string]", "oncologist")], ec=1,
            expect="critical", expect_cats=["condition.diagnosis"])
    c.ga4("page_3", url, title, [("view_search_results", [("ep.search_term", "oncologist")], ["provider.specialty", "condition.diagnosis"], "medium")])
    url, title = c.page("page_4", "/find-a-doctor/results?keyword=pregnancy+termination&location=60601",
                        "Find a Doctor: pregnancy termination near 60601 | Lakeshore Health")
    c.pixel("page_4", url, title, "PageView", ["repro.abortion"], expect="high")
    c.pixel("page_4", url, title, "Search", ["repro.abortion"], [("cd[search_string]", "pregnancy termination")], ec=1, expect="critical")
    c.write()


BRIGHTPATH = "https://www.brightpath-care.example"


@case
def telehealth_intake():
    c = Case("telehealth-intake", BRIGHTPATH, "Direct-to-consumer telehealth intake (STAT/The Markup 2022; Cerebral, Workit; Flo's "
             "R_SELECT_LAST_PERIOD_DATE): an anxiety and depression questionnaire with custom intake_step_completed events carrying the "
             "screening name and answers, a psychiatry booking Lead, a birth-control intake step with a Flo-style custom event, TikTok "
             "and Snap hits. The home page is health-neutral.", )
    c.page_cookies += "; bp_session=canary-telehealth-session"
    url, title = c.page("page_1", "/", "BrightPath | Care from home, on your schedule", scripts=("fb", "tt", "snap"))
    c.pixel("page_1", url, title, "PageView", [])
    c.tiktok("page_1", url, "Pageview", {}, [])
    url, title = c.page("page_2", "/intake/anxiety-depression/step-2", "Anxiety & depression assessment - Step 2 of 5 | BrightPath",
                        scripts=("fb", "tt", "snap"))
    c.pixel("page_2", url, title, "PageView", ["mental.health"], ud=[("ud[em]", EM_SHA)], expect="high")
    c.pixel("page_2", url, title, "intake_step_completed", ["mental.health"],
            [("cd[step]", "2"), ("cd[step_name]", "PHQ-9 depression screening"), ("cd[q9_thoughts_of_self_harm]", "several days"),
             ("cd[phq9_score]", "14")], ec=1, ud=[("ud[em]", EM_SHA)], expect="critical")
    c.tiktok("page_2", url, "SubmitForm", {"content_name": "Anxiety & depression assessment", "step": "phq9", "description": "PHQ-9 depression screening"},
             ["mental.health"], expect="medium", user={"anonymous_id": TTP, "email": EM_SHA})
    c.snap("page_2", url, [("PAGE_VIEW", {"u_hem": EM_SHA}, ["mental.health"], "medium")])
    url, title = c.page("page_3", "/intake/anxiety-depression/book", "Book your psychiatry visit | BrightPath", scripts=("fb", "tt"))
    c.pixel("page_3", url, title, "Lead", ["mental.health", "provider.specialty", "care.appointment"],
            [("cd[content_name]", "Psychiatric evaluation"), ("cd[content_category]", "Anxiety care"), ("cd[value]", "0.00"), ("cd[currency]", "USD")],
            ec=2, ud=[("ud[em]", EM_SHA), ("ud[ph]", PH_SHA)], expect="critical", expect_cats=["mental.health"])
    c.tiktok("page_3", url, "CompleteRegistration", {"content_name": "Psychiatric evaluation", "value": 0, "currency": "USD"},
             ["mental.health", "provider.specialty", "care.appointment"], expect="medium", user={"anonymous_id": TTP, "email": EM_SHA},
             expect_cats=["mental.health"])
    url, title = c.page("page_4", "/intake/birth-control/cycle", "Birth control intake: your cycle | BrightPath", scripts=("fb", "snap"))
    c.pixel("page_4", url, title, "PageView", ["repro.contraception"], ud=[("ud[em]", EM_SHA)], expect="high")
    c.pixel("page_4", url, title, "R_SELECT_LAST_PERIOD_DATE", ["repro.contraception", "repro.fertility"],
            [("cd[days_since_last_period]", "24"), ("cd[cycle_length]", "28")], ec=1, ud=[("ud[em]", EM_SHA)],
            expect="critical", expect_cats=["repro.fertility"])
    c.snap("page_4", url, [("CUSTOM_EVENT_1", {"u_hem": EM_SHA, "e_desc": "last period date selected"}, ["repro.contraception", "repro.fertility"], "medium")])
    c.write()


HARBORLINE = "https://www.harborline-crisis.example"


@case
def crisis_line():
    c = Case("crisis-line", HARBORLINE, "988 crisis-line centre (The Markup, June 2023): the suicide and crisis chat page sends Meta a "
             "PageView and the automatic button clicks of \"Chat with a crisis counselor\" and \"Call 988\"; LinkedIn gets the page view and "
             "the click. A donation page on the same site is health-neutral.")
    url, title = c.page("page_1", "/get-help/suicide-crisis-chat", "988 Suicide & Crisis Lifeline - Chat with us | Harborline", scripts=("fb", "li"))
    c.pixel("page_1", url, title, "PageView", ["mental.health"], expect="high")
    c.li_collect("page_1", url, ["mental.health"], expect="medium")
    c.button_click("page_1", url, title, "Chat with a crisis counselor", ["mental.health"], expect="critical")
    c.li_click("page_1", url, title, "Chat with a crisis counselor", ["mental.health"], expect="medium")
    c.button_click("page_1", url, title, "Call 988", ["mental.health"], destination="tel:988", ec=2, expect="critical")
    url, title = c.page("page_2", "/support-us/give", "Support our volunteers | Harborline", scripts=("fb", "li"))
    c.pixel("page_2", url, title, "PageView", [])
    c.li_collect("page_2", url, [])
    c.button_click("page_2", url, title, "Give monthly", [], ec=1)
    c.write()


SILVER = "https://www.silverstate-coverage.example"


@case
def exchange_drugs():
    c = Case("state-exchange-drugs", SILVER, "State health-insurance exchange (The Markup + CalMatters 2025: Nevada, Maine, Rhode "
             "Island, Massachusetts): while comparing plans, the drugs Jane enters, with doses as the picker lists them (\"Fluoxetine 20 "
             "Mg Tab\", \"Norethindrone 0.35 Mg Tab\", \"Lipitor 10 Mg Tab\", \"Spironolactone 50 Mg Tab\"), reach LinkedIn, Snap, Google Ads "
             "and GA4; household questions (\"pregnant\", \"disabled or blind\") reach GA4. The plan-compare page view is health-neutral.")
    c.page_cookies += "; _gcl_au=1.1.1553824274.1732000000"
    url, title = c.page("page_1", "/app/plan-compare/step/4", "Compare plans - Step 4 of 6 | Silver State Coverage", scripts=("gtag", "li", "snap"))
    c.li_collect("page_1", url, [])
    c.li_click("page_1", url, title, "Fluoxetine 20 Mg Tab", ["mental.health"], expect="medium")
    c.li_click("page_1", url, title, "Norethindrone 0.35 Mg Tab", ["repro.contraception"], expect="medium", gz=True)
    c.li_click("page_1", url, title, "Lipitor 10 Mg Tab", ["medication.rx"], expect="medium")
    c.snap("page_1", url, [("VIEW_CONTENT", {"e_desc": "Lipitor 10 Mg Tab", "e_ic": "prescription"}, ["medication.rx"], "medium"),
                           ("CUSTOM_EVENT_2", {"e_desc": "Spironolactone 50 Mg Tab"}, ["medication.rx"], "medium")])
    url2 = url + "?drugs=Fluoxetine%2020%20Mg%20Tab%7CSpironolactone%2050%20Mg%20Tab"
    c.gads("page_1", url2, title, "event=add_prescription;drug_name=Fluoxetine 20 Mg Tab", ["mental.health", "medication.rx"], expect="medium")
    c.ga4("page_1", url, title, [("add_drug", [("ep.drug_name", "Prozac 20 Mg Tab"), ("ep.drug_count", "2")], ["mental.health"], "medium")])
    url, title = c.page("page_2", "/app/household/member/2", "About your household | Silver State Coverage", scripts=("gtag",))
    c.ga4("page_2", url, title, [("page_view", [], [], None),
                                 ("household_answer", [("ep.question", "Is this person pregnant?"), ("ep.answer", "pregnant")], ["repro.pregnancy"], "medium"),
                                 ("household_disability", [("ep.question", "Is this person disabled or blind?"), ("ep.answer", "disabled or blind")],
                                  ["disability"], "medium")])
    c.write()


@case
def patient_portal():
    site = "https://mychart.lakeshore-health.example"
    c = Case("patient-portal", site, "Authenticated patient portal (Pixel Hunt: 7 systems had the pixel inside MyChart; Novant, Advocate "
             "Aurora): the visits list, test results and medications pages, and a \"Request refill\" click. Meta Pixel and GA4 on /mychart "
             "pages: critical (OCR bulletin, authenticated pages).")
    c.page_cookies += "; MyChartSession=canary-portal-session; MyChartLocale=en-US"
    url, title = c.page("page_1", "/mychart/Visits", "Appointments and Visits - MyChart - Lakeshore Health")
    c.pixel("page_1", url, title, "PageView", ["portal.session", "care.appointment"], expect="critical", expect_cats=["portal.session"])
    url, title = c.page("page_2", "/mychart/app/test-results/details?eorderid=WP-24canary", "Test Results: Lipid Panel - MyChart - Lakeshore Health")
    c.pixel("page_2", url, title, "PageView", ["portal.session", "test.lab"], expect="critical", expect_cats=["portal.session"])
    c.ga4("page_2", url, title, [("page_view", [], ["portal.session", "test.lab"], "critical")])
    url, title = c.page("page_3", "/mychart/app/medications", "Medications - MyChart - Lakeshore Health")
    c.pixel("page_3", url, title, "PageView", ["portal.session"], expect="critical")
    c.button_click("page_3", url, title, "Request refill", ["portal.session", "pharmacy.action"], expect="critical")
    c.write()


# ----------------------------------------------------------------------
# Site context: the site, not the page, reveals health (issue 13). Each
# site's own HTML (kept in the HAR) says who it is; the events carry no
# health word.
# ----------------------------------------------------------------------
UDFF_NAME_EMAIL = [("udff[fn]", FN_SHA), ("udff[ln]", LN_SHA), ("udff[em]", EM_SHA)]


def html_doc(title, site_name=None, description=None, jsonld=None, h1=None, h2=(), body=""):
    """A page as a small CMS renders it: head metadata, JSON-LD, headings."""
    head = [f"<title>{title}</title>", '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">']
    if description:
        head.append(f'<meta name="description" content="{description}">')
    if site_name:
        head.append(f'<meta property="og:site_name" content="{site_name}">')
        head.append(f'<meta property="og:title" content="{title}">')
    if jsonld:
        head.append('<script type="application/ld+json">' + json.dumps(jsonld) + "</script>")
    head.append('<script src="/assets/app.js" defer></script>')
    main = []
    if h1:
        main.append(f"<h1>{h1}</h1>")
    main += [f"<h2>{h}</h2>" for h in h2]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head>" + "".join(head) + "</head><body><header><nav><a href=\"/\">Home</a>"
            "<a href=\"/contact\">Contact</a></nav></header><main>" + "".join(main) + body + "</main></body></html>\n")


NIGHTHARBOR = "https://www.nightharbor.example"
NIGHTHARBOR_LD = {"@context": "https://schema.org", "@type": "NGO", "name": "Night Harbor Crisis Line",
                  "url": NIGHTHARBOR + "/", "telephone": "988"}


@case
def crisis_line_contact():
    c = Case("site-crisis-line-contact", NIGHTHARBOR, "Site context (issue 13; The Markup, June 2023): a crisis-line organisation's "
             "contact page sends Meta the automatic SubscribedButtonClick of its \"Submit\" button with the visitor's first name, last "
             "name and email hashed in udff[…]. No health word in the URL, the title or the fields: the site's own pages (og:site_name, "
             "JSON-LD, description) say it is a crisis line.")
    desc = "Free, confidential support 24/7. Call or text 988, or chat with us."
    url, title = c.page("page_1", "/", "Night Harbor | You are not alone", scripts=("fb",),
                        html=html_doc("Night Harbor | You are not alone", "Night Harbor Crisis Line", desc, NIGHTHARBOR_LD,
                                      "You are not alone", ["Talk to someone now", "Volunteer with us"]))
    c.pixel("page_1", url, title, "PageView", [], expect="medium", expect_cats=[], rule="sensitive_site_page_view")
    url, title = c.page("page_2", "/contact", "Contact us | Night Harbor", scripts=("fb",),
                        html=html_doc("Contact us | Night Harbor", "Night Harbor Crisis Line", desc, NIGHTHARBOR_LD, "Contact us",
                                      ["Send us a message"]))
    c.pixel("page_2", url, title, "PageView", [], expect="medium", expect_cats=[], rule="sensitive_site_page_view")
    c.button_click("page_2", url, title, "Submit", [], ec=1, ud=UDFF_NAME_EMAIL,
                   form_fields=[("first_name", "input", "text", "First name"), ("last_name", "input", "text", "Last name"),
                                ("email", "input", "email", "Email"), ("message", "textarea", None, "How can we help?")],
                   expect="critical", expect_cats=[], rule="sensitive_site_care_action")
    c.site_expect = {"site": "nightharbor.example", "category": "crisis_mental_health", "min_confidence": "high"}
    c.write()


CEDAR = "https://www.cedarridge.example"


@case
def rehab_call_now():
    c = Case("site-rehab-call-now", CEDAR, "Site context: an addiction-treatment centre's home page; the visitor clicks \"Call now\" "
             "(a tel: link). Meta gets the automatic button click with its c_user and _fbp cookies; the page, title and button say "
             "nothing about health. JSON-LD names the organisation \"Cedar Ridge Recovery Center\".")
    ld = {"@context": "https://schema.org", "@type": "MedicalOrganization", "name": "Cedar Ridge Recovery Center",
          "url": CEDAR + "/", "telephone": "+1-555-555-0100"}
    url, title = c.page("page_1", "/", "Cedar Ridge | Start today", scripts=("fb",),
                        html=html_doc("Cedar Ridge | Start today", "Cedar Ridge", "Confidential admissions, 24 hours a day.", ld,
                                      "Start today", ["Why Cedar Ridge", "Verify your insurance"]))
    c.pixel("page_1", url, title, "PageView", [], expect="medium", expect_cats=[], rule="sensitive_site_page_view")
    c.button_click("page_1", url, title, "Call now", [], destination="tel:+15555550100", ec=1,
                   expect="high", expect_cats=[], rule="sensitive_site_care_action")
    c.site_expect = {"site": "cedarridge.example", "category": "addiction_treatment", "min_confidence": "high"}
    c.write()


BAYVIEW = "https://www.bayview-collective.example"


@case
def hiv_clinic_contact():
    c = Case("site-hiv-clinic-contact", BAYVIEW, "Site context: a community clinic for HIV testing and PrEP. Its home page says so (and "
             "its PageView is a health finding already); on the contact page the form's Lead event goes to Meta with the visitor's "
             "hashed email and phone, and no health word.")
    ld = {"@context": "https://schema.org", "@type": "MedicalClinic", "name": "Bayview Health Collective", "url": BAYVIEW + "/"}
    desc = "Free, confidential HIV testing, PrEP and sexual health care in Bayview."
    url, title = c.page("page_1", "/", "Bayview Health Collective | Free HIV testing and PrEP", scripts=("fb",),
                        html=html_doc("Bayview Health Collective | Free HIV testing and PrEP", "Bayview Health Collective", desc, ld,
                                      "Free HIV testing and PrEP", ["Walk-in hours"]))
    c.pixel("page_1", url, title, "PageView", ["sexual.sti_hiv"], expect="medium", expect_cats=["sexual.sti_hiv"])
    url, title = c.page("page_2", "/contact-us", "Contact us | Bayview Health Collective", scripts=("fb",),
                        html=html_doc("Contact us | Bayview Health Collective", "Bayview Health Collective", desc, ld, "Contact us"))
    c.pixel("page_2", url, title, "Lead", [], [("cd[form_name]", "Contact us")], ec=1, ud=[("ud[em]", EM_SHA), ("ud[ph]", PH_SHA)],
            expect="critical", expect_cats=[], rule="sensitive_site_care_action")
    c.site_expect = {"site": "bayview-collective.example", "category": "hiv_sexual_health", "min_confidence": "high"}
    c.write()


WILLOW = "https://www.willowbrook.example"


@case
def fertility_newsletter():
    c = Case("site-fertility-newsletter", WILLOW, "Site context: a fertility clinic's newsletter sign-up in the footer of its \"Our "
             "team\" page. Meta gets the \"Subscribe\" click with the hashed email, GA4 a sign_up event with its client id. "
             "The organisation's name (\"Willowbrook Fertility Center\") says who it is; the page and the events do not.")
    ld = {"@context": "https://schema.org", "@type": "MedicalClinic", "name": "Willowbrook Fertility Center", "url": WILLOW + "/"}
    url, title = c.page("page_1", "/our-team", "Our team | Willowbrook", scripts=("fb", "gtag"),
                        html=html_doc("Our team | Willowbrook", "Willowbrook Fertility Center", "Meet our doctors, nurses and staff.", ld,
                                      "Our team", ["Stay in touch"]))
    c.pixel("page_1", url, title, "PageView", [], expect="medium", expect_cats=[], rule="sensitive_site_page_view")
    c.button_click("page_1", url, title, "Subscribe", [], ec=1, ud=[("udff[em]", EM_SHA)],
                   form_fields=[("newsletter_email", "input", "email", "Your email")],
                   expect="critical", expect_cats=[], rule="sensitive_site_care_action")
    c.ga4("page_1", url, title, [("page_view", [], [], "low"), ("sign_up", [("ep.method", "newsletter")], [], "high")])
    c.site_expect = {"site": "willowbrook.example", "category": "fertility", "min_confidence": "high"}
    c.write()


# ======================================================================
# Negative controls
# ======================================================================
@case
def grocery_cart():
    c = Case("neg-grocery-cart", KESTREL, "Negative control KR-07: the same grocer's trackers on a grocery search for cold brew coffee, "
             "coffee and bananas added to the cart (\"Add to Cart\" clicks, AddToCart, GA4 add_to_cart, Pinterest). No health content.",
             max_elsewhere="info", negative=True)
    url, title = c.page("page_1", "/search?query=cold%20brew%20coffee", "cold brew coffee - Search results | Kestrel Market")
    c.pixel("page_1", url, title, "Search", [], [("cd[search_string]", "cold brew coffee")], ec=1, ud=[("ud[em]", EM_SHA)])
    c.ga4("page_1", url, title, [("view_search_results", [("ep.search_term", "cold brew coffee")], [], None)])
    url, title = c.page("page_2", "/p/kestrel-colombian-whole-bean-coffee-12-oz/0001111040101", "Kestrel Colombian Whole Bean Coffee, 12 oz | Kestrel Market")
    c.pixel("page_2", url, title, "ViewContent", [], [("cd[content_name]", "Kestrel Colombian Whole Bean Coffee, 12 oz"), ("cd[value]", "8.99"), ("cd[currency]", "USD")], ec=1)
    c.button_click("page_2", url, title, "Add to Cart", [], ec=2)
    c.pixel("page_2", url, title, "AddToCart", [], [("cd[content_name]", "Kestrel Colombian Whole Bean Coffee, 12 oz"), ("cd[value]", "8.99"), ("cd[currency]", "USD")], ec=3, ud=[("ud[em]", EM_SHA)])
    c.ga4("page_2", url, title, [("add_to_cart", [("cu", "USD"), ("pr1", "id0001111040101~nmKestrel Colombian Whole Bean Coffee~caCoffee~pr8.99~qt1")], [], None)])
    url, title = c.page("page_3", "/p/organic-bananas-3-lb-bag/0000000094011", "Organic Bananas, 3 lb bag | Kestrel Market")
    c.pixel("page_3", url, title, "AddToCart", [], [("cd[content_name]", "Organic Bananas, 3 lb bag"), ("cd[value]", "2.99"), ("cd[currency]", "USD")], ec=1, ud=[("ud[em]", EM_SHA)])
    c.pinterest("page_3", url, "addtocart", {"value": 2.99, "order_quantity": 1, "currency": "USD",
                "line_items": [{"product_name": "Organic Bananas, 3 lb bag", "product_id": "0000000094011", "product_price": 2.99, "product_quantity": 1}]}, [])
    c.write()


@case
def cosmetics_cart():
    site = "https://www.lumen-and-rose.example"
    c = Case("neg-cosmetics-cart", site, "Negative control: a cosmetics shop; lipstick and a moisturizer added to the cart, checkout "
             "started. Meta Pixel, TikTok, GA4. No health content (skin care is not a health category).", max_elsewhere="info", negative=True)
    url, title = c.page("page_1", "/products/velvet-matte-lipstick-rosewood", "Velvet Matte Lipstick - Rosewood | Lumen & Rose", scripts=("fb", "tt"))
    c.pixel("page_1", url, title, "ViewContent", [], [("cd[content_name]", "Velvet Matte Lipstick - Rosewood"), ("cd[value]", "24.00"), ("cd[currency]", "USD")], ec=1)
    c.pixel("page_1", url, title, "AddToCart", [], [("cd[content_name]", "Velvet Matte Lipstick - Rosewood"), ("cd[value]", "24.00"), ("cd[currency]", "USD")], ec=2, ud=[("ud[em]", EM_SHA)])
    c.tiktok("page_1", url, "AddToCart", {"contents": [{"content_id": "LR-LIP-014", "content_name": "Velvet Matte Lipstick - Rosewood"}], "value": 24, "currency": "USD"}, [])
    url, title = c.page("page_2", "/products/daily-hydrating-moisturizer-spf-30", "Daily Hydrating Moisturizer SPF 30 | Lumen & Rose", scripts=("fb", "tt"))
    c.button_click("page_2", url, title, "Add to bag", [], ec=1)
    c.pixel("page_2", url, title, "AddToCart", [], [("cd[content_name]", "Daily Hydrating Moisturizer SPF 30"), ("cd[value]", "32.00"), ("cd[currency]", "USD")], ec=2, ud=[("ud[em]", EM_SHA)])
    url, title = c.page("page_3", "/checkout", "Checkout | Lumen & Rose", scripts=("fb", "gtag"))
    c.pixel("page_3", url, title, "InitiateCheckout", [], [("cd[num_items]", "2"), ("cd[value]", "56.00"), ("cd[currency]", "USD")], ec=1, ud=[("ud[em]", EM_SHA), ("ud[ph]", PH_SHA)])
    c.ga4("page_3", url, title, [("begin_checkout", [("cu", "USD"), ("epn.value", "56")], [], None)])
    c.write()


@case
def hospital_careers():
    c = Case("neg-hospital-careers", LAKESHORE, "Negative control: the hospital's careers pages (OCR's own non-PHI example: job postings). "
             "Trackers fire on a job search for registered nurse and an Apply click; nothing about the visitor's health.",
             max_elsewhere="low", negative=True)
    url, title = c.page("page_1", "/careers", "Careers | Lakeshore Health")
    c.pixel("page_1", url, title, "PageView", [])
    c.ga4("page_1", url, title, [("page_view", [], [], None)])
    url, title = c.page("page_2", "/careers/search?keyword=registered+nurse&location=Chicago", "Registered Nurse jobs in Chicago | Lakeshore Health Careers")
    c.pixel("page_2", url, title, "Search", [], [("cd[search_string]", "registered nurse")], ec=1)
    c.button_click("page_2", url, title, "Apply now", [], destination=LAKESHORE + "/careers/apply/R-0042", ec=2)
    c.li_collect("page_2", url, [])
    c.write()


@case
def hospital_parking():
    c = Case("neg-hospital-parking", LAKESHORE, "Negative control: the hospital's parking and directions and visiting-hours pages "
             "(OCR's non-PHI examples). Trackers fire, a \"Get directions\" click goes out; nothing about the visitor's health.",
             max_elsewhere="low", negative=True)
    url, title = c.page("page_1", "/locations/main-campus/parking-and-directions", "Parking & Directions - Main Campus | Lakeshore Health")
    c.pixel("page_1", url, title, "PageView", [])
    c.button_click("page_1", url, title, "Get directions", [], destination="https://maps.example/?daddr=1200+Lakeshore+Dr", ec=1)
    c.ga4("page_1", url, title, [("page_view", [], [], None),
                                 ("click", [("ep.link_url", "https://maps.example/?daddr=1200+Lakeshore+Dr"), ("ep.link_domain", "maps.example"), ("ep.outbound", "true")], [], None)])
    url, title = c.page("page_2", "/visitors/visiting-hours", "Visiting Hours | Lakeshore Health")
    c.pixel("page_2", url, title, "PageView", [])
    c.write()


@case
def recipes():
    site = "https://www.saltandsprig.example"
    c = Case("neg-recipes", site, "Negative control with ambiguous words: recipe pages for cold brew coffee concentrate, a "
             "\"Depression-Era Chocolate Cake\" and Sunday meal prep (\"prep\" is not PrEP). Meta Pixel, GA4, Pinterest.",
             max_elsewhere="low", negative=True)
    url, title = c.page("page_1", "/recipes/cold-brew-coffee-concentrate", "Cold Brew Coffee Concentrate | Salt & Sprig")
    c.pixel("page_1", url, title, "PageView", [])
    c.ga4("page_1", url, title, [("page_view", [], [], None)])
    url, title = c.page("page_2", "/recipes/depression-era-chocolate-cake", "Depression-Era Chocolate Cake (Wacky Cake) | Salt & Sprig")
    c.pixel("page_2", url, title, "ViewContent", [], [("cd[content_name]", "Depression-Era Chocolate Cake (Wacky Cake)"), ("cd[content_category]", "Desserts")], ec=1)
    c.pinterest("page_2", url, "pagevisit", {"property": "Depression-Era Chocolate Cake"}, [])
    url, title = c.page("page_3", "/meal-prep/sunday-prep-5-easy-lunches", "Sunday Meal Prep: 5 Easy Lunches | Salt & Sprig")
    c.pixel("page_3", url, title, "PageView", [])
    c.button_click("page_3", url, title, "Save recipe", [], ec=1)
    c.write()


@case
def horoscope():
    site = "https://www.starlit-daily.example"
    c = Case("neg-horoscope", site, "Negative control, ambiguous word: the Cancer daily horoscope (the star sign) and a search for "
             "cancer compatibility. Meta Pixel, GA4, TikTok.", max_elsewhere="low", negative=True)
    url, title = c.page("page_1", "/horoscopes/cancer/daily", "Cancer Daily Horoscope for Tuesday, November 19 | Starlit Daily", scripts=("fb", "gtag", "tt"))
    c.pixel("page_1", url, title, "PageView", [])
    c.ga4("page_1", url, title, [("page_view", [], [], None)])
    c.tiktok("page_1", url, "Pageview", {}, [])
    url, title = c.page("page_2", "/search?q=cancer+compatibility", "Search: cancer compatibility | Starlit Daily")
    c.pixel("page_2", url, title, "Search", [], [("cd[search_string]", "cancer compatibility")], ec=1)
    c.write()


@case
def economics():
    site = "https://www.ledger-review.example"
    c = Case("neg-economics-article", site, "Negative control, ambiguous word: an economics explainer on the Great Depression. "
             "Meta Pixel, GA4, Google Ads remarketing.", max_elsewhere="low", negative=True)
    url, title = c.page("page_1", "/economics/the-great-depression-explained", "The Great Depression, explained: what caused the 1929 crash | Ledger Review")
    c.pixel("page_1", url, title, "PageView", [])
    c.ga4("page_1", url, title, [("page_view", [], [], None), ("scroll", [("epn.percent_scrolled", "90")], [], None)])
    c.gads("page_1", url, title, "event=gtag.config", [])
    c.write()


@case
def focus_app():
    site = "https://www.deepwork-focus.example"
    c = Case("neg-focus-app", site, "Negative control, ambiguous word: \"Focus\", a productivity app (Focus is also a brand name "
             "on the §4.4 ambiguity list): pricing page, Subscribe to Focus Pro. Meta Pixel, TikTok.", max_elsewhere="low", negative=True)
    url, title = c.page("page_1", "/pricing", "Focus Pro pricing - block distractions, get deep work done | Focus", scripts=("fb", "tt"))
    c.pixel("page_1", url, title, "PageView", [])
    c.button_click("page_1", url, title, "Start Focus Pro", [], ec=1)
    c.pixel("page_1", url, title, "Subscribe", [], [("cd[content_name]", "Focus Pro annual"), ("cd[value]", "39.99"), ("cd[currency]", "USD"),
                                                     ("cd[predicted_ltv]", "79.98")], ec=2, ud=[("ud[em]", EM_SHA)])
    c.tiktok("page_1", url, "CompletePayment", {"content_name": "Focus Pro annual", "value": 39.99, "currency": "USD"}, [])
    c.write()


@case
def retail_therapy():
    site = "https://www.maple-and-thread.example"
    c = Case("neg-retail-therapy-sale", site, "Negative control, ambiguous word: a fashion \"Retail Therapy Sale\", a linen dress "
             "added to the bag. Meta Pixel, Pinterest, GA4.", max_elsewhere="low", negative=True)
    url, title = c.page("page_1", "/collections/retail-therapy-sale", "Retail Therapy Sale - 40% off dresses | Maple & Thread")
    c.pixel("page_1", url, title, "PageView", [])
    c.pinterest("page_1", url, "pagevisit", {"property": "retail-therapy-sale"}, [])
    url, title = c.page("page_2", "/products/linen-wrap-dress-sage", "Linen Wrap Dress - Sage | Maple & Thread")
    c.pixel("page_2", url, title, "AddToCart", [], [("cd[content_name]", "Linen Wrap Dress - Sage"), ("cd[content_category]", "Retail Therapy Sale"),
                                                     ("cd[value]", "59.00"), ("cd[currency]", "USD")], ec=1, ud=[("ud[em]", EM_SHA)])
    c.ga4("page_2", url, title, [("add_to_cart", [("cu", "USD"), ("pr1", "idMT-LWD-SAGE~nmLinen Wrap Dress~caDresses~pr59~qt1")], [], None)])
    c.write()


@case
def news():
    site = "https://www.metro-courier.example"
    c = Case("neg-news", site, "Negative control: a local news article (bridge repair funding). Meta Pixel, GA4, Google Ads, X.",
             max_elsewhere="info", negative=True)
    url, title = c.page("page_1", "/news/city/2024/11/18/council-approves-bridge-repair-funding", "Council approves $12M for Lake Street bridge repairs | Metro Courier")
    c.pixel("page_1", url, title, "PageView", [])
    c.ga4("page_1", url, title, [("page_view", [], [], None)])
    c.gads("page_1", url, title, "event=gtag.config", [])
    c.x("page_1", url, [])
    c.write()


@case
def store_locator():
    c = Case("neg-pharmacy-store-locator", KESTREL, "Negative control, judged honestly: the grocer's store locator filtered to stores "
             "with a pharmacy near a zip code. It names the pharmacy service but no drug, condition, refill or appointment; labelled "
             "health-neutral. A detector may treat \"pharmacy\" as a weak care signal: at most low.", max_elsewhere="low", negative=True)
    url, title = c.page("page_1", "/stores/search?zip=45202&services=pharmacy", "Find a store with a pharmacy near 45202 | Kestrel Market")
    c.pixel("page_1", url, title, "PageView", [])
    c.pixel("page_1", url, title, "FindLocation", [], [("cd[search_string]", "45202")], ec=1)
    c.ga4("page_1", url, title, [("page_view", [], [], None)])
    c.button_click("page_1", url, title, "Store details", [], destination=KESTREL + "/stores/00421", ec=2)
    c.write()


@case
def store_pickup_today():
    c = Case("neg-store-pickup-today", KESTREL, "Negative control, everyday words that are also brand names: a sunscreen in the "
             "grocer's health & beauty aisle, \"Pick up in store today\", \"Order today\", \"Check your gift card balance\". "
             "The Today sponge, and the weak words today and balance, must not make this contraception or wellness evidence, "
             "although the path (/health-beauty/) vouches for weak health words. Meta Pixel, GA4.", max_elsewhere="low", negative=True)
    url, title = c.page("page_1", "/health-beauty/sun-care/sunscreen-spf-50", "Sunscreen SPF 50, 8 fl oz - pick up in store today | Kestrel Market")
    c.pixel("page_1", url, title, "PageView", [])
    c.pixel("page_1", url, title, "ViewContent", [], [("cd[content_name]", "Sunscreen SPF 50, 8 fl oz"), ("cd[content_category]", "Sun care"),
                                                       ("cd[delivery_note]", "Order today, pick up in store today"), ("cd[value]", "9.99"),
                                                       ("cd[currency]", "USD")], ec=1)
    c.button_click("page_1", url, title, "Pick up in store today", [], ec=2)
    c.button_click("page_1", url, title, "Check your gift card balance", [], destination=KESTREL + "/gift-cards/balance", ec=3)
    c.ga4("page_1", url, title, [("page_view", [], [], None), ("view_item", [("pr1", "idKM-SUN-50~nmSunscreen SPF 50~caSun care~pr9.99~qt1")], [], None)])
    c.write()


# Site-context negative controls: the same hospital, known to be one by its
# own pages, on pages that are not about care. Trackers fire with cookies and
# even hashed emails; none of it says the visitor seeks care.
NORTHGATE = "https://www.northgate-medical.example"
NORTHGATE_LD = {"@context": "https://schema.org", "@type": "Hospital", "name": "Northgate Medical Center", "url": NORTHGATE + "/"}


def northgate_page(c, pid, path, title, h1, scripts=("fb", "gtag")):
    return c.page(pid, path, title, scripts=scripts,
                  html=html_doc(title, "Northgate Medical Center", "Northgate Medical Center: hospital care in Northgate since 1921.",
                                NORTHGATE_LD, h1))


@case
def site_hospital_careers():
    c = Case("neg-site-hospital-careers", NORTHGATE, "Negative control for site context: a hospital (its pages say so) sends Meta and GA4 "
             "its careers pages, a job search and an \"Apply now\" click. Job seekers are not patients.", max_elsewhere="info", negative=True)
    url, title = northgate_page(c, "page_1", "/careers", "Careers | Northgate Medical Center", "Join our team")
    c.pixel("page_1", url, title, "PageView", [])
    c.ga4("page_1", url, title, [("page_view", [], [], None)])
    url, title = northgate_page(c, "page_2", "/careers/search?keyword=nurse", "Nurse jobs | Northgate Medical Center", "Open positions")
    c.pixel("page_2", url, title, "Search", [], [("cd[search_string]", "nurse")], ec=1)
    c.button_click("page_2", url, title, "Apply now", [], destination=NORTHGATE + "/careers/apply/R-0107", ec=2)
    c.pixel("page_2", url, title, "SubmitApplication", [], ec=3, ud=[("ud[em]", EM_SHA)])
    c.site_expect = {"site": "northgate-medical.example", "category": "hospital", "min_confidence": "high"}
    c.write()


@case
def site_hospital_gift_shop():
    c = Case("neg-site-hospital-gift-shop", NORTHGATE, "Negative control for site context: the hospital's gift shop; flowers and a "
             "balloon added to the cart and bought for a patient, with the buyer's hashed email.", max_elsewhere="info", negative=True)
    url, title = northgate_page(c, "page_1", "/gift-shop/flowers/sunny-bouquet", "Sunny Bouquet | Gift Shop | Northgate Medical Center",
                                "Sunny Bouquet")
    c.pixel("page_1", url, title, "ViewContent", [], [("cd[content_name]", "Sunny Bouquet"), ("cd[value]", "39.00"), ("cd[currency]", "USD")], ec=1)
    c.button_click("page_1", url, title, "Add to cart", [], ec=2)
    c.pixel("page_1", url, title, "AddToCart", [], [("cd[content_name]", "Sunny Bouquet"), ("cd[value]", "39.00"), ("cd[currency]", "USD")],
            ec=3, ud=[("ud[em]", EM_SHA)])
    url, title = northgate_page(c, "page_2", "/gift-shop/checkout/thank-you", "Thank you | Gift Shop | Northgate Medical Center", "Thank you")
    c.pixel("page_2", url, title, "Purchase", [], [("cd[value]", "51.00"), ("cd[currency]", "USD")], ec=1, ud=[("ud[em]", EM_SHA), ("ud[ph]", PH_SHA)])
    c.site_expect = {"site": "northgate-medical.example", "category": "hospital", "min_confidence": "high"}
    c.write()


@case
def site_hospital_parking():
    c = Case("neg-site-hospital-parking", NORTHGATE, "Negative control for site context: the hospital's parking page and a \"Get "
             "directions\" click (OCR's own non-PHI example).", max_elsewhere="info", negative=True)
    url, title = northgate_page(c, "page_1", "/patients-visitors/parking", "Parking | Northgate Medical Center", "Parking and directions")
    c.pixel("page_1", url, title, "PageView", [])
    c.button_click("page_1", url, title, "Get directions", [], destination="https://maps.example/?daddr=100+Northgate+Ave", ec=1)
    c.ga4("page_1", url, title, [("page_view", [], [], None)])
    c.site_expect = {"site": "northgate-medical.example", "category": "hospital", "min_confidence": "high"}
    c.write()


@case
def site_hospital_donation():
    c = Case("neg-site-hospital-donation", NORTHGATE, "Negative control for site context: the hospital foundation's donation page; "
             "a \"Donate now\" click and Meta's Donate event with the donor's hashed email. Donors are not patients.",
             max_elsewhere="info", negative=True)
    url, title = northgate_page(c, "page_1", "/foundation/donate", "Give today | Northgate Medical Center Foundation", "Give today")
    c.pixel("page_1", url, title, "PageView", [])
    c.button_click("page_1", url, title, "Donate now", [], ec=1)
    c.pixel("page_1", url, title, "Donate", [], [("cd[value]", "50.00"), ("cd[currency]", "USD")], ec=2, ud=[("ud[em]", EM_SHA)])
    c.site_expect = {"site": "northgate-medical.example", "category": "hospital", "min_confidence": "high"}
    c.write()


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith((".har", ".jsonl", ".expected.json")):
            os.remove(os.path.join(OUT, old))
    for fn in CASES:
        fn()
    counts = {}
    for name, doc in LABELLED.items():
        for l in doc["labels"]:
            for cat in l["categories"] or ["(none)"]:
                counts[cat] = counts.get(cat, 0) + 1
    pos = sum(1 for d in LABELLED.values() if d["findings"])
    print(f"wrote {len(LABELLED)} cases ({pos} positive, {len(LABELLED) - pos} negative) to {os.path.normpath(OUT)}", file=sys.stderr)
    for cat in sorted(counts):
        print(f"  {cat:24} {counts[cat]}", file=sys.stderr)


if __name__ == "__main__":
    main()
