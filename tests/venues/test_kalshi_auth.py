"""Kalshi handshake signing (PROTOCOLS §1.2): RSA-PSS SHA-256 over ts + METHOD + path."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from arbkit.errors import CredentialsError
from arbkit.venues.kalshi.auth import load_private_key, sign_headers, verify_signature

KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"
TS = 1767225600123


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_key(path: Path, key, fmt: serialization.PrivateFormat, mode: int = 0o600) -> Path:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    )
    os.chmod(path, mode)
    return path


def test_signed_headers_verify_against_the_public_key(private_key):
    headers = sign_headers(KEY_ID, private_key, TS)

    assert headers["KALSHI-ACCESS-KEY"] == KEY_ID
    assert headers["KALSHI-ACCESS-TIMESTAMP"] == "1767225600123"
    assert verify_signature(
        private_key.public_key(), "1767225600123", "GET", "/trade-api/ws/v2",
        headers["KALSHI-ACCESS-SIGNATURE"],
    )


def test_signature_is_pss_sha256_with_a_32_byte_salt_over_ts_method_path(private_key):
    signature = sign_headers(KEY_ID, private_key, TS)["KALSHI-ACCESS-SIGNATURE"]
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)

    private_key.public_key().verify(
        base64.b64decode(signature), b"1767225600123GET/trade-api/ws/v2", pss, hashes.SHA256()
    )


def test_signature_is_standard_base64_of_a_key_sized_pss_signature(private_key):
    signature = sign_headers(KEY_ID, private_key, TS)["KALSHI-ACCESS-SIGNATURE"]

    assert len(base64.b64decode(signature, validate=True)) == 256


def test_tampered_signature_fails_verification(private_key):
    signature = sign_headers(KEY_ID, private_key, TS)["KALSHI-ACCESS-SIGNATURE"]
    raw = bytearray(base64.b64decode(signature))
    raw[10] ^= 0x01
    tampered = base64.b64encode(bytes(raw)).decode()

    assert not verify_signature(private_key.public_key(), str(TS), "GET", "/trade-api/ws/v2", tampered)


@pytest.mark.parametrize(
    ("timestamp", "method", "path"),
    [
        (str(TS), "GET", "/trade-api/v2/markets"),
        (str(TS + 1), "GET", "/trade-api/ws/v2"),
        (str(TS), "POST", "/trade-api/ws/v2"),
    ],
)
def test_signature_for_another_request_fails_verification(private_key, timestamp, method, path):
    signature = sign_headers(KEY_ID, private_key, TS)["KALSHI-ACCESS-SIGNATURE"]

    assert not verify_signature(private_key.public_key(), timestamp, method, path, signature)


def test_signature_from_another_key_fails_verification(private_key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = sign_headers(KEY_ID, other, TS)["KALSHI-ACCESS-SIGNATURE"]

    assert not verify_signature(private_key.public_key(), str(TS), "GET", "/trade-api/ws/v2", signature)


@pytest.mark.parametrize("garbage", ["", "not base64!!", "AAAA"])
def test_garbage_signature_header_fails_verification(private_key, garbage):
    assert not verify_signature(private_key.public_key(), str(TS), "GET", "/trade-api/ws/v2", garbage)


def test_query_string_is_not_signed(private_key):
    headers = sign_headers(KEY_ID, private_key, TS, "get", "/trade-api/v2/markets?limit=5&cursor=x")

    assert verify_signature(
        private_key.public_key(), str(TS), "GET", "/trade-api/v2/markets",
        headers["KALSHI-ACCESS-SIGNATURE"],
    )


@pytest.mark.parametrize(
    "fmt", [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL]
)
def test_owner_only_pkcs8_and_pkcs1_keys_load(tmp_path, private_key, fmt):
    path = write_key(tmp_path / "kalshi.pem", private_key, fmt)

    loaded = load_private_key(path)

    assert loaded.private_numbers() == private_key.private_numbers()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_key_readable_by_group_or_world_is_rejected(tmp_path, private_key, mode):
    path = write_key(tmp_path / "kalshi.pem", private_key, serialization.PrivateFormat.PKCS8, mode)

    with pytest.raises(CredentialsError, match="chmod 600"):
        load_private_key(path)


def test_missing_key_file_is_a_credentials_error(tmp_path):
    with pytest.raises(CredentialsError, match="not found"):
        load_private_key(tmp_path / "absent.pem")


def test_key_path_that_is_a_directory_is_a_credentials_error(tmp_path):
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)

    with pytest.raises(CredentialsError, match="not a regular file"):
        load_private_key(folder)


def test_non_pem_key_file_is_rejected_without_quoting_it(tmp_path):
    path = tmp_path / "kalshi.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n")
    os.chmod(path, 0o600)

    with pytest.raises(CredentialsError) as caught:
        load_private_key(path)

    assert "c2VjcmV0" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_encrypted_key_is_rejected(tmp_path, private_key):
    path = tmp_path / "kalshi.pem"
    path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"hunter2"),
        )
    )
    os.chmod(path, 0o600)

    with pytest.raises(CredentialsError, match="unencrypted"):
        load_private_key(path)


def test_non_rsa_key_is_rejected(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    path = write_key(tmp_path / "kalshi.pem", key, serialization.PrivateFormat.PKCS8)

    with pytest.raises(CredentialsError, match="not an RSA key"):
        load_private_key(path)
