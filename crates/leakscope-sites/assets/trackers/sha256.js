/* SHA-256 for the look-alike tags. Real tags ship their own hash code because
 * crypto.subtle exists only in secure contexts (not on plain-http pages); we
 * use crypto.subtle when it is there and this pure-JS version otherwise.
 * Round constants are derived at load time from the primes (FIPS 180-4 §4.2.2). */
var __nwSha256 = (function () {
  var K = [], H0 = [];
  (function () {
    var n = 2, found = 0;
    function frac(x) { return ((x - Math.floor(x)) * 4294967296) >>> 0; }
    while (found < 64) {
      var prime = true;
      for (var d = 2; d * d <= n; d++) { if (n % d === 0) { prime = false; break; } }
      if (prime) {
        if (found < 8) H0.push(frac(Math.pow(n, 1 / 2)));
        K.push(frac(Math.cbrt(n)));
        found++;
      }
      n++;
    }
  })();
  function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }
  function hashBytes(bytes) {
    var len = bytes.length, bitLenHi = Math.floor(len / 536870912), bitLenLo = (len * 8) >>> 0;
    var padded = new Uint8Array(((len + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[len] = 0x80;
    var end = padded.length;
    padded[end - 8] = bitLenHi >>> 24; padded[end - 7] = bitLenHi >>> 16;
    padded[end - 6] = bitLenHi >>> 8; padded[end - 5] = bitLenHi;
    padded[end - 4] = bitLenLo >>> 24; padded[end - 3] = bitLenLo >>> 16;
    padded[end - 2] = bitLenLo >>> 8; padded[end - 1] = bitLenLo;
    var h = H0.slice(), w = new Array(64);
    for (var off = 0; off < end; off += 64) {
      for (var i = 0; i < 16; i++) {
        var j = off + i * 4;
        w[i] = ((padded[j] << 24) | (padded[j + 1] << 16) | (padded[j + 2] << 8) | padded[j + 3]) >>> 0;
      }
      for (i = 16; i < 64; i++) {
        var s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        var s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (i = 0; i < 64; i++) {
        var S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        var ch = (e & f) ^ (~e & g);
        var t1 = (hh + S1 + ch + K[i] + w[i]) >>> 0;
        var S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        var maj = (a & b) ^ (a & c) ^ (b & c);
        var t2 = (S0 + maj) >>> 0;
        hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      h[0] = (h[0] + a) >>> 0; h[1] = (h[1] + b) >>> 0; h[2] = (h[2] + c) >>> 0; h[3] = (h[3] + d) >>> 0;
      h[4] = (h[4] + e) >>> 0; h[5] = (h[5] + f) >>> 0; h[6] = (h[6] + g) >>> 0; h[7] = (h[7] + hh) >>> 0;
    }
    var out = '';
    for (i = 0; i < 8; i++) out += ('00000000' + h[i].toString(16)).slice(-8);
    return out;
  }
  function toHex(buf) {
    var b = new Uint8Array(buf), s = '';
    for (var i = 0; i < b.length; i++) s += ('0' + b[i].toString(16)).slice(-2);
    return s;
  }
  /* Promise of the lowercase hex SHA-256 of the UTF-8 bytes of `str`. */
  function sha256(str) {
    var bytes = new TextEncoder().encode(String(str));
    var subtle = window.crypto && window.crypto.subtle;
    if (subtle && window.isSecureContext) {
      return subtle.digest('SHA-256', bytes).then(toHex, function () { return hashBytes(bytes); });
    }
    return Promise.resolve(hashBytes(bytes));
  }
  sha256.sync = function (str) { return hashBytes(new TextEncoder().encode(String(str))); };
  return sha256;
})();
