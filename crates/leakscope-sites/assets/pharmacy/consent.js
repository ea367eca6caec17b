/* Northwind's consent banner: a look-alike of the OneTrust CMP (our own code).
 * The DOM ids and classes are OneTrust's, so @duckduckgo/autoconsent's built-in
 * "Onetrust" rule detects it (#onetrust-banner-sdk), opts out
 * (#onetrust-reject-all-handler), opts in (#onetrust-accept-btn-handler) and
 * self-tests (window.OnetrustActiveGroups holds at most one group after a
 * rejection).
 *
 * Like OneTrust's auto-blocking, tags are written as
 * <script type="text/plain" class="optanon-category-C000N"> and switched on
 * only when every named group is allowed. Groups: C0001 strictly necessary,
 * C0002 performance (GA4), C0003 functional, C0004 targeting (Meta, TikTok).
 * A gated script that also carries `data-gpc-optout` stays off while Global
 * Privacy Control is on (navigator.globalPrivacyControl, or the Sec-GPC header
 * the server saw, reflected as <html data-gpc="1">).
 * State lives in the OptanonConsent / OptanonAlertBoxClosed cookies. */
(function () {
  var ALL = ['C0001', 'C0002', 'C0003', 'C0004'];
  var NAMES = {
    C0001: 'Strictly Necessary Cookies', C0002: 'Performance Cookies',
    C0003: 'Functional Cookies', C0004: 'Targeting Cookies'
  };

  function cookie(name) {
    var m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
    return m ? m[1] : null;
  }
  function gpcOn() {
    return navigator.globalPrivacyControl === true ||
      document.documentElement.getAttribute('data-gpc') === '1';
  }
  /* {C0001:true, ...} from the cookie, or null when the visitor never chose. */
  function stored() {
    var v = cookie('OptanonConsent');
    if (!v || !cookie('OptanonAlertBoxClosed')) return null;
    var m = v.match(/(?:^|&)groups=([^&]*)/);
    if (!m) return null;
    var g = {};
    decodeURIComponent(m[1]).split(',').forEach(function (pair) {
      var kv = pair.split(':');
      if (ALL.indexOf(kv[0]) >= 0) g[kv[0]] = kv[1] === '1';
    });
    g.C0001 = true;
    return g;
  }
  function activeString(g) {
    return ',' + ALL.filter(function (k) { return g[k]; }).join(',') + ',';
  }

  var groups = stored();
  window.OnetrustActiveGroups = groups ? activeString(groups) : ',C0001,';
  window.OptanonActiveGroups = window.OnetrustActiveGroups;

  /* Runs gated scripts whose groups are all allowed, in document order. */
  function activate(g) {
    var scripts = document.querySelectorAll('script[type="text/plain"][class*="optanon-category-"]');
    Array.prototype.forEach.call(scripts, function (old) {
      if (old.getAttribute('data-ot-activated')) return;
      var needed = (old.className.match(/optanon-category-(C\d{4})/g) || [])
        .map(function (c) { return c.replace('optanon-category-', ''); });
      if (!needed.every(function (k) { return g[k]; })) return;
      if (old.hasAttribute('data-gpc-optout') && gpcOn()) return;
      old.setAttribute('data-ot-activated', '1');
      var s = document.createElement('script');
      for (var i = 0; i < old.attributes.length; i++) {
        var a = old.attributes[i];
        if (a.name !== 'type' && a.name !== 'data-ot-activated') s.setAttribute(a.name, a.value);
      }
      s.type = 'text/javascript';
      if (old.src) s.async = false; else s.text = old.text;
      old.parentNode.insertBefore(s, old.nextSibling);
    });
  }

  function save(g) {
    g.C0001 = true;
    var now = new Date();
    var value = [
      'isGpcEnabled=' + (gpcOn() ? 1 : 0),
      'datestamp=' + encodeURIComponent(now.toString()),
      'version=202409.1.0', 'isIABGlobal=false', 'hosts=',
      'consentId=' + Math.random().toString(16).slice(2) + '-nw',
      'interactionCount=1', 'landingPath=NotLandingPage',
      'groups=' + encodeURIComponent(ALL.map(function (k) { return k + ':' + (g[k] ? 1 : 0); }).join(',')),
      'AwaitingReconsent=false'
    ].join('&');
    // Raw `k=v&k=v` like the real cookie; values inside are URI-encoded.
    document.cookie = 'OptanonConsent=' + value + '; path=/; max-age=31536000; SameSite=Lax';
    document.cookie = 'OptanonAlertBoxClosed=' + now.toISOString() + '; path=/; max-age=31536000; SameSite=Lax';
    groups = g;
    window.OnetrustActiveGroups = activeString(g);
    window.OptanonActiveGroups = window.OnetrustActiveGroups;
    (window.dataLayer = window.dataLayer || []).push({ event: 'OneTrustGroupsUpdated', OnetrustActiveGroups: window.OnetrustActiveGroups });
    close();
    activate(g);
    try { window.OptanonWrapper && window.OptanonWrapper(); } catch (e) { /* site hook */ }
  }
  function close() {
    var b = document.getElementById('onetrust-banner-sdk');
    if (b) b.remove();
    var pc = document.getElementById('onetrust-pc-sdk');
    if (pc) pc.style.display = 'none';
    var f = document.querySelector('.onetrust-pc-dark-filter');
    if (f) f.style.display = 'none';
  }
  function all(on) {
    var g = {};
    ALL.forEach(function (k) { g[k] = on || k === 'C0001'; });
    return g;
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { e.appendChild(c); });
    return e;
  }
  function openSettings() {
    var pc = document.getElementById('onetrust-pc-sdk');
    if (!pc) return;
    pc.style.display = 'block';
    document.querySelector('.onetrust-pc-dark-filter').style.display = 'block';
  }
  function build(withBanner) {
    var sdk = el('div', { id: 'onetrust-consent-sdk' });
    var filter = el('div', { 'class': 'onetrust-pc-dark-filter ot-fade-in' });
    filter.style.display = 'none';
    sdk.appendChild(filter);
    if (withBanner) {
      var banner = el('div', { id: 'onetrust-banner-sdk', 'class': 'otFlat ot-bottom', role: 'region', 'aria-label': 'Cookie banner', tabindex: '0' }, [
        el('div', { role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'onetrust-policy-title', 'aria-describedby': 'onetrust-policy-text' }, [
          el('div', { id: 'onetrust-group-container' }, [
            el('div', { id: 'onetrust-policy' }, [
              el('h2', { id: 'onetrust-policy-title', text: 'We value your privacy' }),
              el('p', { id: 'onetrust-policy-text', text: 'Northwind Pharmacy and our partners use cookies to run this site, measure its use and show you relevant ads. Choose \u201cAccept All Cookies\u201d to allow all of them, \u201cReject All\u201d to allow only the ones the site needs, or open Cookie Settings.' })
            ])
          ]),
          el('div', { id: 'onetrust-button-group-parent' }, [
            el('div', { id: 'onetrust-button-group' }, [
              el('button', { id: 'onetrust-pc-btn-handler', type: 'button', 'class': 'cookie-setting-link', text: 'Cookie Settings' }),
              el('button', { id: 'onetrust-reject-all-handler', type: 'button', text: 'Reject All' }),
              el('button', { id: 'onetrust-accept-btn-handler', type: 'button', text: 'Accept All Cookies' })
            ])
          ])
        ])
      ]);
      sdk.appendChild(banner);
    }
    var cats = ALL.map(function (k) {
      var input = el('input', { type: 'checkbox', id: 'ot-group-id-' + k, 'class': 'category-switch-handler', 'data-optanongroupid': k, 'aria-labelledby': 'ot-header-id-' + k });
      input.checked = groups ? !!groups[k] : true;
      if (k === 'C0001') { input.disabled = true; input.checked = true; }
      return el('div', { 'class': 'ot-accordion-layout ot-cat-item', 'data-optanongroupid': k }, [
        el('label', { 'for': 'ot-group-id-' + k }, [input, el('span', { id: 'ot-header-id-' + k, text: ' ' + NAMES[k] })])
      ]);
    });
    var pc = el('div', { id: 'onetrust-pc-sdk', 'class': 'otPcCenter', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'ot-pc-title' }, [
      el('h2', { id: 'ot-pc-title', text: 'Privacy Preference Center' }),
      el('div', { id: 'ot-pc-content' }, cats),
      el('div', { 'class': 'ot-pc-footer' }, [
        el('button', { id: 'accept-recommended-btn-handler', type: 'button', text: 'Allow All' }),
        el('button', { 'class': 'ot-pc-refuse-all-handler', type: 'button', text: 'Reject All' }),
        el('button', { 'class': 'save-preference-btn-handler onetrust-close-btn-handler', type: 'button', text: 'Confirm My Choices' })
      ])
    ]);
    pc.style.display = 'none';
    sdk.appendChild(pc);
    document.body.appendChild(sdk);

    sdk.addEventListener('click', function (e) {
      var t = e.target.closest('button');
      if (!t) return;
      if (t.id === 'onetrust-accept-btn-handler' || t.id === 'accept-recommended-btn-handler') save(all(true));
      else if (t.id === 'onetrust-reject-all-handler' || t.classList.contains('ot-pc-refuse-all-handler')) save(all(false));
      else if (t.id === 'onetrust-pc-btn-handler') openSettings();
      else if (t.classList.contains('save-preference-btn-handler')) {
        var g = {};
        Array.prototype.forEach.call(pc.querySelectorAll('input.category-switch-handler'), function (i) {
          g[i.getAttribute('data-optanongroupid')] = i.checked;
        });
        save(g);
      }
    });
  }

  function start() {
    build(!groups);
    if (groups) activate(groups);
    document.addEventListener('click', function (e) {
      var t = e.target.closest && e.target.closest('.ot-sdk-show-settings');
      if (t) { e.preventDefault(); openSettings(); }
    });
  }
  window.OneTrust = {
    AllowAll: function () { save(all(true)); },
    RejectAll: function () { save(all(false)); },
    ToggleInfoDisplay: openSettings,
    IsAlertBoxClosed: function () { return !!cookie('OptanonAlertBoxClosed'); }
  };
  // A delayed platform (data-delay-ms on the script tag) shows its banner late.
  var me = document.currentScript;
  var delay = (me && parseInt(me.getAttribute('data-delay-ms'), 10)) || 0;
  function go() { if (delay > 0) setTimeout(start, delay); else start(); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', go);
  else go();
})();
