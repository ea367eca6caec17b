/* Look-alike of TikTok's pixel SDK (events.js) for the Northwind demo, our own
 * code from the wire format in shared/research/wire-formats.md §5.1: JSON
 * POSTs (text/plain, sendBeacon) to analytics.tiktok.com/api/v2/pixel with
 * context.pixel.code / context.page.url / properties, the `_ttp` cookie,
 * hashed identity in context.user, and auto-collected clicks on /api/v2/pixel/act.
 * Automatic advanced matching reads email/phone from forms; besides the
 * SHA-256 it keeps the typed email base64-encoded in `_inspection.aem` (a
 * reversible copy: the kind of thing a canary search must catch). */
(function () {
  var ttq = window.ttq;
  if (!ttq || ttq.__nwLoaded) return;
  ttq.__nwLoaded = true;
  var sha256 = __nwSha256;
  var API = 'https://analytics.tiktok.com/api/v2/pixel';
  var VERSION = '2.2.1';
  var codes = [];
  var user = {};            // context.user additions (hashed)
  var inspection = {};
  var pageviewId = 'pageId-' + Date.now() + '-' + Math.floor(Math.random() * 1e13);
  var holding = false;
  var held = [];
  var pending = Promise.resolve(); // identity hashing in flight: events wait for it

  function cookie(name) {
    var m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
    return m ? decodeURIComponent(m[1]) : null;
  }
  function setCookie(name, value, days) {
    document.cookie = name + '=' + value + '; path=/; max-age=' + days * 86400 + '; SameSite=Lax';
  }
  function ttp() {
    var v = cookie('_ttp');
    if (!v) {
      var chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
      v = '';
      for (var i = 0; i < 27; i++) v += chars[Math.floor(Math.random() * chars.length)];
      setCookie('_ttp', v, 390);
    }
    return v;
  }
  function sessionId() {
    var v = cookie('ttcsid');
    if (!v) {
      v = Date.now() + '.1.' + Date.now();
      setCookie('ttcsid', v, 1);
    }
    return v;
  }
  function b64(s) {
    var bytes = new TextEncoder().encode(s), bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin);
  }
  function normEmail(v) { return String(v || '').trim().toLowerCase(); }
  function normPhone(v) {
    var d = String(v || '').replace(/[^\d+]/g, '');
    if (!d) return '';
    if (d[0] !== '+') d = '+' + (d.length === 10 ? '1' + d : d);
    return d;
  }
  function setIdentity(raw) {
    var jobs = [];
    if (raw.email) {
      var typed = String(raw.email).trim();
      inspection.aem = b64(typed);
      jobs.push(sha256(normEmail(typed)).then(function (h) { user.email = h; }));
    }
    if (raw.phone_number || raw.phone) {
      var p = normPhone(raw.phone_number || raw.phone);
      if (p) jobs.push(sha256(p).then(function (h) { user.phone_number = h; }));
    }
    if (raw.external_id) jobs.push(sha256(String(raw.external_id)).then(function (h) { user.external_id = h; }));
    pending = Promise.all([pending].concat(jobs));
    return pending;
  }

  function context(code) {
    var u = { anonymous_id: ttp() };
    Object.keys(user).forEach(function (k) { u[k] = user[k]; });
    var m = location.search.match(/[?&]ttclid=([^&]+)/);
    return {
      ad: { sdk_env: 'external', jsb_status: 2, callback: m ? decodeURIComponent(m[1]) : '' },
      user: u,
      pixel: { code: code, runtime: '1', codes: codes.join('|') },
      page: { url: location.href, referrer: document.referrer },
      library: { name: 'pixel.js', version: VERSION },
      device: { platform: 'pc' },
      session_id: sessionId(),
      pageview_id: pageviewId,
      userAgent: navigator.userAgent
    };
  }
  function post(path, body) {
    var json = JSON.stringify(body);
    var sent = false;
    try {
      sent = navigator.sendBeacon && navigator.sendBeacon(API + path, json);
    } catch (e) { sent = false; }
    if (!sent) {
      fetch(API + path, { method: 'POST', body: json, mode: 'no-cors', keepalive: true, credentials: 'include' })
        .catch(function () {});
    }
  }
  function send(event, properties) {
    if (holding) { held.push([event, properties]); return; }
    pending.then(function () { sendNow(event, properties); });
  }
  function sendNow(event, properties) {
    codes.forEach(function (code) {
      var now = new Date();
      post('', {
        event: event,
        event_id: code + '-' + now.getTime() + '-' + Math.floor(Math.random() * 1e6),
        message_id: 'messageId-' + now.getTime() + '-' + Math.floor(Math.random() * 1e13),
        is_onsite: false,
        timestamp: now.toISOString(),
        context: context(code),
        properties: properties || {},
        _inspection: JSON.parse(JSON.stringify(inspection))
      });
    });
  }
  function sendAct(action, auto) {
    if (holding) return;
    codes.forEach(function (code) {
      post('/act', {
        action: action, auto_collected_properties: auto, context: context(code),
        properties: {}, _inspection: JSON.parse(JSON.stringify(inspection))
      });
    });
  }

  var methods = {
    load: function (code) { if (codes.indexOf(String(code)) < 0) codes.push(String(code)); },
    page: function () { send('Pageview', {}); },
    track: function (event, props) { send(String(event), props || {}); },
    identify: function (raw) { setIdentity(raw || {}); },
    holdConsent: function () { holding = true; },
    revokeConsent: function () { holding = true; held = []; },
    grantConsent: function () {
      holding = false;
      var h = held; held = [];
      h.forEach(function (e) { send(e[0], e[1]); });
    },
    instance: function () { return ttq; },
    enableCookie: function () {}, disableCookie: function () {}
  };
  /* Codes named to ttq.load before this file arrived. */
  Object.keys(ttq._i || {}).forEach(function (code) { methods.load(code); });
  var queued = Array.prototype.slice.call(ttq);
  ttq.length = 0;
  Object.keys(methods).forEach(function (name) {
    ttq[name] = function () {
      try { return methods[name].apply(null, arguments); } catch (e) { /* never break the page */ }
    };
  });
  queued.forEach(function (call) {
    var name = call[0], fn = methods[name];
    if (fn) { try { fn.apply(null, call.slice(1)); } catch (e) { /* ignored */ } }
  });

  /* Automatic advanced matching + auto click collection. */
  function fieldsOf(form) {
    return form ? Array.prototype.slice.call(form.elements) : [];
  }
  function identityFromForm(form) {
    var raw = {};
    fieldsOf(form).forEach(function (f) {
      var hint = [f.type, f.name, f.id].join(' ').toLowerCase();
      if (!f.value) return;
      if (!raw.email && (f.type === 'email' || /e-?mail/.test(hint))) raw.email = f.value;
      if (!raw.phone_number && (f.type === 'tel' || /phone|mobile/.test(hint))) raw.phone_number = f.value;
    });
    return setIdentity(raw);
  }
  function xpath(el) {
    var parts = [];
    for (; el && el.nodeType === 1 && el !== document.documentElement; el = el.parentElement) {
      var i = 1, s = el;
      while ((s = s.previousElementSibling)) if (s.tagName === el.tagName) i++;
      parts.unshift(el.tagName + '[' + i + ']');
    }
    return '/HTML/' + parts.join('/');
  }
  document.addEventListener('click', function (e) {
    var el = e.target && e.target.closest ? e.target.closest('a[href],button,input[type=submit],input[type=button],[role=button]') : null;
    if (!el || !codes.length) return;
    var attrs = {};
    ['class', 'id', 'name', 'type', 'href', 'value', 'aria-label'].forEach(function (a) {
      var v = el.getAttribute(a);
      if (v != null) attrs[a] = v;
    });
    var r = el.getBoundingClientRect();
    var form = el.form || el.closest('form');
    var ready = form ? identityFromForm(form) : Promise.resolve();
    ready.then(function () {
      sendAct('Click', {
        trigger_element: {
          tag: el.tagName, attributes: attrs,
          inner_text: (el.innerText || el.value || '').replace(/\s+/g, ' ').trim().slice(0, 100),
          xpath: xpath(el), num_child_buttons: el.querySelectorAll('button,a[href]').length,
          timestamp: new Date().toISOString(), position: { x: r.left, y: r.top }
        }
      });
    });
  }, true);
  document.addEventListener('submit', function (e) {
    if (e.target && e.target.tagName === 'FORM') identityFromForm(e.target);
  }, true);
})();
