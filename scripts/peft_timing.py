"""PEFT + PyTorch prompt tuning of the shapes Sprout's device check times, for a side-by-side ratio.

Randomly initialised T5ForConditionalGeneration of the t5-small and t5-base shapes (no download), wrapped by
PEFT's prompt tuning (20 virtual tokens), batch 8/32/128, 64 input tokens, 4 target tokens, as Sprout's check:
train step = forward + backward + an optimizer step on the prompt; scoring = 2 candidate targets per input under
no_grad. float32, then bfloat16 and float16 autocast on CUDA. Prints one JSON line; where torch, transformers or
PEFT is missing it prints {"skipped": reason} and exits 0, so the device check can report it.

    python3 scripts/peft_timing.py [--quick]
"""
import json
import sys
import time

QUICK = "--quick" in sys.argv


def skipped(reason):
    print(json.dumps({"skipped": reason}))
    sys.exit(0)


try:
    import torch
    import transformers
    import peft
except ImportError as error:  # the development machine has none of them
    skipped(f"python3 has no {error.name} ({error})")

SHAPES = {
    "tiny": dict(d_model=64, d_kv=16, num_heads=4, d_ff=128, num_layers=2, num_decoder_layers=2),
    "t5-small": dict(d_model=512, d_kv=64, num_heads=8, d_ff=2048, num_layers=6, num_decoder_layers=6),
    "t5-base": dict(d_model=768, d_kv=64, num_heads=12, d_ff=3072, num_layers=12, num_decoder_layers=12),
}
L, P, T = 64, 20, 4


def model_for(shape, device):
    config = transformers.T5Config(vocab_size=32128, feed_forward_proj="relu", tie_word_embeddings=True, **SHAPES[shape])
    torch.manual_seed(0)
    base = transformers.T5ForConditionalGeneration(config).to(device)
    tuning = peft.PromptTuningConfig(task_type=peft.TaskType.SEQ_2_SEQ_LM, num_virtual_tokens=P)
    return peft.get_peft_model(base, tuning)


def synchronise(device):
    if device == "cuda":
        torch.cuda.synchronize()


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def timed(fn, device, reps):
    fn()
    synchronise(device)
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        synchronise(device)
        out.append((time.perf_counter() - start) * 1000)
    return median(out)


def measure(shape, batch, dtype, device, reps):
    model = model_for(shape, device)
    model.train()
    g = torch.Generator().manual_seed(batch)
    inputs = torch.randint(2, 32000, (batch, L), generator=g).to(device)
    labels = torch.randint(2, 32000, (batch, T), generator=g).to(device)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.3)
    autocast = dtype != "float32"
    cast = dict(device_type=device, dtype=getattr(torch, dtype), enabled=autocast)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(**cast):
            loss = model(input_ids=inputs, labels=labels).loss
        loss.backward()
        optimizer.step()

    candidates = torch.tensor([[9961, 1], [29452, 1]], device=device)

    def score():
        with torch.no_grad(), torch.autocast(**cast):
            for c in candidates:
                model(input_ids=inputs, labels=c.expand(batch, -1)).loss

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    step_ms = timed(train_step, device, reps)
    score_ms = timed(score, device, reps)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None
    return dict(shape=shape, batch=batch, dtype=dtype, device=device, train_step_ms=round(step_ms, 1),
                score_examples_per_s=round(batch / (score_ms / 1000), 1), peak_gpu_mib=None if peak is None else round(peak))


def main():
    device = "cuda" if torch.cuda.is_available() else "cpu"
    shapes = ["tiny"] if QUICK else ["t5-small", "t5-base"]
    batches = [8] if QUICK else [8, 32, 128]
    dtypes = ["float32"] + (["bfloat16", "float16"] if device == "cuda" else [])
    results = []
    for shape in shapes:
        for dtype in dtypes:
            for batch in batches:
                results.append(measure(shape, batch, dtype, device, 2 if QUICK else 5))
    print(json.dumps({"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
                      "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu", "results": results}))


main()
