"""Recordings on S3-compatible storage: a moto server on loopback holds a copy of a recording;
replay and sweep read it through pyarrow's S3 filesystem and equal the local answers."""

from __future__ import annotations

import socket
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from arbkit.cli import cli
from arbkit.store import reader

pytestmark = pytest.mark.e2e

SECRET = "arbkit-test-secret-7f3c1d"  # must never reach an output
KEY_ID = "AKIAARBKITTESTKEY01"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3_copy(two_sessions, monkeypatch):
    """An S3 server on loopback (moto) with the two-session recording under s3://bench/rec."""
    from moto.server import ThreadedMotoServer
    from pyarrow import fs

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        s3 = fs.S3FileSystem(
            endpoint_override=f"127.0.0.1:{port}", scheme="http", region="us-east-1",
            access_key=KEY_ID, secret_key=SECRET, allow_bucket_creation=True,
        )
        s3.create_dir("bench")
        # The sealed files and manifests, as `aws s3 sync recordings/ s3://bench/rec/` would copy them.
        fs.copy_files(str(two_sessions.root), "bench/rec", destination_filesystem=s3)
        yield "s3://bench/rec"
    finally:
        server.stop()


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_replay_from_s3_equals_the_local_copy_byte_for_byte(tmp_path, two_sessions, s3_copy):
    remote_sessions = reader.resolve(s3_copy)
    local_sessions = reader.resolve(two_sessions.root)
    assert [(s.session_id, s.start_ns) for s in remote_sessions] == [
        (s.session_id, s.start_ns) for s in local_sessions]
    assert [s.source for s in remote_sessions] == [f"{s3_copy}/{sid}" for sid in two_sessions.session_ids]

    runs = {}
    for name, source in (("local", str(two_sessions.root)), ("s3", s3_copy)):
        runs[name] = tmp_path / name
        result = CliRunner().invoke(cli, ["replay", "--from", source, "--config", str(two_sessions.config_path),
                                          "--out", str(runs[name])])
        assert result.exit_code == 0, result.output
    local, s3 = _tree(runs["local"]), _tree(runs["s3"])
    assert local.keys() == s3.keys()
    for name in local:
        if name != "run.json":
            assert local[name] == s3[name], name
    local_meta, s3_meta = orjson.loads(local["run.json"]), orjson.loads(s3["run.json"])
    assert s3_meta.pop("recording") == s3_copy
    local_meta.pop("recording")
    assert local_meta == s3_meta
    assert pq.read_table(runs["s3"] / "opportunities.parquet").num_rows > 0
    for data in s3.values():
        assert SECRET.encode() not in data and KEY_ID.encode() not in data

    # One session named on the server, as a sweep's task names it.
    one = tmp_path / "one"
    result = CliRunner().invoke(cli, ["replay", "--from", f"{s3_copy}/{two_sessions.session_ids[1]}",
                                      "--config", str(two_sessions.config_path), "--out", str(one)])
    assert result.exit_code == 0 and "from 1 session(s)" in result.output


def test_a_sweep_over_s3_equals_the_local_sweep(tmp_path, two_sessions, s3_copy):
    grid = tmp_path / "grid.toml"
    grid.write_text("detector.min_edge = [0.005, 0.02]\n")
    tables = {}
    for name, source in (("local", str(two_sessions.root)), ("s3", s3_copy)):
        out = tmp_path / name
        result = CliRunner().invoke(cli, ["sweep", "--from", source, "--config", str(two_sessions.config_path),
                                          "--grid", str(grid), "--out", str(out), "--workers", "2"])
        assert result.exit_code == 0, result.output
        tables[name] = pq.read_table(out / "sweep.parquet").drop_columns(["run_s"]).to_pylist()
        for record in (out / "tasks").iterdir():
            assert SECRET.encode() not in record.read_bytes()
    assert tables["s3"] == tables["local"]  # same files, same task ids and results
    assert len(tables["s3"]) == 4


def test_a_missing_s3_recording_is_one_line(tmp_path, two_sessions, s3_copy):
    result = CliRunner().invoke(cli, ["replay", "--from", f"{s3_copy}-missing", "--config",
                                      str(two_sessions.config_path), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert result.output == f"Error: recording not found: {s3_copy}-missing\n"
