"""Sprout's T5 token ids against SentencePiece's on every row of the SST-2 train and CoLA in-domain train files.

The reference is what Hugging Face's slow T5Tokenizer (legacy) gives these rows: SentencePiece's encode + eos (id 1).
Needs sentencepiece (Debian's python3-sentencepiece: run with /usr/bin/python3) and node_modules (it bundles
scripts/tokenize-texts.ts into out/ with esbuild). Prints each differing row and a summary line; exits 1 if any differs.

    /usr/bin/python3 scripts/sentencepiece_parity.py [MODEL_DIR ...]

Each MODEL_DIR (default: resources/tokenizer/t5, i.e. spiece.model) is loaded by Sprout as a model folder;
SentencePiece always reads resources/tokenizer/t5/spiece.model.
"""
import csv
import json
import os
import subprocess
import sys

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
csv.field_size_limit(sys.maxsize)


def rows(path, header, column):
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        if header:
            column = next(reader).index(column)
        return [r[column] for r in reader]


def main():
    dirs = sys.argv[1:] or [os.path.join(ROOT, "resources", "tokenizer", "t5")]
    sp = spm.SentencePieceProcessor(model_file=os.path.join(ROOT, "resources", "tokenizer", "t5", "spiece.model"))
    files = {
        "sst2/train.tsv": rows(os.path.join(DATA, "sst2", "train.tsv"), True, "sentence"),
        "cola/in_domain_train.tsv": rows(os.path.join(DATA, "cola", "in_domain_train.tsv"), False, 3),
    }
    bundle = os.path.join(ROOT, "out", "tokenize-texts.js")
    esbuild = os.path.join(ROOT, "node_modules", ".bin", "esbuild")
    subprocess.run([esbuild, os.path.join(ROOT, "scripts", "tokenize-texts.ts"), "--bundle", "--platform=node", "--format=esm",
                    "--packages=external", "--outfile=" + bundle, "--log-level=warning"], check=True)
    differing = 0
    for d in dirs:
        for name, texts in files.items():
            out = subprocess.run(["node", bundle, d], input=json.dumps(texts).encode(), capture_output=True, check=True).stdout
            sprout = [json.loads(line) for line in out.decode().splitlines()]
            assert len(sprout) == len(texts)
            diff = 0
            for i, (text, got) in enumerate(zip(texts, sprout)):
                want = sp.encode(text) + [1]
                if got != want:
                    diff += 1
                    print(f"{name} row {i}: {text!r}")
                    print(f"  sentencepiece {want}\n  sprout        {got}")
            print(f"{os.path.relpath(d, ROOT)} {name}: {len(texts)} rows, {diff} differ")
            differing += diff
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
