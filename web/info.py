"""Information pages: the accessibility declaration (RGAA) and the glossary."""

from __future__ import annotations

import os

from flask import Blueprint, current_app, render_template

bp = Blueprint("info", __name__)

#: Date of the last accessibility review of the pages (automated audit and checks by hand).
AUDIT_DATE = (2026, 11, 23)
#: axe-core version used by ``tests/test_accessibility_browser.py``.
AXE_VERSION = "4.14.1"


@bp.get("/accessibilite")
def accessibility():
    from datetime import date

    config = current_app.config
    return render_template(
        "accessibilite.html", audit_date=date(*AUDIT_DATE), axe_version=AXE_VERSION,
        contact=config.get("MAILLAGE_CONTACT") or os.environ.get("MAILLAGE_CONTACT", ""),
        operator=config.get("MAILLAGE_OPERATOR") or os.environ.get("MAILLAGE_OPERATOR", ""))


@bp.get("/glossaire")
def glossary():
    return render_template("glossaire.html")
