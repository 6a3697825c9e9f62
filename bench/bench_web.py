"""Load benchmark: the search API and the search page under 32 concurrent clients.

Starts ``maillage serve`` on 127.0.0.1 (demo data: run ``make demo`` once), then runs
``wrk`` (Debian package ``wrk``) for 60 s with 32 connections on three URLs: a static
file (the baseline, in the same run), the search page and a search API query. Prints
requests per second, p95 latency, errors, and the ratio to the baseline. Loopback only,
bounded in time.

    .venv/bin/python bench/bench_web.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
import urllib.request

URLS = {
    "fichier statique (référence)": "/static/css/maillage.css",
    "page de recherche": "/recherche",
    "API recherche": "/api/v1/search?q=hopital&commune=43157&radius_km=20&sort=distance",
}
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("P95 %.3f\\n", latency:percentile(95) / 1000))
end
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--port", type=int, default=5077)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk absent : apt-get install wrk")
    server = subprocess.Popen([sys.executable, "-m", "maillage_cli.main", "serve",
                               "--port", str(args.port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(base + "/", timeout=1)  # noqa: S310 - http://127.0.0.1 only
                break
            except OSError:
                time.sleep(0.2)
        with open("/tmp/maillage-wrk.lua", "w", encoding="utf-8") as fh:
            fh.write(LUA)
        results = {}
        for label, path in URLS.items():
            out = subprocess.run([wrk, "-t2", "-c32", f"-d{args.seconds}s", "--latency",
                                  "-s", "/tmp/maillage-wrk.lua", base + path],
                                 capture_output=True, text=True, check=True).stdout
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            p95 = float(re.search(r"P95 ([\d.]+)", out).group(1))
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            socket = re.search(r"Socket errors: (.*)", out)
            results[label] = rps
            print(f"{label:<30} {rps:8.1f} req/s   p95 {p95:7.1f} ms   erreurs "
                  f"{errors.group(1) if errors else 0}{' ; ' + socket.group(1) if socket else ''}")
        ref = results["fichier statique (référence)"]
        for label, rps in list(results.items())[1:]:
            print(f"ratio {label} / référence : {rps / ref:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
