/* Look-alike of Meta's fbevents.js for the Northwind demo (our own code, written
 * from the wire format in shared/research/wire-formats.md §2). It reproduces
 * what matters for leak detection: `/tr` hits with id/ev/dl/rl/cd[...]/ud[...],
 * the `_fbp` cookie, automatic events (SubscribedButtonClick with
 * buttonText/buttonFeatures/formFeatures, Microdata) and automatic advanced
 * matching (SHA-256 of normalised form values). Transport: image GET below
 * 2048 URL characters, otherwise a hidden-iframe form POST (rqm=formPOST). */
(function () {
  var fbq = window.fbq;
  if (!fbq || fbq.__nwLoaded) return;
  fbq.__nwLoaded = true;
  var sha256 = __nwSha256;
  var VERSION = '2.9.176';
  var TR = 'https://www.facebook.com/tr/';
  var SANDBOX = 'https://www.facebook.com/privacy_sandbox/pixel/register/trigger/';
  var initTs = Date.now();
  var pixels = [];          // [{id, ud:{}, ec:0}]
  var config = {};          // pixel id -> config from signals/config
  var aam = {};             // match key -> hash, from automatic advanced matching
  var consentRevoked = false;
  var held = [];
  var pending = Promise.resolve(); // matching hashes in flight: events wait for them

  function cookie(name) {
    var m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
    return m ? decodeURIComponent(m[1]) : null;
  }
  function setCookie(name, value, days) {
    document.cookie = name + '=' + value + '; path=/; max-age=' + days * 86400 + '; SameSite=Lax';
  }
  function fbp() {
    var v = cookie('_fbp');
    if (!v) {
      v = 'fb.1.' + Date.now() + '.' + Math.floor(Math.random() * 2147483647);
      setCookie('_fbp', v, 90);
    }
    return v;
  }
  function fbc() {
    var m = location.search.match(/[?&]fbclid=([^&]+)/);
    if (m) setCookie('_fbc', 'fb.1.' + Date.now() + '.' + m[1], 90);
    return cookie('_fbc');
  }

  /* Normalisation before hashing, per key (Meta advanced matching rules). */
  function normalise(key, v) {
    v = String(v == null ? '' : v).trim();
    if (!v) return '';
    switch (key) {
      case 'em': v = v.toLowerCase(); return /.+@.+\..+/.test(v) ? v : '';
      case 'ph': return v.replace(/\D/g, '').replace(/^0+/, '');
      case 'fn': case 'ln': case 'ct':
        return v.toLowerCase().replace(/[\s\u0021-\u002f\u003a-\u0040\u005b-\u0060\u007b-\u007e]/g, '');
      case 'db': {
        var m = v.match(/^(\d{4})-(\d{2})-(\d{2})$/) || null;
        if (m) return m[1] + m[2] + m[3];
        m = v.match(/^(\d{1,2})\/(\d{1,2})\/(\d{4})$/);
        return m ? m[3] + ('0' + m[1]).slice(-2) + ('0' + m[2]).slice(-2) : v.replace(/\D/g, '');
      }
      case 'zp': return v.toLowerCase().split('-')[0].replace(/\s/g, '');
      default: return v.toLowerCase();
    }
  }
  function hashUserData(obj) {
    var keys = Object.keys(obj || {}), out = {};
    return Promise.all(keys.map(function (k) {
      var v = obj[k];
      if (/^[0-9a-f]{64}$/.test(String(v))) { out[k] = v; return null; }
      var n = normalise(k, v);
      if (!n) return null;
      return sha256(n).then(function (h) { out[k] = h; });
    })).then(function () { return out; });
  }

  function enc(v) {
    if (v !== null && typeof v === 'object') v = JSON.stringify(v);
    return encodeURIComponent(String(v));
  }
  /* Keys are not encoded, values are (like the real serialiser). */
  function serialise(params) {
    return params.map(function (p) { return p[0] + '=' + enc(p[1]); }).join('&');
  }

  function transmit(params, automatic) {
    var get = params.concat([['rqm', 'GET']]);
    var url = TR + '?' + serialise(get);
    if (url.length < 2048) {
      var img = new Image();
      img.referrerPolicy = 'origin';
      img.src = url;
      if (!automatic) {
        // The Attribution-Reporting twin: same parameters, forced GET.
        var twin = SANDBOX + '?' + serialise(params.concat([['rqm', 'FGET']]));
        try {
          fetch(twin, { mode: 'no-cors', credentials: 'include', keepalive: true }).catch(function () {});
        } catch (e) { /* old browsers: no twin */ }
      }
      return;
    }
    var post = params.concat([['rqm', 'formPOST']]);
    var name = 'fb' + Math.random().toString(36).slice(2);
    var frame = document.createElement('iframe');
    frame.name = name;
    frame.style.display = 'none';
    frame.setAttribute('aria-hidden', 'true');
    var form = document.createElement('form');
    form.method = 'POST';
    form.action = TR;
    form.target = name;
    form.style.display = 'none';
    post.forEach(function (p) {
      var input = document.createElement('input');
      input.type = 'hidden';
      input.name = p[0];
      input.value = (p[1] !== null && typeof p[1] === 'object') ? JSON.stringify(p[1]) : String(p[1]);
      form.appendChild(input);
    });
    (document.body || document.documentElement).appendChild(frame);
    (document.body || document.documentElement).appendChild(form);
    form.submit();
    setTimeout(function () { form.remove(); frame.remove(); }, 5000);
  }

  function fire(px, ev, cd, opts) {
    opts = opts || {};
    if (consentRevoked) { held.push([px, ev, cd, opts]); return; }
    pending.then(function () { fireNow(px, ev, cd, opts); });
  }
  function fireNow(px, ev, cd, opts) {
    var ud = {};
    Object.keys(px.ud).forEach(function (k) { ud[k] = px.ud[k]; });
    Object.keys(aam).forEach(function (k) { ud[k] = aam[k]; }); // automatic matching wins
    Object.keys(opts.ud || {}).forEach(function (k) { ud[k] = opts.ud[k]; });
    var params = [
      ['id', px.id], ['ev', ev], ['dl', location.href], ['rl', document.referrer],
      ['if', window.top !== window], ['ts', Date.now()]
    ];
    Object.keys(cd || {}).forEach(function (k) { params.push(['cd[' + k + ']', cd[k]]); });
    Object.keys(ud).forEach(function (k) { params.push(['ud[' + k + ']', ud[k]]); });
    params.push(['sw', screen.width], ['sh', screen.height], ['v', VERSION], ['r', 'stable'],
      ['ec', px.ec++], ['o', 4126], ['fbp', fbp()]);
    var c = fbc();
    if (c) params.push(['fbc', c]);
    if (opts.eventID) params.push(['eid', opts.eventID]);
    params.push(['it', initTs], ['coo', false], ['pmd[title]', document.title]);
    if (opts.automatic) params.push(['es', 'automatic'], ['tm', 3]);
    transmit(params, !!opts.automatic);
  }

  function track(ev, cd, opts) {
    pixels.forEach(function (px) { fire(px, ev, cd, opts); });
  }

  var commands = {
    init: function (id, userData) {
      if (pixels.some(function (p) { return p.id === String(id); })) return;
      var px = { id: String(id), ud: {}, ec: 0 };
      pixels.push(px);
      var job = hashUserData(userData).then(function (h) { px.ud = h; });
      pending = Promise.all([pending, job]);
      // Pixel configuration (automatic events / matching switches), as the real tag fetches it.
      var s = document.createElement('script');
      s.async = true;
      s.src = 'https://connect.facebook.net/signals/config/' + encodeURIComponent(id) + '?v=' + VERSION +
        '&r=stable&domain=' + encodeURIComponent(location.hostname);
      (document.head || document.documentElement).appendChild(s);
    },
    track: function (ev, cd, opts) { track(ev, cd, opts); },
    trackCustom: function (ev, cd, opts) { track(ev, cd, opts); },
    trackSingle: function (id, ev, cd, opts) {
      pixels.forEach(function (px) { if (px.id === String(id)) fire(px, ev, cd, opts); });
    },
    consent: function (what) {
      if (what === 'revoke') consentRevoked = true;
      if (what === 'grant') {
        consentRevoked = false;
        var h = held; held = [];
        h.forEach(function (e) { fire(e[0], e[1], e[2], e[3]); });
      }
    },
    set: function () {},
    dataProcessingOptions: function () {}
  };

  fbq.callMethod = function () {
    var args = Array.prototype.slice.call(arguments);
    var cmd = commands[args[0]];
    if (cmd) {
      try { cmd.apply(null, args.slice(1)); } catch (e) { /* a tag never breaks the page */ }
    }
  };
  /* Called by the signals/config script. */
  fbq.__nwConfig = function (id, cfg) {
    config[String(id)] = cfg || {};
  };
  function autoEnabled(what) {
    return pixels.some(function (px) {
      var c = config[px.id];
      return !c || c[what] !== false;
    });
  }

  var queue = fbq.queue || [];
  fbq.queue = [];
  queue.forEach(function (args) { fbq.callMethod.apply(null, Array.prototype.slice.call(args)); });

  /* ---- automatic events ---- */
  var BUTTONS = 'a[href],button,input[type=submit],input[type=button],input[type=image],[role=button]';
  function text(el) {
    var t = (el.innerText || el.textContent || el.value || '').replace(/\s+/g, ' ').trim();
    return t.slice(0, 100);
  }
  function buttonFeatures(el) {
    var form = el.form || el.closest('form');
    var dest = el.href || (form ? form.action : '') || '';
    return {
      classList: el.className && el.className.baseVal === undefined ? el.className : '',
      destination: dest,
      id: el.id || '',
      imageUrl: el.tagName === 'INPUT' && el.type === 'image' ? el.src : '',
      innerText: text(el),
      numChildButtons: el.querySelectorAll(BUTTONS).length,
      tag: el.tagName.toLowerCase(),
      type: el.getAttribute('type'),
      name: el.getAttribute('name') || '',
      value: el.value || ''
    };
  }
  function formFields(form) {
    if (!form) return [];
    return Array.prototype.filter.call(form.elements, function (f) {
      return /^(INPUT|SELECT|TEXTAREA)$/.test(f.tagName) &&
        !/^(hidden|submit|button|image|reset)$/.test(f.type);
    });
  }
  function formFeatures(form) {
    return formFields(form).map(function (f) {
      return {
        id: f.id || '', name: f.name || '', tag: f.tagName.toLowerCase(),
        inputType: f.type || '', placeholder: f.getAttribute('placeholder') || '',
        valueMeaning: f.value ? 'nonempty' : 'empty'
      };
    });
  }
  /* Which match key a field carries, from its type/name/id/autocomplete. */
  function matchKey(f) {
    var hint = [f.type, f.name, f.id, f.getAttribute('autocomplete')].join(' ').toLowerCase();
    if (f.type === 'email' || /e-?mail/.test(hint)) return 'em';
    if (f.type === 'tel' || /phone|mobile|\btel\b/.test(hint)) return 'ph';
    if (/first.?name|given.?name|fname/.test(hint)) return 'fn';
    if (/last.?name|family.?name|surname|lname/.test(hint)) return 'ln';
    if (/\bdob\b|birth|bday/.test(hint)) return 'db';
    if (/postal|zip/.test(hint)) return 'zp';
    return null;
  }
  function matchFromForm(form) {
    var raw = {};
    formFields(form).forEach(function (f) {
      var k = matchKey(f);
      if (k && f.value && !raw[k]) raw[k] = f.value;
    });
    var job = hashUserData(raw).then(function (h) {
      Object.keys(h).forEach(function (k) { aam[k] = h[k]; });
      return h;
    });
    pending = Promise.all([pending, job]);
    return job;
  }

  document.addEventListener('click', function (e) {
    var el = e.target && e.target.closest ? e.target.closest(BUTTONS) : null;
    if (!el || !pixels.length || !autoEnabled('buttonClick')) return;
    var form = el.form || el.closest('form');
    var cd = {
      buttonFeatures: buttonFeatures(el),
      buttonText: text(el),
      formFeatures: formFeatures(form),
      pageFeatures: { title: document.title },
      parameters: []
    };
    var ready = form && autoEnabled('automaticMatching') ? matchFromForm(form) : Promise.resolve({});
    ready.then(function (ud) {
      pixels.forEach(function (px) { fire(px, 'SubscribedButtonClick', cd, { automatic: true, ud: ud }); });
    });
  }, true);

  /* Microdata: page metadata the real tag scrapes a moment after load. */
  function microdata() {
    if (!pixels.length || !autoEnabled('microdata')) return;
    var meta = { title: document.title };
    var og = {};
    document.querySelectorAll('meta[name],meta[property]').forEach(function (m) {
      var n = m.getAttribute('name') || m.getAttribute('property');
      if (/^(og|twitter):/.test(n)) og[n] = m.content;
      else if (/^(description|keywords)$/.test(n)) meta['meta:' + n] = m.content;
    });
    var ld = [];
    document.querySelectorAll('script[type="application/ld+json"]').forEach(function (s) {
      try { ld.push(JSON.parse(s.textContent)); } catch (e) { /* ignored like the real tag */ }
    });
    var cd = {
      DataLayer: (window.dataLayer || []).filter(function (x) { return Object.prototype.toString.call(x) === "[object Object]"; }),
      Meta: meta, OpenGraph: og, 'Schema.org': [], 'JSON-LD': ld
    };
    pixels.forEach(function (px) { fire(px, 'Microdata', cd, { automatic: true }); });
  }
  setTimeout(microdata, 500);
})();
