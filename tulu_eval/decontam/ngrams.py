"""Word n-grams as 64-bit hashes, the eval-side index, and per-chunk scoring (all numpy).

Words: the text is lowercased, encoded as UTF-8, and split on every ASCII byte that is not a
letter or digit (so ``don't`` is ``don`` + ``t``, ``3.5`` is ``3`` + ``5``) and on Unicode
punctuation/space in U+0080–U+00BF, U+2000–U+206F and U+3000–U+303F. Both sides (eval
prompts and training rows) go through exactly the same function, so they split the same way.

A word's hash is computed from its bytes read eight at a time (no per-byte Python work); an
n-gram's hash is a polynomial combination of its words' hashes, then mixed (splitmix64). An
n-gram never spans two training rows; within a row it may span turns/fields, which are joined
by a separator.

Score of an eval instance against one training row = |distinct n-grams of the instance found
in the row| / |distinct n-grams of the instance|. An instance shorter than n words counts as one
n-gram made of all its words (so it scores 1.0 against a row holding that exact word run).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_U64 = np.uint64
_MIX1, _MIX2 = _U64(0xBF58476D1CE4E5B9), _U64(0x94D049BB133111EB)
_LEN_MUL = _U64(0x9E3779B97F4A7C15)
_NGRAM_MUL = _U64(0x100000001B3)
_SPACE = 32

# bytes.translate table: letters -> lowercase, digits kept, other ASCII -> space, non-ASCII kept
_TABLE = bytearray(b" " * 128 + bytes(range(128, 256)))
for _c in b"0123456789abcdefghijklmnopqrstuvwxyz":
    _TABLE[_c] = _c
for _c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _TABLE[_c] = _c + 32
_TABLE = bytes(_TABLE)
# masks keeping the low k bytes of a little-endian 64-bit word, k = 0..8
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=_U64)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer (in place on a fresh array)."""
    h ^= h >> _U64(30)
    h *= _MIX1
    h ^= h >> _U64(27)
    h *= _MIX2
    h ^= h >> _U64(31)
    return h


def normalize(data: bytes) -> np.ndarray:
    """Lowercased UTF-8 bytes -> uint8 array where every separator byte is a space.

    ``data`` must already be lowercased where non-ASCII (``str.lower`` or arrow's utf8_lower).
    """
    out = np.frombuffer(bytearray(data.translate(_TABLE)), dtype=np.uint8)
    if not data.isascii():
        # Unicode punctuation and spaces: C2 80..BF (U+0080-00BF), E2 80/81 xx (U+2000-206F),
        # E3 80 xx (U+3000-303F); blank the whole sequence
        lead = np.flatnonzero(out[:-2] >= 0xC2)
        first, second = out[lead], out[lead + 1]
        two = lead[first == 0xC2]
        three = lead[((first == 0xE2) & ((second == 0x80) | (second == 0x81))) | ((first == 0xE3) & (second == 0x80))]
        out[two] = out[two + 1] = _SPACE
        out[three] = out[three + 1] = out[three + 2] = _SPACE
        if len(out) >= 2 and out[-2] == 0xC2:
            out[-2:] = _SPACE
    return out


def words(text: str) -> list[str]:
    """The words of ``text`` as the hashing sees them (for display and tests)."""
    return normalize(text.lower().encode("utf-8")).tobytes().decode("utf-8", "replace").split()


