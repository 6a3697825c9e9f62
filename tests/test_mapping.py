"""The shared map module: palette and colouring, payload codec, legend, SVG and folium
maps drawn from the same layers, tile settings and the CSP, compressed cached payloads."""

from __future__ import annotations

import gzip
import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, text

from coverage.checks import check_plan
from coverage.drivetimes import plan_drive_times
from coverage.maplayers import antenna_colours, antenna_graph, plan_layers
from coverage.mapping import build_map, save_map
from coverage.plan import Antenna, Plan
from coverage.svgmap import plan_svg
from coverage.territories import plan_from_epci_grouping
from geo import mapstyle
from geo.basemap import basemap_from_frame, decode, encode, label_minzoom, to_wgs84
from geo.errors import MaillageError

NASTY = "Velay <script>alert(1)</script> & {{ 7*7 }}"


def _demo(shared_data: Path, communes) -> Plan:
    return plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes, dept="43", seats=["43157", "43268", "43040"], name="Démo")


def _voronoi_plan(communes, k: int) -> Plan:
    """``k`` antennas seated in the ``k`` most populous communes, each commune to the
    nearest seat (a realistic tiling with many neighbours)."""
    seats = list(communes.sort_values("population", ascending=False).index[:k])
    pts = communes[["point_x", "point_y"]].to_numpy(dtype=float)
    spts = communes.loc[seats, ["point_x", "point_y"]].to_numpy(dtype=float)
    nearest = np.argmin(((pts[:, None, :] - spts[None, :, :]) ** 2).sum(axis=2), axis=1)
    plan = Plan(name=f"{k} antennes", dept="43")
    for i, seat in enumerate(seats):
        plan.antennas.append(Antenna(name=f"Antenne {i + 1}", seat=seat, communes=[
            str(c) for c, n in zip(communes.index, nearest, strict=True) if n == i]))
    return plan


def _assert_proper(plan: Plan, communes) -> dict[str, str]:
    colours = antenna_colours(plan, communes)
    family = dict(zip(mapstyle.PALETTE, mapstyle.PALETTE_FAMILY, strict=True))
    graph = antenna_graph(plan, communes)
    for a, neighbours in graph.items():
        for b in neighbours:
            assert colours[a] != colours[b], (a, b)
    if len(graph) <= 8:   # as many hue families as antennas: neighbours' hues differ too
        for a, neighbours in graph.items():
            assert all(family[colours[a]] != family[colours[b]] for b in neighbours)
    return colours


def test_palette_has_twelve_distinct_colours_apart_from_status_colours() -> None:
    assert len(set(mapstyle.PALETTE)) == len(mapstyle.PALETTE) >= 12
    assert mapstyle.DUPLICATE_RED not in mapstyle.PALETTE
    assert mapstyle.UNCOVERED_GREY not in mapstyle.PALETTE
    assert mapstyle.STYLES["beyond"]["color"] != mapstyle.DUPLICATE_RED
    assert mapstyle.STYLES["beyond"]["dashArray"]


def test_adjacent_antennas_never_share_a_colour(shared_data: Path, communes_43) -> None:
    demo = _demo(shared_data, communes_43)
    colours = _assert_proper(demo, communes_43)
    assert len(set(colours.values())) == 3
    graph = antenna_graph(demo, communes_43)
    assert graph["Velay"] == {"Lafayette", "Jeune Loire"}   # real shared borders
    twelve = _voronoi_plan(communes_43, 12)
    colours12 = _assert_proper(twelve, communes_43)
    assert len(set(colours12.values())) == 12   # up to 14 antennas: all distinct
    # More antennas than colours: colours repeat, never between neighbours.
    thirty = _voronoi_plan(communes_43, 30)
    colours30 = _assert_proper(thirty, communes_43)
    assert len(set(colours30.values())) == len(mapstyle.PALETTE)
    # Stable: the same plan gets the same colours, whatever page asks.
    assert antenna_colours(twelve, communes_43) == colours12


