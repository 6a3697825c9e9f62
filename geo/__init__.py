"""Geography: CRS, communes reference, road network and travel times.

``geo`` imports neither ``coverage``, ``directory`` nor ``web``.
"""
