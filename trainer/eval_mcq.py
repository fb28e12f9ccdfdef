"""Score multiple-choice questions with a local checkpoint, with or without the image.

    python trainer/eval_mcq.py --model PATH --questions FILE.jsonl [--images DIR]
                               [--condition with-image|no-image] [--method loglik|generate] [--base PATH]

PATH is a model folder or a LoRA adapter folder (its base comes from adapter_config.json or --base).
Prompt (K-Viscuit convention): the question, lines `A. …` to `D. …`, then "Answer with the option's letter from
the given choices directly." `loglik` compares the model's log-probability of each letter after the assistant
prompt; `generate` decodes greedily and extracts the letter (as dsbuild does, `extract_letter`). Output: JSON lines on stdout —
{"event":"answer","id","predicted","answer","correct","scores",…} per question, {"event":"skip","id","reason"}
for a question that cannot be asked (e.g. its image is missing), and a final {"event":"end","n","correct",…}.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hfcompat import add_special_tokens_for  # noqa: E402
from images import ImageDecodeError, open_upright  # noqa: E402
from protocol import Emitter, UserError, claim_stdout, one_line, quiet_env, quiet_transformers  # noqa: E402

def _prompt_spec() -> dict:
    """The prompt as dsbuild asks it: `mcq_prompt.json`, written from dsbuild's QuestionVocabulary (a Swift test
    checks the two agree), so this evaluator and `dsbuild eval` build the same prompt."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "mcq_prompt.json"), encoding="utf-8") as f:
        return json.load(f)


PROMPT_SPEC = _prompt_spec()
LETTERS = "".join(PROMPT_SPEC["letters"])
SUFFIX = PROMPT_SPEC["instruction"]


def mcq_prompt(question: str, options: list[str]) -> str:
    sep = PROMPT_SPEC["option_separator"]
    lines = [question] + [f"{LETTERS[i]}{sep}{o}" for i, o in enumerate(options)] + [SUFFIX]
    return PROMPT_SPEC["line_separator"].join(lines)


def extract_letter(text: str, options: list[str]) -> str | None:
    """The letter a generated reply chose, exactly as dsbuild's LetterExtractor reads it (VLMEvalKit's way):
    punctuation `.()[],:;!*#{}` becomes spaces; exactly one option letter among the words, near the end, wins; else
    "answer is X"; else exactly one option's text inside the reply (or the longest one when it contains every other
    match). Anything else (two letters, no letter, a letter past the options) is None. Both are held to the same
    corpus of replies (tests/letter_replies.json, written from dsbuild's LetterReplyCorpus)."""
    letters = list(LETTERS[: len(options)])
    cleaned = text
    for ch in ".()[],:;!*#{}":
        cleaned = cleaned.replace(ch, " ")
    words = cleaned.split()
    found = [letter for letter in letters if letter in words]
    if len(found) == 1:
        position = len(words) - 1 - words[::-1].index(found[0])
        if position > len(words) - 5:
            return found[0]
    m = re.search(rf"answer is\s*[\(\[]?([{LETTERS}])\b", text, re.IGNORECASE)
    if m and m.group(1).upper() in letters:
        return m.group(1).upper()
    low = text.lower()
    by_text = [(i, o) for i, o in enumerate(options) if o and o.lower() in low]
    if len(by_text) == 1:
        return letters[by_text[0][0]]
    if len(by_text) > 1:
        # Several option texts inside the reply: the longest when it contains all the others ("Gat" in "Gatgeun").
        longest = max(by_text, key=lambda x: len(x[1]))
        if all(o.lower() in longest[1].lower() for _, o in by_text):
            return letters[longest[0]]
    return None


def read_questions(path: str) -> list[dict]:
    if not os.path.isfile(path):
        raise UserError(f"questions file {path} not found")
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(f"{path} line {n}: not valid JSON ({e.msg})")
            q.setdefault("id", q.get("id_", f"line-{n}"))
            opts = q.get("options")
            if not isinstance(q.get("question"), str) or not isinstance(opts, list) or not 2 <= len(opts) <= 8:
                raise UserError(f"{path} line {n}: needs 'question' (string) and 'options' (2 to 8 strings)")
            ans = q.get("answer")
            if ans is not None and not (isinstance(ans, int) and 0 <= ans < len(opts)):
                raise UserError(f"{path} line {n}: 'answer' must be a 0-based index into options")
            out.append(q)
    return out