def test_twelve_antenna_proposal_is_properly_coloured(communes_43) -> None:
    from coverage.drivetimes import site_matrix
    from coverage.propose import propose

    matrix = site_matrix(communes_43[["point_x", "point_y"]].to_numpy(dtype=float),
                         communes_43)
    proposal = propose(communes_43, matrix, k=12, name="Proposition 12")
    colours = _assert_proper(proposal.plan, communes_43)
    assert len(colours) == 12 and len(set(colours.values())) == 12


def test_codec_round_trip_keeps_shared_borders(communes_43) -> None:
    layers = plan_layers(_demo_plan_stub(communes_43), communes_43)
    shapes = to_wgs84([f.geometry for f in layers.communes])
    decoded = []
    for g in shapes:
        parts = decode(encode(g))
        polys = [shapely.Polygon(rings[0], rings[1:]) for rings in parts]
        decoded.append(shapely.MultiPolygon(polys))
        # ≈ 1 m: every vertex within 1e-5 degree of the original.
        orig = shapely.get_coordinates(g)
        back = np.vstack([np.asarray(r) for p in parts for r in p])
        assert len(orig) == len(back) and np.abs(orig - back).max() <= 0.51e-5
    # Neighbours still share their borders exactly: a valid coverage, no gap, no overlap.
    assert bool(shapely.coverage_is_valid(np.asarray(decoded, dtype=object)))
    assert encode(None) == []


def _demo_plan_stub(communes) -> Plan:
    return Plan(name="Vide", dept="43", antennas=[
        Antenna(name="A", seat="43157", communes=list(communes.index[:100]))])


def test_legend_names_every_symbol_and_the_threshold(shared_data: Path, communes_43) -> None:
    plan = _demo(shared_data, communes_43)
    plan.antennas[0].communes.remove(plan.antennas[0].communes[0])       # one uncovered
    plan.antennas[1].communes.append(plan.antennas[2].communes[0])       # one duplicate
    check = check_plan(plan, communes_43, drive_times=plan_drive_times(plan, communes_43))
    layers = plan_layers(plan, communes_43, check, with_isochrones=True)
    keys = [e["key"] for e in layers.legend]
    assert keys == ["antenna"] * 3 + ["seat", "uncovered", "duplicate", "beyond", "departement",
                                      "isochrone-15", "isochrone-30", "isochrone-45"]
    assert [i["minutes"] for i in layers.payload()["isochrones"]] == [15, 30, 45]
    # The 30 min isochrone (discs) covers every seat, estimated mode.
    assert all(shapely.contains_xy(layers.isochrones[1][1], s.x, s.y) for s in layers.seats)
    labels = {e["key"]: e["label"] for e in layers.legend}
    assert labels["uncovered"] == "Commune non couverte (1)"
    assert labels["duplicate"] == "Commune couverte plusieurs fois (1)"
    n_beyond = sum(f.beyond for f in layers.communes)
    assert labels["beyond"] == (f"au-delà de 30 min — temps estimés à vol d'oiseau "
                                f"({n_beyond} communes)")
    assert {f.status for f in layers.communes} == {"antenna", "uncovered", "duplicate"}
    assert len(layers.seats) == 3
    assert {s.commune for s in layers.seats} == {"43157", "43268", "43040"}
    payload = layers.payload()
    assert [a["colour"] for a in payload["antennas"]] == list(layers.colours.values())
    assert sum(1 for c in payload["communes"] if c.get("b")) == n_beyond


@pytest.fixture(scope="module")
def demo_check(shared_data: Path, communes_43):
    plan = _demo(shared_data, communes_43)
    plan.antennas[1].name = NASTY
    return plan, check_plan(plan, communes_43, drive_times=plan_drive_times(plan, communes_43))


