"""Writing to disk safely: atomic files and folders, one writer per output folder, and telling
zi2zi's own folders apart from anything else before replacing them."""

from zi2zi.storage.atomic import (
    atomic_folder,
    atomic_path,
    copy_file,
    write_bytes,
    write_json,
    write_text,
)
from zi2zi.storage.folders import FolderKind, folder_state
from zi2zi.storage.lock import FolderLock, LockError

__all__ = [
    "FolderKind",
    "FolderLock",
    "LockError",
    "atomic_folder",
    "atomic_path",
    "copy_file",
    "folder_state",
    "write_bytes",
    "write_json",
    "write_text",
]
