"""A verifier of the public record written from docs/record.md alone, as an outside client
would write it: an HTTP client (any `httpx.Client`: the tests pass theirs), hashlib, json,
csv and joserfc for the checkpoint. It imports nothing from the project, so a mistake
shared by the server and its own `civic-input verify` cannot hide here.

What it checks, each rule as docs/record.md states it:

- every entry has exactly the fields of the field dictionary, in its order;
- `seq` runs from 1 without gaps; `at` is UTC with six digits of microseconds and `Z`;
  hex is 64 lowercase digits;
- `prev_hash` is the previous entry's `hash` (64 zeros for the first);
- `hash` is SHA-256 of `seq|type|at|object_type|object_id|round_id|content_hash|prev_hash`;
- where `content` is not null, `content_hash` is SHA-256 of its canonical JSON (in the CSV,
  the `content` cell is that canonical JSON itself);
- the checkpoint's JWS verifies (ES256, the key named by its `kid` in the JWKS), its
  payload is `{seq, hash, at, iss}` with `iss` "civic-input", and it names the entry the
  chain arrives at.
"""

import csv
import hashlib
import io
import json
import re
from typing import Any

import httpx
from joserfc import jws
from joserfc.jwk import KeySet

GENESIS = "0" * 64
FIELDS = (
    "seq",
    "type",
    "at",
    "object_type",
    "object_id",
    "round_id",
    "content_hash",
    "prev_hash",
    "hash",
    "content",
)
HEX = re.compile(r"[0-9a-f]{64}")
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Broken(Exception):
    """The record does not verify; the message names the first entry that fails."""


def canonical(content: Any) -> bytes:
    """Keys sorted, no whitespace, UTF-8 without escaping non-ASCII characters."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_chain(entries: list[dict[str, Any]]) -> tuple[int, str]:
    """Check every entry and its link to the one before; the head's seq and hash."""
    prev, seq = GENESIS, 0
    for entry in entries:
        seq += 1
        if tuple(entry) != FIELDS:
            raise Broken(f"entry {seq}: fields {tuple(entry)}")
        if entry["seq"] != seq:
            raise Broken(f"entry {seq}: seq is {entry['seq']}")
        if not INSTANT.fullmatch(entry["at"]):
            raise Broken(f"entry {seq}: `at` is spelled {entry['at']!r}")
        for name in ("content_hash", "prev_hash", "hash"):
            if not HEX.fullmatch(entry[name]):
                raise Broken(f"entry {seq}: {name} is not 64 lowercase hex digits")
        for name in ("object_id", "round_id"):
            if entry[name] is not None and not UUID.fullmatch(entry[name]):
                raise Broken(f"entry {seq}: {name} is not a lowercase UUID")
        if entry["prev_hash"] != prev:
            raise Broken(f"entry {seq}: prev_hash is not the hash of entry {seq - 1}")
        if (
            entry["content"] is not None
            and sha256(canonical(entry["content"])) != (entry["content_hash"])
        ):
            raise Broken(f"entry {seq}: content does not match content_hash")
        line = "|".join(
            [
                str(entry["seq"]),
                entry["type"],
                entry["at"],
                entry["object_type"],
                entry["object_id"],
                entry["round_id"] or "",
                entry["content_hash"],
                entry["prev_hash"],
            ]
        )
        if sha256(line.encode()) != entry["hash"]:
            raise Broken(f"entry {seq}: hash does not match its fields")
        prev = entry["hash"]
    return seq, prev


def checkpoint(client: httpx.Client) -> dict[str, Any]:
    """The checkpoint, its signature verified; the signed payload."""
    response = client.get("/api/v1/record/checkpoint")
    response.raise_for_status()
    point = response.json()
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
    signed = jws.deserialize_compact(point["jws"], keys, algorithms=["ES256"])
    if signed.protected.get("kid") != point["kid"]:
        raise Broken("checkpoint: the JWS names another key")
    payload = json.loads(signed.payload)
    if set(payload) != {"seq", "hash", "at", "iss"} or payload["iss"] != "civic-input":
        raise Broken(f"checkpoint: payload {payload}")
    if not INSTANT.fullmatch(payload["at"]) or not HEX.fullmatch(payload["hash"]):
        raise Broken(f"checkpoint: payload {payload}")
    if {k: point[k] for k in ("seq", "hash", "at")} != {
        k: payload[k] for k in ("seq", "hash", "at")
    }:
        raise Broken("checkpoint: the fields beside the JWS differ from the signed ones")
    return payload


def feed_entries(client: httpx.Client, *, limit: int = 1000) -> list[dict[str, Any]]:
    """The whole feed, page after page from `after=0`, in the order the server wrote it."""
    entries: list[dict[str, Any]] = []
    after = 0
    while True:
        response = client.get("/api/v1/feed", params={"after": after, "limit": limit})
        response.raise_for_status()
        page = json.loads(response.content, object_pairs_hook=dict)
        entries += page["items"]
        if page["next_after"] is None:
            return entries
        after = page["next_after"]


def ndjson_entries(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/api/v1/export.ndjson")
    response.raise_for_status()
    return [json.loads(line) for line in response.text.splitlines()]


def csv_entries(client: httpx.Client) -> list[dict[str, Any]]:
    """The CSV rows as entries: `seq` a number, an empty `round_id` or `content` null; a
    `content` cell must be the canonical JSON that `content_hash` hashes."""
    response = client.get("/api/v1/export.csv")
    response.raise_for_status()
    reader = csv.DictReader(io.StringIO(response.text, newline=""))
    if tuple(reader.fieldnames or ()) != FIELDS:
        raise Broken(f"csv: columns {reader.fieldnames}")
    entries = []
    for row in reader:
        cell = row["content"]
        if cell and sha256(cell.encode()) != row["content_hash"]:
            raise Broken(f"csv entry {row['seq']}: the content cell is not what was hashed")
        entry: dict[str, Any] = dict(row)
        entry["seq"] = int(row["seq"])
        entry["round_id"] = row["round_id"] or None
        entry["content"] = json.loads(cell) if cell else None
        entries.append(entry)
    return entries


def verify(client: httpx.Client, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Check `entries` (from the feed or an export, fetched after the checkpoint) up to
    the checkpoint's seq, and that the chain arrives at its signed hash."""
    signed = checkpoint(client)
    seq, head = check_chain(entries[: signed["seq"]])
    if seq != signed["seq"] or head != signed["hash"]:
        raise Broken(f"the chain ends at {seq} {head}, the checkpoint names {signed}")
    return signed
