#!/usr/bin/env python3
"""Writes the small valid GGUF files that seed fuzz/fuzz_gguf.c into
fuzz/corpus/gguf/. A writer of its own (from the format description), so the
seeds do not come from the code under test. Deterministic; rerun to refresh."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "gguf")
SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<B", 10: "<Q", 11: "<q", 12: "<d"}
GGML = {0: (1, 4), 1: (1, 2), 2: (32, 18), 8: (32, 34), 12: (256, 144), 14: (256, 210), 30: (1, 2)}  # id: (block, bytes)


def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def value(t, v):
    if t == 8:
        return gstr(v)
    return struct.pack(SCALAR[t], v)


def gguf(kvs, tensors, version=3, alignment=32):
    """kvs: (key, type, value) with type 9 as (9, elem, [values]); tensors: (name, [ne], ggml type)."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, t, v in kvs:
        out += gstr(key) + struct.pack("<I", t)
        if t == 9:
            elem, items = v
            out += struct.pack("<IQ", elem, len(items)) + b"".join(value(elem, x) for x in items)
        else:
            out += value(t, v)
    offset, sizes = 0, []
    for name, ne, t in tensors:
        block, nb = GGML[t]
        size = ne[0] // block * nb
        for d in ne[1:]:
            size *= d
        out += gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        out += struct.pack("<IQ", t, offset)
        sizes.append(size)
        offset = (offset + size + alignment - 1) // alignment * alignment
    out += b"\0" * (-len(out) % alignment)
    data = bytearray()
    for i, size in enumerate(sizes):
        data += bytes((i * 7 + j) & 0xFF for j in range(size))
        data += b"\0" * (-len(data) % alignment)
    return out + bytes(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {
        "empty_v3.gguf": gguf([], []),
        "empty_v2.gguf": gguf([], [], version=2),
        "scalars_v2.gguf": gguf(
            [("general.architecture", 8, "test"), ("a.u8", 0, 200), ("a.i8", 1, -5), ("a.u16", 2, 60000),
             ("a.i16", 3, -300), ("a.u32", 4, 123456), ("a.i32", 5, -7), ("a.f32", 6, 1.5), ("a.bool", 7, 1),
             ("a.u64", 10, 1 << 40), ("a.i64", 11, -(1 << 40)), ("a.f64", 12, 2.25)],
            [("w.weight", [8, 2], 0)], version=2),
        "arrays_align64.gguf": gguf(
            [("general.alignment", 4, 64), ("arr.u8", 9, (0, [1, 2, 3])), ("arr.i32", 9, (5, [-1, 0, 1])),
             ("arr.f32", 9, (6, [0.5, -2.0])), ("arr.bool", 9, (7, [1, 0, 1])), ("arr.str", 9, (8, ["a", "", "bc"])),
             ("arr.empty", 9, (12, [])), ("arr.u64", 9, (10, [7])), ("arr.i16", 9, (3, [-2]))],
            [("q4k", [256], 12), ("q8", [32, 2], 8), ("f16", [4, 3, 2], 1), ("bf16", [2, 1, 1, 2], 30)],
            alignment=64),
        "gemma4_like.gguf": gguf(
            [("gemma4.block_count", 4, 2), ("gemma4.embedding_length", 4, 256),
             ("gemma4.attention.sliding_window_pattern", 9, (7, [1, 0])),
             ("gemma4.feed_forward_length", 9, (5, [512, 1024])), ("gemma4.final_logit_softcapping", 6, 30.0),
             ("general.architecture", 8, "gemma4"),
             ("tokenizer.ggml.tokens", 9, (8, ["<pad>", "<eos>", "<bos>", "a", "b", "ab", "\u2581x"])),
             ("tokenizer.ggml.merges", 9, (8, ["a b"])), ("tokenizer.ggml.token_type", 9, (5, [3, 3, 3, 1, 1, 1, 1])),
             ("tokenizer.ggml.bos_token_id", 4, 2)],
            [("blk.0.attn_norm.weight", [256], 0), ("token_embd.weight", [256, 7], 14),
             ("output_norm.weight", [256], 0)]),
    }
    for name, data in seeds.items():
        assert len(data) < 8192, (name, len(data))
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
