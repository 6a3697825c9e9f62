"""A coverage plan as plain data: structures (DAC) → antennas → assigned communes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class Antenna:
    """A proximity antenna (or the head office) and the communes it covers.

    ``lon``/``lat`` (WGS84) give an exact site; otherwise the representative point of
    the seat commune is used.
    """

    name: str
    seat: str | None = None
    structure: str = "DAC"
    lon: float | None = None
    lat: float | None = None
    coordinators: float | None = None
    communes: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """A promoter's draft: may be partial, may even assign a commune twice."""

    name: str
    dept: str
    antennas: list[Antenna] = field(default_factory=list)
    author: str | None = None

    def antenna(self, name: str) -> Antenna | None:
        for antenna in self.antennas:
            if antenna.name == name:
                return antenna
        return None

    def claims(self) -> dict[str, list[str]]:
        """Commune code → names of the antennas that cover it (in plan order)."""
        out: dict[str, list[str]] = defaultdict(list)
        for antenna in self.antennas:
            for code in antenna.communes:
                if antenna.name not in out[code]:
                    out[code].append(antenna.name)
        return dict(out)

    @property
    def structures(self) -> list[str]:
        return list(dict.fromkeys(a.structure for a in self.antennas))
