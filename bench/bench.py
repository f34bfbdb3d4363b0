#!/usr/bin/env python3
"""make bench: runnel against mawk and sort | uniq -c, measured in one run.

Generates the corpora with a fixed seed (tests/helpers/gen_corpus), runs
each pipeline several times, prints a table of medians and spreads, and
writes bench/results.json so later runs can be compared.  It reports; it
never fails on a slow figure.

    python3 bench/bench.py [--build DIR] [--mb 200] [--runs 3] [--quick]
"""
import argparse, json, os, platform, socket, statistics, subprocess, sys
import tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(cmd, env=None):
    """Run a shell pipeline, return wall seconds; raise on failure."""
    t0 = time.monotonic()
    subprocess.run(["bash", "-o", "pipefail", "-c", cmd], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return time.monotonic() - t0


def timed(cmd, runs, env=None):
    times = [sh(cmd, env) for _ in range(runs)]
    return {"median_s": statistics.median(times), "min_s": min(times),
            "max_s": max(times), "runs": runs, "command": cmd}


def fmt_rate(x):
    return f"{x/1e6:.2f}M" if x >= 1e6 else f"{x/1e3:.1f}k"


def peak_rss_kb(cmd_before, stage, cmd_after):
    """Peak RSS (KiB) of one stage of a pipeline, via GNU time."""
    with tempfile.NamedTemporaryFile("r") as out:
        sh(f"{cmd_before} | /usr/bin/time -f %M -o {out.name} {stage} | {cmd_after}")
        return int(out.read().strip().splitlines()[-1])


def latency(bindir, rate, seconds):
    """p50/p99 ms of a record from a socket peer through to ssink."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    total = rate * seconds

    def feed():
        conn, _ = srv.accept()
        start = time.monotonic()
        for i in range(total):
            due = start + i / rate
            while True:
                now = time.monotonic()
                if now >= due:
                    break
                time.sleep(min(due - now, 0.0005))
            conn.sendall(b"t%d\n" % time.monotonic_ns())
        conn.close()
        srv.close()

    threading.Thread(target=feed, daemon=True).start()
    p = subprocess.Popen(
        ["bash", "-c", f"{bindir}/ssrc socket:127.0.0.1:{port} | {bindir}/ssplit"
         f" | {bindir}/scount --mode update | {bindir}/ssink - --format csv --no-header"],
        stdout=subprocess.PIPE, bufsize=0)
    lat, buf = [], b""
    while True:
        chunk = p.stdout.read(65536)
        if not chunk:
            break
        now = time.monotonic_ns()
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            if line.startswith(b"t"):
                lat.append((now - int(line.split(b",")[0][1:])) / 1e6)
    p.wait()
    lat.sort()
    if not lat:
        return {"error": "no records came through"}
    return {"records": len(lat), "sent": total, "rate_per_s": rate,
            "p50_ms": lat[len(lat) // 2], "p99_ms": lat[int(len(lat) * 0.99)],
            "max_ms": lat[-1]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="20 MB, 1 run")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results.json"))
    a = ap.parse_args()
    if a.quick:
        a.mb, a.runs = 20, 1
    b = os.path.join(ROOT, a.build, "bin")
    gen = os.path.join(ROOT, a.build, "tests", "gen_corpus")
    data = os.path.join(ROOT, "bench", "data")
    os.makedirs(data, exist_ok=True)
    words = os.path.join(data, f"words-{a.mb}mb.txt")
    events = os.path.join(data, f"events-{a.mb // 4}mb.csv")
    for path, kind, mb in ((words, "words", a.mb), (events, "events", a.mb // 4)):
        if not os.path.exists(path):
            sh(f"{gen} {kind} {mb} > {path}.tmp && mv {path}.tmp {path}")
    nwords = int(subprocess.run(["wc", "-w", words], capture_output=True,
                                text=True).stdout.split()[0])
    nevents = sum(1 for _ in open(events, "rb"))
    env = dict(os.environ, LC_ALL="C")
    res = {"machine": {"cpus": os.cpu_count(), "kernel": platform.release()},
           "corpus": {"words_file_mb": a.mb, "words": nwords, "events": nevents},
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    wc = {
        "runnel": timed(f"{b}/ssrc - < {words} | {b}/ssplit | {b}/scount --mode update"
                        f" | {b}/ssink - --format csv > /dev/null", a.runs, env),
        "mawk": timed("mawk '{for(i=1;i<=NF;i++) c[$i]++} END{for(w in c) print w, c[w]}'"
                      f" {words} > /dev/null", a.runs, env),
        "sort_uniq": timed(f"tr -s ' ' '\\n' < {words} | sort | uniq -c > /dev/null",
                           a.runs, env),
    }
    for v in wc.values():
        v["words_per_s"] = nwords / v["median_s"]
    wc["ratio_runnel_mawk"] = wc["runnel"]["median_s"] / wc["mawk"]["median_s"]
    res["wordcount"] = wc

    win = {
        "runnel": timed(f"{b}/ssrc - --format csv --schema 'ts TIMESTAMP, word STRING'"
                        f" < {events} | {b}/swindow --time ts --size 5m --watermark 10m"
                        f" | {b}/scount --mode append | {b}/ssink - --format csv > /dev/null",
                        a.runs, env),
        # mawk: the same 5-minute windows, cut from the ISO text.
        "mawk": timed("mawk -F, '{m=substr($1,15,2); w=substr($1,1,14) sprintf(\"%02d\", m-m%5);"
                      " c[w \",\" $2]++} END{for(k in c) print k, c[k]}'"
                      f" {events} > /dev/null", a.runs, env),
    }
    for k in ("runnel", "mawk"):
        win[k]["events_per_s"] = nevents / win[k]["median_s"]
    win["ratio_runnel_mawk"] = win["runnel"]["median_s"] / win["mawk"]["median_s"]
    res["windowed"] = win

    # Checkpoint overhead: the same word count from a file source, committing
    # every batch (offsets, scount state, commit, all fsynced) or not.
    wdir = os.path.join(data, f"words-{a.mb}mb.d")
    if not os.path.exists(wdir):
        os.makedirs(wdir)
        os.link(words, os.path.join(wdir, "words.txt"))
    ck = os.path.join(data, "ck")
    wc_file = (f"{b}/ssrc file:{wdir} --trigger available-now {{ck}} | {b}/ssplit"
               f" | {b}/scount --mode update | {b}/ssink - --format csv > /dev/null")
    ckr = {"without": timed(wc_file.format(ck=""), a.runs, env),
           "with": timed(f"rm -rf {ck}; " + wc_file.format(ck=f"--checkpoint {ck}"),
                         a.runs, env)}
    subprocess.run(["rm", "-rf", ck])
    ckr["overhead"] = ckr["with"]["median_s"] / ckr["without"]["median_s"] - 1
    ckr["batches"] = -(-sum(1 for _ in open(words, "rb")) // 1000000)
    res["checkpoint"] = ckr

    res["latency"] = latency(b, 10000, 3 if a.quick else 10)

    mem = {}
    gen_keys = os.path.join(ROOT, a.build, "tests", "gen_corpus") + " keys"
    base = peak_rss_kb(f"{gen_keys} 1 | {b}/ssrc -", f"{b}/scount value --mode update",
                       f"{b}/ssink - > /dev/null")
    for n in ((100000, 1000000) if a.quick else (1000000, 10000000)):
        kb = peak_rss_kb(f"{gen_keys} {n} | {b}/ssrc -", f"{b}/scount value --mode update",
                         f"{b}/ssink - > /dev/null")
        mem[str(n)] = {"peak_rss_kb": kb, "bytes_per_key": (kb - base) * 1024 / n}
    mem["baseline_rss_kb"] = base
    res["memory"] = mem

    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)

    print(f"\nrunnel bench: {a.mb} MB of Zipf words ({nwords} words), "
          f"{nevents} events, {a.runs} run(s) each, {os.cpu_count()} cores\n")
    print(f"{'benchmark':<34}{'median':>9}{'spread':>15}{'rate':>12}")
    def row(name, r, unit, n):
        print(f"{name:<34}{r['median_s']:>8.2f}s {r['min_s']:>6.2f}-{r['max_s']:<6.2f}"
              f"{fmt_rate(n / r['median_s']):>10}/s {unit}")
    row("word count: runnel", wc["runnel"], "words", nwords)
    row("word count: mawk", wc["mawk"], "words", nwords)
    row("word count: tr|sort|uniq -c", wc["sort_uniq"], "words", nwords)
    print(f"{'  ratio runnel/mawk':<34}{wc['ratio_runnel_mawk']:>8.2f}   (target < 1.0)")
    row("5-min windows, append: runnel", win["runnel"], "events", nevents)
    row("5-min windows: mawk", win["mawk"], "events", nevents)
    print(f"{'  ratio runnel/mawk':<34}{win['ratio_runnel_mawk']:>8.2f}")
    row("word count, file source", ckr["without"], "words", nwords)
    row("  ... --checkpoint every batch", ckr["with"], "words", nwords)
    print(f"{'  checkpoint overhead':<34}{ckr['overhead']*100:>7.1f}%   ({ckr['batches']} batches;"
          f" target < 10 %)")
    L = res["latency"]
    if "p50_ms" in L:
        print(f"{'latency socket->ssink @10k/s':<34}p50 {L['p50_ms']:.2f} ms, p99 {L['p99_ms']:.2f} ms"
              f" (target p99 < 5 ms), {L['records']}/{L['sent']} records")
    else:
        print(f"latency: {L}")
    for n, m in mem.items():
        if n != "baseline_rss_kb":
            print(f"{'scount memory, ' + n + ' keys':<34}{m['peak_rss_kb']/1024:>8.1f} MiB"
                  f"  {m['bytes_per_key']:.0f} bytes/key (target < 100)")
    print(f"\nresults written to {os.path.relpath(a.out, ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
