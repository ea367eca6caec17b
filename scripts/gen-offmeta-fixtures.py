#!/usr/bin/env python3
"""Generate test fixtures for `leakscope offmeta EXPORT`.

Writes tests/fixtures/offmeta/ : made-up people's Meta "Download Your
Information" exports, section "Your activity off Meta technologies"
(formerly "Off-Facebook activity"), in every layout known to
shared/research/blocking-consent-export.md section 4, each as
  (a) export.zip      - the zip as delivered (other export sections present),
  (b) unpacked/       - the same zip, extracted,
  (c) <basename>      - the off-Meta file alone,
each with a sibling `<stem>.expected.json` (stem = name without extension:
export.expected.json, unpacked.expected.json, <basename-stem>.expected.json).
Plus split/ (an export delivered as two zips), and bad/ (inputs that must be
refused cleanly, each with <stem>.expected.json saying which error).

Python standard library only. Deterministic: fixed dates, a seeded
splitmix64 generator, sorted zip entries, fixed zip timestamps and
attributes (same bytes on rerun with the same zlib).

    python3 scripts/gen-offmeta-fixtures.py              # the fixture tree
    python3 scripts/gen-offmeta-fixtures.py --big 200 --out /tmp/big.zip
        # an export zip of ~200 MB (zip bytes) for benchmarks, streamed
        # (small memory); --layout v2|v1|instagram|records, --media-mb M
        # makes M MB of it incompressible stored "photos". The off-Meta JSON
        # fills the rest and inflates ~13x (v2) / ~38x (records): --big 3
        # gave 16,400 businesses, 334k events, 41 MB of JSON. Prints a JSON
        # summary (businesses, events, sizes) on stdout.

People are made up (bird surnames). Business names are real, well-known
businesses (the export lists real businesses) plus made-up ones (Northwind
Pharmacy, Contoso Clinic, Cafe Lumiere); all activity is invented.

Layouts, and how sure we are of each (checked 2026 against public code, via
the search index of public GitHub repositories; no real export was seen)
--------------------------------------------------------------------------
dir               path in the export                                  top level
v1-2020           ads_and_businesses/your_off-facebook_activity.json   {"off_facebook_activity": [...]}
    VERIFIED: many independent public parsers read exactly this path and key
    (Python/R/JS/Dart/C# tools); the Dart model, generated from a real file,
    gives events {id:int, type:str, timestamp:int} and types incl.
    AD_REQUEST, TOSIMPRESSION, LEVEL_ACHIEVED.
v2-2021           apps_and_websites_off_of_facebook/your_off-facebook_activity.json   {"off_facebook_activity_v2": [...]}
    VERIFIED: public parsers (JS, Dart "apps_and_websites_off_of_facebook.
    your_off-facebook_activity/off_facebook_activity_v2/*/events").
v2-2023           apps_and_websites_off_of_facebook/your_activity_off_meta_technologies.json   {"off_facebook_activity_v2": [...]}
    (+ your_activity_off_meta_technologies_settings.json beside it)
    VERIFIED: d3i-infra/data-donation-task facebook.py + tests ("the 2025
    device export holds one object keyed off_facebook_activity_v2"); a 2024
    export path in another public script. The settings file's shape
    {timestamp, media, label_values:[{label,value}], fbid} is from the note;
    its label "Profile association state" is seen in a public Instagram
    parser; the value "Connected" is RECONSTRUCTED.
instagram-2024    apps_and_websites_off_of_instagram/apps_and_websites/your_activity_off_meta_technologies.json
                  {"apps_and_websites_off_meta_activity": [...]}
    VERIFIED: several public Instagram-export parsers read this exact path
    and key. NOTE: the research note gives the path as
    `apps_and_websites/your_activity_off_meta_technologies.json`; public
    code shows it is the Instagram export and the full path has the
    `apps_and_websites_off_of_instagram/` prefix (a basename match finds both).
records-2026      apps_and_websites_off_of_facebook/your_activity_off_meta_technologies.json
                  top-level array [{title, fbid, media, label_values:[{label:"Events", vec:[{dict:[
                  {label:"ID", value:str}, {label:"Event", value:str}, {label:"Received on", timestamp_value:int}]}]}]}]
    VERIFIED in shape from two independent public parsers (d3i facebook.py,
    a TypeScript parser reading title/label_values/"Events"/vec/dict/
    "Received on"/timestamp_value; an Instagram parser reads the same record
    shape from the IG path). ID placement (string "value" of an "ID" dict
    entry, fbid a string) follows d3i's tests: RECONSTRUCTED from parser
    tests, not from a real file.
records-2026-root same file at the export root. RECONSTRUCTED (the note says
    "at zip root or under the folder"; no public code seen reading it there).
records-2026-single (single file only) a file with exactly one record holds
    it bare, as an object {title, fbid, media, label_values} - d3i's
    `_records` docstring says Meta does this for one-record files in 2026
    exports (seen for other files); for THIS file it is RECONSTRUCTED.
html-2024         apps_and_websites_off_of_facebook/your_activity_off_meta_technologies.html (index)
                  + apps_and_websites_off_of_facebook/your_activity_off_meta_technologies/<slug>_<fbid>.html
    Structure per d3i facebook.py + its tests (VERIFIED as what a maintained
    parser expects; class names _a6-g/_a6-h/_a6_q/_a6_r/_2piu/_a72d and
    the date format "Nov 14, 2023 10:13:20 pm" appear in its code/docs).
    RECONSTRUCTED: the <head> (incl. <base href="../">), the slug scheme
    <name>_<fbid>.html, the unlinked numbered duplicates 0.html, 1.html ...
    (d3i says they exist and must not be read), and the clock: the page
    renders times in the account's zone (America/Chicago here, named in
    logged_information/location/timezone.html). No <tbody> is written
    (d3i's XPath ./tr implies none; an HTML5 parser will insert one).
split/            part 1 = other sections + the settings file, part 2 = the
    off-Meta file; part naming (-part-1.zip) RECONSTRUCTED.

Everything outside the off-Meta file (wrapper folder names, messages,
profile_information, timezone files) is ILLUSTRATIVE, not verified.
Wrapper folders vary on purpose: one folder (most), none (v2-2023, a
"device download"), two (records-2026, a Drive-style delivery).

Gotchas built in: "Cafe Lumiere" with accents is written the way Meta
writes non-ASCII in JSON (UTF-8 bytes escaped one per \\u00XX, e.g.
"Caf\\u00c3\\u00a9"); expected.json has the repaired name. "Bath & Body
Works" needs HTML unescaping. Names in domain form (plannedparenthood.org,
questdiagnostics.com). A decoy *_settings.json holding label_values sits
beside the real file. Events are listed newest first.

expected.json
-------------
{"fixture": name, "variant": dir name, "layout": one of
 off_facebook_activity | off_facebook_activity_v2 |
 apps_and_websites_off_meta_activity | label_values | html,
 "entry": path of the off-Meta file inside the fixture (null for (c)),
 "person": the made-up person (informational: only the zip/folder holds a
 profile file), "businesses": [ {name, events, event_types (sorted),
 type_counts, first, last ("YYYY-MM-DD"), expected_class
 ("health"|"sensitive"|"ordinary"), expected_category} ] sorted by name}.
Categories for health use leakscope's SiteCategory ids (data/sites/
health-sites.tsv): pharmacy telehealth hospital clinic lab_testing
crisis_mental_health reproductive_health; sensitive: dating; ordinary: null.
Every event is between 12:00 and 21:00 UTC, so its date is the same in UTC
and in US time zones (the HTML renders America/Chicago local time).
"""

