"""Reading a dsbuild shard folder (docs/shard-format.md): the index, its checks, and the samples.

Text records are held in memory (they are small); paired samples keep only their tar location, and the image
bytes are read when a sample is rendered.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass, field

from protocol import UserError

IMAGE_EXTS = ("jpg", "jpeg", "png", "webp")


@dataclass(frozen=True)
class ImageRef:
    """Where a paired sample's image bytes live inside its tar."""

    tar: str
    offset: int
    size: int
    name: str

    def read(self) -> bytes:
        with open(self.tar, "rb") as f:
            f.seek(self.offset)
            data = f.read(self.size)
        if len(data) != self.size:
            raise UserError(f"{self.tar}: member {self.name} is truncated; rebuild the shards with `dsbuild shards`")
        return data


@dataclass
class Sample:
    id: str
    kind: str
    messages: list[dict]
    image: ImageRef | None = None
    meta: dict = field(default_factory=dict)

    @property
    def paired(self) -> bool:
        return self.image is not None


@dataclass
class ShardSet:
    root: str
    index: dict
    text: list[Sample]
    paired: list[Sample]


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_index(root: str) -> dict:
    path = os.path.join(root, "shards.json")
    if not os.path.isfile(path):
        raise UserError(f"{path} not found; point `shards` at a folder written by `dsbuild shards`")
    try:
        with open(path, encoding="utf-8") as f:
            index = json.load(f)
    except json.JSONDecodeError as e:
        raise UserError(f"{path} is not valid JSON ({e.msg} at line {e.lineno}); rebuild it with `dsbuild shards`")
    if index.get("format") != "dsbuild-shards":
        raise UserError(f"{path}: format is {index.get('format')!r}, expected 'dsbuild-shards'")
    if index.get("version") != 1:
        raise UserError(f"{path}: shard format version {index.get('version')!r} is not supported (this trainer reads 1)")
    for key in ("text", "paired"):
        if not isinstance(index.get(key, []), list):
            raise UserError(f"{path}: '{key}' must be a list of shard entries")
    return index


def _check_entry(root: str, entry: dict, verify: bool) -> str:
    rel = entry.get("file")
    if not rel or os.path.isabs(rel) or ".." in rel.split("/"):
        raise UserError(f"shards.json: bad shard path {rel!r}; paths must be relative to the shard folder")
    path = os.path.join(root, rel)
    if not os.path.isfile(path):
        raise UserError(f"shard {rel} listed in shards.json is missing from {root}")
    if "bytes" in entry and os.path.getsize(path) != entry["bytes"]:
        raise UserError(
            f"shard {rel} is {os.path.getsize(path)} bytes but shards.json says {entry['bytes']}; "
            "the file is truncated or was changed — rebuild the shards with `dsbuild shards`"
        )
    if verify:
        expected = entry.get("sha256")
        if not expected:
            raise UserError(f"shards.json: shard {rel} has no sha256")
        actual = sha256_file(path)
        if actual != expected.lower():
            raise UserError(
                f"shard {rel} is corrupt: sha256 {actual[:16]}… does not match shards.json ({expected[:16]}…); "
                "rebuild the shards with `dsbuild shards`"
            )
    return path


def _open_text(path: str):
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    if path.endswith(".zst"):
        try:
            import zstandard
        except ImportError:
            raise UserError(f"{path} is zstd-compressed; install `zstandard` (pip install zstandard) to read it")
        return io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(open(path, "rb")), encoding="utf-8")
    return open(path, encoding="utf-8")


def _check_messages(where: str, messages) -> list[dict]:
    if not isinstance(messages, list) or not messages:
        raise UserError(f"{where}: 'messages' must be a non-empty list")
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            raise UserError(f"{where}: each message needs a role of system, user or assistant")
        if not isinstance(m.get("content"), str):
            raise UserError(f"{where}: message content must be a string")
    if not any(m["role"] == "assistant" for m in messages):
        raise UserError(f"{where}: no assistant turn to learn from")
    return messages


