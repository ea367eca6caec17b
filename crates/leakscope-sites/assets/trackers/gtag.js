/* Look-alike of Google's gtag.js (GA4 only) for the Northwind demo, our own code
 * from the wire format in shared/research/wire-formats.md §4.1: reads the
 * `dataLayer` of gtag() calls, keeps the `_ga` / `_ga_<stream>` cookies, and
 * sends batched POSTs to region1.google-analytics.com/g/collect: shared
 * parameters in the URL, one event per body line (`\r\n`-separated). It also
 * does GA4's enhanced-measurement form events (form_start / form_submit with
 * the submit button's text). */
(function () {
  var dl = window.dataLayer = window.dataLayer || [];
  if (dl.__nwGtag) return;
  dl.__nwGtag = true;
  var COLLECT = 'https://region1.google-analytics.com/g/collect';
  var GTM = '45je4b10v';
  var pageLoadId = Math.floor(Math.random() * 2147483647);
  var streams = [];         // [{tid, queue:[], timer, seq, session:{sid,sct,fresh}}]
  var userProps = {};
  var consent = {};

  function cookie(name) {
    var m = document.cookie.match(new RegExp('(?:^|; )' + name.replace(/[-.]/g, '\\$&') + '=([^;]*)'));
    return m ? decodeURIComponent(m[1]) : null;
  }
  function setCookie(name, value, days) {
    document.cookie = name + '=' + value + '; path=/; max-age=' + days * 86400 + '; SameSite=Lax';
  }
  // First visit = no `_ga` cookie before this page load (GA4's `_fv`).
  var firstVisit = !cookie('_ga');
  function clientId() {
    var ga = cookie('_ga');
    var m = ga && ga.match(/^GA\d\.\d\.(\d+\.\d+)$/);
    if (m) return m[1];
    var cid = Math.floor(Math.random() * 2147483647) + '.' + Math.floor(Date.now() / 1000);
    setCookie('_ga', 'GA1.1.' + cid, 400);
    return cid;
  }
  function session(tid) {
    var name = '_ga_' + tid.replace(/^G-/, '');
    var now = Math.floor(Date.now() / 1000);
    var v = cookie(name), m = v && v.match(/^GS1\.1\.(\d+)\.(\d+)\.\d\.(\d+)/);
    var s;
    if (m && now - Number(m[3]) < 1800) s = { sid: m[1], sct: Number(m[2]), fresh: false };
    else s = { sid: String(now), sct: m ? Number(m[2]) + 1 : 1, fresh: true };
    setCookie(name, 'GS1.1.' + s.sid + '.' + s.sct + '.1.' + now + '.0.0.0', 400);
    return s;
  }
  function q(pairs) {
    return pairs.map(function (p) { return p[0] + '=' + encodeURIComponent(String(p[1])); }).join('&');
  }
  function itemParam(it) {
    var map = [['item_id', 'id'], ['item_name', 'nm'], ['item_brand', 'br'], ['item_category', 'ca'],
      ['item_variant', 'va'], ['price', 'pr'], ['quantity', 'qt'], ['coupon', 'cp']];
    return map.filter(function (m) { return it[m[0]] != null; })
      .map(function (m) { return m[1] + String(it[m[0]]).replace(/~/g, '~~'); }).join('~');
  }
  function eventPairs(name, params, stream) {
    var pairs = [['en', name]];
    if (stream.seqEvents === 0) {
      if (stream.session.fresh) pairs.push(['_ss', 1]);
      if (firstVisit) pairs.push(['_fv', 1]);
    }
    stream.seqEvents++;
    Object.keys(params || {}).forEach(function (k) {
      var v = params[k];
      if (k === 'send_to' || k === 'event_callback' || k === 'page_location' || k === 'page_title') return;
      if (k === 'items' && Array.isArray(v)) {
        v.forEach(function (it, i) { pairs.push(['pr' + (i + 1), itemParam(it)]); });
      } else if (k === 'currency') {
        pairs.push(['cu', v]);
      } else if (typeof v === 'number') {
        pairs.push(['epn.' + k, v]);
      } else if (v != null && typeof v !== 'object') {
        pairs.push(['ep.' + k, v]);
      }
    });
    Object.keys(userProps).forEach(function (k) { pairs.push(['up.' + k, userProps[k]]); });
    return pairs;
  }
  function shared(stream, params) {
    params = params || {};
    var pairs = [['v', 2], ['tid', stream.tid], ['gtm', GTM], ['_p', pageLoadId]];
    if (consent.analytics_storage || consent.ad_storage) {
      pairs.push(['gcs', 'G1' + (consent.ad_storage === 'denied' ? '0' : '1') +
        (consent.analytics_storage === 'denied' ? '0' : '1')]);
    }
    pairs.push(['cid', clientId()], ['ul', (navigator.language || 'en-us').toLowerCase()],
      ['sr', screen.width + 'x' + screen.height], ['_s', ++stream.seq],
      ['sid', stream.session.sid], ['sct', stream.session.sct], ['seg', 1],
      ['dl', params.page_location || location.href], ['dr', document.referrer],
      ['dt', params.page_title || document.title]);
    return pairs;
  }
  function flush(stream) {
    clearTimeout(stream.timer);
    stream.timer = null;
    var batch = stream.queue;
    stream.queue = [];
    if (!batch.length) return;
    var url, body;
    if (batch.length === 1) {
      url = COLLECT + '?' + q(shared(stream, batch[0].params).concat(batch[0].pairs));
      body = '';
    } else {
      url = COLLECT + '?' + q(shared(stream, batch[0].params));
      body = batch.map(function (e) { return q(e.pairs); }).join('\r\n');
    }
    var sent = false;
    try { sent = navigator.sendBeacon && navigator.sendBeacon(url, body); } catch (e) { sent = false; }
    if (!sent) {
      fetch(url, { method: 'POST', body: body, mode: 'no-cors', keepalive: true, credentials: 'include' })
        .catch(function () {});
    }
  }
  function enqueue(stream, name, params) {
    stream.queue.push({ params: params || {}, pairs: eventPairs(name, params, stream) });
    if (!stream.timer) stream.timer = setTimeout(function () { flush(stream); }, 150);
  }
  function streamFor(tid) {
    for (var i = 0; i < streams.length; i++) if (streams[i].tid === tid) return streams[i];
    return null;
  }

  function handle(args) {
    var cmd = args[0];
    if (cmd === 'config' && /^G-/.test(String(args[1]))) {
      var tid = String(args[1]);
      if (streamFor(tid)) return;
      var s = { tid: tid, queue: [], timer: null, seq: 0, seqEvents: 0, session: session(tid) };
      streams.push(s);
      var opts = args[2] || {};
      if (opts.send_page_view !== false) enqueue(s, 'page_view', opts);
    } else if (cmd === 'event') {
      var params = args[2] || {};
      var targets = params.send_to ? streams.filter(function (st) { return String(params.send_to).indexOf(st.tid) >= 0; }) : streams;
      targets.forEach(function (st) { enqueue(st, String(args[1]), params); });
    } else if (cmd === 'set' && args[1] === 'user_properties') {
      Object.keys(args[2] || {}).forEach(function (k) { userProps[k] = args[2][k]; });
    } else if (cmd === 'consent') {
      Object.keys(args[2] || {}).forEach(function (k) { consent[k] = args[2][k]; });
    }
  }
  function isArgs(a) {
    return a && typeof a === 'object' && Object.prototype.toString.call(a) === '[object Arguments]';
  }
  var origPush = dl.push;
  dl.push = function () {
    for (var i = 0; i < arguments.length; i++) {
      if (isArgs(arguments[i])) {
        try { handle(arguments[i]); } catch (e) { /* a tag never breaks the page */ }
      }
    }
    return origPush.apply(dl, arguments);
  };
  dl.slice().forEach(function (a) { if (isArgs(a)) handle(a); });

  function flushAll() { streams.forEach(flush); }
  window.addEventListener('pagehide', flushAll);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') flushAll();
  });

  /* Enhanced measurement: form interactions. */
  var started = [];
  function formParams(form) {
    return {
      form_id: form.id || '', form_name: form.getAttribute('name') || '',
      form_destination: form.action || ''
    };
  }
  document.addEventListener('focusin', function (e) {
    var form = e.target && e.target.form;
    if (!form || started.indexOf(form) >= 0 || !streams.length) return;
    started.push(form);
    var p = formParams(form);
    var first = e.target;
    p.first_field_id = first.id || '';
    p.first_field_name = first.name || '';
    p.first_field_type = first.type || '';
    streams.forEach(function (s) { enqueue(s, 'form_start', p); });
  }, true);
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!streams.length || !form || form.tagName !== 'FORM') return;
    var p = formParams(form);
    var btn = e.submitter;
    p.form_submit_text = btn ? (btn.innerText || btn.value || '').trim() : '';
    streams.forEach(function (s) { enqueue(s, 'form_submit', p); flush(s); });
  }, true);
})();
