"""Resuming after a kill, failing clearly on bad input, and running under torchrun."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ENV, TRAINER, Run, run_train, write_config

COMMON = dict(mode="hybrid:0.5", batch_size=1, grad_accum=2, device="cpu", seed=3, lr=3e-2, warmup_steps=1,
              lora={"enabled": True, "r": 4, "alpha": 16})


def test_resume_after_kill_matches_an_uninterrupted_run(tiny_model, shards, tmp_path):
    steps = 8
    # Uninterrupted reference run.
    ref = run_train(write_config(str(tmp_path / "ref.json"), shards=shards, model=tiny_model,
                                 out=str(tmp_path / "ref"), max_steps=steps, save_steps=0, **COMMON))
    assert ref.returncode == 0, ref.stderr[-3000:]

    # Same run, killed right after its first checkpoint.
    out = str(tmp_path / "killed")
    cfg = write_config(str(tmp_path / "run.json"), shards=shards, model=tiny_model, out=out, max_steps=steps,
                       save_steps=2, **COMMON)
    proc = subprocess.Popen([sys.executable, os.path.join(TRAINER, "train.py"), "--config", cfg],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)
    killed_after = None
    for line in proc.stdout:
        event = json.loads(line)
        if event["event"] == "checkpoint":
            killed_after = event["step"]
            proc.kill()
            break
    proc.wait(timeout=60)
    assert killed_after == 2 and proc.returncode != 0

    resumed = run_train(cfg)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    start = resumed.one("start")
    from_step = start["resumed_from_step"]
    assert from_step >= 2 and start["resumed_from"].endswith(f"checkpoint-{from_step}")
    got = {s["step"]: s for s in resumed.of("step")}
    assert sorted(got) == list(range(from_step + 1, steps + 1))
    want = {s["step"]: s for s in ref.of("step")}
    for step, s in got.items():
        # Same data position, optimizer state, schedule and RNG: the same losses as the uninterrupted run.
        assert s["loss"] == pytest.approx(want[step]["loss"], rel=1e-3, abs=1e-4), step
        assert s["lr"] == pytest.approx(want[step]["lr"], rel=1e-6)
        assert s["paired_samples"] == want[step]["paired_samples"]
    end = resumed.one("end")
    assert end["steps"] == steps and end["first_loss"] == pytest.approx(ref.one("end")["first_loss"], rel=1e-4)

    # Running again with everything done trains nothing and still reports.
    again = run_train(cfg)
    assert again.returncode == 0 and again.of("step") == [] and again.one("end")["steps"] == steps


def corrupt_copy(shards: str, dst: str, rel: str) -> str:
    shutil.copytree(shards, dst)
    path = os.path.join(dst, rel)
    with open(path, "r+b") as f:
        f.seek(600)
        b = f.read(1)
        f.seek(600)
        f.write(bytes([b[0] ^ 0xFF]))
    return dst


def test_corrupt_shard_gives_error_event_and_nonzero_exit(tiny_model, shards, tmp_path):
    bad = corrupt_copy(shards, str(tmp_path / "bad"), "paired/00000.tar")
    cfg = write_config(str(tmp_path / "c.json"), shards=bad, model=tiny_model, out=str(tmp_path / "o"),
                       mode="paired", max_steps=2, device="cpu")
    run = run_train(cfg)
    assert run.returncode != 0
    err = run.events[-1]
    assert err["event"] == "error" and "paired/00000.tar" in err["message"] and "sha256" in err["message"]
    assert "\n" not in err["message"] and not run.of("step")
    assert "Traceback" not in "".join(run.lines)


@pytest.mark.parametrize("change, expect", [
    ({"mode": "hybrid:2"}, "hybrid ratio"),
    ({"model": "/nonexistent/model"}, "not a local directory"),
    ({"batch_size": 0}, "batch_size"),
    ({"learning_rate": 1.0}, "unknown config key"),
])
def test_bad_config_gives_error_event(tiny_model, shards, tmp_path, change, expect):
    cfg = dict(shards=shards, model=tiny_model, out=str(tmp_path / "o"), mode="text-only", max_steps=1, device="cpu")
    cfg.update(change)
    run = run_train(write_config(str(tmp_path / "c.json"), **cfg))
    assert run.returncode != 0 and run.events[-1]["event"] == "error"
    assert expect in run.events[-1]["message"]


def test_torchrun_two_processes(tiny_model, shards, tmp_path):
    cfg = write_config(str(tmp_path / "ddp.json"), shards=shards, model=tiny_model, out=str(tmp_path / "o"),
                       mode="hybrid:0.5", max_steps=3, batch_size=1, grad_accum=1, device="cpu", lr=1e-2,
                       lora={"enabled": True})
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    run = run_train(cfg, launcher=launcher)
    assert run.returncode == 0, run.stderr[-4000:]
    start = run.one("start")  # only rank 0 speaks
    assert start["world_size"] == 2
    steps = run.of("step")
    assert [s["step"] for s in steps] == [1, 2, 3] and all(s["samples"] == 2 for s in steps)
    assert os.path.isfile(os.path.join(run.one("end")["checkpoint"], "adapter_config.json"))


def test_run_class_rejects_non_json_stdout():
    proc = subprocess.CompletedProcess([], 0, stdout='{"event":"start"}\nnot json\n', stderr="")
    with pytest.raises(json.JSONDecodeError):
        Run(proc)