class Scorer:
    def __init__(self, model_path: str, base: str | None, device_name: str, dtype_name: str):
        import torch

        import modelsetup
        from hfcompat import load_processor

        quiet_transformers()

        self.torch = torch
        if device_name == "auto":
            device_name = "cuda" if torch.cuda.is_available() else "cpu"
        if device_name == "cuda" and not torch.cuda.is_available():
            raise UserError("device 'cuda' was asked for but torch sees no CUDA GPU; use --device cpu")
        self.device = torch.device(device_name)
        dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype_name]
        if not os.path.isdir(model_path):
            raise UserError(f"model {model_path!r} is not a local directory")
        if modelsetup.is_adapter_dir(model_path):
            modelsetup.check_model_dir(base or modelsetup.adapter_base_path(model_path))
            from peft import PeftModel

            base = base or modelsetup.adapter_base_path(model_path)
            model = PeftModel.from_pretrained(modelsetup.load_base(base, dtype), model_path)
            has_processor = any(os.path.isfile(os.path.join(model_path, n))
                                for n in ("processor_config.json", "preprocessor_config.json"))
            self.processor = load_processor(model_path if has_processor else base)
        else:
            modelsetup.check_model_dir(model_path)
            model = modelsetup.load_base(model_path, dtype)
            self.processor = load_processor(model_path)
        self.model = model.to(self.device).eval()
        self.tokenizer = self.processor.tokenizer
        self._continuations: dict[int, list[list[int]]] = {}

    def encode(self, prompt: str, image) -> dict:
        content = [{"type": "image"}, {"type": "text", "text": prompt}] if image is not None else prompt
        text = self.processor.apply_chat_template(
            [{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True
        )
        special = add_special_tokens_for(self.tokenizer, text)
        if image is not None:
            enc = self.processor(text=[text], images=[image], return_tensors="pt", add_special_tokens=special)
        else:
            enc = self.tokenizer([text], return_tensors="pt", add_special_tokens=special)
        return {k: v.to(self.device) for k, v in enc.items() if k != "offset_mapping"}

    def letter_continuations(self, n_options: int) -> list[list[int]]:
        """The tokens of each letter as the chat template has the assistant say it: Qwen2-VL's assistant turn
        starts right after "assistant\\n" ("A"), LLaVA-1.6's after "[/INST]" and a space (" A"), and those are
        different tokens. Found by rendering a one-letter answer and taking what follows the generation prompt."""
        if n_options in self._continuations:
            return self._continuations[n_options]
        user = [{"role": "user", "content": "Q"}]
        prompt = self.processor.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
        special = add_special_tokens_for(self.tokenizer, prompt)
        prompt_ids = self.tokenizer(prompt, add_special_tokens=special)["input_ids"]
        out = []
        for letter in LETTERS[:n_options]:
            full = self.processor.apply_chat_template(user + [{"role": "assistant", "content": letter}], tokenize=False)
            said = full[len(prompt):] if full.startswith(prompt) else ""
            cont = said[: said.index(letter) + 1] if letter in said else letter
            ids = self.tokenizer(prompt + cont, add_special_tokens=special)["input_ids"]
            if ids[: len(prompt_ids)] == prompt_ids and len(ids) > len(prompt_ids):
                out.append(ids[len(prompt_ids):])
            else:
                out.append(self.tokenizer(cont, add_special_tokens=False)["input_ids"])
        self._continuations[n_options] = out
        return out

    def loglik(self, enc: dict, n_options: int) -> list[float]:
        torch = self.torch
        conts = self.letter_continuations(n_options)
        with torch.no_grad():
            if all(len(c) == 1 for c in conts):
                logits = self.model(**enc).logits[0, -1].float()
                logp = torch.log_softmax(logits, dim=-1)
                return [float(logp[c[0]]) for c in conts]
            scores = []
            for c in conts:
                e = dict(enc)
                extra = torch.tensor([c], device=self.device)
                e["input_ids"] = torch.cat([enc["input_ids"], extra], dim=1)
                e["attention_mask"] = torch.cat([enc["attention_mask"], torch.ones_like(extra)], dim=1)
                if "mm_token_type_ids" in enc:
                    e["mm_token_type_ids"] = torch.cat([enc["mm_token_type_ids"], torch.zeros_like(extra)], dim=1)
                logp = torch.log_softmax(self.model(**e).logits[0].float(), dim=-1)
                start = enc["input_ids"].shape[1]
                scores.append(sum(float(logp[start - 1 + j, tok]) for j, tok in enumerate(c)))
            return scores

    def generate(self, enc: dict, max_new_tokens: int) -> str:
        with self.torch.no_grad():
            out = self.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False)
        return self.tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)


