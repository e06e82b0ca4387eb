"""Writing to disk safely: atomic files and folders, one writer per output folder, and telling
zi2zi's own folders apart from anything else before replacing them (``folders``: the one way a
command takes a folder to write)."""

from zi2zi.storage.atomic import (
    atomic_folder,
    atomic_path,
    copy_file,
    write_bytes,
    write_json,
    write_text,
)
from zi2zi.storage.folders import (
    FolderKind,
    built_folder,
    check_replaceable,
    claim_folder,
    clear_if_ours,
    folder_state,
    owned_folder,
)
from zi2zi.storage.lock import FolderLock, LockError

__all__ = [
    "FolderKind",
    "FolderLock",
    "LockError",
    "atomic_folder",
    "atomic_path",
    "built_folder",
    "check_replaceable",
    "claim_folder",
    "clear_if_ours",
    "copy_file",
    "folder_state",
    "owned_folder",
    "write_bytes",
    "write_json",
    "write_text",
]
