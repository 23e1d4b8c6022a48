"""Startup recovery: seal every journal a crashed process left behind (DESIGN §3)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from arbkit.errors import StorageError
from arbkit.store import manifest as mf
from arbkit.store._seal import JournalRead, journal_segments, read_journal, seal_batches
from arbkit.store.session import LOCK_NAME, lock_journal

log = logging.getLogger(__name__)


def recover(root: str | os.PathLike[str]) -> list[str]:
    """Seal the journals of crashed sessions under `root`; return the session ids recovered.

    A journal still locked by a live writer is left alone. A torn last batch (the process died
    mid-write) is dropped and logged; every complete batch before it is sealed. Sealed files are
    never rewritten, so running this twice, or after a crash in the middle of sealing, is safe.
    """
    root = Path(root)
    journals = root / mf.JOURNAL_DIR
    if not journals.is_dir():
        return []
    recovered = []
    for directory in sorted(p for p in journals.iterdir() if p.is_dir()):
        try:
            fd = lock_journal(directory)
        except OSError as exc:
            raise StorageError(f"cannot lock journal {directory}: {exc}") from exc
        if fd is None:
            log.info("journal %s belongs to a running session; not recovering it", directory)
            continue
        try:
            _recover_session(root, directory)
        finally:
            os.close(fd)
        recovered.append(directory.name)
    return recovered


def _recover_session(root: Path, directory: Path) -> None:
    session_id = directory.name
    path = mf.manifest_path(root, session_id)
    try:
        manifest = mf.read_manifest(path)
    except (OSError, ValueError) as exc:
        log.warning("session %s has no readable manifest (%s); writing a new one", session_id, exc)
        manifest = None
    for segment, journal in journal_segments(directory):
        report = JournalRead()
        files = seal_batches(root, session_id, segment, read_journal(journal, report))
        if manifest is None:
            start = min((f["min_recv_ns"] for f in files), default=0)
            manifest = mf.new_manifest(session_id, start, {})
        if report.dropped_bytes:
            log.warning(
                "journal %s: kept %d frames in %d batches, dropped %d trailing bytes (%s)",
                journal,
                report.rows,
                report.batches,
                report.dropped_bytes,
                report.error or "incomplete stream",
            )
        else:
            log.info("journal %s: recovered %d frames", journal, report.rows)
        mf.add_files(manifest, files)
        mf.write_manifest(root, manifest)
        try:
            journal.unlink()
        except OSError as exc:
            raise StorageError(f"cannot remove sealed journal {journal}: {exc}") from exc
    for stale in (root / mf.FRAMES_DIR).glob(f"date=*/venue=*/.{session_id}-*.tmp"):
        stale.unlink(missing_ok=True)
    if manifest is not None and manifest.get("status") == mf.STATUS_RECORDING:
        end = max((f["max_recv_ns"] for f in manifest["files"]), default=manifest["start_ns"])
        mf.finish(manifest, mf.STATUS_RECOVERED, end)
        mf.write_manifest(root, manifest)
    try:
        (directory / LOCK_NAME).unlink(missing_ok=True)
        directory.rmdir()
    except OSError as exc:
        log.warning("could not remove journal directory %s: %s", directory, exc)
