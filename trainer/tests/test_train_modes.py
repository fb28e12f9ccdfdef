"""Training end to end in each mode on real K-Viscuit shards with a tiny local Qwen2-VL."""

from __future__ import annotations

import os

import pytest

from conftest import MODE_RUNS

START_KEYS = {"mode", "model", "device", "dtype", "samples", "text_samples", "paired_samples", "trainable_params",
              "total_params", "world_size", "resumed_from_step"}
STEP_KEYS = {"step", "loss", "lr", "tokens_per_s", "samples_per_s", "memory_bytes", "pixels"}
END_KEYS = {"steps", "first_loss", "final_loss", "wall_seconds", "peak_memory_bytes", "checkpoint", "mode", "tokens",
            "samples"}


def mean(xs):
    return sum(xs) / len(xs)


@pytest.mark.parametrize("mode", list(MODE_RUNS))
def test_mode_trains_and_loss_drops(mode, mode_run):
    run, out = mode_run(mode)
    assert run.returncode == 0, run.stderr[-4000:]
    start, end = run.one("start"), run.one("end")
    assert START_KEYS <= start.keys() and END_KEYS <= end.keys()
    assert run.events[0]["event"] == "start" and run.events[-1]["event"] == "end"
    assert start["mode"] == mode and start["world_size"] == 1 and start["resumed_from_step"] == 0
    assert 0 < start["trainable_params"] < start["total_params"]
    steps = run.of("step")
    assert [s["step"] for s in steps] == list(range(1, 25))
    assert all(STEP_KEYS <= s.keys() for s in steps)
    assert all(s["tokens_per_s"] > 0 and s["memory_bytes"] > 0 for s in steps)
    losses = run.losses
    first, last = mean(losses[:6]), mean(losses[-6:])
    print(f"{mode}: mean loss of the first 6 steps {first:.3f}, of the last 6 {last:.3f} ({last / first:.2f}x)")
    assert last < 0.85 * first, f"{mode}: loss did not drop: first {first:.3f} last {last:.3f} ({losses})"
    assert end["steps"] == 24 and end["first_loss"] == pytest.approx(losses[0], rel=1e-4)
    assert end["final_loss"] == pytest.approx(losses[-1], rel=1e-4)
    assert end["tokens"] == sum(s["tokens"] for s in steps) and end["samples"] == 48
    assert [c["step"] for c in run.of("checkpoint")] == [12, 24]
    for c in run.of("checkpoint"):
        assert os.path.isfile(os.path.join(c["path"], "trainer_state.pt"))
    assert end["checkpoint"] == os.path.join(out, "final")


@pytest.mark.parametrize("mode", list(MODE_RUNS))
def test_mode_feeds_pixels_as_the_mode_says(mode, mode_run):
    run, _ = mode_run(mode)
    steps = run.of("step")
    paired = sum(s["paired_samples"] for s in steps)
    total = sum(s["samples"] for s in steps)
    if mode == "text-only":
        assert not any(s["pixels"] for s in steps) and paired == 0
    elif mode == "paired":
        assert all(s["pixels"] for s in steps) and paired == total
    elif mode == "hybrid:0.5":
        assert 0.35 <= paired / total <= 0.65, (paired, total)
        assert any(s["pixels"] for s in steps) and not all(s["pixels"] for s in steps)
    else:  # vift: text instructions plus paired captions
        start = run.one("start")
        assert start["text_samples"] == 12 and start["paired_samples"] == 4  # 4 images -> 4 captions
        assert 0 < paired < total


def test_text_only_renders_no_image_tokens_or_pixels(tiny_model, shards):
    from dataset import load_shards
    from hfcompat import load_processor
    from render import Renderer, collate

    processor = load_processor(tiny_model)
    tok = processor.tokenizer
    vision_ids = {tok.convert_tokens_to_ids(t) for t in ("<|image_pad|>", "<|vision_start|>", "<|vision_end|>",
                                                          "<|video_pad|>", "<|vision_pad|>")}
    renderer = Renderer(processor)
    feats = [renderer.render(s) for s in load_shards(shards).text]
    assert feats and all(f.pixel_values is None and f.image_grid_thw is None for f in feats)
    assert all(not (set(f.input_ids) & vision_ids) for f in feats)
    batch = collate(feats[:4], tok.pad_token_id)
    assert "pixel_values" not in batch and "image_grid_thw" not in batch


def test_final_model_reloads(mode_run, tiny_model):
    from transformers import AutoModelForImageTextToText

    _, full_out = mode_run("paired")
    model = AutoModelForImageTextToText.from_pretrained(os.path.join(full_out, "final"))
    assert model.config.image_token_id > 0

    _, lora_out = mode_run("text-only")
    assert os.path.isfile(os.path.join(lora_out, "final", "adapter_config.json"))
    merged = AutoModelForImageTextToText.from_pretrained(os.path.join(lora_out, "final-merged"))
    base = AutoModelForImageTextToText.from_pretrained(tiny_model)
    # Merging LoRA changed the language model's weights and left the vision tower as it was.
    lm = dict(merged.named_parameters())
    changed = [n for n, p in base.named_parameters() if "q_proj" in n and not p.detach().equal(lm[n].detach())]
    assert changed, "merged model has the base's attention weights: LoRA was not merged"
    for n, p in base.named_parameters():
        if ".visual.blocks." in n:
            assert p.detach().equal(lm[n].detach()), f"vision tower weight {n} changed"
