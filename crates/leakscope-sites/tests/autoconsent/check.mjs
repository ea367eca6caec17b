// Manual check, not run by cargo: drives the Northwind demo in headless Chromium
// with @duckduckgo/autoconsent injected the way the scanner does (binding
// `autoconsentSendMessage`, initResp with rules.json, eval round-trips).
// Set-up (outside the repo):
//   npm pack @duckduckgo/autoconsent@16.23.0 && tar xzf duckduckgo-autoconsent-16.23.0.tgz   # -> ./package
//   npm install puppeteer-core@23, and copy this script into that directory (ESM resolves
//   packages next to the script)
//   cargo run -p leakscope-sites --example pharmacy_demo     # prints the port
// Usage: node check.mjs <port> <optOut|optIn|none> [path] [autoconsent package dir]
// Prints cmpDetected / popupFound / optOutResult / selfTestResult and tracker requests.
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';

const [port, action = 'optOut', path = '/', pkg = './package'] = process.argv.slice(2);
const bundle = fs.readFileSync(`${pkg}/dist/autoconsent.playwright.js`, 'utf8');
const rules = JSON.parse(fs.readFileSync(`${pkg}/rules/rules.json`, 'utf8'));
const extraArgs = (process.env.EXTRA_ARGS || '').split(' ').filter(Boolean);
const browser = await puppeteer.launch({
  executablePath: '/usr/lib/chromium/chromium', headless: true,
  args: ['--no-sandbox', `--host-resolver-rules=MAP * 127.0.0.1:${port}`, '--ignore-certificate-errors', ...extraArgs],
});
const page = await browser.newPage();
const t0 = Date.now();
const log = (...a) => console.log(`[${String(Date.now() - t0).padStart(5)}ms]`, ...a);
page.on('request', (r) => {
  const u = new URL(r.url());
  if (u.hostname !== 'northwind-pharmacy.test') {
    let body = r.postData() || '';
    log('REQ', r.method(), u.hostname + u.pathname, (u.search + ' ' + body).slice(0, 400));
  }
});
page.on('console', (m) => { if (m.type() === 'error') log('console', m.text()); });
let done;
const finished = new Promise((res) => { done = res; });
await page.exposeFunction('autoconsentSendMessage', async (msg) => {
  if (msg.type === 'init') {
    const config = { enabled: true, autoAction: action === 'none' ? null : action, disabledCmps: [], enablePrehide: true,
      enableCosmeticRules: true, enableGeneratedRules: true, detectRetries: 20, isMainWorld: false, prehideTimeout: 2000,
      enableHeuristicDetection: true, heuristicMode: 'tier2', logs: { lifecycle: false, rulesteps: false, evals: false, errors: true, messages: false } };
    await page.evaluate((c, r) => window.autoconsentReceiveMessage({ type: 'initResp', config: c, rules: r }), config, rules).catch(() => {});
  } else if (msg.type === 'eval') {
    let result = false;
    try { result = await page.evaluate(msg.code); } catch (e) { result = false; }
    await page.evaluate((id, result) => window.autoconsentReceiveMessage({ type: 'evalResp', id, result }), msg.id, result).catch(() => {});
  } else {
    log('AUTOCONSENT', JSON.stringify(msg).slice(0, 300));
    if (msg.type === 'autoconsentDone' || msg.type === 'autoconsentError' || (msg.type === 'optOutResult' && !msg.result) || (msg.type === 'optInResult' && !msg.result)) setTimeout(done, 2500);
    if (msg.type === 'selfTestResult') log('SELFTEST', msg.result);
    if ((msg.type === 'optOutResult' || msg.type === 'optInResult') && msg.scheduleSelfTest) {
      setTimeout(() => page.evaluate(() => window.autoconsentReceiveMessage({ type: 'selfTest' })).catch(() => {}), 500);
    }
  }
});
await page.evaluateOnNewDocument(bundle);
await page.goto(`http://northwind-pharmacy.test:${port}${path}`, { waitUntil: 'load' });
if (action === 'none') setTimeout(done, 3000);
await Promise.race([finished, new Promise((r) => setTimeout(r, 20000))]);
log('cookies', (await page.cookies()).map((c) => c.name + '=' + c.value.slice(0, 60)).join(' | '));
log('OnetrustActiveGroups', await page.evaluate(() => window.OnetrustActiveGroups));
if (process.env.NAV) {
  await page.goto(`http://northwind-pharmacy.test:${port}${process.env.NAV}`, { waitUntil: 'load' });
  await new Promise((r) => setTimeout(r, 2000));
}
await browser.close();
