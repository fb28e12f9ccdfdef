"""LLaVA-NeXT (LLaVA-1.6), the paper's second model family: the tiny model, rendering, batching, training and
scoring, as for Qwen2-VL."""

from __future__ import annotations

import io
import json
import os

import pytest

from conftest import LLAVA_RUNS, run_eval
from dataset import ImageRef, Sample, load_shards
from render import IGNORE, Renderer, collate

STEPS = {mode: cfg.get("max_steps", 24) for mode, cfg in LLAVA_RUNS.items()}


def mean(xs):
    return sum(xs) / len(xs)


@pytest.fixture(scope="module")
def llava_renderer(tiny_llava):
    from family import detect
    from hfcompat import load_processor

    return Renderer(load_processor(tiny_llava), family=detect(tiny_llava))


def image_sample(tmp_path, name: str, size: tuple[int, int], kind="caption", answer="This image shows a gat.") -> Sample:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="JPEG")
    path = tmp_path / name
    path.write_bytes(buf.getvalue())
    return Sample(id=name, kind=kind, image=ImageRef(str(path), 0, len(buf.getvalue()), name),
                  messages=[{"role": "user", "content": "What is shown in this image?"},
                            {"role": "assistant", "content": answer}])


def test_tiny_llava_next_loads_and_its_image_tokens_match_the_model(tiny_llava):
    import torch
    from PIL import Image
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoTokenizer, LlavaNextForConditionalGeneration

    from family import detect
    from hfcompat import load_processor

    cfg = AutoConfig.from_pretrained(tiny_llava)
    tok = AutoTokenizer.from_pretrained(tiny_llava)
    assert cfg.model_type == "llava_next" and detect(tiny_llava).name == "llava-next"
    assert cfg.vision_config.model_type == "clip_vision_model" and cfg.text_config.model_type == "mistral"
    assert cfg.image_token_id == tok.convert_tokens_to_ids("<image>") != tok.unk_token_id
    assert cfg.text_config.vocab_size >= len(tok)
    assert max(max(p) for p in cfg.image_grid_pinpoints) <= 168
    model = AutoModelForImageTextToText.from_pretrained(tiny_llava)
    assert isinstance(model, LlavaNextForConditionalGeneration)
    assert sum(p.numel() for p in model.parameters()) < 2_000_000

    proc = load_processor(tiny_llava)
    text = proc.apply_chat_template([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What?"}]}],
                                    tokenize=False, add_generation_prompt=True)
    assert text == "<s>[INST] <image>\nWhat? [/INST]"
    for size in ((96, 72), (40, 110), (56, 56)):
        enc = proc(text=[text], images=[Image.new("RGB", size, "red")], return_tensors="pt", add_special_tokens=False)
        assert enc["pixel_values"].dim() == 5 and enc["image_sizes"][0].tolist() == [size[1], size[0]]
        n_tokens = int((enc["input_ids"] == cfg.image_token_id).sum())
        with torch.no_grad():
            features = model.get_image_features(pixel_values=enc["pixel_values"], image_sizes=enc["image_sizes"])
        feats = getattr(features, "pooler_output", features)
        assert n_tokens == sum(f.shape[0] for f in feats) > 16, size  # base 4 x 4 tile plus the anyres tiles


def test_llava_paired_sample_masks_prompt_and_image(llava_renderer, shards):
    sample = next(x for x in load_shards(shards).paired if x.kind == "description")
    f = llava_renderer.render(sample)
    tok = llava_renderer.tokenizer
    image_id = tok.convert_tokens_to_ids("<image>")
    assert f.pixel_values.dim() == 5 and f.pixel_values.shape[1] > 1  # overview + anyres tiles
    from PIL import Image

    w, h = Image.open(io.BytesIO(sample.image.read())).size
    assert f.image_sizes.tolist() == [[h, w]]
    assert f.input_ids.count(image_id) > 16 and f.input_ids.count(tok.bos_token_id) == 1 and f.input_ids[0] == tok.bos_token_id
    assert all(l == IGNORE for t, l in zip(f.input_ids, f.labels) if t == image_id)
    labelled = tok.decode([t for t in f.labels if t != IGNORE])
    assert labelled == " " + sample.messages[-1]["content"] + "</s>"
    assert "[INST] <image><image>" in tok.decode(f.input_ids) and f.image_grid_thw is None


def test_llava_multi_turn_labels_every_assistant_turn_only(llava_renderer):
    s = Sample(id="t", kind="qa", messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is a gat?"},
        {"role": "assistant", "content": "A hat."},
        {"role": "user", "content": "Made of?"},
        {"role": "assistant", "content": "Horsehair."},
    ])
    f = llava_renderer.render(s)
    tok = llava_renderer.tokenizer
    assert tok.decode([t for t in f.labels if t != IGNORE]) == " A hat.</s> Horsehair.</s>"
    assert f.vision is None and f.input_ids.count(tok.bos_token_id) == 1


