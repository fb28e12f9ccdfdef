"""The training configuration (one JSON object), with defaults and checks that name the bad key."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from mixing import Mode, parse_mode
from protocol import UserError

DTYPES = ("fp32", "bf16", "fp16")
DEVICES = ("cpu", "cuda", "auto")


@dataclass
class TrainConfig:
    shards: str
    model: str
    out: str
    mode: str = "text-only"
    max_steps: int = 0  # > 0 overrides epochs
    epochs: float = 1.0
    device: str = "auto"
    dtype: str = "fp32"
    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 0
    warmup_ratio: float = 0.03
    batch_size: int = 1
    grad_accum: int = 1
    max_grad_norm: float = 1.0
    max_length: int = 2048
    seed: int = 0
    save_steps: int = 0  # 0 = only at the end
    log_steps: int = 1
    lora: dict = field(default_factory=lambda: {"enabled": True, "r": 8, "alpha": 16, "dropout": 0.0})
    freeze_vision: bool = True
    freeze_projector: bool = False
    gradient_checkpointing: bool = False
    resume: bool = True
    verify_shards: bool = True
    save_merged: bool = True

    @property
    def parsed_mode(self) -> Mode:
        return parse_mode(self.mode)

    def to_dict(self) -> dict:
        return asdict(self)


_INT = ("max_steps", "warmup_steps", "batch_size", "grad_accum", "max_length", "seed", "save_steps", "log_steps")
_FLOAT = ("epochs", "lr", "weight_decay", "warmup_ratio", "max_grad_norm")
_BOOL = ("freeze_vision", "freeze_projector", "gradient_checkpointing", "resume", "verify_shards", "save_merged")


def load_config(path: str) -> TrainConfig:
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except FileNotFoundError:
        raise UserError(f"config file {path} not found")
    except json.JSONDecodeError as e:
        raise UserError(f"config {path} is not valid JSON ({e.msg} at line {e.lineno})")
    if not isinstance(raw, dict):
        raise UserError(f"config {path} must be a JSON object")
    return parse_config(raw)


def parse_config(raw: dict, base_dir: str | None = None) -> TrainConfig:
    """Relative paths are taken from the current directory (or `base_dir`)."""
    base_dir = base_dir or os.getcwd()
    known = set(TrainConfig.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UserError(f"unknown config key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}")
    for key in ("shards", "model", "out"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise UserError(f"config key '{key}' is required (a path)")
    values = dict(raw)
    for key in ("shards", "model", "out"):
        values[key] = os.path.normpath(os.path.join(base_dir, os.path.expanduser(values[key])))
    for key in _INT:
        if key in values and (not isinstance(values[key], int) or isinstance(values[key], bool)):
            raise UserError(f"config key '{key}' must be an integer, got {values[key]!r}")
    for key in _FLOAT:
        if key in values and (not isinstance(values[key], (int, float)) or isinstance(values[key], bool)):
            raise UserError(f"config key '{key}' must be a number, got {values[key]!r}")
    for key in _BOOL:
        if key in values and not isinstance(values[key], bool):
            raise UserError(f"config key '{key}' must be true or false, got {values[key]!r}")
    cfg = TrainConfig(**values)
    cfg.parsed_mode  # validates the mode
    if cfg.dtype not in DTYPES:
        raise UserError(f"config key 'dtype' must be one of {', '.join(DTYPES)}, got {cfg.dtype!r}")
    if cfg.device not in DEVICES:
        raise UserError(f"config key 'device' must be one of {', '.join(DEVICES)}, got {cfg.device!r}")
    for key in ("batch_size", "grad_accum", "max_length", "log_steps"):
        if getattr(cfg, key) < 1:
            raise UserError(f"config key '{key}' must be at least 1")
    if cfg.max_steps < 0 or cfg.save_steps < 0:
        raise UserError("config keys 'max_steps' and 'save_steps' must not be negative")
    if cfg.max_steps == 0 and cfg.epochs <= 0:
        raise UserError("set 'max_steps' > 0 or 'epochs' > 0")
    if cfg.lr <= 0:
        raise UserError("config key 'lr' must be positive")
    if not isinstance(cfg.lora, dict):
        raise UserError("config key 'lora' must be an object like {\"enabled\": true, \"r\": 8, \"alpha\": 16}")
    bad = sorted(set(cfg.lora) - {"enabled", "r", "alpha", "dropout", "target_modules"})
    if bad:
        raise UserError(f"unknown lora key(s) {', '.join(bad)}; use enabled, r, alpha, dropout, target_modules")
    tm = cfg.lora.get("target_modules")
    if tm is not None and (not isinstance(tm, list) or not all(isinstance(t, str) for t in tm) or not tm):
        raise UserError("lora.target_modules must be a non-empty list of module names, e.g. [\"q_proj\", \"v_proj\"]")
    return cfg
