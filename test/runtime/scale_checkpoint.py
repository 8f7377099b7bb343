"""Writes a copy of a T5 fixture whose activations are larger but whose function is unchanged.

--stream F: the shared embedding and every projection that adds to a residual stream (attention `o`, feed-forward
`wo`) are multiplied by F, so every residual stream is F times larger; each RMS norm divides the scale out again.
A tied model (no lm_head.weight) also reads shared.weight as its LM head, so decoder.final_layer_norm is divided
by F to keep the logits.
--ff G: the feed-forward's linear input projection (wi_1, or wi for ReLU, which is positively homogeneous) is
multiplied by G and `wo` divided by G: the feed-forward's inner activation is G times larger, its output the same.
Read and written with numpy from the safetensors bytes, independently of Sprout's reader.

usage: scale_checkpoint.py SRC_DIR DST_DIR [--stream F] [--ff G]
"""
import argparse
import json
import os
import shutil
import struct

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument('src')
parser.add_argument('dst')
parser.add_argument('--stream', type=float, default=1.0)
parser.add_argument('--ff', type=float, default=1.0)
args = parser.parse_args()
src, dst, factor, ff = args.src, args.dst, args.stream, args.ff
with open(os.path.join(src, 'model.safetensors'), 'rb') as f:
    n = struct.unpack('<Q', f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
tied = 'lm_head.weight' not in header


def scale_of(name):
    if name == 'shared.weight' or name.endswith('.o.weight'):
        return factor
    if name.endswith('.wo.weight'):
        return factor / ff
    if name.endswith(('.wi_1.weight', '.wi.weight')):
        return ff
    if tied and name == 'decoder.final_layer_norm.weight':
        return 1 / factor
    return 1.0


out = bytearray()
for name, entry in header.items():
    if name == '__metadata__':
        continue
    assert entry['dtype'] == 'F32', name
    begin, end = entry['data_offsets']
    values = np.frombuffer(data[begin:end], dtype='<f4') * np.float32(scale_of(name))
    out += values.astype('<f4').tobytes()
os.makedirs(dst, exist_ok=True)
with open(os.path.join(dst, 'model.safetensors'), 'wb') as f:
    text = json.dumps(header).encode()
    text += b' ' * (-len(text) % 8)
    f.write(struct.pack('<Q', len(text)) + text + bytes(out))
for name in os.listdir(src):
    if name not in ('model.safetensors', 'reference.json', 'reference.bin') and not name.endswith('.md'):
        shutil.copy(os.path.join(src, name), os.path.join(dst, name))
print(json.dumps({'tied': tied, 'scaled': sorted(k for k in header if k != '__metadata__' and scale_of(k) != 1.0)}))
