"""The arbkit exception tree. The CLI turns every `UserError` into one line and exit code 2.

    ArbkitError
    ├── UserError             something the user can fix: bad path, config, credentials
    │   ├── ConfigError       the config file is missing, malformed or has unknown keys
    │   ├── CredentialsError  Kalshi key id / private key missing, unreadable or rejected
    │   └── RecordingError    a recording path that does not exist or cannot be read
    └── StorageError          a write failed (disk full, I/O error); sealed data is intact
"""

from __future__ import annotations


class ArbkitError(Exception):
    """Base of every error arbkit raises on purpose."""


class UserError(ArbkitError):
    """An error the user caused and can fix; reported as one line, exit code 2."""


class ConfigError(UserError):
    """The config file is missing, malformed, or has unknown or invalid keys."""


class CredentialsError(UserError):
    """Kalshi credentials are missing, unreadable, too widely readable, or rejected."""


class RecordingError(UserError):
    """A recording path does not exist or cannot be read."""


class StorageError(ArbkitError):
    """Writing a recording or run output failed."""
