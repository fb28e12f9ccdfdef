"""Which samples a training mode draws, and in what order (deterministic per seed and epoch).

- text-only   every text record, no pixels
- paired      every paired sample, with its image
- hybrid:<r>  a fraction r of each epoch drawn from paired samples, the rest from text records; an epoch has
              as many draws as there are text + paired samples, and the smaller pool is cycled when needed
- vift        text records of kind description/qa plus paired samples of kind caption
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dataset import Sample, ShardSet
from protocol import UserError

VIFT_TEXT_KINDS = ("description", "qa")
VIFT_PAIRED_KINDS = ("caption",)


@dataclass(frozen=True)
class Mode:
    name: str
    ratio: float | None = None  # hybrid only

    @property
    def needs_text(self) -> bool:
        return self.name in ("text-only", "vift") or (self.name == "hybrid" and self.ratio < 1)

    @property
    def needs_paired(self) -> bool:
        return self.name in ("paired", "vift") or (self.name == "hybrid" and self.ratio > 0)

    def __str__(self) -> str:
        return f"hybrid:{self.ratio:g}" if self.name == "hybrid" else self.name


def parse_mode(value: str) -> Mode:
    if value in ("text-only", "paired", "vift"):
        return Mode(value)
    if isinstance(value, str) and value.startswith("hybrid:"):
        try:
            r = float(value.split(":", 1)[1])
        except ValueError:
            r = -1.0
        if not 0.0 <= r <= 1.0:
            raise UserError(f"mode {value!r}: the hybrid ratio must be a number from 0 to 1, e.g. hybrid:0.5")
        return Mode("hybrid", r)
    raise UserError(f"unknown mode {value!r}; use text-only, paired, hybrid:<ratio> or vift")


class Stream:
    """The epoch-by-epoch order of samples for a mode; `epoch_order(e)` is the same on every rank."""

    def __init__(self, mode: Mode, shards: ShardSet, seed: int):
        self.mode = mode
        self.seed = seed
        if mode.name == "text-only":
            self.text, self.paired = shards.text, []
        elif mode.name == "paired":
            self.text, self.paired = [], shards.paired
        elif mode.name == "vift":
            self.text = [s for s in shards.text if s.kind in VIFT_TEXT_KINDS]
            self.paired = [s for s in shards.paired if s.kind in VIFT_PAIRED_KINDS]
        else:
            self.text = shards.text if mode.ratio < 1 else []
            self.paired = shards.paired if mode.ratio > 0 else []
        self._check()

    def _check(self) -> None:
        m = self.mode
        if m.name == "text-only" and not self.text:
            raise UserError("mode text-only: the shards hold no text records; build them with `dsbuild shards`")
        if m.name == "paired" and not self.paired:
            raise UserError("mode paired: the shards hold no paired samples; collect images and rebuild the shards")
        if m.name == "vift" and not (self.text or self.paired):
            raise UserError("mode vift: no text records of kind description/qa and no paired samples of kind caption")
        if m.name == "hybrid":
            if m.ratio > 0 and not self.paired:
                raise UserError(f"mode {m}: needs paired samples but the shards hold none; use text-only")
            if m.ratio < 1 and not self.text:
                raise UserError(f"mode {m}: needs text records but the shards hold none; use paired")

    @property
    def epoch_size(self) -> int:
        return len(self.text) + len(self.paired)

    def epoch_order(self, epoch: int) -> list[Sample]:
        rng = random.Random(self.seed * 1_000_003 + epoch)
        if self.mode.name != "hybrid":
            order = self.text + self.paired
            rng.shuffle(order)
            return order
        n = self.epoch_size
        n_paired = round(self.mode.ratio * n)
        draws = [True] * n_paired + [False] * (n - n_paired)
        rng.shuffle(draws)
        pools = {True: self._cycled(self.paired, n_paired, rng), False: self._cycled(self.text, n - n_paired, rng)}
        iters = {k: iter(v) for k, v in pools.items()}
        return [next(iters[d]) for d in draws]

    @staticmethod
    def _cycled(pool: list[Sample], n: int, rng: random.Random) -> list[Sample]:
        out: list[Sample] = []
        while len(out) < n:
            chunk = list(pool)
            rng.shuffle(chunk)
            out.extend(chunk)
        return out[:n]
