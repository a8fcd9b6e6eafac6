#!/usr/bin/env python3
"""Expected metric values from lmms-eval itself, for tests/eval/metric_cases.json.

Runs lmms-eval's own metric code (pip install --no-deps lmms-eval numpy sacrebleu, in a venv outside the
repo) on the predictions and targets of tests/eval/metric_inputs.json and writes the cases with the values
lmms-eval gives. The modules are loaded from their files so that lmms-eval's model registry (torch) is not
imported; the registry's decorators are replaced by no-ops, nothing else is changed.

    python scripts/lmms_eval_metric_cases.py tests/eval/metric_inputs.json > tests/eval/metric_cases.json
"""
import importlib.util
import json
import statistics
import sys
import types
from pathlib import Path

import lmms_eval  # noqa: F401  (only to find its files)

root = Path(lmms_eval.__file__).parent
registry = types.ModuleType("lmms_eval.api.registry")
registry.register_metric = lambda **kw: (lambda f: f)
registry.register_aggregation = lambda *a, **kw: (lambda f: f)
sys.modules["lmms_eval.api.registry"] = registry


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, root / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


metrics = load("lmms_metrics", "api/metrics.py")
vqa = load("lmms_vqa", "tasks/_task_utils/vqa_eval_metric.py")
mcq = load("lmms_mcq", "tasks/_task_utils/mcq_extract.py")
chartqa_src = (root / "tasks/chartqa/utils.py").read_text()
relaxed_ns = {}
exec(chartqa_src[chartqa_src.index("def relaxed_correctness"):], relaxed_ns)
relaxed_correctness = relaxed_ns["relaxed_correctness"]


def vqav2_accuracy(prediction, answers):
    """lmms-eval's vqav2_process_results, with each annotator's answer as a dict (as VQAv2 docs have)."""
    proc = vqa.EvalAIAnswerProcessor()
    res = prediction.strip().replace("\n", " ").replace("\t", " ").strip()
    gts = [{"answer": a.replace("\n", " ").replace("\t", " ").strip(), "answer_id": i} for i, a in enumerate(answers)]
    for g in gts:
        g["answer"] = proc.process_digit_article(proc.process_punctuation(g["answer"]))
    res = proc.process_digit_article(proc.process_punctuation(res))
    accs = []
    for g in gts:
        others = [o for o in gts if o != g]
        accs.append(min(1, float(len([o for o in others if o["answer"] == res])) / 3))
    return statistics.mean(accs)


def exact_match(prediction, targets, options):
    # lmms-eval's generate_until path: the prediction stripped; several targets: 1 if any matches.
    pred = prediction.strip()
    scores = [metrics.exact_match_hf_evaluate(predictions=[pred], references=[t], **options)["exact_match"] for t in targets]
    return 1.0 if any(scores) else 0.0


cases = json.load(open(sys.argv[1]))
for case in cases:
    m, p, t = case["metric"], case["prediction"], case.get("targets", [])
    if m == "exact_match":
        case["expected"] = exact_match(p, t, case.get("options", {}))
    elif m == "vqa_accuracy":
        case["expected"] = vqav2_accuracy(p, t)
    elif m == "vqa_normalize":
        proc = vqa.EvalAIAnswerProcessor()
        case["expected"] = proc.process_digit_article(proc.process_punctuation(p.replace("\n", " ").replace("\t", " ").strip()))
    elif m == "anls":
        case["expected"] = metrics.anls(references=t, predictions=[p.strip()])["anls"]
    elif m == "relaxed_accuracy":
        case["expected"] = 1.0 if any(relaxed_correctness(p.strip(), x) for x in t) else 0.0
    elif m == "extract_choice_letter":
        case["expected"] = mcq.extract_mcq_answer(p, case.get("letters"))
    elif m == "mean_stderr":
        case["expected"] = [statistics.mean(case["values"]), metrics.mean_stderr(case["values"])]
    else:
        raise SystemExit(f"unknown metric {m}")
json.dump(cases, sys.stdout, indent=1, ensure_ascii=False)
print()