import argparse
import html
import io
import json
import os
import shutil
import struct
import sys
import zipfile
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "offmeta"

M64 = (1 << 64) - 1


class Rng:
    """splitmix64: deterministic across Python versions (unlike `random`)."""

    def __init__(self, seed: str):
        s = 0
        for ch in seed.encode():
            s = (s * 1099511628211 + ch) & M64  # FNV-ish fold of the seed
        self.s = s

    def next(self) -> int:
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return self.next() % n

    def choice(self, seq):
        return seq[self.below(len(seq))]


# name -> (class, category, event types the business plausibly sends)
CATALOGUE = {
    "CVS Pharmacy": ("health", "pharmacy", ["PAGE_VIEW", "SEARCH", "ADD_TO_CART", "PURCHASE"]),
    "Hims": ("health", "telehealth", ["PAGE_VIEW", "LEAD", "COMPLETE_REGISTRATION", "INITIATE_CHECKOUT", "PURCHASE"]),
    "Planned Parenthood": ("health", "reproductive_health", ["PAGE_VIEW", "SEARCH", "SCHEDULE"]),
    "plannedparenthood.org": ("health", "reproductive_health", ["PAGE_VIEW", "SEARCH", "SCHEDULE", "LEAD"]),
    "Kaiser Permanente": ("health", "hospital", ["PAGE_VIEW", "SCHEDULE", "CUSTOM"]),
    "BetterHelp": ("health", "crisis_mental_health", ["PAGE_VIEW", "LEAD", "COMPLETE_REGISTRATION", "ACTIVATE_APP"]),
    "Quest Diagnostics": ("health", "lab_testing", ["SEARCH", "SCHEDULE", "PURCHASE"]),
    "questdiagnostics.com": ("health", "lab_testing", ["PAGE_VIEW", "SEARCH", "SCHEDULE", "PURCHASE"]),
    "Northwind Pharmacy": ("health", "pharmacy", ["SEARCH", "ADD_TO_CART", "PURCHASE"]),
    "Contoso Clinic": ("health", "clinic", ["PAGE_VIEW", "SCHEDULE", "LEAD"]),
    "Tinder": ("sensitive", "dating", ["ACTIVATE_APP", "CUSTOM", "COMPLETE_REGISTRATION"]),
    "Hinge": ("sensitive", "dating", ["ACTIVATE_APP", "CUSTOM"]),
    "Target": ("ordinary", None, ["PAGE_VIEW", "VIEW_CONTENT", "ADD_TO_CART", "INITIATE_CHECKOUT", "PURCHASE"]),
    "Spotify": ("ordinary", None, ["ACTIVATE_APP", "CUSTOM", "AD_REQUEST"]),
    "Nike": ("ordinary", None, ["VIEW_CONTENT", "ADD_TO_CART", "SEARCH", "PURCHASE"]),
    "Bath & Body Works": ("ordinary", None, ["PAGE_VIEW", "ADD_TO_CART", "INITIATE_CHECKOUT"]),
    "Caf\u00e9 Lumi\u00e8re": ("ordinary", None, ["PAGE_VIEW", "VIEW_CONTENT"]),
}

