"""End-to-end encryption of a sync location (--encrypt)."""

from __future__ import annotations

import os
from pathlib import Path

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


def _passphrase() -> str:
    import sys

    env = os.environ.get("AIMEM_SYNC_PASSPHRASE")
    if env:
        return env
    if sys.stdin.isatty():
        import getpass

        got = getpass.getpass("sync passphrase: ")
        if got:
            return got
    raise AimemError("the sync location is encrypted: set AIMEM_SYNC_PASSPHRASE or run "
                     "aimem sync in a terminal to type the passphrase")


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    try:
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
    except ImportError:
        raise AimemError("encrypted sync needs the cryptography package: "
                         "pip install 'aimem[encrypt]'") from None
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _cipher(store: Store, root: Path) -> _Crypt | None:
    """The location's cipher (None: not encrypted); made on first use with --encrypt."""
    import base64

    meta = root / "encryption.json"
    want = sdb.config(store).get("encrypt") == "1"
    if not meta.exists():
        if not want:
            return None
        if root.is_dir() and any(root.glob("*/log-*.jsonl")):
            raise AimemError("this sync location already has unencrypted logs: use a new "
                             "folder (or git remote) for an encrypted sync")
        salt, n, r, p = os.urandom(16), 2 ** 15, 8, 1
        crypt = _Crypt(_derive(_passphrase(), salt, n, r, p))
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / ".encryption.json.tmp"
        tmp.write_bytes(jsonio.dumps({
            "cipher": "AES-256-GCM", "kdf": "scrypt", "n": n, "r": r, "p": p,
            "salt": base64.b64encode(salt).decode(),
            "check": crypt.seal(CHECK, "check").decode().strip()}))
        os.replace(tmp, meta)
        return crypt
    try:
        m = jsonio.loads(meta.read_bytes())
        salt = base64.b64decode(m["salt"])
        crypt = _Crypt(_derive(_passphrase(), salt, int(m["n"]), int(m["r"]), int(m["p"])))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise AimemError(f"{meta} is unreadable ({e})") from None
    try:
        ok = crypt.open(m["check"].encode(), "check") == CHECK
    except ValueError:
        ok = False
    if not ok:
        raise AimemError("wrong passphrase for this sync location: nothing was sent or applied")
    if not want:
        with store.transaction():
            sdb.set_config(store, "encrypt", "1")
    return crypt