def token_hashes(norm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hashes of the words of a normalized buffer, with their start and end byte offsets."""
    is_word = (norm != _SPACE).view(np.int8)
    edges = np.diff(is_word, prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    if not len(starts):
        return np.empty(0, _U64), starts, ends
    padded = np.zeros(len(norm) + 8, dtype=np.uint8)
    padded[: len(norm)] = norm
    # a little-endian 64-bit word starting at every byte offset (unaligned view, no copy)
    at = np.ndarray((len(norm) + 1,), dtype="<u8", buffer=padded.data, strides=(1,))
    lengths = ends - starts
    h = at[starts] & _MASKS[np.minimum(lengths, 8)]
    h ^= lengths.astype(_U64) * _LEN_MUL
    h = _mix(h)
    long_ = np.flatnonzero(lengths > 8)
    offset = 8
    while len(long_):  # words over 8 bytes: fold in the next 8 bytes
        rest = lengths[long_] - offset
        part = at[starts[long_] + offset] & _MASKS[np.minimum(rest, 8)]
        h[long_] = _mix(h[long_] ^ part) * _NGRAM_MUL
        offset += 8
        long_ = long_[rest > 8]
    return h, starts, ends


def ngram_hashes(tok: np.ndarray, n: int) -> np.ndarray:
    """Hash of the word n-gram starting at every position 0..len(tok)-n (row boundaries ignored).

    Built by doubling: windows of 1, 2, 4, ... words are combined as a[i] * Q**len(b) + b[i+len(a)],
    so an 8-gram costs three passes instead of seven.
    """
    if n < 1 or len(tok) < n:
        return np.empty(0, _U64)
    total = len(tok)
    acc, acc_len = None, 0
    cur, cur_len, rest = tok, 1, n
    while True:
        if rest & 1:
            if acc is None:
                acc, acc_len = cur, cur_len
            else:
                size = total - acc_len - cur_len + 1
                acc = acc[:size] * _U64(pow(0x100000001B3, cur_len, 1 << 64)) + cur[acc_len: acc_len + size]
                acc_len += cur_len
        rest >>= 1
        if not rest:
            break
        size = total - 2 * cur_len + 1
        cur = cur[:size] * _U64(pow(0x100000001B3, cur_len, 1 << 64)) + cur[cur_len: cur_len + size]
        cur_len *= 2
    g = acc.copy() if acc is tok else acc
    g ^= _U64((n * 0x9E3779B97F4A7C15) % (1 << 64))
    return _mix(g)


def _grams_at(tok: np.ndarray, pos: np.ndarray, k: int) -> np.ndarray:
    """``ngram_hashes(tok, k)[pos]`` computed at those positions only (Horner's rule)."""
    g = tok[pos].copy()
    for j in range(1, k):
        g *= _NGRAM_MUL
        g += tok[pos + j]
    g ^= _U64((k * 0x9E3779B97F4A7C15) % (1 << 64))
    return _mix(g)


@dataclass
class Lookup:
    """The eval n-gram set: sorted distinct hashes, postings (key -> instances), a bitmap filter."""

    n: int
    keys: np.ndarray         # uint64, sorted, distinct
    post_off: np.ndarray     # int64, len(keys)+1: postings of key k are post_inst[post_off[k]:post_off[k+1]]
    post_inst: np.ndarray    # int32 instance numbers
    inst_ngrams: np.ndarray  # int32: distinct n-grams per instance (0 = empty instance)
    short_lengths: tuple[int, ...]  # word counts < n of instances indexed as one short n-gram
    bitmap: np.ndarray       # uint8 bit array over the top `bits` bits of a hash
    bits: int
    # short instances: their first words and their n-gram keys (sorted), each with a 16-bit bitmap
    short_first: np.ndarray = field(default_factory=lambda: np.empty(0, _U64))
    short_first_bitmap: np.ndarray = field(default_factory=lambda: np.zeros(1 << 13, np.uint8))
    short_keys: np.ndarray = field(default_factory=lambda: np.empty(0, _U64))
    short_keys_bitmap: np.ndarray = field(default_factory=lambda: np.zeros(1 << 13, np.uint8))

    @classmethod
    def build(cls, tok: np.ndarray, tok_inst: np.ndarray, ninst: int, n: int) -> "Lookup":
        """Index instances given as word hashes ``tok`` (each instance's words contiguous, in order)
        with their instance numbers ``tok_inst`` (non-decreasing, 0..ninst-1)."""
        tok_inst = tok_inst.astype(np.int64)
        g = ngram_hashes(tok, n)
        ok = np.flatnonzero(tok_inst[: len(g)] == tok_inst[n - 1:])
        g, owner = g[ok], tok_inst[ok]
        words = np.bincount(tok_inst, minlength=ninst)
        short_inst = np.flatnonzero((words > 0) & (words < n))
        first = np.searchsorted(tok_inst, short_inst)
        if len(short_inst):  # fewer than n words: one n-gram of all the words
            g = np.concatenate([g, *[ngram_hashes(tok[f: f + words[i]], int(words[i]))
                                     for f, i in zip(first.tolist(), short_inst.tolist())]])
            owner = np.concatenate([owner, short_inst])
        order = np.lexsort((owner, g))
        g, owner = g[order], owner[order]
        new = np.r_[True, (g[1:] != g[:-1]) | (owner[1:] != owner[:-1])] if len(g) else np.zeros(0, bool)
        g, owner = g[new], owner[new]  # distinct (n-gram, instance) pairs, sorted by n-gram
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.zeros(0, np.int64)
        keys = g[starts]
        post_off = np.append(starts, len(g)).astype(np.int64)
        bits = int(min(max(np.ceil(np.log2(max(len(keys), 1))) + 5, 16), 32))
        short_first = np.unique(tok[first])
        short_keys = np.unique(g[np.isin(owner, short_inst)])
        return cls(n=n, keys=keys, post_off=post_off, post_inst=owner.astype(np.int32),
                   inst_ngrams=np.bincount(owner, minlength=ninst).astype(np.int32),
                   short_lengths=tuple(sorted(set(words[short_inst].tolist()))), bitmap=_bitmap(keys, bits),
                   bits=bits, short_first=short_first, short_first_bitmap=_bitmap(short_first, 16),
                   short_keys=short_keys, short_keys_bitmap=_bitmap(short_keys, 16))

    def find(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in ``g``, key numbers) of the hashes that are eval n-grams."""
        return _member(self.keys, self.bitmap, self.bits, g)


def _bitmap(keys: np.ndarray, bits: int) -> np.ndarray:
    """A bit array over the top ``bits`` bits of the keys (a one-hash Bloom filter)."""
    bitmap = np.zeros(1 << (bits - 3), dtype=np.uint8)
    top = keys >> _U64(64 - bits)
    np.bitwise_or.at(bitmap, (top >> _U64(3)).astype(np.int64), np.left_shift(1, (top & _U64(7))).astype(np.uint8))
    return bitmap


def _member(keys: np.ndarray, bitmap: np.ndarray, bits: int, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``g`` whose hash is in the sorted ``keys``, and where it is in ``keys``."""
    top = g >> _U64(64 - bits)
    maybe = np.flatnonzero((bitmap[top >> _U64(3)] >> (top & _U64(7)).astype(np.uint8)) & 1)
    cand = g[maybe]
    pos = np.searchsorted(keys, cand)
    pos[pos == len(keys)] = 0
    hit = keys[pos] == cand if len(keys) else np.zeros(len(cand), bool)
    return maybe[hit], pos[hit]


@dataclass
class ChunkScores:
    """What one chunk of training rows contributes (sizes bounded by the eval index, not the chunk)."""

    best_inst: np.ndarray  # instances with any overlap in this chunk
    best_row: np.ndarray   # the row (global number) with the highest score for that instance
    best_score: np.ndarray
    hit_inst: np.ndarray   # every (instance, row) pair with score >= threshold
    hit_row: np.ndarray
    hit_score: np.ndarray
    best_keys: dict        # instance -> key numbers matched by its best row (only for hits)


def score_chunk(lookup: Lookup, norm: np.ndarray, seg_starts: np.ndarray, seg_row: np.ndarray,
                threshold: float) -> ChunkScores:
    """Score every eval instance against every training row of one chunk.

    ``norm``: normalized bytes of the chunk's text segments, separated by spaces;
    ``seg_starts``: byte offset of each segment; ``seg_row``: global row number of each segment.
    """
    tok, starts, _ = token_hashes(norm)
    # row of each word: words per segment from the segment start offsets
    per_seg = np.diff(np.searchsorted(starts, seg_starts), append=len(starts))
    tok_row = np.repeat(seg_row.astype(np.int64), per_seg)
    rows_parts, keys_parts = [], []
    # short instances: k-grams only where a word starts one of them (few places)
    cand = _member(lookup.short_first, lookup.short_first_bitmap, 16, tok)[0] if lookup.short_lengths else None
    for k in (lookup.n, *lookup.short_lengths):
        if k == lookup.n:
            at, key = lookup.find(ngram_hashes(tok, k))
        else:
            pos = cand[cand <= len(tok) - k]
            at, key = _member(lookup.short_keys, lookup.short_keys_bitmap, 16, _grams_at(tok, pos, k))
            at, key = pos[at], np.searchsorted(lookup.keys, lookup.short_keys[key])
        same_row = tok_row[at] == tok_row[at + k - 1]  # n-grams never span two rows
        rows_parts.append(tok_row[at[same_row]])
        keys_parts.append(key[same_row])
    rows, keys = np.concatenate(rows_parts), np.concatenate(keys_parts).astype(np.int64)
    if not len(rows):
        e = np.empty(0, np.int64)
        return ChunkScores(e, e, np.empty(0), e, e, np.empty(0), {})
    # distinct (row, key) pairs, then expand each key to the instances that hold it
    nkeys = np.int64(len(lookup.keys))
    pair = np.unique(rows * nkeys + keys)
    rows, keys = pair // nkeys, pair % nkeys
    counts = lookup.post_off[keys + 1] - lookup.post_off[keys]
    total = int(counts.sum())
    first = np.repeat(lookup.post_off[keys] - np.cumsum(counts) + counts, counts)
    inst = lookup.post_inst[first + np.arange(total)].astype(np.int64)
    rows, keys = np.repeat(rows, counts), np.repeat(keys, counts)
    ninst = np.int64(len(lookup.inst_ngrams))
    ri = rows * ninst + inst
    uniq, hits = np.unique(ri, return_counts=True)
    u_row, u_inst = uniq // ninst, uniq % ninst
    score = hits / lookup.inst_ngrams[u_inst]
    # best row per instance: highest score, then lowest row number
    order = np.lexsort((u_row, -score, u_inst))
    firsts = order[np.r_[True, u_inst[order][1:] != u_inst[order][:-1]]]
    hit = score >= threshold
    best_keys = {}
    winners = firsts[hit[firsts]]
    if len(winners):
        sel = np.isin(ri, uniq[winners])
        for i, k in zip(inst[sel].tolist(), keys[sel].tolist()):
            best_keys.setdefault(i, []).append(k)
    return ChunkScores(u_inst[firsts], u_row[firsts], score[firsts], u_inst[hit], u_row[hit], score[hit],
                       {i: np.array(v, dtype=np.int64) for i, v in best_keys.items()})


def overlap_text(text: str, n: int, matched: np.ndarray) -> str:
    """The words of ``text`` covered by the matched n-gram hashes, runs joined by ' … '."""
    norm = normalize(text.lower().encode("utf-8"))
    tok, starts, ends = token_hashes(norm)
    k = min(n, len(tok))
    covered = np.zeros(len(tok), dtype=bool)
    for p in np.flatnonzero(np.isin(ngram_hashes(tok, k), matched)).tolist():
        covered[p: p + k] = True
    raw = norm.tobytes()
    runs, current = [], []
    for i, c in enumerate(covered.tolist()):
        if c:
            current.append(raw[starts[i]:ends[i]].decode("utf-8", "replace"))
        elif current:
            runs.append(" ".join(current))
            current = []
    if current:
        runs.append(" ".join(current))
    return " … ".join(runs)
