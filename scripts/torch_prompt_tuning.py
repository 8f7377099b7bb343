"""
An independent PyTorch replay of the Hugging Face prompt-tuning runs recorded in
../shared/fixtures/mini-t5-pretrained/prompt_tuning_reference.json, for issue #16 (does Sprout follow them?).

transformers is not needed: the forward pass follows transformers 4.35's modeling_t5.py (T5 v1.1, frozen) and
the optimiser its transformers.optimization.Adafactor.step, line for line, so that the only differences from the
reference stack are the ones named here. Weights come from model.safetensors (json + numpy), ids from
SentencePiece as the legacy T5Tokenizer gives them (sp.encode(text) + [eos]).

    /usr/bin/python3 scripts/torch_prompt_tuning.py --task cola --steps 250 [--eval] [--dump DIR] [--perturb 1e-7]
    /usr/bin/python3 scripts/torch_prompt_tuning.py --model instruct --task sst2 --steps 800 --eval --threads 1 --perturb 1e-7

--model instruct replays the runs recorded on ../shared/fixtures/mini-t5-instruct instead (issue #22: SST-2 and AG
News topic on the held-out rows, bare input cut to 64 tokens + eos, rank accuracy only at the evaluation steps).

Needs PyTorch 1.13, numpy and sentencepiece (Debian: python3-torch, python3-sentencepiece). Prints the 50-step loss
means beside the reference's and the first 20 losses; --eval adds the evaluations (rank, greedy) at the reference's
steps; --time a last JSON line with the mean and median wall seconds per step, the first step left out as Sprout's
benchmarks do, and the BLAS libraries torch multiplied with (`npm run bench -- learning-speed` reads it; --blas
prints those alone, after one product, and exits); --dump writes the losses, the step-1 gradient and the
prompt after chosen steps (npy) so that a Sprout run can be compared with it step for step; --perturb adds seeded
relative noise to the initial prompt, to measure how far float32-sized differences alone move a run.
"""
import argparse
import csv
import json
import math
import os
import re
import struct
import time

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, '..', '..', 'shared'))
MODELS = {name: os.path.join(SHARED, 'fixtures', f'mini-t5-{name}') for name in ('pretrained', 'instruct')}
TASKS = {'pretrained': ('sst2', 'cola'), 'instruct': ('sst2', 'topic')}
AG_NEWS_TRAIN_ROWS = 6000


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        assert t['dtype'] == 'F32', (name, t['dtype'])
        a, b = t['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(blob[a:b], dtype='<f4').reshape(t['shape']).copy())
    return out


def read_rows(task, split):
    """(text, label) rows exactly as the file holds them: split on tabs, quoting off, text as is."""
    if task == 'topic':
        # AG News: header-less RFC 4180 CSV, class 1..4; rows 0..5999 train, the rest held out (fixture README).
        with open(os.path.join(SHARED, 'data', 'ag_news', 'test.csv'), encoding='utf-8', newline='') as f:
            rows = [(f'{r[1].strip()} {r[2].strip()}', int(r[0]) - 1) for r in csv.reader(f)]
        return rows[:AG_NEWS_TRAIN_ROWS] if split == 'train' else rows[AG_NEWS_TRAIN_ROWS:]
    if task == 'sst2':
        path = os.path.join(SHARED, 'data', 'sst2', 'train.tsv' if split == 'train' else 'dev.tsv')
        lines = open(path, encoding='utf-8', newline='').read().split('\n')
        assert lines[-1] == '' and lines[0] == 'sentence\tlabel'
        fields = [line.split('\t') for line in lines[1:-1]]
        return [(f[0], int(f[1])) for f in fields]
    path = os.path.join(SHARED, 'data', 'cola', 'in_domain_train.tsv' if split == 'train' else 'in_domain_dev.tsv')
    lines = open(path, encoding='utf-8', newline='').read().split('\n')
    assert lines[-1] == ''
    fields = [line.split('\t') for line in lines[:-1]]
    assert all(len(f) == 4 for f in fields)
    return [(f[3], int(f[1])) for f in fields]


class T5:
    """T5ForConditionalGeneration's arithmetic (4.35, v1.1, eval mode, float32) with inputs_embeds given."""

    def __init__(self, w, cfg):
        self.w = w
        self.cfg = cfg
        self.H = cfg['num_heads']
        self.dk = cfg['d_kv']
        self.eps = cfg['layer_norm_epsilon']
        self.nb = cfg['relative_attention_num_buckets']
        self.maxd = cfg['relative_attention_max_distance']

    def norm(self, h, name):
        variance = h.to(torch.float32).pow(2).mean(-1, keepdim=True)
        h = h * torch.rsqrt(variance + self.eps)
        return self.w[name] * h

    def linear(self, x, name):
        return F.linear(x, self.w[name])

    @staticmethod
    def bucket(relative_position, bidirectional, num_buckets, max_distance):
        relative_buckets = 0
        if bidirectional:
            num_buckets //= 2
            relative_buckets += (relative_position > 0).to(torch.long) * num_buckets
            relative_position = torch.abs(relative_position)
        else:
            relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
        max_exact = num_buckets // 2
        is_small = relative_position < max_exact
        relative_position_if_large = max_exact + (
            torch.log(relative_position.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
        ).to(torch.long)
        relative_position_if_large = torch.min(relative_position_if_large, torch.full_like(relative_position_if_large, num_buckets - 1))
        relative_buckets += torch.where(is_small, relative_position, relative_position_if_large)
        return relative_buckets

    def compute_bias(self, name, q_len, k_len, decoder):
        context_position = torch.arange(q_len, dtype=torch.long)[:, None]
        memory_position = torch.arange(k_len, dtype=torch.long)[None, :]
        buckets = self.bucket(memory_position - context_position, not decoder, self.nb, self.maxd)
        values = F.embedding(buckets, self.w[name])  # (q, k, H)
        return values.permute([2, 0, 1]).unsqueeze(0)

    def attention(self, prefix, hidden, kv, bias):
        B = hidden.shape[0]

        def shape(s):
            return s.view(B, -1, self.H, self.dk).transpose(1, 2)

        q = shape(self.linear(hidden, f'{prefix}.q.weight'))
        k = shape(self.linear(kv, f'{prefix}.k.weight'))
        v = shape(self.linear(kv, f'{prefix}.v.weight'))
        scores = torch.matmul(q, k.transpose(3, 2))
        scores += bias
        attn = F.softmax(scores.float(), dim=-1).type_as(scores)
        out = torch.matmul(attn, v).transpose(1, 2).contiguous().view(B, -1, self.H * self.dk)
        return self.linear(out, f'{prefix}.o.weight')

    def ff(self, prefix, h):
        x = self.linear(h, f'{prefix}.wi_0.weight')
        gelu = 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
        return self.linear(gelu * self.linear(h, f'{prefix}.wi_1.weight'), f'{prefix}.wo.weight')

    def encode(self, embeds, mask):
        ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        h = embeds
        bias = None
        for i in range(self.cfg['num_layers']):
            p = f'encoder.block.{i}.layer'
            if bias is None:
                bias = self.compute_bias(f'{p}.0.SelfAttention.relative_attention_bias.weight', h.shape[1], h.shape[1], False) + ext
            n = self.norm(h, f'{p}.0.layer_norm.weight')
            h = h + self.attention(f'{p}.0.SelfAttention', n, n, bias)
            h = h + self.ff(f'{p}.1.DenseReluDense', self.norm(h, f'{p}.1.layer_norm.weight'))
        return self.norm(h, 'encoder.final_layer_norm.weight')

    def decode(self, dec_ids, enc, enc_mask):
        B, T = dec_ids.shape
        seq_ids = torch.arange(T)
        causal = (seq_ids[None, None, :].repeat(B, T, 1) <= seq_ids[None, :, None]).to(torch.float32)
        self_ext = (1.0 - causal[:, None, :, :]) * torch.finfo(torch.float32).min
        cross_ext = (1.0 - enc_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        h = F.embedding(dec_ids, self.w['shared.weight'])
        self_bias = cross_bias = None
        for i in range(self.cfg['num_decoder_layers']):
            p = f'decoder.block.{i}.layer'
            if self_bias is None:
                self_bias = self.compute_bias(f'{p}.0.SelfAttention.relative_attention_bias.weight', T, T, True) + self_ext
            n = self.norm(h, f'{p}.0.layer_norm.weight')
            h = h + self.attention(f'{p}.0.SelfAttention', n, n, self_bias)
            if cross_bias is None:
                cross_bias = torch.zeros((1, self.H, T, enc.shape[1])) + cross_ext
            h = h + self.attention(f'{p}.1.EncDecAttention', self.norm(h, f'{p}.1.layer_norm.weight'), enc, cross_bias)
            h = h + self.ff(f'{p}.2.DenseReluDense', self.norm(h, f'{p}.2.layer_norm.weight'))
        h = self.norm(h, 'decoder.final_layer_norm.weight')
        return self.linear(h, 'lm_head.weight')


def batch_inputs(model, prompt, ids_list):
    """inputs_embeds = cat(P, shared[ids]) padded to the longest, mask = cat(ones(P), attention_mask)."""
    L = max(len(x) for x in ids_list)
    ids = torch.zeros((len(ids_list), L), dtype=torch.long)
    mask = torch.zeros((len(ids_list), L), dtype=torch.long)
    for i, x in enumerate(ids_list):
        ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = 1
    B = len(ids_list)
    embeds = torch.cat([prompt.unsqueeze(0).expand(B, -1, -1), F.embedding(ids, model.w['shared.weight'])], dim=1)
    full_mask = torch.cat([torch.ones((B, prompt.shape[0]), dtype=torch.long), mask], dim=1)
    return embeds, full_mask


def loss_of(model, prompt, ids_list, targets):
    embeds, mask = batch_inputs(model, prompt, ids_list)
    labels = torch.tensor(targets, dtype=torch.long)  # all targets of these tasks have the same length
    dec = labels.new_zeros(labels.shape)
    dec[..., 1:] = labels[..., :-1].clone()
    dec[..., 0] = 0
    logits = model.decode(dec, model.encode(embeds, mask), mask)
    return F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100)


class Adafactor:
    """transformers.optimization.Adafactor.step (4.35) for one 2-D parameter, scale_parameter/relative_step off."""

    def __init__(self, p, lr=0.3, eps=(1e-30, 1e-3), clip_threshold=1.0, decay_rate=-0.8, weight_decay=1e-5):
        self.p, self.lr, self.eps, self.clip, self.decay, self.wd = p, lr, eps, clip_threshold, decay_rate, weight_decay
        self.step_count = 0
        self.row = torch.zeros(p.shape[:-1])
        self.col = torch.zeros(p.shape[:-2] + p.shape[-1:])

    @staticmethod
    def _rms(t):
        return t.norm(2) / (t.numel() ** 0.5)

    @torch.no_grad()
    def step(self):
        grad, p = self.p.grad, self.p
        self.step_count += 1
        lr = self.lr
        beta2t = 1.0 - math.pow(self.step_count, self.decay)
        update = (grad**2) + self.eps[0]
        self.row.mul_(beta2t).add_(update.mean(dim=-1), alpha=(1.0 - beta2t))
        self.col.mul_(beta2t).add_(update.mean(dim=-2), alpha=(1.0 - beta2t))
        r_factor = (self.row / self.row.mean(dim=-1, keepdim=True)).rsqrt_().unsqueeze(-1)
        c_factor = self.col.unsqueeze(-2).rsqrt()
        update = torch.mul(r_factor, c_factor)
        update.mul_(grad)
        update.div_((self._rms(update) / self.clip).clamp_(min=1.0))
        update.mul_(lr)
        if self.wd != 0:
            p.add_(p, alpha=(-self.wd * lr))
        p.add_(-update)


@torch.no_grad()
def evaluate(model, prompt, rows, ids_list, candidates, batch=64, greedy=True):
    correct = exact = valid = 0
    first5 = []
    for s in range(0, len(rows), batch):
        chunk = ids_list[s : s + batch]
        embeds, mask = batch_inputs(model, prompt, chunk)
        enc = model.encode(embeds, mask)
        scores = []
        for cand in candidates:
            labels = torch.tensor([cand] * len(chunk))
            dec = torch.cat([torch.zeros((len(chunk), 1), dtype=torch.long), labels[:, :-1]], dim=1)
            logp = F.log_softmax(model.decode(dec, enc, mask), dim=-1)
            scores.append(logp.gather(-1, labels.unsqueeze(-1)).squeeze(-1).sum(-1))
        pred = torch.stack(scores, 1).argmax(1)
        out = torch.zeros((len(chunk), 1), dtype=torch.long)
        done = torch.zeros(len(chunk), dtype=torch.bool)
        for _ in range(5 if greedy else 0):
            nxt = model.decode(out, enc, mask)[:, -1].argmax(-1)
            nxt = torch.where(done, torch.zeros_like(nxt), nxt)
            out = torch.cat([out, nxt[:, None]], 1)
            done |= nxt == 1
            if done.all():
                break
        for i, (_, label) in enumerate(rows[s : s + batch]):
            correct += int(pred[i]) == label
            gen = out[i, 1:].tolist()
            gen = gen[: gen.index(1) + 1] if 1 in gen else gen
            exact += gen == candidates[label]
            valid += gen in candidates
            if len(first5) < 5:
                first5.append(gen)
    n = len(rows)
    if not greedy:
        return {'rank_acc': correct / n}
    return {'rank_acc': correct / n, 'greedy_exact_match': exact / n, 'greedy_valid_label_frac': valid / n, 'greedy_first5': first5}


def reference_run(model_name, task):
    """The recorded run: the pretrained fixture keeps runs at the top level, the instruct fixture under 'runs'."""
    recorded = json.load(open(os.path.join(MODELS[model_name], 'prompt_tuning_reference.json')))
    return recorded['runs'][task] if model_name == 'instruct' else recorded[task]


def input_ids(sp, model_name, rows):
    """Legacy T5Tokenizer ids + eos; the instruct runs cut the ids to 64 before the eos (fixture README)."""
    ids = sp.encode([t for t, _ in rows])
    return [(x[:64] if model_name == 'instruct' else x) + [1] for x in ids]


def initial_prompt(model, sp, ref, perturb, perturb_seed):
    """Class-label init: the mean embedding of each label word, then the recorded vocabulary ids' rows."""
    shared = model.w['shared.weight']
    vocab_ids = next(v for k, v in ref['init'].items() if k.startswith('random_vocab_ids_rows_'))
    rows = [shared[torch.tensor(sp.encode(word))].mean(0) for word in ref['verbalizer']]
    rows += [shared[i] for i in vocab_ids]
    prompt = torch.stack(rows).clone()
    if perturb:
        g = torch.Generator().manual_seed(perturb_seed)
        prompt += perturb * prompt.abs() * torch.randn(prompt.shape, generator=g)
    return prompt.requires_grad_(True)


def blas_libraries():
    """The BLAS and LAPACK files this process has loaded, as resolved paths. Debian's python3-torch multiplies
    through whichever libblas.so.3 the alternatives system points at: the netlib reference one (about 30x slower)
    unless an optimised one such as libopenblas0 is installed. A torch that links its BLAS in (pip's, with MKL)
    loads none, and gives an empty list."""
    with open('/proc/self/maps') as maps:
        paths = {line.split()[-1] for line in maps if re.search(r'(blas|lapack|mkl|blis)[^/]*\.so', line)}
    return sorted({os.path.realpath(p) for p in paths})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', choices=sorted(MODELS), default='pretrained')
    ap.add_argument('--task', choices=sorted({t for ts in TASKS.values() for t in ts}))
    ap.add_argument('--steps', type=int, default=100)
    ap.add_argument('--eval', action='store_true', help='evaluate at step 0 and at the reference steps reached')
    ap.add_argument('--dump', help='folder for losses.npy, prompt_<step>.npy, grad_1.npy')
    ap.add_argument('--dump-steps', default='0,1,2,5,10,20,50,100')
    ap.add_argument('--perturb', type=float, default=0.0, help='relative noise added to the initial prompt (seeded)')
    ap.add_argument('--perturb-seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--time', action='store_true', help='print the mean and median wall seconds per step (the first step left out)')
    ap.add_argument('--blas', action='store_true', help='print the BLAS libraries torch multiplies with as JSON, and exit')
    args = ap.parse_args()
    if args.blas:
        torch.ones(2, 2) @ torch.ones(2, 2)
        print(json.dumps({'blas': blas_libraries()}))
        return
    if args.task is None:
        ap.error('--task is required')
    if args.task not in TASKS[args.model]:
        ap.error(f'--model {args.model} has recorded runs for {", ".join(TASKS[args.model])}')
    torch.set_num_threads(args.threads)

    ref = reference_run(args.model, args.task)
    folder = MODELS[args.model]
    model = T5(read_safetensors(os.path.join(folder, 'model.safetensors')), json.load(open(os.path.join(folder, 'config.json'))))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(folder, 'spiece.model'))
    train = read_rows(args.task, 'train')
    assert len(train) == ref['n_train'], (len(train), ref['n_train'])
    train_ids = input_ids(sp, args.model, train)
    candidates = ref['candidate_ids']
    # The instruct runs decoded greedily only at step 0 and the end; rank accuracy is what they compare.
    greedy = args.model == 'pretrained'

    prompt = initial_prompt(model, sp, ref, args.perturb, args.perturb_seed)
    opt = Adafactor(prompt)

    dump_steps = {int(s) for s in args.dump_steps.split(',')}
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        np.save(os.path.join(args.dump, 'prompt_0.npy'), prompt.detach().numpy())

    dev = dev_ids = None
    if args.eval:
        dev = read_rows(args.task, 'dev')
        assert len(dev) == ref['n_dev'], (len(dev), ref['n_dev'])
        dev_ids = input_ids(sp, args.model, dev)
        print(json.dumps({'step': 0, **evaluate(model, prompt.detach(), dev, dev_ids, candidates, greedy=greedy)}), flush=True)

    generator = torch.Generator().manual_seed(0)
    n, B = len(train), ref['batch_size']
    batches = []
    losses = []
    seconds = []
    for step in range(1, args.steps + 1):
        started = time.perf_counter()
        if not batches:
            perm = torch.randperm(n, generator=generator).tolist()
            batches = [perm[i * B : (i + 1) * B] for i in range(n // B)][::-1]
        idx = batches.pop()
        loss = loss_of(model, prompt, [train_ids[i] for i in idx], [candidates[train[i][1]] for i in idx])
        loss.backward()
        if args.dump and step == 1:
            np.save(os.path.join(args.dump, 'grad_1.npy'), prompt.grad.numpy())
            np.save(os.path.join(args.dump, 'batch_1.npy'), np.array(idx))
        opt.step()
        prompt.grad = None
        losses.append(loss.item())
        seconds.append(time.perf_counter() - started)
        if args.dump and step in dump_steps:
            np.save(os.path.join(args.dump, f'prompt_{step}.npy'), prompt.detach().numpy())
        if args.eval and step in {e['step'] for e in ref['evals']}:
            print(json.dumps({'step': step, **evaluate(model, prompt.detach(), dev, dev_ids, candidates, greedy=greedy)}), flush=True)
    if args.dump:
        np.save(os.path.join(args.dump, 'losses.npy'), np.array(losses))
    print_loss_means(losses, ref['train_loss'])
    if args.time and len(seconds) > 1:
        timed = seconds[1:]
        timing = {'seconds_per_step_mean': float(np.mean(timed)), 'seconds_per_step_median': float(np.median(timed)), 'steps_timed': len(timed)}
        print(json.dumps({'timing': {**timing, 'threads': args.threads, 'torch': torch.__version__, 'blas': blas_libraries()}}))


def print_loss_means(losses, recorded):
    """The loss means over the reference's own windows (50 steps for the pretrained runs, 25 for the instruct runs)."""
    window = recorded[1][0] - recorded[0][0]
    ref_means = dict(recorded)
    for end in range(window, len(losses) + 1, window):
        mean = float(np.mean(losses[end - window : end]))
        r = ref_means.get(end)
        print(f'step {end}: mean loss {mean:.5f}  reference {r}  rel {mean / r - 1:+.4f}' if r else f'step {end}: {mean:.5f}')
    print('first losses', [round(x, 4) for x in losses[:20]])


if __name__ == '__main__':
    main()
