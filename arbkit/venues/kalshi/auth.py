"""Kalshi API-key request signing (PROTOCOLS §1.2): RSA-PSS over `timestamp + METHOD + path`.

The caller passes the timestamp in (venues never read the clock) and re-signs on every connect.
Nothing here logs, and no error message carries the key id or any key material.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from arbkit.errors import CredentialsError

WS_PATH = "/trade-api/ws/v2"
KEY_HEADER = "KALSHI-ACCESS-KEY"
TIMESTAMP_HEADER = "KALSHI-ACCESS-TIMESTAMP"
SIGNATURE_HEADER = "KALSHI-ACCESS-SIGNATURE"

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def load_private_key(path: str | os.PathLike[str]) -> RSAPrivateKey:
    """Load an unencrypted RSA private key (PKCS#1 or PKCS#8 PEM) that only its owner can read."""
    key_path = Path(path)
    try:
        mode = key_path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise CredentialsError(f"Kalshi private key {key_path} is not a regular file")
        if mode & 0o077:
            raise CredentialsError(
                f"Kalshi private key {key_path} is readable by others "
                f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {key_path}"
            )
        data = key_path.read_bytes()
    except FileNotFoundError:
        raise CredentialsError(f"Kalshi private key file not found: {key_path}") from None
    except OSError as exc:
        raise CredentialsError(
            f"cannot read Kalshi private key {key_path}: {exc.strerror or exc.__class__.__name__}"
        ) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # The library's message may quote file content; say only what is wrong.
        raise CredentialsError(
            f"Kalshi private key {key_path} is not an unencrypted PEM private key"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise CredentialsError(f"Kalshi private key {key_path} is not an RSA key")
    return key


def _message(timestamp: str, method: str, path: str) -> bytes:
    # REST signs the path without its query: "/trade-api/v2/markets?limit=5" -> ".../markets"
    return (timestamp + method.upper() + path.split("?", 1)[0]).encode()


def sign_headers(
    key_id: str,
    private_key: RSAPrivateKey,
    timestamp_ms: int,
    method: str = "GET",
    path: str = WS_PATH,
) -> dict[str, str]:
    """Return the three KALSHI-ACCESS-* headers for a request made at `timestamp_ms`."""
    timestamp = str(timestamp_ms)
    signature = private_key.sign(_message(timestamp, method, path), _PSS, hashes.SHA256())
    return {
        KEY_HEADER: key_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: base64.b64encode(signature).decode("ascii"),
    }


def verify_signature(
    public_key: RSAPublicKey, timestamp: str, method: str, path: str, signature_b64: str
) -> bool:
    """Check a KALSHI-ACCESS-SIGNATURE header against the request it claims to sign."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        public_key.verify(signature, _message(timestamp, method, path), _PSS, hashes.SHA256())
    except InvalidSignature:
        return False
    return True
