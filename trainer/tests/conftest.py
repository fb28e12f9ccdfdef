"""Shared fixtures: a tiny Qwen2-VL and a tiny LLaVA-NeXT built locally, real shards from K-Viscuit, and a runner
for train.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

TRAINER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(TRAINER, "tests")
for p in (TRAINER, TESTS):
    if p not in sys.path:
        sys.path.insert(0, p)

import make_shards  # noqa: E402

ENV = {**os.environ, "OMP_NUM_THREADS": "2", "TOKENIZERS_PARALLELISM": "false", "PYTHONHASHSEED": "0"}


class Run:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.returncode = proc.returncode
        self.stderr = proc.stderr
        self.lines = proc.stdout.splitlines()
        # The protocol: every stdout line is one JSON object with an "event".
        self.events = [json.loads(line) for line in self.lines]
        assert all("event" in e for e in self.events), self.lines

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["event"] == kind]

    def one(self, kind: str) -> dict:
        found = self.of(kind)
        assert len(found) == 1, f"expected one {kind} event, got {len(found)}: {self.lines}\n{self.stderr[-3000:]}"
        return found[0]

    @property
    def losses(self) -> list[float]:
        return [e["loss"] for e in self.of("step")]


def write_config(path: str, **cfg) -> str:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cfg, f)
    return path


def run_train(config_path: str, timeout: int = 600, launcher: list[str] | None = None) -> Run:
    cmd = (launcher or [sys.executable]) + [os.path.join(TRAINER, "train.py"), "--config", config_path]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV)
    return Run(proc)


def run_eval(*args: str, timeout: int = 600) -> Run:
    cmd = [sys.executable, os.path.join(TRAINER, "eval_mcq.py"), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV)
    return Run(proc)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    import make_tiny_model

    out = str(tmp_path_factory.mktemp("tiny-qwen2-vl"))
    return make_tiny_model.build(out, [], vocab_size=1024, seed=0, hidden=64, layers=2)


@pytest.fixture(scope="session")
def tiny_llava(tmp_path_factory) -> str:
    import make_tiny_model

    out = str(tmp_path_factory.mktemp("tiny-llava-next"))
    return make_tiny_model.build(out, [], vocab_size=1024, seed=0, hidden=64, layers=2, family="llava-next")


@pytest.fixture(scope="session")
def shards(tmp_path_factory) -> str:
    if not os.path.isfile(os.path.join(make_shards.DEFAULT_KVISCUIT, "annotations.jsonl")):
        pytest.skip(f"K-Viscuit data not found at {make_shards.DEFAULT_KVISCUIT} (set DSBUILD_KVISCUIT)")
    out = str(tmp_path_factory.mktemp("shards"))
    make_shards.build(out, n_images=4, image_size=96, use_gzip=True)
    return out


# One training run per mode, shared by the tests that inspect it.
MODE_RUNS = {
    "text-only": {"lora": {"enabled": True, "r": 8, "alpha": 16}, "lr": 3e-2},
    "paired": {"lora": {"enabled": False}, "lr": 1e-2},
    "hybrid:0.5": {"lora": {"enabled": True, "r": 8, "alpha": 16}, "lr": 3e-2},
    # Also exercises bf16 autocast and activation checkpointing.
    "vift": {"lora": {"enabled": False}, "lr": 1e-2, "dtype": "bf16", "gradient_checkpointing": True},
}


def mode_runner(model: str, shards: str, tmp_path_factory, runs: dict, name: str):
    cache: dict[str, tuple[Run, str]] = {}

    def get(mode: str) -> tuple[Run, str]:
        if mode not in cache:
            out = str(tmp_path_factory.mktemp(f"{name}-" + mode.replace(":", "-")))
            settings = {"max_steps": 24, "save_steps": 12, "dtype": "fp32", **runs[mode]}
            cfg = write_config(
                os.path.join(out, "config.json"), shards=shards, model=model, out=os.path.join(out, "out"),
                mode=mode, batch_size=2, grad_accum=1, device="cpu", seed=0, warmup_steps=2, **settings,
            )
            cache[mode] = (run_train(cfg), os.path.join(out, "out"))
        return cache[mode]

    return get


@pytest.fixture(scope="session")
def mode_run(tiny_model, shards, tmp_path_factory):
    return mode_runner(tiny_model, shards, tmp_path_factory, MODE_RUNS, "run")


# LLaVA-NeXT: text-only as a full fine-tune and paired with LoRA (so the adapter carries the projector), long
# enough to see the loss drop; a short full hybrid run for mixed batches and what a full fine-tune changes.
LLAVA_RUNS = {
    "text-only": {"lora": {"enabled": False}, "lr": 1e-2},
    "paired": {"lora": {"enabled": True, "r": 8, "alpha": 16}, "lr": 3e-2},
    "hybrid:0.5": {"lora": {"enabled": False}, "lr": 1e-2, "max_steps": 6, "save_steps": 0},
}


@pytest.fixture(scope="session")
def llava_run(tiny_llava, shards, tmp_path_factory):
    return mode_runner(tiny_llava, shards, tmp_path_factory, LLAVA_RUNS, "llava")
