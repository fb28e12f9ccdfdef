"""Checkpoints: `out/checkpoint-<step>/` = model or adapter (save_pretrained) + processor + trainer_state.pt.

A checkpoint is written under a temporary name and renamed when complete, so a killed run never leaves a
half-written `checkpoint-<step>` behind; resume picks the newest complete one.
"""

from __future__ import annotations

import os
import random
import re
import shutil

import numpy as np
import torch

import modelsetup

STATE_FILE = "trainer_state.pt"
_NAME = re.compile(r"^checkpoint-(\d+)$")


def latest(out: str) -> tuple[int, str] | None:
    if not os.path.isdir(out):
        return None
    found = []
    for name in os.listdir(out):
        m = _NAME.match(name)
        path = os.path.join(out, name)
        if m and os.path.isfile(os.path.join(path, STATE_FILE)):
            found.append((int(m.group(1)), path))
    return max(found) if found else None


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(out: str, step: int, model, processor, optimizer, scheduler, extra: dict) -> str:
    final = os.path.join(out, f"checkpoint-{step}")
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    modelsetup.save(model, processor, tmp)
    state = {
        "step": step,
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": rng_state(),
        **extra,
    }
    torch.save(state, os.path.join(tmp, STATE_FILE))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return final


def load_state(path: str) -> dict:
    return torch.load(os.path.join(path, STATE_FILE), map_location="cpu", weights_only=False)