OFFMETA_DIR = "apps_and_websites_off_of_facebook"
OFFMETA_JSON = OFFMETA_DIR + "/your_activity_off_meta_technologies.json"
OFFMETA_SETTINGS = OFFMETA_DIR + "/your_activity_off_meta_technologies_settings.json"
OFFMETA_HTML = OFFMETA_DIR + "/your_activity_off_meta_technologies.html"
OFFMETA_PAGES = OFFMETA_DIR + "/your_activity_off_meta_technologies/"
IG_OFFMETA_DIR = "apps_and_websites_off_of_instagram/apps_and_websites"


def mojibake(s: str) -> str:
    """How Meta's JSON carries non-ASCII: each UTF-8 byte as its own \\u00XX."""
    return s.encode("utf-8").decode("latin-1")


def jdump(obj) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def ts_of(y, mo, d, h=12, mi=0, s=0) -> int:
    return int(datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc).timestamp())


def day(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")


# ---------------------------------------------------------------- activity
def make_activity(seed: str, names, start, end, sizes=None):
    """[(name, fbid, app_id, [(type, ts)] newest first)], deterministic.
    start/end: (y, m, d) dates; events fall 12:00-20:59 UTC."""
    rng = Rng(seed)
    d0 = datetime(*start, tzinfo=timezone.utc)
    span = (datetime(*end, tzinfo=timezone.utc) - d0).days
    out = []
    for i, name in enumerate(names):
        types = CATALOGUE[name][2]
        n = sizes[i] if sizes else 1 + rng.below(9)
        evs = set()
        while len(evs) < n:
            d = d0 + timedelta(days=rng.below(span + 1),
                               hours=12 + rng.below(9), minutes=rng.below(60), seconds=rng.below(60))
            evs.add((int(d.timestamp()), types[rng.below(len(types))]))
        events = [(t, ts) for ts, t in sorted(evs, reverse=True)]
        app_id = 100000000000000 + rng.below(900000000000000)
        fbid = str(100000000000000 + rng.below(900000000000000))
        out.append((name, fbid, app_id, events))
    return out


def expected_businesses(activity):
    rows = []
    for name, _fbid, _app, events in activity:
        cls, cat, _ = CATALOGUE[name]
        counts = {}
        for t, _ in events:
            counts[t] = counts.get(t, 0) + 1
        stamps = [ts for _, ts in events]
        rows.append({
            "name": name,
            "events": len(events),
            "event_types": sorted(counts),
            "type_counts": dict(sorted(counts.items())),
            "first": day(min(stamps)),
            "last": day(max(stamps)),
            "expected_class": cls,
            "expected_category": cat,
        })
    return sorted(rows, key=lambda r: r["name"].lower())


# ---------------------------------------------------------------- renderers
def render_shape_a(key, activity) -> bytes:
    return jdump({key: [
        {"name": mojibake(name),
         "events": [{"id": app_id, "type": t, "timestamp": ts} for t, ts in events]}
        for name, _fbid, app_id, events in activity]})


def record_2026(name, fbid, app_id, events):
    return {
        "title": mojibake(name),
        "fbid": fbid,
        "media": [],
        "label_values": [{"label": "Events", "vec": [
            {"dict": [{"label": "ID", "value": str(app_id)},
                      {"label": "Event", "value": t},
                      {"label": "Received on", "timestamp_value": ts}]}
            for t, ts in events]}],
    }


def render_records(activity, bare_single=False) -> bytes:
    recs = [record_2026(*a) for a in activity]
    if bare_single:
        assert len(recs) == 1
        return jdump(recs[0])
    return jdump(recs)


def settings_json(ts, fbid) -> bytes:
    return jdump({"timestamp": ts, "media": [],
                  "label_values": [{"label": "Profile association state", "value": "Connected"}],
                  "fbid": fbid})


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def chicago(ts: int) -> datetime:
    """UTC -> America/Chicago wall clock (US DST rules since 2007), no tzdata."""
    u = datetime.fromtimestamp(ts, timezone.utc)
    y = u.year

    def nth_sunday(month, n):
        d = datetime(y, month, 1, tzinfo=timezone.utc)
        d += timedelta(days=(6 - d.weekday()) % 7)
        return d + timedelta(weeks=n - 1)
    dst_start = nth_sunday(3, 2) + timedelta(hours=8)   # 02:00 CST = 08:00 UTC
    dst_end = nth_sunday(11, 1) + timedelta(hours=7)    # 02:00 CDT = 07:00 UTC
    off = -5 if dst_start <= u < dst_end else -6
    return (u + timedelta(hours=off)).replace(tzinfo=None)


def meta_html_time(ts: int) -> str:
    d = chicago(ts)
    h12 = d.hour % 12 or 12
    return f"{MONTHS[d.month - 1]} {d.day:02d}, {d.year} {h12}:{d.minute:02d}:{d.second:02d} {'am' if d.hour < 12 else 'pm'}"


HTML_HEAD = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{base}<title>{title}</title>'
             '<style>body{{font-family:Helvetica,Arial,sans-serif}}._a6_q{{font-weight:bold}}</style></head>'
             '<body class="_5vb_ _2yq _a7o5"><div class="_li"><main class="_a706" role="main">')
HTML_TAIL = "</main></div></body></html>\n"


def slug(name: str, fbid: str) -> str:
    s = "".join(c if c.isalnum() and c.isascii() else "_" for c in name.lower())
    while "__" in s:
        s = s.replace("__", "_")
    return f"{s.strip('_')}_{fbid}.html"


