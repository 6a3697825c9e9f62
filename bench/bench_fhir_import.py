"""Benchmark: import the national FINESS FHIR extract (95,333 establishments, 10 archives).

Each phase runs in its own process so that its peak memory (``ru_maxrss``) is its own:

* ``read-43-63`` / ``read-france``: stream the records only (no database);
* ``import-43-63`` / ``import-france``: read and write them into ``DATABASE_URL`` in one
  transaction, **rolled back** at the end (the benchmark leaves the database as it was).

The 43 + 63 file (1,446 establishments) is the baseline of the same run: the national
import is reported as a ratio of time per establishment. Only the communes loaded in the
database get a commune (the others are counted « hors des communes chargées »).

Usage: ``python bench/bench_fhir_import.py [--read-only]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _inputs() -> dict[str, Path]:
    from geo import settings

    finess = settings.data_dir() / "finess"
    return {"43-63": finess / "finess-20210108-fhir-43-63.ndjson",
            "france": finess / "fhir-20210108-france"}


def phase(name: str) -> dict[str, float]:
    """Run one phase in this process; return its measures."""
    from directory.fhir import FhirReader
    from directory.store import StreamResult, sync_categories, upsert
    from directory.taxonomy import load_categories

    kind, which = name.split("-", 1)
    categories = load_categories()
    reader = FhirReader(_inputs()[which], known_categories=frozenset(c.code for c in categories))
    start = time.perf_counter()
    out: dict[str, float] = {}
    if kind == "read":
        out["records"] = sum(1 for _ in reader.records())
    else:
        from sqlalchemy import text

        from geo.db import get_engine

        engine = get_engine()
        with engine.connect() as conn:
            transaction = conn.begin()
            from sqlalchemy.orm import Session

            session = Session(bind=conn)
            # Start from an empty directory (inside the transaction, rolled back below), so
            # that both phases measure creations, not « unchanged » records.
            session.execute(text("DELETE FROM structures"))
            sync_categories(session, categories)
            report = upsert(session, StreamResult(reader.records(), reader.rejections,
                                                  reader.metadata), source_label="bench")
            session.flush()
            out["records"] = len(report.created) + len(report.merged) + len(report.updated) \
                + len(report.unchanged)
            out["outside_communes"] = len(report.outside_communes)
            out["rejected_store"] = sum(not r.kept for r in report.rejected) \
                - sum(not r.kept for r in reader.rejections)
            transaction.rollback()
    out["seconds"] = time.perf_counter() - start
    out["rejected"] = sum(not r.kept for r in reader.rejections)
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--read-only", action="store_true", help="no database phases")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase)))
        return
    phases = ["read-43-63", "read-france"]
    if not args.read_only:
        phases += ["import-43-63", "import-france"]
    results = {}
    for name in phases:
        done = subprocess.run([sys.executable, __file__, "--phase", name], check=True,
                              capture_output=True, text=True, cwd=ROOT)
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        r = results[name]
        print(f"{name:<14} {int(r['records']):>7} établissements  {r['seconds']:8.2f} s  "
              f"pic mémoire {r['peak_mib']:6.0f} Mio  rejets {int(r['rejected'])}"
              + (f"  hors communes chargées {int(r['outside_communes'])}"
                 f"  non localisables {int(r['rejected_store'])}"
                 if "outside_communes" in r else ""))
    for kind in ("read", "import"):
        base, full = results.get(f"{kind}-43-63"), results.get(f"{kind}-france")
        if base and full:
            ratio = (full["seconds"] / full["records"]) / (base["seconds"] / base["records"])
            print(f"{kind}: temps par établissement national / 43-63 = {ratio:.2f} ; "
                  f"pic mémoire national / 43-63 = {full['peak_mib'] / base['peak_mib']:.2f}")


if __name__ == "__main__":
    main()
