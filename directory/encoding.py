"""Text decoding of official extracts: UTF-8 in recent files, ISO-8859-1 in older ones.

ISO-8859-1 decodes any byte, so "it decoded" proves nothing: a file is only taken as
ISO-8859-1 when it has no C1 control bytes (0x80–0x9F), which never occur in real
French text in that encoding but are everywhere in UTF-16 or binary files. Windows-1252
(the same letters plus ``œ``, ``€``, typographic quotes in 0x80–0x9F) is the next try.
"""

from __future__ import annotations

import re
from pathlib import Path

from geo.errors import MaillageError

_C1 = re.compile(rb"[\x80-\x9f]")


def decode_extract(raw: bytes, *, path: Path) -> tuple[str, str]:
    """Decode ``raw``; return ``(text, encoding name)``.

    Raises
    ------
    MaillageError
        When the bytes are neither UTF-8, ISO-8859-1 nor Windows-1252 text (UTF-16,
        binary, compressed file…), naming the file.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4096]:
        raise MaillageError(f"« {path.name} » : encodage non reconnu (UTF-16 ou fichier "
                            "binaire) ; attendu UTF-8 ou ISO-8859-1.")
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\x1f\x8b"):
        raise MaillageError(f"« {path.name} » est une archive compressée : décompressez-la "
                            "d'abord.")
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    if not _C1.search(raw):
        return raw.decode("iso-8859-1"), "iso-8859-1"
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise MaillageError(f"« {path.name} » : encodage non reconnu (ni UTF-8, ni ISO-8859-1, "
                            f"ni Windows-1252 ; octet {exc.start}).") from exc