def html_index(activity) -> bytes:
    parts = [HTML_HEAD.format(base='<base href="../">', title="Your activity off Meta technologies"),
             '<div class="_3-8y _3-95 _a70a"><div class="_a70d"><div class="_a70e">'
             'Your activity off Meta technologies</div></div></div>']
    for name, fbid, _app, _ev in activity:
        parts.append(f'<section class="_a6-g"><h2 class="_2ph_ _a6-h"><a href="{OFFMETA_PAGES}{slug(name, fbid)}">'
                     f'{html.escape(name)}</a></h2></section>')
    parts.append(HTML_TAIL)
    return "".join(parts).encode("utf-8")


def html_business_page(name, fbid, app_id, events) -> bytes:
    inner = "".join(
        '<section class="_3-95 _a6-g"><div class="_2pi8 _2pic _a6-p"><table>'
        f'<tr><td class="_a6_q">ID</td><td class="_2piu _a6_r">{app_id}</td></tr>'
        f'<tr><td class="_a6_q">Event</td><td class="_2piu _a6_r">{t}</td></tr>'
        f'<tr><td class="_a6_q">Received on</td><td class="_2piu _a6_r">{meta_html_time(ts)}</td></tr>'
        '</table></div></section>' for t, ts in events)
    body = (HTML_HEAD.format(base='<base href="../../">', title=html.escape(name))
            + f'<section class="_3-95 _a6-g"><h2 class="_2ph_ _a6-h _a6-i">{html.escape(name)}</h2>'
            '<div class="_2pi8 _2pic _a6-p"><section class="_3-95 _a6-g"><div class="_2pi8 _2pic _a6-p"><table>'
            f'<tr><td class="_a6_q">ID</td><td class="_2piu _a6_r">{fbid}</td></tr>'
            f'<tr><td class="_a6_q" colspan="2">Events<div><div><div>{inner}</div></div></div></td></tr>'
            '</table></div></section></div>'
            '<footer class="_3-94 _a6-o"><div class="_a72d"></div></footer></section>' + HTML_TAIL)
    return body.encode("utf-8")


# ---------------------------------------------------------------- other export sections (illustrative)
def messages_json(person, friend, ts0) -> bytes:
    return jdump({
        "participants": [{"name": friend}, {"name": person}],
        "messages": [
            {"sender_name": person, "timestamp_ms": ts0 * 1000 + 5000,
             "content": mojibake("Picked up the prescription at CVS, see you at the caf\u00e9 \U0001F44D"), "is_geoblocked_for_viewer": False},
            {"sender_name": friend, "timestamp_ms": ts0 * 1000, "content": "Are you coming tonight?",
             "is_geoblocked_for_viewer": False},
        ],
        "title": friend, "is_still_participant": True, "thread_path": "inbox/" + friend.lower().replace(" ", "") + "_1042",
        "magic_words": [],
    })


def profile_json(person, username, key, ts) -> bytes:
    first, last = person.split(" ", 1)
    return jdump({key: {"name": {"full_name": person, "first_name": first, "middle_name": "", "last_name": last},
                        "emails": {"emails": [username + "@example.com"], "previous_emails": [], "pending_emails": [], "ad_account_emails": []},
                        "registration_timestamp": ts, "username": username}})


def timezone_html(zone) -> bytes:
    return (HTML_HEAD.format(base='<base href="../../">', title="Time zone")
            + '<section class="_a6-g"><div class="_2pi8 _2pic _a6-p"><table>'
            f'<tr><td class="_a6_q">Time zone</td><td class="_2piu _a6_r">{zone}</td></tr>'
            '</table></div></section>' + HTML_TAIL).encode("utf-8")


# ---------------------------------------------------------------- zip / tree writers
def zipinfo(name, date_time):
    zi = zipfile.ZipInfo(name, date_time)
    zi.compress_type = zipfile.ZIP_DEFLATED
    zi.create_system = 3
    zi.external_attr = 0o100644 << 16
    return zi


def write_zip(path: Path, files: dict, date_time):
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            zf.writestr(zipinfo(name, date_time), files[name], compresslevel=6)


def write_tree(root: Path, files: dict):
    for name in sorted(files):
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(files[name])


def write_expected(path: Path, obj):
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- fixtures
class Fixture:
    def __init__(self, variant, layout, person, username, wrapper, export_date, names, window, era,
                 single_name=None, sizes=None):
        self.variant, self.layout, self.person, self.username = variant, layout, person, username
        self.wrapper = wrapper  # "" or "a/" or "a/b/"
        self.date_time = export_date + (9, 15, 30)
        self.export_ts = ts_of(*export_date, 14, 15, 30)
        self.activity = make_activity(variant, names, *window, sizes=sizes)
        self.era = era
        self.files = {}   # path under the wrapper -> bytes
        self.entry = None  # off-Meta file (index page for html) under the wrapper
        self.single = None  # (file name, bytes) for form (c)

    def expected(self, fixture, entry):
        return {"fixture": fixture, "variant": self.variant, "layout": self.layout, "entry": entry,
                "person": self.person, "businesses": expected_businesses(self.activity)}

    def zip_files(self):
        return {self.wrapper + k: v for k, v in self.files.items()}


def other_sections(f: Fixture, era):
    """Unrelated export content, by era (illustrative paths)."""
    friend = "Robin Hart"
    inbox = {"2020": "messages/inbox/", "2021": "messages/inbox/",
             "2023": "your_activity_across_facebook/messages/inbox/",
             "2025": "your_facebook_activity/messages/inbox/"}[era]
    profile = {"2020": ("profile_information/profile_information.json", "profile"),
               "2021": ("profile_information/profile_information.json", "profile_v2")}.get(
        era, ("personal_information/profile_information/profile_information.json", "profile_v2"))
    f.files[inbox + "robinhart_1042/message_1.json"] = messages_json(f.person, friend, f.export_ts - 86400 * 3)
    f.files[profile[0]] = profile_json(f.person, f.username, profile[1], f.export_ts - 86400 * 3000)


