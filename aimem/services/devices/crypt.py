"""End-to-end encryption of a sync location (--encrypt)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aimem import jsonio
from aimem.errors import AimemError
from aimem.store import devices as sdb
from aimem.store.db import Store

# -- encryption -------------------------------------------------------------------------
# With --encrypt, the location gets aimem-sync/encryption.json (written once, by the first
# device: scrypt parameters, a random salt, and a check value sealed with the key) and every
# batch of records a device appends becomes one line "aimem-e1:" + base64(nonce + AES-256-GCM
# ciphertext), authenticated with the writing device's id (a line moved to another device's
# file fails). A wrong passphrase fails the check before anything is sent or applied; a
# tampered line fails authentication and its file is skipped, nothing of it applied. The
# file names, sizes, device.json (id, name) and seen.json (read positions) stay readable.

SEALED = b"aimem-e1:"
CHECK = b"aimem sync passphrase check"


class _Crypt:
    def __init__(self, key: bytes):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.aes = AESGCM(key)

    def seal(self, data: bytes, dev: str) -> bytes:
        import base64

        nonce = os.urandom(12)
        return SEALED + base64.b64encode(nonce + self.aes.encrypt(nonce, data, dev.encode())) \
            + b"\n"

    def open(self, line: bytes, dev: str) -> bytes:
        import base64

        from cryptography.exceptions import InvalidTag

        try:
            raw = base64.b64decode(line[len(SEALED):].strip(), validate=True)
            return self.aes.decrypt(raw[:12], raw[12:], dev.encode())
        except (InvalidTag, ValueError):
            raise ValueError("an encrypted line fails authentication (tampered, or not "
                             "written with this location's key)") from None


def _plain_lines(data: bytes, device: str, crypt: _Crypt | None) -> list[bytes]:
    out: list[bytes] = []
    for line in data.splitlines():
        if crypt is None:
            if line.startswith(SEALED):
                raise ValueError("an encrypted line in a location that is not encrypted")
            out.append(line)
        elif line.strip():
            if not line.startswith(SEALED):
                raise ValueError("a line that is not encrypted in an encrypted location")
            out += crypt.open(line, device).splitlines()
    return out


KEYRING_SERVICE = "aimem-sync"


def _keyring() -> Any:
    """The ``keyring`` module when it is installed (the OS keyring), else None."""
    try:
        import keyring
    except ImportError:
        return None
    return keyring


def _from_keyring(account: str) -> str | None:
    kr = _keyring()
    if kr is None:
        return None
    try:
        return kr.get_password(KEYRING_SERVICE, account) or None
    except Exception:  # no usable backend (a headless machine), a locked keyring…
        return None


def _to_keyring(account: str, passphrase: str) -> None:
    """Keep a passphrase that was typed and checked in the OS keyring, when there is one."""
    kr = _keyring()
    if kr is None:
        return
    try:
        kr.set_password(KEYRING_SERVICE, account, passphrase)
    except Exception:  # no usable backend: it is asked for again next time
        pass


def _passphrase(account: str) -> tuple[str, str]:
    """(passphrase, where it came from: env, keyring or prompt): AIMEM_SYNC_PASSPHRASE
    first, then the OS keyring (service ``aimem-sync``, the location as the account) when
    the ``keyring`` package is installed, then a prompt in a terminal."""
    import sys

    env = os.environ.get("AIMEM_SYNC_PASSPHRASE")
    if env:
        return env, "env"
    kept = _from_keyring(account)
    if kept:
        return kept, "keyring"
    if sys.stdin.isatty():
        import getpass

        got = getpass.getpass("sync passphrase: ")
        if got:
            return got, "prompt"
    raise AimemError("the sync location is encrypted: set AIMEM_SYNC_PASSPHRASE or run "
                     "aimem sync in a terminal to type the passphrase")


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    try:
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
    except ImportError:
        raise AimemError("encrypted sync needs the cryptography package: "
                         "pip install 'aimem[encrypt]'") from None
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _cipher(store: Store, root: Path, dry_run: bool = False,
            account: str | None = None) -> _Crypt | None:
    """The location's cipher (None: not encrypted); made on first use with --encrypt (not
    by a dry run: it writes nothing, so it needs no key for a location without one).
    ``account``: the name the passphrase has in the OS keyring (the location)."""
    import base64

    account = account or str(root)
    meta = root / "encryption.json"
    want = sdb.config(store).get("encrypt") == "1"
    if not meta.exists():
        if not want or dry_run:
            return None
        if root.is_dir() and any(root.glob("*/log-*.jsonl")):
            raise AimemError("this sync location already has unencrypted logs: use a new "
                             "folder (or git remote) for an encrypted sync")
        salt, n, r, p = os.urandom(16), 2 ** 15, 8, 1
        secret, origin = _passphrase(account)
        crypt = _Crypt(_derive(secret, salt, n, r, p))
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / ".encryption.json.tmp"
        tmp.write_bytes(jsonio.dumps({
            "cipher": "AES-256-GCM", "kdf": "scrypt", "n": n, "r": r, "p": p,
            "salt": base64.b64encode(salt).decode(),
            "check": crypt.seal(CHECK, "check").decode().strip()}))
        os.replace(tmp, meta)
        if origin == "prompt":
            _to_keyring(account, secret)
        return crypt
    try:
        m = jsonio.loads(meta.read_bytes())
        salt = base64.b64decode(m["salt"])
        secret, origin = _passphrase(account)
        crypt = _Crypt(_derive(secret, salt, int(m["n"]), int(m["r"]), int(m["p"])))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise AimemError(f"{meta} is unreadable ({e})") from None
    try:
        ok = crypt.open(m["check"].encode(), "check") == CHECK
    except ValueError:
        ok = False
    if not ok:
        where = (f" (the one kept in the OS keyring, service {KEYRING_SERVICE!r}, account "
                 f"{account!r}: set AIMEM_SYNC_PASSPHRASE to override it)"
                 if origin == "keyring" else "")
        raise AimemError(f"wrong passphrase for this sync location{where}: nothing was sent "
                         "or applied")
    if origin == "prompt":
        _to_keyring(account, secret)
    if not want and not dry_run:
        with store.transaction():
            sdb.set_config(store, "encrypt", "1")
    return crypt
