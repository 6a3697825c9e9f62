"""Load benchmark: the search API under 32 concurrent clients, gunicorn against Flask's
development server (the baseline) in the same run.

Uses the demo database (run ``make demo`` once: it imports the real FINESS records of
43 and 63). For each server — ``maillage serve --dev`` then ``maillage serve`` (gunicorn)
— it runs ``wrk`` (Debian package ``wrk``) for 60 s with 32 connections on a static
file, the search page and three search API queries, and prints requests per second,
p50/p95/p99 latency, errors and the ratios. Loopback only, bounded in time.

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
    "fichier statique": "/static/css/maillage.css",
    "page de recherche": "/recherche",
    "API « ehpad » autour du Puy": "/api/v1/search?q=ehpad&commune=43157&radius_km=20",
    "API « centre » (mot courant)": "/api/v1/search?q=centre",
    "API commune + rayon": "/api/v1/search?commune=63113&radius_km=10",
}
LUA = """
done = function(summary, latency, requests)
  for _, p in pairs({50, 95, 99}) do
    io.write(string.format("P%d %.3f\\n", p, latency:percentile(p) / 1000))
  end
end
"""


def _wait(base: str) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/", timeout=1)  # noqa: S310 - http://127.0.0.1 only
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("le serveur ne répond pas")


def _run(wrk: str, base: str, seconds: int) -> dict[str, float]:
    results = {}
    for label, path in URLS.items():
        out = subprocess.run([wrk, "-t2", "-c32", f"-d{seconds}s", "--latency",
                              "-s", "/tmp/maillage-wrk.lua", base + path],  # noqa: S108
                             capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        pct = {p: float(re.search(rf"P{p} ([\d.]+)", out).group(1))  # type: ignore[union-attr]
               for p in (50, 95, 99)}
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sockets = re.search(r"Socket errors: (.*)", out)
        results[label] = pct[95]
        print(f"  {label:<30} {rps:8.1f} req/s   p50 {pct[50]:7.1f}   p95 {pct[95]:7.1f}   "
              f"p99 {pct[99]:7.1f} ms   erreurs {errors.group(1) if errors else 0}"
              f"{' ; ' + sockets.group(1) if sockets else ''}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--port", type=int, default=5077)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk absent : apt-get install wrk")
    with open("/tmp/maillage-wrk.lua", "w", encoding="utf-8") as fh:  # noqa: S108
        fh.write(LUA)
    base = f"http://127.0.0.1:{args.port}"
    p95: dict[str, dict[str, float]] = {}
    for name, extra in (("Flask --dev (référence)", ["--dev"]), ("gunicorn", [])):
        print(f"== {name}", flush=True)
        server = subprocess.Popen([sys.executable, "-m", "maillage_cli.main", "serve",
                                   "--port", str(args.port), *extra],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(base)
            p95[name] = _run(wrk, base, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)
    ref, new = p95["Flask --dev (référence)"], p95["gunicorn"]
    for label in URLS:
        print(f"p95 {label} : {ref[label]:.1f} → {new[label]:.1f} ms "
              f"(× {ref[label] / max(new[label], 0.001):.1f})")


if __name__ == "__main__":
    main()