def test_svg_map_is_safe_and_complete(demo_check, communes_43) -> None:
    plan, check = demo_check
    layers = plan_layers(plan, communes_43, check, tolerance=150)
    svg = plan_svg(layers, sources="Sources : INSEE")
    root = ET.fromstring(svg)           # well-formed XML: user text escaped
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    circles = root.findall(".//s:circle[@data-antenna]", ns)
    assert {c.get("data-antenna"): c.get("fill") for c in circles} == layers.colours
    assert len(root.findall(".//s:g[@class='communes']/s:path", ns)) == 257
    dashed = [p for p in root.iter("{http://www.w3.org/2000/svg}path")
              if p.get("stroke-dasharray") == mapstyle.STYLES["beyond"]["dashArray"]]
    assert len(dashed) == sum(f.beyond for f in layers.communes) > 0
    text_all = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for words in ("Légende", "Siège d'antenne", "au-delà de 30 min", "km", "N",
                  "Sources : INSEE", "Lambert-93"):
        assert words in text_all, words
    assert root.find(f".//s:pattern[@id='{mapstyle.HATCH_ID}']", ns) is not None
    assert len(svg) < 400_000


def test_folium_export_draws_the_same_layers(demo_check, communes_43, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILLAGE_TILES", "none")
    plan, check = demo_check
    html = save_map(build_map(plan, communes_43, check), tmp_path / "c.html").read_text(
        encoding="utf-8")
    colours = antenna_colours(plan, communes_43)
    for colour in colours.values():
        assert colour in html
    assert "Zoom avant" in html and "Zoom arrière" in html        # French controls
    assert "au-delà de 30 min — temps estimés à vol d&#x27;oiseau" in html \
        or "au-delà de 30 min — temps estimés à vol d'oiseau" in html
    assert mapstyle.HATCH_ID in html and "Siège d&#x27;antenne" in html
    # User text is escaped, never compiled as a template.
    # Braces are entities in folium output (branca compiles layer scripts as templates).
    assert "Velay &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#123;&#123; 7*7 &#125;&#125;" in html
    assert "<script>alert(1)" not in html
    assert "data.geopf.fr" not in html and "openstreetmap" not in html   # tiles: none
    monkeypatch.setenv("MAILLAGE_TILES", "ign")
    html = build_map(plan, communes_43, check).get_root().render()
    assert "data.geopf.fr" in html and "Plan IGN \\u00a9 IGN" in html


def test_tile_settings_and_csp(monkeypatch: pytest.MonkeyPatch) -> None:
    from web.security import content_security_policy

    monkeypatch.delenv("MAILLAGE_TILES", raising=False)
    assert mapstyle.tile_layer().name == "Plan IGN"                     # default
    assert mapstyle.tile_layer("osm").url.startswith("https://tile.openstreetmap.org/")
    assert mapstyle.tile_layer("none") is None
    custom = mapstyle.tile_layer("https://{s}.tuiles.example.org/{z}/{x}/{y}.png")
    assert custom is not None and mapstyle.tile_origin(custom) == "https://*.tuiles.example.org"
    for bad in ("ftp://x/{z}/{x}/{y}", "https://x.org/tuile.png", "javascript:alert(1)",
                "https://x.org/{z}/{x}/{y}.png' onerror='"):
        with pytest.raises(MaillageError, match="MAILLAGE_TILES invalide"):
            mapstyle.tile_layer(bad)
    ign = mapstyle.tile_layer("ign")
    assert ign is not None
    assert "img-src 'self' data: https://data.geopf.fr;" in content_security_policy(ign.url)
    assert "img-src 'self' data:;" in content_security_policy(None)


def test_label_zooms_and_basemap(communes_43) -> None:
    assert label_minzoom(18000, main_of_epci=False) == 7
    assert label_minzoom(2500, main_of_epci=False) == 9
    assert label_minzoom(300, main_of_epci=True) == 9
    assert label_minzoom(600, main_of_epci=False) == 11
    assert label_minzoom(80, main_of_epci=False) == 12
    base = basemap_from_frame(communes_43, dept="43", name="Haute-Loire")
    names = {lab["n"]: lab["z"] for lab in base.labels}
    assert names["Le Puy-en-Velay"] == 7 and names["Brioude"] == 9
    # Every EPCI has at least one name at the département zoom.
    epcis = set(communes_43["epci"].dropna())
    shown = {communes_43.loc[lab["c"], "epci"] for lab in base.labels if lab["z"] <= 9}
    assert epcis <= shown
    w, s, e, n = base.bbox
    assert 2.9 < w < e < 4.6 and 44.6 < s < n < 45.6


# ---- web: compressed, cacheable map payloads ---------------------------------------------

PASSWORD = "mot-de-passe-carto"


@pytest.fixture(scope="module")
def web(communes_loaded: Engine, shared_data: Path, communes_43):
    from coverage.store import save_plan
    from geo.db import session_scope
    from web.accounts import add_user
    from web.app import create_app

    email = f"carto-{uuid.uuid4().hex[:8]}@cartes.test"
    with communes_loaded.begin() as conn:
        uid = add_user(conn, email=email, password=PASSWORD, role="promoteur",
                       departement="43")
    with session_scope(communes_loaded) as session:
        pid = save_plan(session, _demo(shared_data, communes_43), owner_id=uid)
    app = create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                     testing=True)
    client = app.test_client()
    html = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    r = client.post("/connexion", data={"email": email, "password": PASSWORD,
                                        "csrf_token": token})
    assert r.status_code == 302
    yield {"client": client, "plan": pid, "app": app}
    with communes_loaded.begin() as conn:
        conn.execute(text("DELETE FROM plans WHERE owner_id = :i"), {"i": uid})
        conn.execute(text("DELETE FROM users WHERE id = :i"), {"i": uid})


