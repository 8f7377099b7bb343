"""An independent reader for checkpoint folders (no Sprout code, no torch): safetensors headers with json+struct,
torch.save zip archives with zipfile (CRCs checked) and a pickle.Unpickler that only rebuilds tensors, indexes
with json. Prints one JSON object:
  {"index": {...} | null, "files": {name: {"kind", "metadata", "tensors": {tensor: {dtype, shape, storage, sha256}}}},
   "misplaced": [tensors not in the file the index names], "rounding_mismatches": {tensor: count} (with --reference)}
sha256 is of the values as little-endian float32 (half dtypes widened exactly), so files of one seed in different
formats can be compared. --reference DIR (a float32 checkpoint) rounds its values with numpy to each tensor's dtype
(float16: numpy's astype; bfloat16: round to nearest even on the bits) and counts elements that differ.
"""
import collections
import hashlib
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np


def widen(dtype, raw):
    if dtype == "F32":
        return np.frombuffer(raw, dtype="<f4")
    if dtype == "F16":
        return np.frombuffer(raw, dtype="<f2").astype("<f4")
    if dtype == "BF16":
        return (np.frombuffer(raw, dtype="<u2").astype("<u4") << 16).view("<f4")
    raise ValueError(dtype)


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        tensors = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            f.seek(base + begin)
            tensors[name] = (info["dtype"], info["shape"], None, f.read(end - begin))
    return {"kind": "safetensors", "metadata": header.get("__metadata__")}, tensors


STORAGE_DTYPES = {"FloatStorage": "F32", "HalfStorage": "F16", "BFloat16Storage": "BF16"}


def rebuild_tensor(storage, offset, size, stride, *rest):
    return ("tensor", storage, offset, tuple(size), tuple(stride))


class StateDictUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return name
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

    def persistent_load(self, pid):
        tag, storage_type, key, _location, numel = pid
        assert tag == "storage"
        return (STORAGE_DTYPES[storage_type], key, numel)


def read_bin(path):
    with zipfile.ZipFile(path) as z:
        bad = z.testzip()
        if bad is not None:
            raise SystemExit(f"{path}: CRC mismatch in {bad}")
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl")]
        assert len(pkl) == 1, pkl
        prefix = pkl[0][: -len("data.pkl")]
        state = StateDictUnpickler(z.open(pkl[0])).load()
        tensors = {}
        for name, (_, (dtype, key, numel), offset, size, stride) in state.items():
            raw = z.read(f"{prefix}data/{key}")
            element = 4 if dtype == "F32" else 2
            assert len(raw) == numel * element, (name, len(raw), numel)
            count = int(np.prod(size)) if size else 1
            expected = tuple(int(np.prod(size[i + 1 :])) for i in range(len(size)))
            assert stride == expected, (name, stride, expected)
            tensors[name] = (dtype, list(size), key, raw[offset * element : (offset + count) * element])
    return {"kind": "bin", "metadata": None}, tensors


def read_folder(folder):
    index = None
    for name in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if os.path.exists(os.path.join(folder, name)):
            with open(os.path.join(folder, name)) as f:
                index = json.load(f)
    names = sorted(n for n in os.listdir(folder) if n.endswith(".safetensors") or n.endswith(".bin"))
    files, values, misplaced = {}, {}, []
    for name in names:
        path = os.path.join(folder, name)
        info, tensors = (read_safetensors if name.endswith(".safetensors") else read_bin)(path)
        info["tensors"] = {}
        for tensor, (dtype, shape, storage, raw) in tensors.items():
            wide = widen(dtype, raw)
            values[tensor] = (dtype, raw)
            info["tensors"][tensor] = {"dtype": dtype, "shape": shape, "storage": storage, "sha256": hashlib.sha256(wide.tobytes()).hexdigest()}
            if index is not None and index["weight_map"].get(tensor) != name:
                misplaced.append(tensor)
        files[name] = info
    return {"index": index, "files": files, "misplaced": misplaced}, values


def round_to(dtype, f32):
    if dtype == "F32":
        return f32.tobytes()
    if dtype == "F16":
        return f32.astype("<f2").tobytes()
    bits = f32.view("<u4").astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2").tobytes()


def main():
    folder = sys.argv[1]
    report, values = read_folder(folder)
    if len(sys.argv) > 3 and sys.argv[2] == "--reference":
        _, reference = read_folder(sys.argv[3])
        report["rounding_mismatches"] = {}
        for tensor, (dtype, raw) in values.items():
            # Tied copies (embed_tokens, a tied lm_head) are stored once, as shared.weight, in safetensors.
            source = reference.get(tensor) or reference["shared.weight"]
            expected = round_to(dtype, np.frombuffer(source[1], dtype="<f4"))
            got = np.frombuffer(raw, dtype="<u2" if dtype != "F32" else "<u4")
            want = np.frombuffer(expected, dtype=got.dtype)
            report["rounding_mismatches"][tensor] = int((got != want).sum())
    print(json.dumps(report))


main()
