#!/usr/bin/env python3
"""Drive Meta's official Python Business SDK (`facebook-business`) against a
leakscope gateway, exactly as an existing integration would after changing
only its base URL: the gateway key rides in `access_token`.

Usage: python3 tests/sdk/gateway_sdk.py GATEWAY_BASE_URL GATEWAY_KEY PIXEL_ID ID_PREFIX

Sends two events per SDK path (sync EventRequest: form body, data = JSON
strings, token in the query; async EventRequestAsync: aiohttp form body,
token as a field) and prints one JSON line per response. Exit 3 when the
SDK is not installed. Loopback only.
"""

import asyncio
import json
import os
import sys
import time
import urllib.parse
import urllib.request

for _k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_k, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

try:
    from facebook_business.adobjects.serverside.action_source import ActionSource
    from facebook_business.adobjects.serverside.content import Content
    from facebook_business.adobjects.serverside.custom_data import CustomData
    from facebook_business.adobjects.serverside.event import Event
    from facebook_business.adobjects.serverside.event_request import EventRequest
    from facebook_business.adobjects.serverside.event_request_async import EventRequestAsync
    from facebook_business.adobjects.serverside.user_data import UserData
    from facebook_business.api import FacebookAdsApi
    from facebook_business.session import FacebookSession
except ImportError as e:
    print(f"facebook_business is not installed ({e}); pip install facebook-business", file=sys.stderr)
    sys.exit(3)


def events(prefix, consent_on_event):
    user = UserData(
        email="Jane.Doe.Canary@Example.com ",
        phone="+1 555 010 0199",
        external_id=f"{prefix}-user",
        client_ip_address="203.0.113.7",
        client_user_agent="Mozilla/5.0 (X11; Linux x86_64) Canary",
        fbp="fb.1.1707905062143.381974684",
    )
    custom = CustomData(
        currency="usd",
        value=49.99,
        content_name="Levonorgestrel 1.5 mg tablet",
        contents=[Content(product_id="rx-levo-15", quantity=1, item_price=49.99, title="Levonorgestrel emergency contraceptive")],
        search_string="morning after pill",
        # SDKs cannot add top-level fields: the gateway also reads consent
        # from custom_data.leakscope_consent (and never forwards it).
        custom_properties={"leakscope_consent": "granted"} if consent_on_event else {},
    )
    now = int(time.time())
    return [
        Event(
            event_name=name,
            event_time=now,
            user_data=user,
            custom_data=custom,
            event_source_url="https://pharmacy.example/rx/refill?drug=levonorgestrel",
            action_source=ActionSource.WEBSITE,
            event_id=f"{prefix}-{name}",
        )
        for name in ("ViewContent", "Purchase")
    ]


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    base, key, pixel, prefix = sys.argv[1:]
    FacebookSession.GRAPH = base
    FacebookAdsApi.init(access_token=key, timeout=10, crash_log=False)
    # Consent per event (sync path) ...
    r = EventRequest(pixel_id=pixel, events=events(prefix + "-sync", True)).execute()
    print(json.dumps({"variant": "sdk_sync", "events_received": r.events_received, "fbtrace_id": r.fbtrace_id}))
    # ... and from a consent record the site posted earlier (async path).
    req = urllib.request.Request(
        f"{base}/consent?access_token={urllib.parse.quote(key)}",
        data=json.dumps({"external_id": prefix + "-async-user", "advertising": True, "source": "sdk-test"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10) as resp:
        assert resp.status == 200, resp.status
    r = asyncio.run(EventRequestAsync(pixel_id=pixel, events=events(prefix + "-async", False)).execute())
    print(json.dumps({"variant": "sdk_async", "events_received": r.events_received, "fbtrace_id": r.fbtrace_id}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
