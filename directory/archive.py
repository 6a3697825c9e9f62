"""Read the members of a ``.tar.gz`` safely, one at a time, without extracting it.

Before any member is read, the archive's headers are checked: number of members, sum of
the uncompressed sizes, compression ratio, paths (no ``..``, no absolute path) and
member types (regular files only: no links, devices or FIFOs). Nothing is written to disk:
members are streamed (``tarfile.extractfile``), never ``extractall``.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from geo.archives import unsafe_member_path
from geo.errors import MaillageError

MAX_MEMBERS = 2_000
#: Sum of the uncompressed sizes (bytes).
MAX_TOTAL_SIZE = 4 * 1024 ** 3
#: Uncompressed / compressed size; real FINESS FHIR archives are about 14.
MAX_RATIO = 200


def check_tar(path: Path, *, max_members: int = MAX_MEMBERS,
              max_total: int = MAX_TOTAL_SIZE, max_ratio: float = MAX_RATIO) -> list[str]:
    """Check ``path``'s headers; return the member names (regular files) in order.

    Raises
    ------
    MaillageError
        Unreadable archive, a path outside the archive, a link or special file, too many
        members, too large once uncompressed, or a ratio typical of a decompression bomb.
    """
    compressed = max(path.stat().st_size, 1)
    names: list[str] = []
    total = 0
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for count, member in enumerate(tar, start=1):
                if count > max_members:
                    raise MaillageError(f"Archive « {path.name} » refusée : plus de "
                                        f"{max_members} fichiers.")
                if unsafe_member_path(member.name):  # the same rule as for XLSX (ZIP)
                    raise MaillageError(f"Archive « {path.name} » refusée : le chemin "
                                        f"« {member.name} » sort de l'archive.")
                if member.isdir():
                    continue
                if not member.isfile():
                    raise MaillageError(f"Archive « {path.name} » refusée : « {member.name} » "
                                        "n'est pas un fichier ordinaire (lien ou fichier "
                                        "spécial).")
                total += member.size
                if total > max_total:
                    raise MaillageError(f"Archive « {path.name} » refusée : plus de "
                                        f"{max_total // 1024 ** 2} Mo une fois décompressée.")
                if total / compressed > max_ratio:
                    raise MaillageError(f"Archive « {path.name} » refusée : taux de compression "
                                        f"anormal (plus de {max_ratio:g} pour 1), bombe de "
                                        "décompression probable.")
                names.append(member.name)
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise MaillageError(f"Archive « {path.name} » illisible ({exc}).") from exc
    return names


def iter_members(path: Path, *, suffixes: tuple[str, ...]) -> Iterator[tuple[str, IO[bytes]]]:
    """Yield (name, binary stream) for each regular member whose name ends with a suffix.

    The archive is checked first (:func:`check_tar`); each stream is valid until the next
    member is requested.
    """
    wanted = {n for n in check_tar(path) if n.lower().endswith(suffixes)}
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for member in tar:
                if member.name not in wanted or not member.isfile():
                    continue
                stream = tar.extractfile(member)
                if stream is not None:
                    yield member.name, stream
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise MaillageError(f"Archive « {path.name} » illisible ({exc}).") from exc
