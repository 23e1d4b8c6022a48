"""`arbkit record` refuses bad input with one line and exit code 2, before touching the network."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from arbkit.cli import cli

PAIR = """
[[pairs]]
name = "p"
kalshi_ticker = "KXTEST-1"
polymarket_yes_token = "111"
polymarket_no_token = "222"
"""


def _write_key(path: Path, mode: int) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(mode)


def _config(tmp_path: Path, extra: str = "", key_mode: int = 0o600) -> Path:
    _write_key(tmp_path / "kalshi.pem", key_mode)
    config = tmp_path / "arbkit.toml"
    config.write_text(
        '[venues.kalshi]\nws_url = "ws://127.0.0.1:9/trade-api/ws/v2"\nkey_id = "k-1"\n'
        'private_key_path = "kalshi.pem"\n[venues.polymarket]\nws_url = "ws://127.0.0.1:9/ws/market"\n'
        + extra
        + PAIR
    )
    return config


def _record(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["record", *args])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return result.exit_code, lines


def test_missing_config_file_exits_2_with_one_line_naming_it(tmp_path):
    code, lines = _record("--config", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "rec"))

    assert code == 2
    assert len(lines) == 1 and "nope.toml" in lines[0]
    assert not (tmp_path / "rec").exists()


def test_unknown_config_key_exits_2_naming_the_key(tmp_path):
    config = _config(tmp_path, extra="[recorder]\nflush_every = 3\n")

    code, lines = _record("--config", str(config), "--out", str(tmp_path / "rec"))

    assert code == 2
    assert len(lines) == 1 and "flush_every" in lines[0]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_group_or_world_readable_key_file_exits_2_before_recording(tmp_path, mode):
    config = _config(tmp_path, key_mode=mode)

    code, lines = _record("--config", str(config), "--out", str(tmp_path / "rec"))

    assert code == 2
    assert len(lines) == 1 and "kalshi.pem" in lines[0] and "chmod 600" in lines[0]
    assert not (tmp_path / "rec").exists()


def test_absent_key_file_exits_2_naming_it(tmp_path):
    config = _config(tmp_path)
    (tmp_path / "kalshi.pem").unlink()

    code, lines = _record("--config", str(config), "--out", str(tmp_path / "rec"))

    assert code == 2
    assert len(lines) == 1 and "kalshi.pem" in lines[0]


def test_missing_key_id_exits_2(tmp_path):
    config = _config(tmp_path)
    config.write_text(config.read_text().replace('key_id = "k-1"\n', ""))

    code, lines = _record("--config", str(config), "--out", str(tmp_path / "rec"))

    assert code == 2
    assert len(lines) == 1 and "key id" in lines[0]


def test_config_without_pairs_exits_2(tmp_path):
    config = _config(tmp_path)
    config.write_text(config.read_text().replace(PAIR, ""))

    code, lines = _record("--config", str(config), "--out", str(tmp_path / "rec"))

    assert code == 2
    assert len(lines) == 1 and "pairs" in lines[0]


def test_record_with_no_venue_reachable_shows_the_error_and_exits_non_zero_with_one_line(tmp_path):
    # Both venues point at a closed loopback port: every connection attempt is refused.
    config = _config(tmp_path)

    code, lines = _record("--config", str(config), "--out", str(tmp_path / "rec"), "--duration", "1.5")

    assert code == 1, lines
    status = [line for line in lines if line.startswith("record: ")]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert status and "kalshi" in status[-1] and "last error: connection refused" in status[-1], lines
    assert "(0 frames, " in status[-1]
    assert len(errors) == 1 and "no frame received" in errors[0] and "connection refused" in errors[0]
    assert "Traceback" not in "\n".join(lines)


def test_status_line_plurals_and_last_error_only_while_a_venue_is_down():
    from arbkit.runner.connections import VenueStats
    from arbkit.runner.status import StatusLine

    stats = {"kalshi": VenueStats("kalshi", connections=1, open=1, frames_in=1, reconnects=1,
                                  last_error="ConnectionRefusedError: [Errno 111] Connect call failed"),
             "polymarket": VenueStats("polymarket", connections=1, open=0,
                                      last_error="ConnectionRefusedError: [Errno 111] Connect call failed")}

    text = StatusLine(stats, lambda: 1).render()

    assert text.startswith("disk 1 B")
    assert "kalshi open 0/s (1 frame, 1 reconnect)" in text and "kalshi open 0/s (1 frame, 1 reconnect) last" not in text
    assert "polymarket connecting 0/s (0 frames, 0 reconnects) last error: connection refused" in text
