"""Files buyers upload (photos, videos): what a file is, judged by its first
bytes and never by its name; the policy's limits; and where files live (a
directory several processes may share: a file plus a JSON sidecar each)."""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: what we recognise: name -> (kind, mime type)
FORMATS: dict[str, tuple[str, str]] = {
    "jpeg": ("photo", "image/jpeg"),
    "png": ("photo", "image/png"),
    "webp": ("photo", "image/webp"),
    "gif": ("photo", "image/gif"),
    "heic": ("photo", "image/heic"),
    "mp4": ("video", "video/mp4"),
    "mov": ("video", "video/quicktime"),
    "webm": ("video", "video/webm"),
}
DEFAULT_TYPES = ("jpeg", "png", "webp", "heic", "mp4", "mov", "webm")
#: bytes needed to tell a format apart
SNIFF_BYTES = 32
MEDIA_ID = re.compile(r"^[A-Za-z0-9_-]{24,64}$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}
_MOV_BRANDS = {b"qt  "}


def sniff(head: bytes) -> str | None:
    """The format of a file from its first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"  # EBML: WebM (and Matroska, which browsers play the same way)
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return "heic"
        return "mov" if brand in _MOV_BRANDS else "mp4"
    return None


def parse_size(value: object) -> int:
    """ "10MB" -> 10485760; a bare number is bytes."""
    found = _SIZE.match(str(value))
    if found is None:
        raise ValueError(f"not a size: {value!r} (write 10MB, 500KB)")
    return int(float(found.group(1)) * _UNITS[(found.group(2) or "B").upper()])


@dataclass(frozen=True)
class UploadRules:
    """From the policy's `[uploads]`: which formats, and how large per kind."""

    image_max: int = 10 * 1024**2
    video_max: int = 50 * 1024**2
    types: tuple[str, ...] = DEFAULT_TYPES

    @classmethod
    def from_policy(cls, raw: dict[str, Any]) -> UploadRules:
        section = raw.get("uploads", {})
        types = tuple(str(t).lower() for t in section.get("types", DEFAULT_TYPES))
        unknown = [t for t in types if t not in FORMATS]
        if unknown:
            raise ValueError(f"[uploads] types: unknown {unknown}; known: {sorted(FORMATS)}")
        return cls(
            image_max=parse_size(section.get("image_max", "10MB")),
            video_max=parse_size(section.get("video_max", "50MB")),
            types=types,
        )

    @property
    def largest(self) -> int:
        return max(self.image_max, self.video_max)

    def limit_for(self, fmt: str) -> int:
        return self.video_max if FORMATS[fmt][0] == "video" else self.image_max


@dataclass(frozen=True)
class StoredMedia:
    id: str
    order_id: str
    kind: str
    mime_type: str
    size: int
    at: str

    @property
    def file_id(self) -> str:
        """How dialogs, evidence bundles and agents refer to it."""
        return f"webchat:{self.id}"

    @property
    def filename(self) -> str:
        ext = next((name for name, (_, mime) in FORMATS.items() if mime == self.mime_type), "bin")
        return f"{self.kind}-{self.id[:8]}.{'jpg' if ext == 'jpeg' else ext}"

    def payload(self) -> dict[str, Any]:
        return {"kind": self.kind, "file_id": self.file_id, "mime_type": self.mime_type, "size": self.size}


def media_id_of(file_id: str) -> str | None:
    """The stored id behind a `webchat:<id>` file id (None for other channels' files)."""
    prefix, _, media_id = file_id.partition(":")
    return media_id if prefix == "webchat" and MEDIA_ID.match(media_id) else None


def agent_url(file_id: str) -> str | None:
    """Where agents (the console) see a web chat upload; None for other channels' files."""
    media_id = media_id_of(file_id)
    return f"/api/v1/media/{media_id}" if media_id else None


class MediaFiles:
    """One directory: `<id>` holds the bytes, `<id>.json` what they are and whose."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def prepare(self) -> None:
        """The directory, and any missing parent (the state directory itself), private (0700)."""
        missing = [path for path in (self.root, *self.root.parents) if not path.exists()]
        for path in reversed(missing):
            path.mkdir(mode=0o700, exist_ok=True)

    def new_id(self) -> str:
        return secrets.token_urlsafe(24)

    def partial_path(self, media_id: str) -> Path:
        return self.root / f".{media_id}.part"

    def commit(self, media_id: str, meta: StoredMedia) -> None:
        """The finished upload becomes visible, sidecar first (readers look for the data file)."""
        sidecar = self.root / f"{media_id}.json"
        sidecar.write_text(json.dumps(meta.__dict__), encoding="utf-8")
        os.replace(self.partial_path(media_id), self.root / media_id)

    def discard(self, media_id: str) -> None:
        self.partial_path(media_id).unlink(missing_ok=True)

    def get(self, media_id: str) -> tuple[StoredMedia, Path] | None:
        """What is stored under an id, or None (also for any id we never make)."""
        if not MEDIA_ID.match(media_id):
            return None
        data, sidecar = self.root / media_id, self.root / f"{media_id}.json"
        if not data.is_file() or not sidecar.is_file():
            return None
        return StoredMedia(**json.loads(sidecar.read_text(encoding="utf-8"))), data

    def by_file_id(self, file_id: str) -> tuple[StoredMedia, Path] | None:
        media_id = media_id_of(file_id)
        return self.get(media_id) if media_id else None