def build_fixtures():
    fx = []

    f = Fixture("v1-2020", "off_facebook_activity", "Jane Canary", "janecanary123",
                "facebook-janecanary123_2020-02-01-AbCdEf/", (2020, 2, 1),
                ["CVS Pharmacy", "plannedparenthood.org", "Spotify", "Target", "Tinder",
                 "Northwind Pharmacy", "Caf\u00e9 Lumi\u00e8re"],
                ((2019, 8, 1), (2020, 1, 25)), "2020")
    other_sections(f, "2020")
    f.files["ads_and_businesses/advertisers_who_uploaded_a_contact_list_with_your_information.json"] = jdump(
        {"custom_audiences": ["Target", "Spotify"]})
    f.entry = "ads_and_businesses/your_off-facebook_activity.json"
    f.files[f.entry] = render_shape_a("off_facebook_activity", f.activity)
    f.single = ("your_off-facebook_activity.json", f.files[f.entry])
    fx.append(f)

    f = Fixture("v2-2021", "off_facebook_activity_v2", "Omar Finch", "omarfinch",
                "facebook-omarfinch_2021-10-05-Gh12Ij/", (2021, 10, 5),
                ["Hims", "Kaiser Permanente", "Nike", "Hinge", "Contoso Clinic", "Bath & Body Works", "Spotify"],
                ((2021, 4, 1), (2021, 9, 30)), "2021")
    other_sections(f, "2021")
    f.entry = OFFMETA_DIR + "/your_off-facebook_activity.json"
    f.files[f.entry] = render_shape_a("off_facebook_activity_v2", f.activity)
    f.single = ("your_off-facebook_activity.json", f.files[f.entry])
    fx.append(f)

    f = Fixture("v2-2023", "off_facebook_activity_v2", "Priya Wren", "priyawren",
                "", (2024, 4, 2),  # device download: no wrapper folder
                ["BetterHelp", "Quest Diagnostics", "CVS Pharmacy", "Target", "Tinder",
                 "Northwind Pharmacy", "Caf\u00e9 Lumi\u00e8re", "Nike"],
                ((2023, 10, 1), (2024, 3, 31)), "2023",
                sizes=[6, 3, 9, 5, 4, 1, 2, 3])
    other_sections(f, "2023")
    f.entry = OFFMETA_JSON
    f.files[f.entry] = render_shape_a("off_facebook_activity_v2", f.activity)
    f.files[OFFMETA_SETTINGS] = settings_json(f.export_ts - 86400, "100042000000001")
    f.files[OFFMETA_DIR + "/connected_apps_and_websites.json"] = jdump({"installed_apps_v2": [
        {"name": "Spotify", "added_timestamp": f.export_ts - 86400 * 900, "user_app_scoped_id": 1234, "category": "active"}]})
    f.single = ("your_activity_off_meta_technologies.json", f.files[f.entry])
    fx.append(f)

    f = Fixture("instagram-2024", "apps_and_websites_off_meta_activity", "Lena Starling", "lenastarling",
                "instagram-lenastarling-2024-09-14-Kl34Mn/", (2024, 9, 14),
                ["Planned Parenthood", "Hims", "Spotify", "Bath & Body Works", "Hinge", "Contoso Clinic"],
                ((2024, 3, 15), (2024, 9, 10)), "2023")
    f.files["personal_information/personal_information/personal_information.json"] = jdump({"profile_user": [
        {"title": "", "media_map_data": {}, "string_map_data": {
            "Name": {"href": "", "value": "Lena Starling", "timestamp": 0},
            "Username": {"href": "", "value": "lenastarling", "timestamp": 0}}}]})
    f.files["your_instagram_activity/messages/inbox/robinhart_1042/message_1.json"] = messages_json(
        f.person, "Robin Hart", f.export_ts - 86400 * 2)
    f.entry = IG_OFFMETA_DIR + "/your_activity_off_meta_technologies.json"
    f.files[f.entry] = render_shape_a("apps_and_websites_off_meta_activity", f.activity)
    f.files[IG_OFFMETA_DIR + "/your_activity_off_meta_technologies_settings.json"] = settings_json(
        f.export_ts - 86400, "178414000000002")
    f.single = ("your_activity_off_meta_technologies.json", f.files[f.entry])
    fx.append(f)

    f = Fixture("records-2026", "label_values", "Sam Heron", "samheron",
                "meta-2026-Mar-02-14-15-30/facebook-samheron_2026-03-02-Op56Qr/", (2026, 3, 2),
                ["Kaiser Permanente", "questdiagnostics.com", "BetterHelp", "Target", "Tinder",
                 "Northwind Pharmacy", "Caf\u00e9 Lumi\u00e8re"],
                ((2025, 9, 5), (2026, 2, 28)), "2025")
    other_sections(f, "2025")
    f.entry = OFFMETA_JSON
    f.files[f.entry] = render_records(f.activity)
    f.files[OFFMETA_SETTINGS] = settings_json(f.export_ts - 86400, "100042000000003")
    f.single = ("your_activity_off_meta_technologies.json", f.files[f.entry])
    fx.append(f)

    f = Fixture("records-2026-root", "label_values", "Noor Kestrel", "noorkestrel",
                "facebook-noorkestrel_2026-04-11-St78Uv/", (2026, 4, 11),
                ["CVS Pharmacy", "Hinge", "Nike", "Contoso Clinic"],
                ((2025, 10, 15), (2026, 4, 8)), "2025")
    other_sections(f, "2025")
    f.entry = "your_activity_off_meta_technologies.json"
    f.files[f.entry] = render_records(f.activity)
    f.single = None  # same file shape as records-2026
    fx.append(f)

    f = Fixture("records-2026-single", "label_values", "Ivy Tern", "ivytern",
                "", (2026, 5, 20), ["Northwind Pharmacy"], ((2026, 1, 10), (2026, 5, 15)), "2025")
    f.single = ("your_activity_off_meta_technologies.json", render_records(f.activity, bare_single=True))
    f.single_only = True
    fx.append(f)

    f = Fixture("html-2024", "html", "Alex Plover", "alexplover",
                "facebook-alexplover_2025-06-04-Wx90Yz/", (2025, 6, 4),
                ["CVS Pharmacy", "Planned Parenthood", "Tinder", "Bath & Body Works",
                 "Caf\u00e9 Lumi\u00e8re", "Contoso Clinic", "Spotify"],
                ((2024, 11, 20), (2025, 5, 30)), "2025")
    f.files["start_here.html"] = (HTML_HEAD.format(base="", title="Your information") +
                                  f'<section class="_a6-g"><h2 class="_2ph_ _a6-h"><a href="{OFFMETA_HTML}">'
                                  'Your activity off Meta technologies</a></h2></section>' + HTML_TAIL).encode()
    f.files["personal_information/profile_information/profile_information.html"] = (
        HTML_HEAD.format(base='<base href="../../">', title="Profile information") +
        '<section class="_a6-g"><div class="_2pi8 _2pic _a6-p"><table>'
        f'<tr><td class="_a6_q">Name</td><td class="_2piu _a6_r">{f.person}</td></tr></table></div></section>'
        + HTML_TAIL).encode()
    f.files["your_facebook_activity/messages/inbox/robinhart_1042/message_1.html"] = (
        HTML_HEAD.format(base='<base href="../../../../">', title="Robin Hart") +
        '<section class="_a6-g"><h2 class="_2ph_ _a6-h">Alex Plover</h2><div class="_2ph_ _a6-p">'
        'Picked up the prescription at CVS</div></section>' + HTML_TAIL).encode()
    f.files["logged_information/location/timezone.html"] = timezone_html("America/Chicago")
    f.entry = OFFMETA_HTML
    f.files[f.entry] = html_index(f.activity)
    for i, (name, fbid, app_id, events) in enumerate(f.activity):
        page = html_business_page(name, fbid, app_id, events)
        f.files[OFFMETA_PAGES + slug(name, fbid)] = page
        f.files[OFFMETA_PAGES + f"{i}.html"] = page  # unlinked numbered duplicate: must not be counted twice
    name, fbid, app_id, events = f.activity[0]
    f.single = (slug(name, fbid), f.files[OFFMETA_PAGES + slug(name, fbid)])
    f.single_businesses = [f.activity[0]]
    fx.append(f)
    return fx


