#!/usr/bin/env node
// Drive Meta's official Node Business SDK (facebook-nodejs-business-sdk,
// pinned in package.json) against a loopback leakscope gateway: only the
// base URL changes; the gateway key rides in access_token.
//
// Usage: node tests/sdk/node/gateway_sdk.js GATEWAY_BASE_URL GATEWAY_KEY PIXEL_ID ID_PREFIX
// Prints one JSON line per response. Exit 3 when the SDK is not installed.
'use strict';

for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy']) {
  delete process.env[k];
}

let bizSdk;
try {
  bizSdk = require('facebook-nodejs-business-sdk');
} catch (e) {
  console.error(`facebook-nodejs-business-sdk is not installed (${e.message}); run npm ci in tests/sdk/node`);
  process.exit(3);
}

async function main() {
  const [base, key, pixel, prefix] = process.argv.slice(2);
  if (!prefix) {
    console.error('usage: gateway_sdk.js BASE KEY PIXEL PREFIX');
    process.exit(2);
  }
  // The SDK builds every URL from this static getter.
  Object.defineProperty(bizSdk.FacebookAdsApi, 'GRAPH', { get: () => base, configurable: true });
  bizSdk.FacebookAdsApi.init(key);
  const { EventRequest, UserData, ServerEvent, CustomData, Content } = bizSdk;
  const now = Math.floor(Date.now() / 1000);
  const events = ['ViewContent', 'Purchase'].map((name) => {
    const user = new UserData()
      .setEmails(['Jane.Doe.Canary@Example.com'])
      .setPhones(['+1 555 010 0199'])
      .setExternalId(`${prefix}-user`)
      .setClientIpAddress('203.0.113.7')
      .setClientUserAgent('Mozilla/5.0 (X11; Linux x86_64) Canary')
      .setFbp('fb.1.1707905062143.381974684');
    const content = new Content().setId('rx-levo-15').setQuantity(1).setTitle('Levonorgestrel emergency contraceptive');
    const custom = new CustomData()
      .setCurrency('usd')
      .setValue(49.99)
      .setContentName('Levonorgestrel 1.5 mg tablet')
      .setSearchString('morning after pill')
      .setContents([content])
      // SDKs cannot add top-level fields; the gateway reads this one.
      .setCustomProperties({ leakscope_consent: 'granted' });
    return new ServerEvent()
      .setEventName(name)
      .setEventTime(now)
      .setEventId(`${prefix}-${name}`)
      .setUserData(user)
      .setCustomData(custom)
      .setEventSourceUrl('https://pharmacy.example/rx/refill?drug=levonorgestrel')
      .setActionSource('website');
  });
  const r = await new EventRequest(key, pixel).setEvents(events).execute();
  console.log(JSON.stringify({ variant: 'node_sdk', events_received: r.events_received, fbtrace_id: r.fbtrace_id }));
}

main().catch((e) => {
  console.error('node SDK request failed:', e && e.message ? e.message : e);
  process.exit(1);
});
