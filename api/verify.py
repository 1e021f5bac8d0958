"""`civic-input verify URL`: mirror a server's record log and prove it was only appended to.

Fetches the signed checkpoint and the public keys, then the whole feed; recomputes every
entry's hash and its link to the one before; checks each content against its hash (a
tombstoned entry has no content to check, but its hashes still chain); and checks the
checkpoint's signature and that it names the entry the chain arrives at.
"""

import json
import re
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from jose import jws
from jose.exceptions import JOSEError

from api.services.ledger import GENESIS, content_hash, entry_hash

PAGE = 1000
# docs/record.md: UTC, six digits of microseconds, Z; hex in lowercase
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
HEX = re.compile(r"[0-9a-f]{64}")


@dataclass
class Report:
    entries: int = 0
    tombstones: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _get(base: str, path: str, **query: Any) -> Any:
    url = base.rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise OSError("the URL must start with http:// or https://")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.loads(response.read())


def check_entry(entry: dict[str, Any], prev_hash: str) -> str | None:
    """What is wrong with one entry, or None. Its fields are used as written: `at` is
    hashed as the string the feed gives, never reparsed and reformatted."""
    seq = entry["seq"]
    if not INSTANT.fullmatch(entry["at"]):
        return f"entry {seq}: `at` is not written as the log writes instants"
    if not all(HEX.fullmatch(entry[name]) for name in ("content_hash", "prev_hash", "hash")):
        return f"entry {seq}: a hash is not 64 lowercase hex digits"
    if entry["prev_hash"] != prev_hash:
        return f"entry {seq}: prev_hash does not match the hash of the entry before it"
    if entry["content"] is not None and content_hash(entry["content"]) != entry["content_hash"]:
        return f"entry {seq}: content does not match its content_hash"
    expected = entry_hash(
        seq=seq,
        event_type=entry["type"],
        at=entry["at"],
        object_type=entry["object_type"],
        object_id=entry["object_id"],
        round_id=entry["round_id"],
        content_digest=entry["content_hash"],
        prev_hash=entry["prev_hash"],
    )
    if expected != entry["hash"]:
        return f"entry {seq}: hash does not match its fields"
    return None


def verify(base_url: str, *, progress: Any = None) -> Report:
    report = Report()
    checkpoint = _get(base_url, "/api/v1/record/checkpoint")
    keys = {k["kid"]: k for k in _get(base_url, "/.well-known/jwks.json")["keys"]}
    key = keys.get(checkpoint["kid"])
    signed: dict[str, Any] = {}
    if key is None:
        report.problems.append(f"checkpoint: key {checkpoint['kid']} is not in the JWKS")
    else:
        try:
            signed = json.loads(jws.verify(checkpoint["jws"], key, algorithms=["ES256"]))
        except (JOSEError, ValueError) as exc:
            report.problems.append(f"checkpoint: bad signature ({type(exc).__name__})")
    target = int(signed.get("seq", checkpoint["seq"]))
    prev, after, expected_seq = GENESIS, 0, 1
    while after < target and not report.problems:
        page = _get(base_url, "/api/v1/feed", after=after, limit=PAGE)
        if not page["items"]:
            break
        for entry in page["items"]:
            if entry["seq"] > target:
                break
            if entry["seq"] != expected_seq:
                report.problems.append(f"entry {expected_seq}: missing (next is {entry['seq']})")
                break
            problem = check_entry(entry, prev)
            if problem:
                report.problems.append(problem)
                break
            report.entries += 1
            report.tombstones += entry["content"] is None
            prev, expected_seq = entry["hash"], entry["seq"] + 1
        after = page["items"][-1]["seq"]
        if progress:
            progress(report.entries, target)
    report.head_seq, report.head_hash = expected_seq - 1, prev
    if not report.problems:
        if report.head_seq != target:
            report.problems.append(
                f"the feed ends at {report.head_seq}, the checkpoint names {target}"
            )
        elif signed and signed.get("hash") != prev:
            report.problems.append(
                f"checkpoint: hash of entry {target} differs from the signed one"
            )
    return report


def main(base_url: str) -> int:
    def show(done: int, total: int) -> None:
        print(f"\rverified {done}/{total} entries", end="", file=sys.stderr, flush=True)

    try:
        report = verify(base_url, progress=show)
    except OSError as exc:
        print(f"cannot read {base_url}: {exc}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    if report.ok:
        print(
            f"OK: {report.entries} entries ({report.tombstones} tombstoned) chain to "
            f"seq {report.head_seq} hash {report.head_hash}; the checkpoint signature is valid"
        )
        return 0
    print(f"FAILED: {report.problems[0]}")
    return 1
