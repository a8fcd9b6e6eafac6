#!/usr/bin/env python3
"""Load test for `vlm serve` (or any OpenAI-compatible server): N concurrent streaming clients, each
with an image, measured from the client side. Python standard library only.

    python3 scripts/serve_load.py --url http://127.0.0.1:8080 --clients 16 --image cat.png --max-tokens 64

Prints one JSON object: requests ok / failed, aggregate completion tokens/s over the wall time, time to
first token and inter-token latency (p50, p95, in ms; a "token" is a content chunk, which vlm serve sends
per generated token unless a piece ends mid-character or could start a stop string).
"""
import argparse
import base64
import http.client
import json
import statistics
import sys
import threading
import time
from urllib.parse import urlparse


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def client(url, body, results, index):
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    start = time.perf_counter()
    first, last, gaps, tokens, ok = None, None, [], 0, False
    try:
        conn.request("POST", "/v1/chat/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        if res.status != 200:
            results[index] = {"ok": False, "status": res.status, "body": res.read()[:200].decode(errors="replace")}
            return
        for raw in res:
            line = raw.decode().strip()
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                ok = True
                break
            chunk = json.loads(data)
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            for c in chunk.get("choices", []):
                if c.get("delta", {}).get("content"):
                    now = time.perf_counter()
                    if first is None:
                        first = now - start
                    else:
                        gaps.append(now - last)
                    last = now
        results[index] = {"ok": ok, "ttft": first, "gaps": gaps, "tokens": tokens, "end": time.perf_counter()}
    except Exception as e:  # a failed client is counted, not fatal
        results[index] = {"ok": False, "error": str(e)}
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--image", required=True)
    ap.add_argument("--max-tokens", type=int, default=64)
    args = ap.parse_args()
    image = base64.b64encode(open(args.image, "rb").read()).decode()
    results = [None] * args.clients
    threads = []
    start = time.perf_counter()
    for i in range(args.clients):
        body = {"model": "any", "max_tokens": args.max_tokens, "temperature": 0, "stream": True,
                "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64," + image}},
                    {"type": "text", "text": f"Client {i}: describe this image in detail."}]}]}
        t = threading.Thread(target=client, args=(args.url, body, results, i))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    ok = [r for r in results if r and r["ok"]]
    ttft = [r["ttft"] * 1000 for r in ok if r["ttft"] is not None]
    gaps = [g * 1000 for r in ok for g in r["gaps"]]
    tokens = sum(r["tokens"] for r in ok)
    print(json.dumps({
        "clients": args.clients, "ok": len(ok), "failed": args.clients - len(ok),
        "failures": [r for r in results if not (r and r["ok"])][:3],
        "wall_s": round(wall, 3), "completion_tokens": tokens, "tokens_per_s": round(tokens / wall, 2),
        "ttft_ms": {"p50": percentile(ttft, 50), "p95": percentile(ttft, 95)},
        "itl_ms": {"p50": percentile(gaps, 50), "p95": percentile(gaps, 95),
                   "mean": statistics.mean(gaps) if gaps else None},
    }, indent=1))
    return 0 if len(ok) == args.clients else 1


if __name__ == "__main__":
    sys.exit(main())
