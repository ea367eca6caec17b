// Runs The Markup's blacklight-collector (npm, GPL-3.0; installed by
// scripts/bench-blacklight.sh into a scratch directory, never vendored) on one
// URL with Debian's Chromium and prints one JSON line of what it found.
// Usage: node blacklight.js URL OUTDIR CHROME PORT
const { collect } = require('@themarkup/blacklight-collector');
const fs = require('fs');
const [url, outDir, chrome, port] = process.argv.slice(2);
(async () => {
  const t0 = Date.now();
  const r = await collect(url, {
    outDir, numPages: 1, headless: true, captureHar: true, saveScreenshots: true,
    defaultTimeout: 15000,
    puppeteerExecutablePath: chrome,
    extraChromiumArgs: ['--no-sandbox', '--disable-gpu', `--host-resolver-rules=MAP * 127.0.0.1:${port}`,
      '--ignore-certificate-errors'],
  });
  let requests = 0;
  try { requests = JSON.parse(fs.readFileSync(`${outDir}/requests.har`)).log.entries.length; } catch (e) {}
  const fb = (r.reports && r.reports.fb_pixel_events) || [];
  console.log(JSON.stringify({
    ms: Date.now() - t0, status: r.status, requests,
    // Blacklight reads pixel events from GET query strings only (parser.js
    // reportFbPixelEvents): POST bodies and Microdata are not counted.
    meta_events: fb.map(e => ({ ev: e.eventName, page: e.pageUrl || null })),
  }));
})().catch(e => { console.error('blacklight failed:', e && e.message); process.exit(1); });
