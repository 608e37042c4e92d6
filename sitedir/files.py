"""Files that hold personal data or secrets: created 0600 inside 0700 folders.

The instance folder (secret key, encryption key, the SQLite database and its -wal/-shm files)
and the mail folder (.eml files with addresses and sign-in links) must not be readable by
other accounts on the machine, whatever the process's umask.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """Make path (and missing parents) a folder only this account can use."""
    path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    if path.stat().st_mode & 0o077:
        path.chmod(FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create path empty if missing, and make it readable by this account only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(descriptor)
    if path.stat().st_mode & 0o077:
        path.chmod(FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write data to path atomically (temporary file, fsync, rename), mode 0600 from birth."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_or_create_secret(path: Path, make: Callable[[], str]) -> str:
    """A secret kept in a private file: made once with make(), then read back."""
    if not path.exists():
        write_private(path, make().encode())
    elif path.stat().st_mode & 0o077:
        path.chmod(FILE_MODE)
    return path.read_text().strip()


def sqlite_file(url: str) -> Path | None:
    """The database file of a sqlite:/// URL (None for memory or other databases)."""
    if not url.startswith("sqlite:///"):
        return None
    name = url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(name) if name and name != ":memory:" else None


def protect_database(url: str) -> None:
    """Create the SQLite file 0600 before SQLite does (its -wal and -shm files copy its mode)."""
    path = sqlite_file(url)
    if path is None or not path.parent.is_dir():
        return
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        extra = path.with_name(path.name + suffix)
        if extra.exists() and extra.stat().st_mode & 0o077:
            extra.chmod(FILE_MODE)
