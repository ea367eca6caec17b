#!/usr/bin/env python3
"""Capture what Meta's official Python Business SDK (`facebook-business`) really
sends to the Conversions API, by pointing it at a loopback server.

Usage: python3 tests/sdk/capi_capture.py OUT.jsonl

Writes one JSON Lines record per captured request in leakscope's JSONL input
shape: {"variant", "method", "url", "headers", "body", "mime"}. `url` is
rewritten to https://graph.facebook.com + path+query so the vendor classifier
sees the host the SDK would really have called.

Three ways the SDK can send an EventRequest, all captured:
  sdk_sync   EventRequest.execute(): requests, form-urlencoded body,
             access_token + appsecret_proof in the query string, and
             `data` = JSON array whose items are JSON *strings*.
  sdk_async  EventRequestAsync.execute(): aiohttp, form-urlencoded body,
             access_token + appsecret_proof as form fields, `data` = JSON
             array of objects.
  sdk_http_client_json
             EventRequest(http_client=...): the SDK hands `params` (data =
             list of JSON strings, access_token, appsecret_proof) to a
             caller-written client. The SDK has no JSON mode of its own; this
             client posts the params as JSON, the obvious way to write one.

Only loopback is used. Exit code 3 when facebook_business is not installed.
"""

import asyncio
import json
import os
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Never route loopback through a proxy from the environment.
for _k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_k, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

try:
    import facebook_business
    from facebook_business.adobjects.serverside.action_source import ActionSource
    from facebook_business.adobjects.serverside.content import Content
    from facebook_business.adobjects.serverside.custom_data import CustomData
    from facebook_business.adobjects.serverside.event import Event
    from facebook_business.adobjects.serverside.event_request import EventRequest
    from facebook_business.adobjects.serverside.event_request_async import EventRequestAsync
    from facebook_business.adobjects.serverside.http_service_interface import HttpServiceInterface
    from facebook_business.adobjects.serverside.user_data import UserData
    from facebook_business.api import FacebookAdsApi
    from facebook_business.session import FacebookSession
except ImportError as e:  # the Rust test turns this into a skip (or a CI failure)
    print(f"facebook_business is not installed ({e}); pip install facebook-business", file=sys.stderr)
    sys.exit(3)

# Made-up canary values; the Rust test recomputes the hashes from these.
PIXEL_ID = "1234567891234567"
ACCESS_TOKEN = "EAAB-canary-token-DO-NOT-LEAK-0123456789abcdef"
APP_SECRET = "canary-app-secret-42"
EMAIL = "Jane.Doe.Canary@Example.com "  # the SDK trims and lowercases
PHONE = "+1 555 010 0199"
FIRST_NAME = "Jane"
LAST_NAME = "Doe"
CITY = "Springfield"
ZIP = "62704"
IP = "203.0.113.7"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
FBP = "fb.1.1707905062143.381974684"
FBC = "fb.1.1707905062143.IwAR2canaryClickId"
SOURCE_URL = "https://pharmacy.example/rx/refill?drug=levonorgestrel"
CONTENT_NAME = "Levonorgestrel 1.5 mg tablet"
CONTENT_TITLE = "Levonorgestrel 1.5 mg (emergency contraceptive), 1 tablet"
SEARCH = "morning after pill"


captured = []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        captured.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k: v for k, v in self.headers.items()},
                "body": body,
            }
        )
        # Reply like Meta does (wire-formats.md §3.4).
        reply = json.dumps(
            {"events_received": 2, "messages": [], "fbtrace_id": "AcanaryFbTrace0123456"}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def make_events():
    user = UserData(
        email=EMAIL,
        phone=PHONE,
        first_name=FIRST_NAME,
        last_name=LAST_NAME,
        city=CITY,
        zip_code=ZIP,
        client_ip_address=IP,
        client_user_agent=UA,
        fbp=FBP,
        fbc=FBC,
    )
    custom = CustomData(
        currency="usd",
        value=49.99,
        content_name=CONTENT_NAME,
        content_category="Emergency contraception",
        contents=[Content(product_id="rx-levo-15", quantity=1, item_price=49.99, title=CONTENT_TITLE)],
        search_string=SEARCH,
    )
    now = int(time.time())
    return [
        Event(
            event_name="ViewContent",
            event_time=now,
            user_data=user,
            custom_data=custom,
            event_source_url=SOURCE_URL,
            action_source=ActionSource.WEBSITE,
            event_id="evt-canary-0001",
        ),
        Event(
            event_name="Purchase",
            event_time=now,
            user_data=user,
            custom_data=custom,
            event_source_url=SOURCE_URL,
            action_source=ActionSource.WEBSITE,
            event_id="evt-canary-0002",
        ),
    ]


class JsonClient(HttpServiceInterface):
    """A caller-written client for EventRequest(http_client=...): posts the
    SDK's params as a JSON body."""

    def execute(self, url, method, request_options, headers, params):
        req = urllib.request.Request(
            url,
            data=json.dumps(params).encode(),
            method=method,
            headers={**headers, "Content-Type": "application/json"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as r:
            return json.loads(r.read())


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_path = sys.argv[1]

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # The SDK builds every CAPI URL from FacebookSession.GRAPH (the sync path
    # via the session instance, the async and http_client paths via the class).
    FacebookSession.GRAPH = f"http://127.0.0.1:{server.server_address[1]}"
    # crash_log=False: the SDK otherwise installs an excepthook that POSTs
    # crash reports to the Graph API.
    FacebookAdsApi.init(
        app_id="000000000000001",
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        timeout=10,
        crash_log=False,
    )

    variants = []
    try:
        r = EventRequest(pixel_id=PIXEL_ID, events=make_events()).execute()
        assert r.events_received == 2, r
        variants.append("sdk_sync")

        r = asyncio.run(EventRequestAsync(pixel_id=PIXEL_ID, events=make_events()).execute())
        assert r.events_received == 2, r
        variants.append("sdk_async")

        r = EventRequest(
            pixel_id=PIXEL_ID,
            events=make_events(),
            http_client=JsonClient(),
            access_token=ACCESS_TOKEN,
            appsecret=APP_SECRET,
        ).execute()
        assert r["events_received"] == 2, r
        variants.append("sdk_http_client_json")
    finally:
        server.shutdown()
        server.server_close()

    assert len(captured) == len(variants), (len(captured), variants)
    with open(out_path, "w", encoding="utf-8") as f:
        for variant, c in zip(variants, captured):
            rec = {
                "variant": variant,
                "sdk": f"facebook-business {facebook_business.__version__}",
                "method": c["method"],
                "url": "https://graph.facebook.com" + c["path"],
                # As sent, but with the Host the SDK would really have used.
                "headers": {
                    k: ("graph.facebook.com" if k.lower() == "host" else v)
                    for k, v in c["headers"].items()
                },
                "body": c["body"].decode("utf-8"),
                "mime": c["headers"].get("Content-Type", ""),
            }
            line = json.dumps(rec, ensure_ascii=False)
            f.write(line + "\n")
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