def load_image(q: dict, images_dir: str | None, questions_dir: str):
    """The question's image, upright (EXIF orientation applied), or None and why."""
    name = q.get("image_path")
    if not name:
        return None, "question has no image_path"
    if images_dir is None:  # K-Viscuit layout: annotations.jsonl beside images/
        nested = os.path.join(questions_dir, "images")
        images_dir = nested if os.path.isdir(nested) else questions_dir
    path = name if os.path.isabs(name) else os.path.join(images_dir, name)
    if not os.path.isfile(path):
        return None, f"image {path} not found"
    try:
        with open(path, "rb") as f:
            return open_upright(f.read()), None
    except OSError as e:
        return None, f"image {path} cannot be read ({e})"
    except ImageDecodeError as e:
        return None, f"image {path} cannot be decoded ({e})"


def run(args, emit: Emitter) -> int:
    t0 = time.time()
    questions = read_questions(args.questions)
    if args.limit:
        questions = questions[: args.limit]
    scorer = Scorer(args.model, args.base, args.device, args.dtype)
    qdir = os.path.dirname(os.path.abspath(args.questions))
    n = correct = skipped = 0
    by_type: dict[str, dict[str, int]] = {}
    for q in questions:
        image = None
        if args.condition == "with-image":
            image, why = load_image(q, args.images, qdir)
            if image is None:
                skipped += 1
                emit.emit("skip", id=q["id"], reason=why)
                continue
        enc = scorer.encode(mcq_prompt(q["question"], q["options"]), image)
        scores, output = None, None
        if args.method == "loglik":
            scores = scorer.loglik(enc, len(q["options"]))
            predicted = LETTERS[max(range(len(scores)), key=scores.__getitem__)]
        else:
            output = scorer.generate(enc, args.max_new_tokens)
            predicted = extract_letter(output, q["options"])
        answer = LETTERS[q["answer"]] if q.get("answer") is not None else None
        ok = answer is not None and predicted == answer
        n += 1
        correct += ok
        t = by_type.setdefault(str(q.get("question_type", "")), {"n": 0, "correct": 0})
        t["n"] += 1
        t["correct"] += ok
        emit.emit("answer", id=q["id"], predicted=predicted, answer=answer, correct=ok, scores=scores,
                  output=output, question_type=q.get("question_type"))
    emit.emit("end", n=n, correct=correct, accuracy=(correct / n if n else None), skipped=skipped,
              by_type=by_type, condition=args.condition, method=args.method, model=args.model,
              wall_seconds=round(time.time() - t0, 3))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="model folder or LoRA adapter folder")
    p.add_argument("--base", help="base model folder for an adapter (default: from adapter_config.json)")
    p.add_argument("--questions", required=True, help="questions JSONL")
    p.add_argument("--images", help="folder holding the questions' image_path files (default: images/ beside FILE, else FILE's folder)")
    p.add_argument("--condition", choices=("with-image", "no-image"), default="with-image")
    p.add_argument("--method", choices=("loglik", "generate"), default="loglik")
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto")
    p.add_argument("--dtype", choices=("fp32", "bf16", "fp16"), default="fp32")
    p.add_argument("--max-new-tokens", type=int, default=8)
    p.add_argument("--limit", type=int, default=0, help="score only the first N questions")
    args = p.parse_args(argv)
    emit = Emitter(claim_stdout())
    quiet_env()
    try:
        return run(args, emit)
    except UserError as e:
        emit.error(str(e))
        print(f"error: {one_line(str(e))}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        emit.error(f"{type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
