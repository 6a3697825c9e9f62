"""French number formatting shared by the CLI, reports and web pages."""

from __future__ import annotations

NARROW_NBSP = "\u202f"


def fr_int(value: float | int) -> str:
    """``228654`` → ``"228 654"`` (narrow no-break space, as French typography wants)."""
    return f"{round(value):,}".replace(",", NARROW_NBSP)


def fr_float(value: float, digits: int = 1) -> str:
    """``12.34`` → ``"12,3"``."""
    return f"{value:,.{digits}f}".replace(",", NARROW_NBSP).replace(".", ",")
