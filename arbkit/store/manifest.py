"""Session manifests (`sessions/<session_id>.json`) and the recording directory layout."""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import arbkit
from arbkit.errors import StorageError

FORMAT_VERSION = 1
SESSIONS_DIR = "sessions"
FRAMES_DIR = "frames"
JOURNAL_DIR = "journal"

STATUS_RECORDING = "recording"
STATUS_COMPLETE = "complete"
STATUS_RECOVERED = "recovered"

# Key names that may hold credentials; dropped at any depth even though callers strip them first.
_SECRET_PREFIXES = ("key_id", "private_key")


def new_session_id(start_ns: int) -> str:
    """Return a sortable session id such as `20261126T050301Z-3fa9c2` for a UTC start time."""
    stamp = datetime.fromtimestamp(start_ns / 1e9, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def iso_utc(ns: int) -> str:
    """Format Unix nanoseconds as an ISO-8601 UTC timestamp with microseconds."""
    return datetime.fromtimestamp(ns // 1000 / 1e6, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def strip_secrets(value: Any) -> Any:
    """Return a copy of a config mapping without any `key_id*` or `private_key*` entries."""
    if isinstance(value, Mapping):
        return {
            str(k): strip_secrets(v)
            for k, v in value.items()
            if not str(k).lower().startswith(_SECRET_PREFIXES)
        }
    if isinstance(value, list | tuple):
        return [strip_secrets(v) for v in value]
    return value


def manifest_path(root: Path, session_id: str) -> Path:
    """Return where the manifest of `session_id` lives under a recordings root."""
    return root / SESSIONS_DIR / f"{session_id}.json"


def new_manifest(session_id: str, start_ns: int, config: Mapping[str, Any]) -> dict[str, Any]:
    """Build the manifest written when a session starts."""
    return {
        "format_version": FORMAT_VERSION,
        "session_id": session_id,
        "status": STATUS_RECORDING,
        "start_ns": start_ns,
        "start": iso_utc(start_ns),
        "end_ns": None,
        "end": None,
        "host": socket.gethostname(),
        "arbkit_version": arbkit.__version__,
        "config": strip_secrets(config),
        "frames": 0,
        "counts": {},
        "files": [],
    }


def add_files(manifest: dict[str, Any], files: list[dict[str, Any]]) -> None:
    """Record sealed files in a manifest (once each) and recompute its frame counts."""
    by_path = {f["path"]: f for f in manifest["files"]}
    for f in files:
        by_path[f["path"]] = f
    manifest["files"] = sorted(
        by_path.values(), key=lambda f: (f["first_ingest_seq"], f["venue"], f["path"])
    )
    counts: dict[str, dict[str, int]] = {}
    for f in manifest["files"]:
        per_kind = counts.setdefault(f["venue"], {})
        for kind, n in f["counts"].items():
            per_kind[kind] = per_kind.get(kind, 0) + n
    manifest["counts"] = {v: dict(sorted(k.items())) for v, k in sorted(counts.items())}
    manifest["frames"] = sum(f["rows"] for f in manifest["files"])


def finish(manifest: dict[str, Any], status: str, end_ns: int) -> None:
    """Mark a manifest finished with `status` at `end_ns`."""
    manifest["status"] = status
    manifest["end_ns"] = end_ns
    manifest["end"] = iso_utc(end_ns)


def write_manifest(root: Path, manifest: Mapping[str, Any]) -> Path:
    """Atomically replace the session's manifest file; raise StorageError on failure."""
    path = manifest_path(root, manifest["session_id"])
    tmp = path.with_name(f".{path.name}.tmp")
    text = json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"cannot write session manifest {path}: {exc}") from exc
    return path


def read_manifest(path: Path) -> dict[str, Any]:
    """Load a manifest; raise ValueError or OSError when it is not one."""
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("session_id"), str):
        raise ValueError(f"{path} is not an arbkit session manifest")
    return manifest
