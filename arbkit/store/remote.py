"""Recordings on S3-compatible object storage (`s3://bucket/prefix`), read through pyarrow's
S3 filesystem.

Credentials, region and endpoint come from the usual AWS environment and config files (the AWS
SDK's default chain: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,
AWS_REGION, ...); an S3-compatible server is named by AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL.
Nothing here writes them anywhere: the filesystem object holds them in memory only.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import pyarrow as pa

from arbkit.errors import RecordingError

SCHEME = "s3://"


def is_remote(text: str) -> bool:
    """Whether a recording path names object storage."""
    return text.startswith(SCHEME)


def split(url: str) -> str:
    """`s3://bucket/prefix/` -> `bucket/prefix` (the filesystem's path)."""
    path = url[len(SCHEME):].strip("/")
    if not path:
        raise RecordingError(f"{url}: name a bucket (s3://bucket/prefix)")
    return path


def filesystem() -> Any:
    """The S3 filesystem configured from the AWS environment as it is now."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _filesystem(endpoint, region)


@functools.cache
def _filesystem(endpoint: str | None, region: str | None) -> Any:
    from pyarrow import fs

    options: dict[str, Any] = {}
    if endpoint:
        scheme, _, host = endpoint.rpartition("://")
        options["endpoint_override"] = host or endpoint
        if scheme:
            options["scheme"] = scheme
    if region:
        options["region"] = region
    try:
        return fs.S3FileSystem(**options)
    except (OSError, pa.ArrowException) as exc:
        raise RecordingError(f"cannot use S3: {' '.join(str(exc).split())}") from None


def list_files(path: str) -> list[tuple[str, int]]:
    """(path, size) of every object at or under `path`, sorted; empty when there is none."""
    from pyarrow import fs

    s3 = filesystem()
    try:
        info = s3.get_file_info(path)
        if info.type == fs.FileType.File:
            return [(info.path, info.size)]
        if info.type != fs.FileType.Directory:
            return []
        found = s3.get_file_info(fs.FileSelector(path, recursive=True))
    except (OSError, pa.ArrowException) as exc:
        raise RecordingError(f"cannot list s3://{path}: {' '.join(str(exc).split())}") from None
    return sorted((f.path, f.size) for f in found if f.type == fs.FileType.File)


def read_bytes(path: str) -> bytes:
    """The whole object at `path` (small files: manifests)."""
    try:
        with filesystem().open_input_stream(path) as stream:
            return stream.read()
    except (OSError, pa.ArrowException) as exc:
        raise RecordingError(f"cannot read s3://{path}: {' '.join(str(exc).split())}") from None
