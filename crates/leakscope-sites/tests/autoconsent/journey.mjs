// Manual check, not run by cargo: drives the Northwind demo in headless Chromium
// with @duckduckgo/autoconsent injected the way the scanner does (binding
// `autoconsentSendMessage`, initResp with rules.json, eval round-trips).
// Set-up (outside the repo):
//   npm pack @duckduckgo/autoconsent@16.23.0 && tar xzf duckduckgo-autoconsent-16.23.0.tgz   # -> ./package
//   npm install puppeteer-core@23, and copy this script into that directory (ESM resolves
//   packages next to the script)
//   cargo run -p leakscope-sites --example pharmacy_demo     # prints the port
// Usage: [GPC=1] [FULL=1] node journey.mjs <port> <optIn|optOut> [autoconsent package dir]
// After the banner, walks search -> drug page + Add to cart -> refill form -> booking.
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';
const [port, action = 'optIn', pkg = './package'] = process.argv.slice(2);
const bundle = fs.readFileSync(`${pkg}/dist/autoconsent.playwright.js`, 'utf8');
const rules = JSON.parse(fs.readFileSync(`${pkg}/rules/rules.json`, 'utf8'));
const browser = await puppeteer.launch({ executablePath: '/usr/lib/chromium/chromium', headless: true,
  args: ['--no-sandbox', `--host-resolver-rules=MAP * 127.0.0.1:${port}`, '--ignore-certificate-errors'] });
const page = await browser.newPage();
if (process.env.GPC) await page.setExtraHTTPHeaders({ 'Sec-GPC': '1' });
const t0 = Date.now();
const log = (...a) => console.log(`[${String(Date.now() - t0).padStart(5)}ms]`, ...a);
page.on('request', (r) => {
  const u = new URL(r.url());
  if (u.hostname === 'northwind-pharmacy.test' && r.resourceType() !== 'document') return;
  if (/\.js$/.test(u.pathname) || u.pathname.startsWith('/signals') || u.pathname.startsWith('/gtag')) return;
  const body = r.postData() || '';
  log(r.method(), u.hostname + u.pathname, process.env.FULL ? decodeURIComponent(u.search) + '\n      BODY ' + body : (u.search + ' ' + body).slice(0, 160));
});
let done; const finished = new Promise((res) => { done = res; });
await page.exposeFunction('autoconsentSendMessage', async (msg) => {
  if (msg.type === 'init') {
    const config = { enabled: true, autoAction: action, disabledCmps: [], enablePrehide: true, enableCosmeticRules: true,
      enableGeneratedRules: true, detectRetries: 20, isMainWorld: false, prehideTimeout: 2000, enableHeuristicDetection: true, heuristicMode: 'tier2', logs: {} };
    await page.evaluate((c, r) => window.autoconsentReceiveMessage({ type: 'initResp', config: c, rules: r }), config, rules).catch(() => {});
  } else if (msg.type === 'eval') {
    let result = false; try { result = await page.evaluate(msg.code); } catch (e) {}
    await page.evaluate((id, result) => window.autoconsentReceiveMessage({ type: 'evalResp', id, result }), msg.id, result).catch(() => {});
  } else if (msg.type === 'autoconsentDone') { log('AUTOCONSENT done', msg.cmp); setTimeout(done, 1500); }
});
await page.evaluateOnNewDocument(bundle);
const base = `http://northwind-pharmacy.test:${port}`;
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
await page.goto(base + '/', { waitUntil: 'load' });
await Promise.race([finished, pause(10000)]);
log('---- search');
await page.type('#site-search', 'plan b');
await Promise.all([page.waitForNavigation(), page.click('form[role=search] button')]);
await pause(1500);
log('---- drug page');
await page.goto(base + '/drugs/levonorgestrel-1-5mg', { waitUntil: 'load' });
await pause(1000);
await page.click('[data-add-to-cart]');
await pause(1500);
log('---- refill');
await page.goto(base + '/pharmacy/refill?medication=sertraline-50mg', { waitUntil: 'load' });
await pause(500);
await page.type('#first_name', 'Jane'); await page.type('#last_name', 'Canary');
await page.type('#email', 'jane.canary+rx7@example.com'); await page.type('#phone', '(555) 555-0199');
await page.$eval('#dob', (e) => { e.value = '1990-01-15'; });
await page.type('#rx_number', 'RX-7654321'); await page.type('#notes', 'new dizziness since dose increase');
await Promise.all([page.waitForNavigation({ timeout: 10000 }), page.click('#refill-submit')]);
await pause(1500);
log('---- appointment');
await page.goto(base + '/appointments/book?service=hiv-prep-consultation', { waitUntil: 'load' });
await page.$eval('#date', (e) => { e.value = '2026-12-03'; });
await page.type('#first_name', 'Jane'); await page.type('#last_name', 'Canary');
await page.type('#email', 'jane.canary+rx7@example.com');
await Promise.all([page.waitForNavigation({ timeout: 10000 }), page.click('#book-submit')]);
await pause(1500);
await browser.close();