def test_llava_text_only_renders_no_image_tokens_or_pixels(llava_renderer, shards):
    tok = llava_renderer.tokenizer
    feats = [llava_renderer.render(s) for s in load_shards(shards).text]
    assert feats and all(f.vision is None for f in feats)
    assert all(tok.convert_tokens_to_ids("<image>") not in f.input_ids for f in feats)
    batch = collate(feats[:4], tok.pad_token_id)
    assert "pixel_values" not in batch and "image_sizes" not in batch


def test_llava_batch_pads_patches_without_changing_any_sample(llava_renderer, tiny_llava, tmp_path):
    """Images of other aspect ratios get other tile counts; the batch pads the tiles, and each sample's logits
    are what the model gives it alone."""
    import torch
    from transformers import AutoModelForImageTextToText

    wide = llava_renderer.render(image_sample(tmp_path, "wide.jpg", (150, 40)))
    square = llava_renderer.render(image_sample(tmp_path, "square.jpg", (50, 50), answer="A gat."))
    assert wide.pixel_values.shape[1] != square.pixel_values.shape[1]
    pad = llava_renderer.tokenizer.pad_token_id
    batch = collate([wide, square], pad)
    assert batch["pixel_values"].shape[:2] == (2, max(wide.pixel_values.shape[1], square.pixel_values.shape[1]))
    assert batch["image_sizes"].tolist() == [[40, 150], [50, 50]]
    model = AutoModelForImageTextToText.from_pretrained(tiny_llava).eval()
    with torch.no_grad():
        batch.pop("labels")
        together = model(**batch).logits
        for i, f in enumerate((wide, square)):
            alone = collate([f], pad)
            alone.pop("labels")
            n = len(f.input_ids)
            assert torch.allclose(model(**alone).logits[0], together[i, :n], atol=1e-4), i


@pytest.mark.parametrize("mode", ["text-only", "paired"])
def test_llava_mode_trains_and_loss_drops(mode, llava_run):
    run, out = llava_run(mode)
    assert run.returncode == 0, run.stderr[-4000:]
    start, end = run.one("start"), run.one("end")
    assert start["family"] == "llava-next" and start["mode"] == mode
    assert 0 < start["trainable_params"] < start["total_params"]
    steps = run.of("step")
    assert [s["step"] for s in steps] == list(range(1, STEPS[mode] + 1))
    losses = run.losses
    first, last = mean(losses[:6]), mean(losses[-6:])
    print(f"llava-next {mode}: mean loss of the first 6 steps {first:.3f}, of the last 6 {last:.3f} ({last / first:.2f}x)")
    assert last < 0.85 * first, f"{mode}: loss did not drop: first {first:.3f} last {last:.3f} ({losses})"
    if mode == "text-only":  # full fine-tune
        assert not any(s["pixels"] for s in steps) and sum(s["paired_samples"] for s in steps) == 0
        assert not os.path.isfile(os.path.join(end["checkpoint"], "adapter_config.json"))
    else:  # LoRA
        assert all(s["pixels"] for s in steps) and all(s["paired_samples"] == s["samples"] for s in steps)
        assert os.path.isfile(os.path.join(end["checkpoint"], "adapter_config.json"))
    assert end["checkpoint"] == os.path.join(out, "final")


