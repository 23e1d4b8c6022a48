"""Recordings on S3-compatible storage: a moto server on loopback holds a copy of a recording;
replay and sweep read it through pyarrow's S3 filesystem and equal the local answers."""

from __future__ import annotations

import json
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


def _ok(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


QUERIES = (
    "SELECT venue, count(*) AS frames, sum(bytes) AS bytes, count(DISTINCT date) AS dates FROM frames GROUP BY venue ORDER BY venue",
    "SELECT session_id, status, host, pairs FROM sessions ORDER BY session_id",
    "SELECT venue, market, updates, p50_ms, max_ms FROM book_staleness ORDER BY venue, market",
    "SELECT * FROM seq_gaps ORDER BY session_id, ingest_seq",
)


def test_stats_and_query_on_s3_equal_the_local_copy(two_sessions, s3_copy):
    local = str(two_sessions.root)
    doc = json.loads(_ok("stats", s3_copy, "--format", "json"))

    assert doc == json.loads(_ok("stats", local, "--format", "json"))
    # Read from the manifests on the server, not just from the frames.
    assert (doc["recording"]["sessions"], doc["recording"]["sessions_without_manifest"]) == (2, 0)
    assert doc["recording"]["frames"] == 2 * 12_000
    for sql in QUERIES:
        assert _ok("query", s3_copy, sql, "--format", "json") == _ok("query", local, sql, "--format", "json"), sql
    assert json.loads(_ok("query", s3_copy, QUERIES[0], "--format", "json"))[0]["frames"] > 0


def test_query_on_s3_stays_read_only(tmp_path, two_sessions, s3_copy):
    local_file = sorted(two_sessions.root.rglob("*.parquet"))[0]
    for sql in (f"SELECT * FROM read_parquet('{local_file}')", "SELECT * FROM read_text('/etc/hostname')",
                "SELECT * FROM read_parquet('s3://bench/rec/frames/*/*/*.parquet')",
                f"COPY (SELECT 1) TO '{tmp_path}/x.csv'", "CREATE TABLE t AS SELECT 1"):
        result = CliRunner().invoke(cli, ["query", s3_copy, sql])
        assert result.exit_code == 2, (sql, result.output)
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert list(tmp_path.iterdir()) == []


def test_report_renders_from_s3_with_the_local_headline_numbers(tmp_path, two_sessions, s3_copy):
    out = tmp_path / "s3.html"
    assert _ok("report", s3_copy, "-o", str(out)).strip() == str(out)
    html = out.read_text(encoding="utf-8")
    doc = json.loads(_ok("stats", str(two_sessions.root), "--format", "json"))

    assert f'data-stat="recording.frames" data-value="{doc["recording"]["frames"]}"' in html
    assert "Recording health" in html and "<svg" in html
    assert SECRET not in html and KEY_ID not in html
