"""A throwaway self-signed certificate, made by Debian's openssl."""

from __future__ import annotations

import subprocess
from pathlib import Path


def self_signed(folder: Path, host: str, days: int = 2) -> tuple[Path, Path]:
    """A key and a certificate for ``host`` (its CN and DNS name) in ``folder``."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days)]
        + ["-keyout", str(key), "-out", str(cert), "-subj", f"/CN={host}"]
        + ["-addext", f"subjectAltName=DNS:{host}"],
        check=True,
        capture_output=True,
    )
    return key, cert
