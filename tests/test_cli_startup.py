"""Start-up of the command line: structural checks, not timings.

``maillage --help`` must not pay for the geometry, data-frame, map and solver stacks:
those are imported inside the functions that use them. Each check runs a fresh
interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ["numpy", "geopandas", "osmnx", "folium", "scipy", "shapely", "pandas", "networkx", "highspy",
         "openpyxl", "jsonschema", "pyproj"]


def loaded_heavy(code: str) -> list[str]:
    """Heavy top-level packages present in ``sys.modules`` after running ``code``."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True, env=_env())
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_importing_main_loads_no_heavy_library() -> None:
    assert loaded_heavy("import maillage_cli.main") == []


def test_building_the_whole_parser_loads_no_heavy_library() -> None:
    # Every noun module is imported and registered, as for ``maillage --help``.
    assert loaded_heavy("import maillage_cli.main as m\nm.build_parser()") == []


@pytest.mark.parametrize("argv", [["--help"], ["plan", "check", "--help"],
                                  ["plan", "propose", "--help"], ["users", "add", "--help"],
                                  ["directory", "search", "--help"], ["communes", "load", "--help"]])
def test_help_runs_without_heavy_libraries(argv: list[str]) -> None:
    code = ("import maillage_cli.main as m\n"
            "try:\n"
            f"    m.main({argv!r})\n"
            "except SystemExit as exc:\n"
            "    assert exc.code == 0, exc.code")
    assert loaded_heavy(code) == []


def test_web_app_module_is_light_until_the_app_is_built() -> None:
    assert loaded_heavy("import web.app") == []


def test_no_import_cycle_between_the_plan_modules() -> None:
    """``plan`` imports ``plan_drive`` and ``plan_propose``; they only use ``plan_common``."""
    for name in ("plan_drive", "plan_propose", "plan_common"):
        tree = ast.parse((ROOT / "maillage_cli" / f"{name}.py").read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module}
        imported |= {f"{node.module}.{alias.name}" for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module for alias in node.names}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                     for alias in node.names}
        assert "maillage_cli.plan" not in imported, name


def test_estimated_drive_times_load_no_graph_library() -> None:
    """``plan check`` with estimated times needs neither networkx nor scipy (the
    contiguity check is a union-find, the estimated times numpy)."""
    loaded = loaded_heavy("import geo.traveltime, geo.estimated, coverage.drivetimes, "
                          "coverage.checks")
    assert "networkx" not in loaded and "scipy" not in loaded, loaded
