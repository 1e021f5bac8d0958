"""Passwords per NIST SP 800-63B-4 (single factor): 15 to 256 characters, and not one
of the common passwords shipped in models/data (Django's list; see models/data/NOTICE)."""

import gzip
from functools import cache
from importlib.resources import files

MIN_LENGTH = 15
MAX_LENGTH = 256


@cache
def common_passwords() -> frozenset[str]:
    """The list, read once per process (19,640 lower-cased entries)."""
    with gzip.open(files("models").joinpath("data/common-passwords.txt.gz").open("rb")) as f:
        return frozenset(
            line.strip() for line in f.read().decode("utf-8").splitlines() if line.strip()
        )


def is_common(password: str) -> bool:
    """Compared ignoring case and surrounding space, as the list was built."""
    return password.strip().lower() in common_passwords()