def emit(fx):
    for f in fx:
        d = OUT / f.variant
        d.mkdir(parents=True, exist_ok=True)
        if not getattr(f, "single_only", False):
            write_zip(d / "export.zip", f.zip_files(), f.date_time)
            write_expected(d / "export.expected.json", f.expected("export.zip", f.wrapper + f.entry))
            write_tree(d / "unpacked", f.zip_files())
            write_expected(d / "unpacked.expected.json", f.expected("unpacked", f.wrapper + f.entry))
        if f.single:
            fname, data = f.single
            (d / fname).write_bytes(data)
            exp = f.expected(fname, None)
            if hasattr(f, "single_businesses"):
                exp["businesses"] = expected_businesses(f.single_businesses)
                exp["note"] = "one business page of the HTML export on its own"
            write_expected(d / (fname.rsplit(".", 1)[0] + ".expected.json"), exp)


def emit_split():
    f = Fixture("split", "off_facebook_activity_v2", "Maya Robin", "mayarobin77",
                "facebook-mayarobin77_2025-06-10-Xy12Ab/", (2025, 6, 10),
                ["BetterHelp", "Hims", "Target", "Hinge", "Northwind Pharmacy"],
                ((2024, 12, 12), (2025, 6, 6)), "2025")
    other_sections(f, "2025")
    f.files[OFFMETA_SETTINGS] = settings_json(f.export_ts - 86400, "100042000000004")
    f.files["your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json"] = jdump(
        [{"timestamp": f.export_ts - 86400 * 40, "data": [{"post": "Sunny day at the lake"}], "title": "Maya Robin"}])
    part1 = {f.wrapper + k: v for k, v in f.files.items()}
    part2 = {f.wrapper + OFFMETA_JSON: render_shape_a("off_facebook_activity_v2", f.activity),
             f.wrapper + "logged_information/location/timezone.json": jdump(
                 {"timestamp": 0, "media": [], "label_values": [{"label": "Time zone", "value": "America/Chicago"}],
                  "fbid": "100042000000004"})}
    base = "facebook-mayarobin77-2025-06-10-Xy12Ab"
    write_zip(OUT / "split" / f"{base}-part-1.zip", part1, f.date_time)
    write_zip(OUT / "split" / f"{base}-part-2.zip", part2, f.date_time)
    exp = f.expected("split", f"{base}-part-2.zip!{f.wrapper}{OFFMETA_JSON}")
    exp["note"] = "two zips of one export; part 1 holds other sections and the _settings.json decoy, part 2 the off-Meta file"
    write_expected(OUT / "split.expected.json", exp)


