"""Transfer size of the Haute-Loire plan page: before (uncompressed GeoJSON) and now.

Needs the communes of 43 in the database (``maillage communes load --dept 43`` or
``make demo``). Creates a throw-away promoter and the demo plan (three antennas, EPCI
hypothesis), then fetches the plan page and everything it loads with the Flask test
client, as Chromium does over http (``Accept-Encoding: gzip, deflate``):

* **before** (the baseline, rebuilt in the same run): the page's HTML, CSS and scripts
  uncompressed, and the communes as the GeoJSON the previous version served
  (``/plans/<id>/carte.geojson``: 60 m coverage simplification, 5 decimals, one
  properties object per commune), uncompressed;
* **now**: the same page with compression (flask-compress), the compact encoded map data
  (``/plans/<id>/carte.json``) and the base-map names (``/carte/fond/43.json``);
* **revisit**: the same requests with the ETags of the first visit (304 answers).

Map tiles are not counted (they are the online background, optional). Sizes are
response bodies; about 300 bytes of headers per request come on top.

    .venv/bin/python bench/bench_map_payload.py
"""

from __future__ import annotations

import gzip
import json
import re
import time
import uuid
from pathlib import Path

import shapely
from sqlalchemy import text

from coverage.checks import check_plan
from coverage.drivetimes import plan_drive_times
from coverage.mapping import simplified_wgs84
from coverage.store import save_plan
from coverage.territories import plan_from_epci_grouping
from geo import settings
from geo.communes import communes_frame
from geo.db import get_engine, session_scope
from web.accounts import add_user
from web.app import create_app

PASSWORD = "mot-de-passe-banc"
BUDGET = 200_000


def legacy_geojson(plan, communes, check) -> bytes:
    """The communes GeoJSON of the previous version, byte for byte in structure."""
    claims = plan.claims()
    dt = check.drive_times
    minutes = dt.minutes if dt else {}
    threshold = dt.threshold if dt else None
    feats = []
    for code, geom in simplified_wgs84(communes).items():
        t = minutes.get(str(code))
        feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                      "properties": {"code": code, "nom": communes.loc[code, "nom"],
                                     "population": int(communes.loc[code, "population"]),
                                     "claims": claims.get(str(code), []),
                                     "minutes": None if t is None or t != t or t == float("inf")
                                     else round(t, 1),
                                     "beyond": bool(threshold is not None and t is not None
                                                    and not t <= threshold)}})
    # Flask's jsonify outside debug mode: compact separators, ASCII escapes.
    return json.dumps({"type": "FeatureCollection", "features": feats},
                      separators=(",", ":")).encode()


def main() -> None:
    engine = get_engine()
    with engine.connect() as conn:
        communes = communes_frame(conn, dept="43")
    plan = plan_from_epci_grouping(
        settings.data_dir() / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes, dept="43", seats=["43157", "43268", "43040"],
        name="Banc de mesure : Haute-Loire 3 antennes")
    email = f"banc-{uuid.uuid4().hex[:8]}@banc.test"
    with engine.begin() as conn:
        uid = add_user(conn, email=email, password=PASSWORD, role="promoteur", departement="43")
    try:
        with session_scope(engine) as session:
            pid = save_plan(session, plan, owner_id=uid)
        app = create_app()
        client = app.test_client()
        html = client.get("/connexion").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        client.post("/connexion", data={"email": email, "password": PASSWORD,
                                        "csrf_token": token})
        page = client.get(f"/plans/{pid}").get_data(as_text=True)
        assets = (re.findall(r'<link[^>]*href="(/[^"]+)"', page)
                  + re.findall(r'<script[^>]*src="(/[^"]+)"', page))
        assets.append("/static/vendor/leaflet/images/layers.png")   # layer control icon
        data_url = re.search(r'data-src="([^"]+)"', page).group(1)
        new_urls = [f"/plans/{pid}", *assets, data_url, "/carte/fond/43.json?communes=0"]
        old_assets = [a for a in assets if "maplib" not in a and "leaflet-fr" not in a
                      and "layers.png" not in a]

        def fetch(url: str, encoding: str, etag: str | None = None):
            headers = {"Accept-Encoding": encoding}
            if etag:
                headers["If-None-Match"] = etag
            r = client.get(url, headers=headers)
            assert r.status_code in (200, 304), (url, r.status_code)
            return len(r.data), r.headers.get("ETag"), r.headers.get("Content-Encoding")

        t0 = time.perf_counter()
        check = check_plan(plan, communes, drive_times=plan_drive_times(plan, communes))
        legacy = legacy_geojson(plan, communes, check)
        t_legacy = time.perf_counter() - t0
        before = {url: fetch(url, "identity")[0] for url in [f"/plans/{pid}", *old_assets]}
        before["GeoJSON communes (version précédente)"] = len(legacy)
        t0 = time.perf_counter()
        now = {}
        etags = {}
        for url in new_urls:
            size, etag, enc = fetch(url, "gzip, deflate")
            now[url] = (size, enc)
            etags[url] = etag
        t_new = time.perf_counter() - t0
        revisit = sum(fetch(u, "gzip, deflate", etags[u])[0] for u in new_urls
                      if u == data_url or u.startswith("/carte/fond"))
        print("Page de plan, Haute-Loire (257 communes, 3 antennes)\n")
        print("Avant (référence, même exécution) :")
        for url, size in before.items():
            print(f"  {size:>9,} o  {url}".replace(",", " "))
        total_before = sum(before.values())
        print(f"  {total_before:>9,} o  TOTAL".replace(",", " "))
        print("\nMaintenant (compressé) :")
        for url, (size, enc) in now.items():
            print(f"  {size:>9,} o  {url}  [{enc or 'non compressé'}]".replace(",", " "))
        total_now = sum(s for s, _ in now.values())
        print(f"  {total_now:>9,} o  TOTAL".replace(",", " "))
        print(f"\nRapport maintenant / avant : {total_now / total_before:.3f} "
              f"({total_before / total_now:.1f} fois moins)")
        print(f"Données de carte seules : {len(legacy):,} o -> {now[data_url][0]:,} o "
              f"(gzip de l'ancien GeoJSON : {len(gzip.compress(legacy)):,} o)".replace(",", " "))
        print(f"Seconde visite (ETag, 304) : {revisit} o pour les données de carte")
        print(f"Objectif <= {BUDGET:,} o : {'atteint' if total_now <= BUDGET else 'MANQUÉ'}"
              .replace(",", " "))
        print(f"(calcul ancien GeoJSON {t_legacy:.2f} s ; requêtes nouvelles {t_new:.2f} s)")
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM plans WHERE owner_id = :i"), {"i": uid})
            conn.execute(text("DELETE FROM users WHERE id = :i"), {"i": uid})


if __name__ == "__main__":
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    main()
