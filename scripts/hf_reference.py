#!/usr/bin/env python3
"""Development tool (not used by the product or its tests): run a checkpoint with Hugging Face transformers
and save the tensors `vlm run --dump` writes, under the same names, so any checkpoint can be checked with

    vlm run --model DIR --image a.png --prompt "Describe." --greedy --min-new-tokens 12 --max-new-tokens 12 --dump /tmp/vlm
    python3 scripts/hf_reference.py --model DIR --image a.png --prompt "Describe." --new-tokens 12 --out /tmp/hf.safetensors
    vlm compare /tmp/vlm /tmp/hf.safetensors

Needs a venv outside the repository: pip install torch transformers==4.47.1 pillow safetensors
"""
import argparse

import torch
from PIL import Image
from safetensors.torch import save_file
from transformers import AutoModelForVision2Seq, AutoProcessor


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--image", action="append", default=[])
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--new-tokens", type=int, default=12)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    processor = AutoProcessor.from_pretrained(args.model)
    model = AutoModelForVision2Seq.from_pretrained(args.model, torch_dtype=torch.float32,
                                                   attn_implementation="eager").eval()
    images = [Image.open(p).convert("RGB") for p in args.image]
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": args.prompt}]
    text = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
    inputs = processor(text=[text], images=images or None, return_tensors="pt", padding=True)

    tensors = {k: v.contiguous() for k, v in inputs.items() if isinstance(v, torch.Tensor)}
    with torch.no_grad():
        if hasattr(model, "rope_deltas"):
            model.rope_deltas = None  # a stale value would make the forward skip M-RoPE (transformers 4.47)
        tensors["logits"] = model(**inputs, use_cache=False).logits.float().contiguous()
        if hasattr(model, "rope_deltas"):
            model.rope_deltas = None
        out = model.generate(**inputs, do_sample=False, num_beams=1, max_new_tokens=args.new_tokens,
                             min_new_tokens=args.new_tokens, return_dict_in_generate=True, output_logits=True)
    prompt_len = inputs["input_ids"].shape[1]
    tensors["generated_ids"] = out.sequences[:, prompt_len:].contiguous()
    tensors["generation_step_logits"] = torch.stack(out.logits, dim=1).float().contiguous()
    save_file(tensors, args.out)
    print(f"saved {len(tensors)} tensors to {args.out}")


if __name__ == "__main__":
    main()