def test_plan_map_payload_is_light_compressed_and_cacheable(web) -> None:
    client = web["client"]
    url = f"/plans/{web['plan']}/carte.json"
    r = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert len(r.data) < 130_000, len(r.data)
    assert "private" in r.headers["Cache-Control"]
    data = __import__("json").loads(gzip.decompress(r.data))
    assert len(data["communes"]) == 257 and len(data["seats"]) == 3
    etag = r.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # The base map is public (the search page shows it) and cacheable too.
    anon = web["app"].test_client()
    r = anon.get("/carte/fond/43.json", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    base = __import__("json").loads(gzip.decompress(r.data))
    assert base["name"] == "Haute-Loire" and len(base["communes"]) == 257
    assert anon.get("/carte/fond/99.json").status_code == 404
    assert anon.get("/carte/fond/x%27.json").status_code == 404
    depts = anon.get("/carte/fond.json").get_json()["departements"]
    assert {"43", "63"} <= {d["code"] for d in depts}
    js = anon.get("/carte/leaflet-fr.js").get_data(as_text=True)
    assert "Zoom avant" in js


def test_plan_offers_report_annexes_and_map_file(web) -> None:
    client = web["client"]
    pid = web["plan"]
    page = client.get(f"/plans/{pid}").get_data(as_text=True)
    for path in ("rapport", "annexe1.csv", "annexe1.xlsx", "carte.html"):
        assert f"/plans/{pid}/{path}" in page
    assert client.get(f"/plans/{pid}/annexe1.xlsx").data[:4] == b"PK\x03\x04"
    r = client.get(f"/plans/{pid}/carte.html")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    assert b"L.map(" in r.data
    report = client.get(f"/plans/{pid}/rapport").get_data(as_text=True)
    assert '<figure class="map-figure" id="carte"><svg' in report
    assert report.index('id="carte"') < report.index("Couverture et unicité")


def test_tiles_none_and_invalid_setting_in_the_app(communes_loaded: Engine) -> None:
    from web.app import create_app

    url = communes_loaded.url.render_as_string(hide_password=False)
    app = create_app(database_url=url, testing=True, config={"MAILLAGE_TILES": "none"})
    r = app.test_client().get("/recherche")
    html = r.get_data(as_text=True)
    assert 'data-tiles=""' in html and "fond de carte en ligne" not in html
    assert "img-src 'self' data:;" in r.headers["Content-Security-Policy"]
    osm = create_app(database_url=url, testing=True, config={"MAILLAGE_TILES": "osm"})
    csp = osm.test_client().get("/recherche").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in csp
    with pytest.raises(MaillageError, match="MAILLAGE_TILES invalide"):
        create_app(database_url=url, testing=True,
                   config={"MAILLAGE_TILES": "https://x.org/<script>/{z}/{x}/{y}"})