# ---------------------------------------------------------------- bad inputs
def deflate_zeros_stream(total: int, chunk: int = 1 << 20):
    """Yield a raw-deflate stream of `total` zero bytes, computed from two
    compressed chunks (after a full flush every chunk compresses the same)."""
    assert total % chunk == 0
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    zeros = bytes(chunk)
    first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    second = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    third = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    assert second == third, "deflate chunks are not repeatable"
    tail = c.flush(zlib.Z_FINISH)
    n = total // chunk
    yield first
    for _ in range(n - 1):
        yield second
    yield tail


def crc32_zeros(total: int, chunk: int = 1 << 20) -> int:
    crc, zeros = 0, bytes(chunk)
    for _ in range(total // chunk):
        crc = zlib.crc32(zeros, crc)
    return crc


def dos_datetime(dt):
    y, mo, d, h, mi, s = dt
    return ((h << 11) | (mi << 5) | (s // 2)), (((y - 1980) << 9) | (mo << 5) | d)


def write_bomb(path: Path, name: str, total: int, declared: int | None = None):
    """One deflated entry of `total` zeros. declared=None: headers tell the
    truth (zip64 when needed); else headers claim `declared` bytes."""
    crc = crc32_zeros(total)
    tmp = path.with_suffix(".tmp")
    comp = 0
    with open(tmp, "wb") as out:
        for block in deflate_zeros_stream(total):
            out.write(block)
            comp += len(block)
    size = total if declared is None else declared
    zip64 = size > 0xFFFFFFFF or comp > 0xFFFFFFFF
    fname = name.encode()
    t, d = dos_datetime((2025, 3, 1, 0, 0, 0))
    ver = 45 if zip64 else 20
    if zip64:
        extra = struct.pack("<HHQQ", 1, 16, size, comp)
        s32 = c32 = 0xFFFFFFFF
    else:
        extra, s32, c32 = b"", size, comp
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, ver, 0, 8, t, d, crc, c32, s32, len(fname), len(extra)) + fname + extra
    central_extra = extra
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | ver, ver, 0, 8, t, d, crc, c32, s32,
                          len(fname), len(central_extra), 0, 0, 0, 0o100644 << 16, 0) + fname + central_extra
    cd_off = len(local) + comp
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), cd_off, 0)
    with open(path, "wb") as out, open(tmp, "rb") as src:
        out.write(local)
        shutil.copyfileobj(src, out, 1 << 20)
        out.write(central)
        out.write(eocd)
    tmp.unlink()


