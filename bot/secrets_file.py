"""The generated API token's file: created 0600 in a 0700 directory (the mode
given at creation, never a chmod after), and a warning when an existing one
can be read by other users."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger("buyerbot")


def private_token(path: Path) -> str:
    """The token kept in `path`, generated on first use."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("%s can be read by other users (mode %o): run chmod 600 %s", path, mode, path)
    else:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(24) + "\n")
        log.warning("BUYERBOT_API_TOKEN is not set: generated one in %s", path)
    return path.read_text(encoding="utf-8").strip()
