"""
How far float32 rounding alone moves PyTorch's own prompt-tuning runs on ../shared/fixtures/mini-t5-instruct: the
spread that issue #22 compares Sprout's replays with. Runs scripts/torch_prompt_tuning.py --model instruct for one
task, once as recorded and replays-1 times from an initial prompt moved by 1e-7 (relative, seeds 1, 2, ...), each
on 1 thread as the reference ran, `jobs` at a time, and writes the dev rank accuracy curves and the spread of the
final accuracies beside the reference's as JSON.

    /usr/bin/python3 scripts/torch_replay_spread.py --task sst2 --replays 10 --jobs 2 --logs /tmp/torch-replays \
        --out bench-results/learning-torch.json

Each replay's output goes to LOGS/<task>/seed-<s>.log; a log that reached the last evaluation is read instead of run
again, so an interrupted measurement resumes where it stopped. --out gains (or replaces) the task's key.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPLAY = os.path.join(HERE, 'torch_prompt_tuning.py')
REFERENCE = os.path.normpath(os.path.join(HERE, '..', '..', 'shared', 'fixtures', 'mini-t5-instruct', 'prompt_tuning_reference.json'))
PERTURB = 1e-7


def curve_of(log):
    """[[step, rank accuracy]] from a replay's JSON evaluation lines."""
    if not os.path.exists(log):
        return []
    with open(log, encoding='utf-8') as f:
        lines = [line for line in f if line.startswith('{')]
    return [[e['step'], e['rank_acc']] for e in map(json.loads, lines)]


def replay(task, seed, steps, log):
    """Runs one replay unless its log already holds the evaluation at the last step; returns its curve."""
    done = curve_of(log)
    if done and done[-1][0] == steps:
        return done
    perturb = ['--perturb', str(PERTURB), '--perturb-seed', str(seed)] if seed else []
    command = [sys.executable, REPLAY, '--model', 'instruct', '--task', task, '--steps', str(steps), '--eval', '--threads', '1']
    with open(log, 'w', encoding='utf-8') as out:
        subprocess.run(command + perturb, stdout=out, stderr=subprocess.STDOUT, check=True)
    curve = curve_of(log)
    if not curve or curve[-1][0] != steps:
        raise SystemExit(f'{log}: the replay ended without its step-{steps} evaluation')
    return curve


def spread(reference, curves):
    """The spread of the replays' final accuracies beside the recorded run's, and every curve."""
    finals = [c[-1][1] for c in curves]
    ref_curve = [[e['step'], e['rank_acc']] for e in reference['evals']]
    ref_final = ref_curve[-1][1]
    return {
        'model': 'mini-t5-instruct',
        'replays': len(curves),
        'relative_noise': PERTURB,
        'note': 'replay 0 starts from the recorded init; the others from it moved by at most 1e-7 (relative, seeded)',
        'reference': {'final_accuracy': ref_final, 'curve': ref_curve},
        'final_accuracy': finals,
        'min': min(finals),
        'median': statistics.median(finals),
        'max': max(finals),
        'below_reference': sum(f < ref_final for f in finals),
        'replay_0_equals_reference': curves[0] == ref_curve,
        'curves': curves,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--task', choices=['sst2', 'topic'], required=True)
    ap.add_argument('--replays', type=int, default=10)
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--logs', required=True)
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    with open(REFERENCE, encoding='utf-8') as f:
        reference = json.load(f)['runs'][args.task]
    steps = reference['evals'][-1]['step']
    folder = os.path.join(args.logs, args.task)
    os.makedirs(folder, exist_ok=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = [pool.submit(replay, args.task, s, steps, os.path.join(folder, f'seed-{s}.log')) for s in range(args.replays)]
        curves = [r.result() for r in runs]
    results = {}
    if os.path.exists(args.out):
        with open(args.out, encoding='utf-8') as f:
            results = json.load(f)
    results[args.task] = spread(reference, curves)
    with open(args.out + '.tmp', 'w', encoding='utf-8') as f:
        json.dump(results, f, indent=1)
        f.write('\n')
    os.replace(args.out + '.tmp', args.out)
    s = results[args.task]
    print(f"{args.task}: {s['replays']} replays, final {s['min']:.4f} – {s['median']:.4f} – {s['max']:.4f}, reference {s['reference']['final_accuracy']:.4f}")


if __name__ == '__main__':
    main()