def emit_bad(fixtures):
    bad = OUT / "bad"
    bad.mkdir(parents=True, exist_ok=True)

    def exp(name, kind, **extra):
        write_expected(bad / (name.rsplit(".", 1)[0] + ".expected.json"),
                       dict({"fixture": name, "expect": "error", "error_kind": kind}, **extra))

    (bad / "not-a-zip.zip").write_bytes(b"This is not a zip archive.\nIt is a text file with a .zip name.\n")
    exp("not-a-zip.zip", "not_a_zip")

    write_zip(bad / "other-zip.zip", {
        "Takeout/archive_browser.html": b"<html><body>Takeout</body></html>\n",
        "Takeout/My Activity/Search/MyActivity.json": jdump([{"header": "Search", "title": "Searched for weather",
                                                              "time": "2025-02-01T12:00:00.000Z"}]),
        "notes/readme.txt": b"holiday list\n",
    }, (2025, 2, 1, 12, 0, 0))
    exp("other-zip.zip", "no_offmeta_data")

    full = (OUT / "v2-2023" / "export.zip").read_bytes()
    (bad / "truncated.zip").write_bytes(full[: len(full) // 2])
    exp("truncated.zip", "corrupt_archive",
        note="first half of v2-2023/export.zip: no central directory")

    write_bomb(bad / "zip-bomb.zip", OFFMETA_JSON, 4 << 30)
    exp("zip-bomb.zip", "too_large",
        note="one entry named like the off-Meta JSON; zip64 headers truthfully declare 4 GiB of zeros, deflated")
    write_bomb(bad / "zip-bomb-lying.zip", OFFMETA_JSON, 1 << 30, declared=2048)
    exp("zip-bomb-lying.zip", "too_large_or_corrupt",
        note="headers declare 2048 bytes, the stream inflates to 1 GiB of zeros (CRC is of the 1 GiB): "
             "must stop at the declared size or a cap, never buffer it")

    bad_json = b'{\n  "off_facebook_activity_v2": [\n    {\n      "name": "CVS Pharmacy",\n      "events": [\n        {\n          "id": 1000,\n          "type": "PURCHASE",\n          "timestamp": 17'
    (bad / "bad-json.json").write_bytes(bad_json)
    exp("bad-json.json", "bad_json")
    write_zip(bad / "bad-json.zip", {"facebook-badjson_2025-01-01-Aa00Bb/" + OFFMETA_JSON: bad_json},
              (2025, 1, 1, 0, 0, 0))
    exp("bad-json.zip", "bad_json", note="the off-Meta file, by its real path, inside an export zip, is invalid JSON")

    (bad / "empty-activity.json").write_bytes(jdump({"off_facebook_activity_v2": []}))
    write_expected(bad / "empty-activity.expected.json",
                   {"fixture": "empty-activity.json", "expect": "ok", "variant": "empty", "layout": "off_facebook_activity_v2",
                    "entry": None, "person": None, "businesses": []})

    html_fx = next(f for f in fixtures if f.variant == "html-2024")
    (bad / "html-index-only.html").write_bytes(html_fx.files[OFFMETA_HTML])
    exp("html-index-only.html", "html_pages_missing",
        note="the HTML index alone: it names businesses but their events are in pages not given; "
             "an error, or business names with no event counts, never zero-event results presented as complete",
        names=sorted(a[0] for a in html_fx.activity))


# ---------------------------------------------------------------- --big
def big(mb: int, out: Path, layout: str, media_mb: int):
    target = mb * 1_000_000
    rng = Rng(f"big-{mb}-{layout}")
    names = list(CATALOGUE)
    date_time = (2025, 6, 1, 9, 0, 0)
    wrapper = "facebook-bigbench_2025-06-01-Bb00Cc/"
    if layout == "v1":
        path, head, tail = "ads_and_businesses/your_off-facebook_activity.json", '{\n  "off_facebook_activity": [\n', "\n  ]\n}\n"
    elif layout == "instagram":
        wrapper = "instagram-bigbench-2025-06-01-Bb00Cc/"
        path, head, tail = IG_OFFMETA_DIR + "/your_activity_off_meta_technologies.json", '{\n  "apps_and_websites_off_meta_activity": [\n', "\n  ]\n}\n"
    elif layout == "records":
        path, head, tail = OFFMETA_JSON, "[\n", "\n]\n"
    else:
        path, head, tail = OFFMETA_JSON, '{\n  "off_facebook_activity_v2": [\n', "\n  ]\n}\n"
    key = {"v1": "off", "instagram": "off", "v2": "off", "records": "rec"}[layout]
    out.parent.mkdir(parents=True, exist_ok=True)
    n_biz = n_ev = raw = 0
    t0 = ts_of(2024, 12, 1)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipinfo(wrapper + "personal_information/profile_information/profile_information.json", date_time),
                    profile_json("Bench Marker", "bigbench", "profile_v2", t0), compresslevel=6)
        zf.writestr(zipinfo(wrapper + "your_facebook_activity/messages/inbox/robinhart_1042/message_1.json", date_time),
                    messages_json("Bench Marker", "Robin Hart", t0), compresslevel=6)
        left = media_mb * 1_000_000
        i = 0
        while left > 0:  # incompressible "photos", stored
            n = min(left, 4_000_000)
            zi = zipinfo(wrapper + f"your_facebook_activity/posts/media/photos/{i:05d}.jpg", date_time)
            zi.compress_type = zipfile.ZIP_STORED
            with zf.open(zi, "w", force_zip64=True) as w:
                done = 0
                while done < n:
                    k = min(65536, n - done)
                    w.write(b"".join(rng.next().to_bytes(8, "little") for _ in range((k + 7) // 8))[:k])
                    done += k
            left -= n
            i += 1
        zi = zipinfo(wrapper + path, date_time)
        with zf.open(zi, "w", force_zip64=True) as w:
            w.write(head.encode())
            raw += len(head)
            buf, first = [], True
            while zf.fp.tell() < target:
                for _ in range(200):
                    base = rng.choice(names) if rng.below(8) == 0 else None
                    k = n_biz
                    name = base or (f"shop{k:06d}.example" if k % 3 == 0 else f"Example Business {k:06d}")
                    n = 1 + rng.below(40)
                    app_id = 100000000000000 + rng.below(900000000000000)
                    evs = sorted((t0 - rng.below(180 * 86400), rng.choice(CATALOGUE[base][2] if base else
                                  ["PAGE_VIEW", "VIEW_CONTENT", "ADD_TO_CART", "PURCHASE", "SEARCH", "CUSTOM", "ACTIVATE_APP"]))
                                 for _ in range(n))[::-1]
                    if key == "rec":
                        obj = record_2026(name, str(app_id + 7), app_id, [(t, ts) for ts, t in evs])
                    else:
                        obj = {"name": mojibake(name), "events": [{"id": app_id, "type": t, "timestamp": ts} for ts, t in evs]}
                    txt = json.dumps(obj, indent=2, ensure_ascii=True)
                    txt = "\n".join(("    " if key != "rec" else "  ") + line for line in txt.split("\n"))
                    buf.append(txt if first else ",\n" + txt)
                    first = False
                    n_biz += 1
                    n_ev += n
                chunk = "".join(buf).encode("ascii")
                buf = []
                raw += len(chunk)
                w.write(chunk)
            w.write(tail.encode())
            raw += len(tail)
    print(json.dumps({"out": str(out), "layout": layout, "entry": wrapper + path, "businesses": n_biz,
                      "events": n_ev, "offmeta_json_bytes": raw, "zip_bytes": out.stat().st_size}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--big", type=int, metavar="N", help="write one ~N MB export zip to --out instead of the fixtures")
    ap.add_argument("--out", type=Path, help="output path for --big")
    ap.add_argument("--layout", choices=["v2", "v1", "instagram", "records"], default="v2")
    ap.add_argument("--media-mb", type=int, default=0, help="with --big: MB of incompressible media files")
    a = ap.parse_args()
    if a.big:
        if not a.out:
            ap.error("--big needs --out")
        big(a.big, a.out, a.layout, a.media_mb)
        return
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    fixtures = build_fixtures()
    emit(fixtures)
    emit_split()
    emit_bad(fixtures)
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT.relative_to(ROOT)}: {sum(1 for p in OUT.rglob('*') if p.is_file())} files, {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
