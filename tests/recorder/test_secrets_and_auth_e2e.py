"""Secrets never reach a recording or output; rejected credentials and unknown markets exit 2."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from arbkit.sandbox import files
from arbkit.store.reader import iter_frames


def _secrets(sandbox) -> list[bytes]:
    pem = sandbox.sandbox.key_path.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    body_lines = [line for line in pem.splitlines() if line and not line.startswith(b"-----")]
    body = b"".join(body_lines)
    numbers = key.private_numbers()
    exponent = numbers.d.to_bytes((numbers.d.bit_length() + 7) // 8, "big")
    return [
        sandbox.sandbox.key_id.encode(),
        body,
        base64.b64encode(der),
        der[-64:],
        exponent[:32],
        *[line for line in body_lines if len(line) >= 40],
    ]


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_no_file_the_recorder_wrote_nor_its_output_holds_the_key_id_or_key_material(sandbox, tmp_path, run_arbkit):
    root = tmp_path / "recordings"
    secrets = _secrets(sandbox)

    # -vv: debug logging on, the most output the recorder can produce.
    result = run_arbkit("-vv", "record", "--config", str(sandbox.config_path), "--out", str(root), "--duration", "4")

    assert result.returncode == 0, result.stderr.decode()
    written = _files_under(root)
    assert any(p.suffix == ".parquet" for p in written) and any(p.suffix == ".json" for p in written)
    assert sum(1 for f in iter_frames(root) if f.kind == "in") > 100
    for path in written:
        data = path.read_bytes()
        for secret in secrets:
            assert secret not in data, f"secret found in {path}"
    for stream in (result.stdout, result.stderr):
        for secret in secrets:
            assert secret not in stream
    assert b"arbkit.runner" in result.stderr  # the output really was verbose


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_a_signature_the_venue_rejects_exits_2_with_one_line(sandbox, tmp_path, run_arbkit):
    # The sandbox verifies against its own public key; sign with another key.
    key_path = sandbox.sandbox.key_path
    files.write_private_key(key_path, files.new_private_key())

    result = run_arbkit("record", "--config", str(sandbox.config_path), "--out", str(tmp_path / "rec"))

    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "401" in lines[0] and "Kalshi" in lines[0]
    assert sandbox.sandbox.key_id not in result.stderr.decode()


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_an_unknown_kalshi_market_exits_2_naming_the_ticker(sandbox, tmp_path, run_arbkit):
    config = sandbox.config_path
    text = config.read_text()
    ticker = re.search(r'kalshi_ticker = "([^"]+)"', text).group(1)
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(ticker, "KXNOSUCH-MARKET").replace(
        f'private_key_path = "{files.KEY_FILE}"', f'private_key_path = "{sandbox.sandbox.key_path}"'))

    result = run_arbkit("record", "--config", str(bad), "--out", str(tmp_path / "rec"))

    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "KXNOSUCH-MARKET" in lines[0]