def read_text_shard(path: str, rel: str) -> list[Sample]:
    out = []
    with _open_text(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{rel} line {n}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(f"{where}: not valid JSON ({e.msg})")
            messages = rec.get("messages")
            if messages is None and isinstance(rec.get("text"), str):
                messages = [{"role": "assistant", "content": rec["text"]}]
            out.append(
                Sample(
                    id=str(rec.get("id", f"{rel}:{n}")),
                    kind=str(rec.get("kind", "description")),
                    messages=_check_messages(where, messages),
                    meta={k: rec.get(k) for k in ("keyword", "category", "aspect", "language")},
                )
            )
    return out


def read_paired_shard(path: str, rel: str) -> list[Sample]:
    groups: dict[str, dict[str, tarfile.TarInfo]] = {}
    order: list[str] = []
    try:
        with tarfile.open(path, "r:") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                base = os.path.basename(member.name)
                key, dot, ext = base.partition(".")
                if not dot or base.startswith("_"):
                    continue  # e.g. _stats.json
                prefix = os.path.dirname(member.name)
                full_key = f"{prefix}/{key}" if prefix else key
                if full_key not in groups:
                    groups[full_key] = {}
                    order.append(full_key)
                groups[full_key][ext.lower()] = member
            meta_bytes = {k: tar.extractfile(g["json"]).read() for k, g in groups.items() if "json" in g}
    except tarfile.TarError as e:
        raise UserError(f"{rel} is not a readable tar ({e}); rebuild the shards with `dsbuild shards`")
    out = []
    for key in order:
        members = groups[key]
        where = f"{rel} sample {key}"
        if "json" not in members:
            raise UserError(f"{where}: no {key}.json member")
        image_member = next((members[e] for e in IMAGE_EXTS if e in members), None)
        if image_member is None:
            raise UserError(f"{where}: no image member (.jpg, .png or .webp)")
        try:
            rec = json.loads(meta_bytes[key])
        except json.JSONDecodeError as e:
            raise UserError(f"{where}: {key}.json is not valid JSON ({e.msg})")
        messages = rec.get("messages")
        if messages is None:
            txt = members.get("txt")
            if txt is None:
                raise UserError(f"{where}: neither messages in {key}.json nor a {key}.txt")
            with tarfile.open(path, "r:") as tar:
                caption = tar.extractfile(txt).read().decode("utf-8")
            messages = [{"role": "user", "content": "Describe this image."}, {"role": "assistant", "content": caption}]
        out.append(
            Sample(
                id=str(rec.get("key", key)),
                kind=str(rec.get("kind", "caption")),
                messages=_check_messages(where, messages),
                image=ImageRef(path, image_member.offset_data, image_member.size, image_member.name),
                meta={k: rec.get(k) for k in ("keyword", "category", "aspect", "language")},
            )
        )
    return out


def load_shards(root: str, need_text: bool = True, need_paired: bool = True, verify: bool = True) -> ShardSet:
    """Read the index, check every listed file (size, sha256, sample count), and read the samples."""
    index = load_index(root)
    text: list[Sample] = []
    paired: list[Sample] = []
    for key, reader, bucket, wanted in (
        ("text", read_text_shard, text, need_text),
        ("paired", read_paired_shard, paired, need_paired),
    ):
        for entry in index.get(key, []):
            if not isinstance(entry, dict):
                raise UserError(f"shards.json: every '{key}' entry must be an object with file, samples, sha256")
            if not wanted:
                continue  # a mode that does not read these shards does not pay for hashing them
            path = _check_entry(root, entry, verify)
            samples = reader(path, entry["file"])
            expected = entry.get("samples")
            if expected is not None and expected != len(samples):
                raise UserError(
                    f"shard {entry['file']} holds {len(samples)} samples but shards.json says {expected}; "
                    "rebuild the shards with `dsbuild shards`"
                )
            bucket.extend(samples)
    return ShardSet(root=root, index=index, text=text, paired=paired)