def test_llava_hybrid_full_fine_tune_mixes_batches_and_keeps_the_vision_tower(llava_run, tiny_llava):
    from transformers import AutoModelForImageTextToText

    run, out = llava_run("hybrid:0.5")
    assert run.returncode == 0, run.stderr[-4000:]
    steps = run.of("step")
    assert len(steps) == STEPS["hybrid:0.5"] and all(s["loss"] > 0 for s in steps)
    assert 0 < sum(s["paired_samples"] for s in steps) < sum(s["samples"] for s in steps)
    tuned = dict(AutoModelForImageTextToText.from_pretrained(os.path.join(out, "final")).named_parameters())
    base = dict(AutoModelForImageTextToText.from_pretrained(tiny_llava).named_parameters())
    changed = {n for n, p in base.items() if not p.detach().equal(tuned[n].detach())}
    assert any("vision_tower" in n for n in base) and not any("vision_tower" in n for n in changed)
    assert any("multi_modal_projector" in n for n in changed) and "model.image_newline" in changed
    assert any("language_model" in n for n in changed)


def test_llava_lora_adapter_carries_the_projector_and_merges(llava_run):
    from safetensors import safe_open
    from transformers import AutoModelForImageTextToText

    run, out = llava_run("paired")
    assert run.returncode == 0, run.stderr[-4000:]
    with safe_open(os.path.join(out, "final", "adapter_model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert any("lora_" in k and "language_model" in k for k in keys)
    assert any("multi_modal_projector" in k for k in keys) and not any("vision_tower" in k for k in keys)
    merged = AutoModelForImageTextToText.from_pretrained(os.path.join(out, "final-merged"))
    assert merged.config.model_type == "llava_next"


def eval_questions(shards):
    path = os.path.join(shards, "eval", "questions.jsonl")
    return path, [json.loads(line) for line in open(path)]


def check_scored(run, qs):
    assert run.returncode == 0, run.stderr[-3000:]
    answers = run.of("answer")
    assert [a["id"] for a in answers] == [q["id"] for q in qs]
    for a, q in zip(answers, qs):
        assert a["answer"] == "ABCD"[q["answer"]] and a["correct"] == (a["predicted"] == a["answer"])
        assert len(a["scores"]) == 4 and all(s < 0 for s in a["scores"])
        assert a["predicted"] == "ABCD"[max(range(4), key=a["scores"].__getitem__)]
    end = run.one("end")
    assert end["n"] == len(qs) and end["correct"] == sum(a["correct"] for a in answers) and end["skipped"] == 0
    return end


def test_llava_eval_scores_with_and_without_the_image(tiny_llava, shards):
    path, qs = eval_questions(shards)
    seen = run_eval("--model", tiny_llava, "--questions", path, "--condition", "with-image", "--device", "cpu")
    assert check_scored(seen, qs)["condition"] == "with-image"
    blind = run_eval("--model", tiny_llava, "--questions", path, "--condition", "no-image", "--device", "cpu")
    assert check_scored(blind, qs)["condition"] == "no-image"
    # The image reached the model: the same questions score differently without it.
    assert [a["scores"] for a in blind.of("answer")] != [a["scores"] for a in seen.of("answer")]


def test_llava_eval_scores_trained_checkpoints(llava_run, shards):
    path, qs = eval_questions(shards)
    _, lora = llava_run("paired")
    check_scored(run_eval("--model", os.path.join(lora, "final"), "--questions", path, "--condition", "with-image",
                          "--device", "cpu"), qs)
    _, full = llava_run("text-only")
    check_scored(run_eval("--model", os.path.join(full, "final"), "--questions", path, "--condition", "no-image",
                          "--device", "cpu"), qs)


def test_letters_are_scored_as_the_template_has_the_assistant_say_them(tiny_llava, tiny_model):
    """LLaVA-1.6's assistant text follows "[/INST]" after a space, Qwen2-VL's follows "assistant\\n" directly:
    the scored letter tokens are the ones a qa sample trains on, not the bare letter's."""
    from eval_mcq import Scorer
    from family import detect

    for model in (tiny_llava, tiny_model):
        scorer = Scorer(model, None, "cpu", "fp32")
        renderer = Renderer(scorer.processor, family=detect(model))
        conts = scorer.letter_continuations(4)
        for i, letter in enumerate("ABCD"):
            f = renderer.render(Sample(id="q", kind="qa", messages=[{"role": "user", "content": "Which?"},
                                                                    {"role": "assistant", "content": letter}]))
            trained = [t for t in f.labels if t != IGNORE]
            assert trained[: len(conts[i])] == conts[i], (model, letter)
            assert scorer.tokenizer.decode(conts[i]).strip() == letter
    llava = Scorer(tiny_llava, None, "cpu", "fp32")
    assert llava.tokenizer.decode(llava.letter_continuations(4)[0]) == " A"
