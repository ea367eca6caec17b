#!/usr/bin/env python3
"""Blacklight vs leakscope on the same loopback pages (benchmark, not CI).

Runs The Markup's blacklight-collector and `leakscope scan` one page at a time,
each launching Debian's Chromium with the same flags, device (Blacklight's
default iPhone 13 Mini; leakscope --device mobile) and page count (one page, no
crawl), against the capture fixtures and the Northwind Pharmacy demo served on
loopback (URLs are given in full). Reports wall time per page, peak memory of the whole process tree
(sampled every 20 ms), requests captured and Meta Pixel events found. Then it
runs leakscope-browser's `overhead` example on the same pages: capture on vs a
bare navigation in the same browser.

Called by scripts/bench-blacklight.sh, which builds and installs everything.
"""
import json, os, re, subprocess, sys, tempfile, time, statistics, glob, argparse

def tree_rss_kib(pid):
    """Sum of RSS over pid and all its descendants (from /proc)."""
    children = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open(f'/proc/{d}/stat') as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f'/proc/{p}/status') as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total

def measure(cmd, env=None):
    """Runs cmd; returns (seconds, peak tree RSS MiB, stdout)."""
    # stdout goes to a file: a pipe nobody reads while the process runs
    # fills at 64 KiB and blocks a scan whose JSON is larger.
    with tempfile.TemporaryFile(mode='w+') as sink:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.DEVNULL, env=env, text=True)
        peak = 0
        while p.poll() is None:
            peak = max(peak, tree_rss_kib(p.pid))
            time.sleep(0.02)
        elapsed = time.monotonic() - t0
        sink.seek(0)
        out = sink.read()
    return elapsed, peak / 1024, out, p.returncode

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--leakscope', required=True)
    ap.add_argument('--blacklight-dir', required=True)
    ap.add_argument('--chrome', required=True)
    ap.add_argument('--port', required=True)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--overhead', help='overhead example binary')
    ap.add_argument('pages', nargs='+')
    a = ap.parse_args()
    host_rule = f'--host-resolver-rules=MAP * 127.0.0.1:{a.port}'
    # One page, loaded and left to settle (400 ms without a request, like
    # Blacklight's networkidle2), with one screenshot and the DOM kept
    # (--load-only). Blacklight also types into inputs and scrolls; leakscope's
    # own actions are off here. Both get the same flags and device.
    ls_common = ['--consent', 'none', '--max-pages', '0', '--load-only', '--device', 'mobile',
                 '--chrome', a.chrome, f'--chrome-arg={host_rule}', '--chrome-arg=--ignore-certificate-errors',
                 '--chrome-arg=--unsafely-treat-insecure-origin-as-secure=http://fixtures.test']
    # The default scan (refuse, then accept the banner, both at once) against
    # the same scan with no consent handling, one page, full default journey:
    # on a page with no banner the default must cost at most 2x.
    ls_journey = ['--max-pages', '0', '--device', 'mobile', *ls_common[ls_common.index('--chrome'):]]
    rows = []
    for page in a.pages:
        url = page
        bl_t, bl_m, ls_t, ls_m = [], [], [], []
        bl_last = ls_last = None
        for _ in range(a.runs):
            with tempfile.TemporaryDirectory() as out:
                t, m, o, rc = measure(['node', os.path.join(a.blacklight_dir, 'blacklight.js'), url, out, a.chrome, a.port],
                                      env=dict(os.environ, NODE_PATH=os.path.join(a.blacklight_dir, 'node_modules')))
                # Blacklight logs to stdout too: its result is the last JSON line.
                res = [l for l in o.splitlines() if l.startswith('{')]
                if rc == 0 and res:
                    bl_t.append(t); bl_m.append(m)
                    bl_last = json.loads(res[-1])
                else:
                    print(f'blacklight failed on {url} (exit {rc})', file=sys.stderr)
            with tempfile.TemporaryDirectory() as out:
                t, m, o, rc = measure([a.leakscope, 'scan', url, *ls_common, '--out', out, '--format', 'json'])
                if rc in (0, 1):  # 1: findings over --fail-on (none by default)
                    ls_t.append(t); ls_m.append(m)
                    doc = json.loads(o)
                    hars = glob.glob(os.path.join(out, '**', '*.har'), recursive=True)
                    reqs = sum(len(json.load(open(h))['log']['entries']) for h in hars)
                    meta = [e for e in doc.get('events', []) if e.get('vendor') == 'meta_pixel']
                    ls_last = {'requests': reqs, 'meta': meta}
        def_t, none_t, banner = [], [], None
        for _ in range(a.runs):
            for consent, times in ((None, def_t), ('none', none_t)):
                with tempfile.TemporaryDirectory() as out:
                    extra = ['--consent', consent] if consent else []
                    t, m, o, rc = measure([a.leakscope, 'scan', url, *ls_journey, *extra, '--out', out, '--format', 'json'])
                    if rc in (0, 1):
                        times.append(t)
                        if consent is None:
                            runs = json.loads(o).get('scan', {}).get('runs', [])
                            banner = any('no consent banner found' not in (r.get('consent_note') or '') for r in runs)
        # One per pixel call: Blacklight lists Meta's privacy-sandbox twin of a
        # /tr hit (same ts) as a second event; leakscope reports the call once.
        bl_calls = {(e['ev'], e.get('ts') or i) for i, e in enumerate((bl_last or {}).get('meta_events', []))}
        bl_events = sorted(ev for ev, _ in bl_calls)
        bl_raw = len((bl_last or {}).get('meta_events', []))
        ls_events = sorted(e['event'] for e in (ls_last or {}).get('meta', []))
        # Per event name: every one Blacklight saw, leakscope must have too.
        missing = sorted({e for e in bl_events if bl_events.count(e) > ls_events.count(e)})
        rows.append({
            'page': page,
            'blacklight_s': statistics.median(bl_t) if bl_t else None,
            'leakscope_s': statistics.median(ls_t) if ls_t else None,
            'blacklight_mib': max(bl_m) if bl_m else None,
            'leakscope_mib': max(ls_m) if ls_m else None,
            'blacklight_requests': (bl_last or {}).get('requests'),
            'leakscope_requests': (ls_last or {}).get('requests'),
            'blacklight_meta': bl_events,
            'blacklight_meta_listed': bl_raw,
            'leakscope_meta': ls_events,
            'missed_by_leakscope': missing,
            'post_body_meta': sum(1 for e in (ls_last or {}).get('meta', []) if e.get('method') == 'POST'),
            'default_scan_s': statistics.median(def_t) if def_t else None,
            'consent_none_scan_s': statistics.median(none_t) if none_t else None,
            'banner': banner,
        })
        print(json.dumps(rows[-1]), file=sys.stderr)
    # leakscope is built to keep one browser for a whole scan: the same pages
    # in one invocation, per page.
    batch = None
    with tempfile.TemporaryDirectory() as out:
        t, m, o, rc = measure([a.leakscope, 'scan', *a.pages, *ls_common, '--out', out, '--format', 'json'])
        if rc in (0, 1):
            batch = (t, m)
    print('| page | Blacklight s | leakscope s | speed-up | Blacklight MiB | leakscope MiB | requests BL / LS | Meta events BL / LS (POST) | missed |')
    print('|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        sp = (r['blacklight_s'] / r['leakscope_s']) if r['blacklight_s'] and r['leakscope_s'] else None
        f = lambda v, d=2: '–' if v is None else (f'{v:.{d}f}' if isinstance(v, float) else str(v))
        print(f"| `{r['page']}` | {f(r['blacklight_s'])} | {f(r['leakscope_s'])} | {f(sp,1)}× | {f(r['blacklight_mib'],0)} | "
              f"{f(r['leakscope_mib'],0)} | {f(r['blacklight_requests'])} / {f(r['leakscope_requests'])} | "
              f"{len(r['blacklight_meta'])} / {len(r['leakscope_meta'])} ({r['post_body_meta']}) | {', '.join(r['missed_by_leakscope']) or 'none'} |")
    print()
    print('Default scan (reject and accept, at once) against `--consent none`, same page, default journey, medians:')
    print()
    print('| page | banner | default s | `--consent none` s | ratio |')
    print('|---|---|---|---|---|')
    for r in rows:
        d, n = r['default_scan_s'], r['consent_none_scan_s']
        ratio = f'{d / n:.2f}×' if d and n else '–'
        fmt = lambda v: '–' if v is None else f'{v:.2f}'
        print(f"| `{r['page']}` | {'yes' if r['banner'] else 'no'} | {fmt(d)} | {fmt(n)} | {ratio} |")
    bl_total = sum(r['blacklight_s'] or 0 for r in rows)
    ls_total = sum(r['leakscope_s'] or 0 for r in rows)
    print()
    print(f'Sum over {len(rows)} pages, one process per page: Blacklight {bl_total:.2f} s, '
          f'leakscope {ls_total:.2f} s ({bl_total / ls_total:.2f}×).')
    if batch:
        print(f'leakscope, all {len(rows)} pages in one `scan` (one browser): {batch[0]:.2f} s, '
              f'{batch[0] / len(rows):.2f} s per page ({bl_total / batch[0]:.2f}× Blacklight), peak {batch[1]:.0f} MiB.')
    if a.overhead:
        print()
        print('Capture overhead over a bare navigation (same browser, fresh tab each, medians):')
        for page in a.pages:
            o = subprocess.run([a.overhead, str(max(a.runs, 5)), page],
                               capture_output=True, text=True, timeout=600)
            last = [l for l in o.stdout.splitlines() if l.strip()]
            print(f'- `{page}`: ' + (last[-1] if last else f'failed: {o.stderr[-300:]}'))

if __name__ == '__main__':
    main()
