// Runs The Markup's blacklight-collector (npm, GPL-3.0; installed by
// scripts/bench-blacklight.sh into a scratch directory, never vendored) on one
// URL with Debian's Chromium and prints one JSON line of what it found.
// Usage: node blacklight.js URL OUTDIR CHROME PORT
// One page (numPages 0), Blacklight's default device (iPhone 13 Mini; the
// leakscope side runs --device mobile to match).
const { collect } = require('@themarkup/blacklight-collector');
const fs = require('fs');
const [url, outDir, chrome, port] = process.argv.slice(2);
(async () => {
  const t0 = Date.now();
  const r = await collect(url, {
    outDir, numPages: 0, headless: true, captureHar: true, saveScreenshots: true,
    defaultTimeout: 15000,
    puppeteerExecutablePath: chrome,
    extraChromiumArgs: ['--no-sandbox', '--disable-gpu', `--host-resolver-rules=MAP * 127.0.0.1:${port}`,
      '--ignore-certificate-errors', '--unsafely-treat-insecure-origin-as-secure=http://fixtures.test'],
  });
  let requests = 0;
  try { requests = JSON.parse(fs.readFileSync(`${outDir}/requests.har`)).log.entries.length; } catch (e) {}
  const fb = (r.reports && r.reports.fb_pixel_events) || [];
  console.log(JSON.stringify({
    ms: Date.now() - t0, status: r.status, requests,
    // Blacklight reads pixel events from GET query strings only (parser.js
    // reportFbPixelEvents): POST bodies and Microdata are not counted.
    // ts identifies one pixel call: Meta sends some twice (the privacy-sandbox
    // Attribution-Reporting twin), which Blacklight lists as two events.
    meta_events: fb.map(e => {
      let ts = null;
      try { ts = new URL(e.raw).searchParams.get('ts'); } catch (err) {}
      return { ev: e.eventName, page: e.pageUrl || null, ts };
    }),
  }));
  // collect() leaves a 10 s navigation-guard timer running; exit now rather
  // than bill Blacklight for waiting on it.
  process.exit(0);
})().catch(e => { console.error('blacklight failed:', e && e.message); process.exit(1); });
