"""The SQLite file holds customer case notes: it, its companions and the folder the bot makes
for it are private to the user the bot runs as, whatever the process umask.

New: every folder the bot creates on the way to the database is made 0700, and the database
file is created 0600 before SQLite opens it (an empty file is a valid empty database). SQLite's
unix VFS creates `-wal`, `-shm` and `-journal` with the database file's own mode, forcing it
past the umask (tests/storage/test_private_files.py checks this rather than trusting it), so
they are 0600 too.

Existing: at start-up the database file and its companions lose every permission of group
and others (0644 becomes 0600), each change logged as a warning with the path and the old
mode. A folder that exists already is the owner's business unless it is plainly the
database's own (see `database_folder_is_its_own`): chmod on a shared folder such as /tmp or a
home folder, because DATABASE_URL happened to point there, would break other programs.
Inside a folder that is left alone the files are private all the same.

Blocking calls, made once at start-up.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
# Permissions of anyone but the owner.
_OTHERS = 0o077
# The files SQLite keeps beside the database, named after it.
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


def database_files(database: Path) -> list[Path]:
    """The database file and its companions (which need not exist)."""
    return [database, *(database.with_name(database.name + s) for s in COMPANION_SUFFIXES)]


def create_private_folders(folder: Path) -> list[Path]:
    """Creates `folder` and its missing parents, each 0700 whatever the umask (mkdir's mode
    only ever removes bits, and `mkdir -p` would give the parents the umask's default).
    Returns the folders it created; OSError when one cannot be created."""
    missing: list[Path] = []
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            break
        missing.append(candidate)
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:
            continue  # made meanwhile by someone else: theirs, not ours to tighten
        path.chmod(PRIVATE_FOLDER)
        created.append(path)
    return created


def tighten(path: Path) -> None:
    """Takes every permission of group and others from `path` (which may be missing), with a
    warning naming it and its old mode. When the mode cannot be changed (the file is another
    user's, or immutable) it says so and goes on: whether the file can be used is for SQLite
    to tell, with its own clear error."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not mode & _OTHERS:
        return
    private = mode & ~_OTHERS
    context = {"path": str(path), "old_mode": f"{mode:04o}", "new_mode": f"{private:04o}"}
    try:
        path.chmod(private)
    except OSError as error:
        logger.warning(
            "%s is open to other users (mode %04o) and could not be made private (%s); "
            "make it %04o",
            path,
            mode,
            error.strerror,
            private,
            extra={**context, "error": error.strerror},
        )
        return
    logger.warning(
        "%s was open to other users (mode %04o); made it %04o",
        path,
        mode,
        private,
        extra=context,
    )


def database_folder_is_its_own(folder: Path, database: Path) -> bool:
    """Whether an existing `folder` may be made private for the `database` in it. The rule:
    only when taking group's and others' access away takes nothing from anyone but the sight
    of the database, that is, when the folder

    - is owned by the user the bot runs as (chmod would fail anyway on another's),
    - has no sticky bit (a folder shared by many users, like /tmp),
    - is neither the user's home folder nor a file system's root, and
    - holds nothing but the database file and its companions (-wal, -shm, -journal).

    Any other folder keeps its mode, however the database got there."""
    try:
        info = folder.stat()
        entries = os.listdir(folder)
    except OSError:
        return False
    if info.st_uid != os.geteuid() or info.st_mode & stat.S_ISVTX:
        return False
    if folder == Path(folder.anchor) or _is_home(folder):
        return False
    own = {path.name for path in database_files(database)}
    return all(entry in own for entry in entries)


def _is_home(folder: Path) -> bool:
    try:
        home = Path.home()
    except (KeyError, RuntimeError):  # no HOME and no password entry
        return False
    try:
        return folder.samefile(home)
    except OSError:
        return False


def create_private_file(path: Path) -> None:
    """Creates `path` empty and 0600 unless it exists; OSError when it cannot."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    try:
        # The umask may have taken the owner's own bits too.
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def make_database_folder_private(database: Path) -> None:
    """Creates the folder of `database` (an absolute path) 0700 with its missing parents, or
    makes it private if it exists and is the database's own. OSError when it cannot be
    created."""
    folder = database.parent
    if not create_private_folders(folder) and database_folder_is_its_own(folder, database):
        tighten(folder)


def make_database_file_private(database: Path) -> None:
    """Creates `database` 0600 if it is missing, before SQLite does, and makes it and its
    companions private if they exist. OSError when it cannot be created."""
    create_private_file(database)
    for path in database_files(database):
        tighten(path)
