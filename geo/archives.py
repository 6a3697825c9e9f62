"""Bounds on compressed inputs, checked before anything is unpacked.

An XLSX is a ZIP: a 1 MB upload can unpack to gigabytes of XML (a « bomb »). Every
XLSX and archive the project opens is first checked here from its directory alone
(member count, declared sizes, compression ratio, paths), which costs milliseconds;
the sheet is then read in streaming mode with a row and column cap
(``geo.tables``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from geo.errors import MaillageError

#: Limits for spreadsheets users give us (plans, antennas, directory templates).
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_RATIO = 200
MAX_MEMBERS = 2_000
MAX_ROWS = 100_000
MAX_COLUMNS = 200


def check_zip(path: Path, *, max_unpacked: int = MAX_UNPACKED_BYTES, max_ratio: float = MAX_RATIO,
              max_members: int = MAX_MEMBERS) -> None:
    """Refuse a ZIP (XLSX) whose unpacked size, ratio, member count or paths are abnormal.

    Raises
    ------
    MaillageError
        In French, naming the file and the limit.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise MaillageError(f"« {path.name} » : classeur ou archive illisible ({exc}).") from exc
    if len(members) > max_members:
        raise MaillageError(f"« {path.name} » : {len(members)} éléments dans l'archive "
                            f"(au plus {max_members}) : fichier refusé.")
    total = 0
    for member in members:
        if unsafe_member_path(member.filename):
            raise MaillageError(f"« {path.name} » : chemin interdit dans l'archive "
                                f"(« {member.filename[:80]} ») : fichier refusé.")
        total += member.file_size
        if total > max_unpacked:
            raise MaillageError(
                f"« {path.name} » : plus de {max_unpacked // (1024 * 1024)} Mo une fois "
                "décompressé : fichier refusé (bombe de décompression ?).")
        if member.file_size > 1024 * 1024 and member.compress_size and \
                member.file_size / member.compress_size > max_ratio:
            raise MaillageError(
                f"« {path.name} » : taux de compression anormal ({member.filename[:60]}, "
                f"plus de {max_ratio:g} pour 1) : fichier refusé (bombe de décompression ?).")


def unsafe_member_path(name: str) -> bool:
    """True for an absolute path, a ``..`` component or a drive/backslash path."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or ":" in name.split("/")[0]:
        return True
    return ".." in PurePosixPath(name).parts
