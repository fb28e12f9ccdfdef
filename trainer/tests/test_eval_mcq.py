"""Scoring K-Viscuit multiple-choice questions with a local checkpoint."""

from __future__ import annotations

import json
import os

import pytest

from conftest import run_eval
from eval_mcq import extract_letter, mcq_prompt


def questions(shards):
    path = os.path.join(shards, "eval", "questions.jsonl")
    return path, [json.loads(line) for line in open(path)]


def check_answers(run, qs, with_scores):
    assert run.returncode == 0, run.stderr[-3000:]
    answers = run.of("answer")
    assert [a["id"] for a in answers] == [q["id"] for q in qs]
    for a, q in zip(answers, qs):
        assert a["answer"] == "ABCD"[q["answer"]]
        assert a["correct"] == (a["predicted"] == a["answer"])
        if with_scores:
            assert a["predicted"] in "ABCD" and len(a["scores"]) == 4
            assert a["predicted"] == "ABCD"[max(range(4), key=a["scores"].__getitem__)]
            assert all(s < 0 for s in a["scores"])  # log-probabilities
    end = run.one("end")
    assert end["n"] == len(qs) and end["correct"] == sum(a["correct"] for a in answers)
    assert sum(t["n"] for t in end["by_type"].values()) == len(qs)
    return end


def test_loglik_with_image_on_base_model(tiny_model, shards):
    path, qs = questions(shards)
    run = run_eval("--model", tiny_model, "--questions", path, "--condition", "with-image", "--device", "cpu")
    end = check_answers(run, qs, with_scores=True)
    assert end["condition"] == "with-image" and end["method"] == "loglik" and end["skipped"] == 0
    # Without the image the same questions get different scores: the image really reached the model.
    blind = run_eval("--model", tiny_model, "--questions", path, "--condition", "no-image", "--limit", "2")
    assert blind.one("end")["n"] == 2 and blind.one("end")["condition"] == "no-image"
    assert [x["scores"] for x in blind.of("answer")] != [x["scores"] for x in run.of("answer")[:2]]


def test_generate_no_image_on_lora_adapter(mode_run, shards):
    _, out = mode_run("text-only")
    path, qs = questions(shards)
    run = run_eval("--model", os.path.join(out, "final"), "--questions", path, "--condition", "no-image",
                   "--method", "generate", "--max-new-tokens", "3")
    check_answers(run, qs, with_scores=False)
    assert all(a["output"] is not None for a in run.of("answer"))


def test_missing_image_is_skipped_not_fatal(tiny_model, shards, tmp_path):
    path, qs = questions(shards)
    q = dict(qs[0], id="gone", image_path="does-not-exist.jpg")
    bad = tmp_path / "q.jsonl"
    bad.write_text(json.dumps(q) + "\n" + json.dumps(qs[1]) + "\n")
    run = run_eval("--model", tiny_model, "--questions", str(bad), "--images", os.path.join(shards, "eval", "images"))
    assert run.one("skip")["id"] == "gone" and run.one("end")["n"] == 1 and run.one("end")["skipped"] == 1


def test_bad_questions_file_is_an_error_event(tiny_model, tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"question": "q", "options": ["a"]}\n')
    run = run_eval("--model", tiny_model, "--questions", str(bad))
    assert run.returncode != 0 and run.events[-1]["event"] == "error" and "options" in run.events[-1]["message"]


LETTER_REPLIES = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "letter_replies.json"), encoding="utf-8"))


@pytest.mark.parametrize("case", LETTER_REPLIES["cases"], ids=lambda c: repr(c["reply"]))
def test_extract_letter_reads_the_corpus_as_dsbuild_does(case):
    # The corpus dsbuild's LetterExtractor is held to (written from LetterReplyCorpus; a Swift test keeps it current).
    assert extract_letter(case["reply"], LETTER_REPLIES["options"]) == case["expected"]


@pytest.mark.parametrize("text, want", [
    ("B", "B"), ("B. Hwangnam-ppang", "B"), ("(C)", "C"), ("The answer is D.", "D"),
    ("answer: a", None), ("Bungeo-ppang", "A"), ("", None), ("I am not sure", None),
])
def test_extract_letter(text, want):
    # "answer: a" was read as A once; dsbuild reads a lone lowercase letter as no answer, and so does this.
    assert extract_letter(text, ["Bungeo-ppang", "Hwangnam-ppang", "Dakjuk", "Ice cream"]) == want


def test_prompt_follows_k_viscuit_convention():
    assert mcq_prompt("Q?", ["w", "x", "y", "z"]) == (
        "Q?\nA. w\nB. x\nC. y\nD. z\nAnswer with the option's letter from the given choices directly.")
