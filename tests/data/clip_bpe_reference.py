"""CLIP's text tokenizer as transformers' CLIPTokenizerFast runs it (the tokenizer AutoTokenizer
and CLIPProcessor give), written from the published algorithm: the hub tokenizer.json of
openai/clip-vit-base-patch32 and transformers' tokenization_clip.py. Independent of deft; the
C++ tokenizer is tested against it.

Pipeline (tokenizer.json): literal special tokens cut out first; each other segment through
the normalizer NFC -> Replace(\\s+ -> " ") -> Lowercase (per character: a final Sigma becomes
sigma), the pre-tokenizer Split(pattern, Removed, invert) -> ByteLevel (GPT-2's byte alphabet),
BPE with "</w>" on a word's last symbol; then <|startoftext|> ... <|endoftext|>, the content
truncated to 75, padded with <|endoftext|> to 77.

\\s is spelt \\p{White_Space}: the Rust regex engine of `tokenizers` reads \\s as that property,
where Python's re/regex \\s also take U+001C..U+001F.
"""
import json
import unicodedata

import regex

SPECIALS = ("<|startoftext|>", "<|endoftext|>")
WS = r"\p{White_Space}"
PATTERN = regex.compile(
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]"
    r"|[^\p{White_Space}\p{L}\p{N}]+",
    regex.IGNORECASE,
)
SPACES = regex.compile(WS + "+")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE = bytes_to_unicode()


def pieces(text):
    """The normalised words of one segment (no special tokens in it)."""
    t = unicodedata.normalize("NFC", text)
    t = SPACES.sub(" ", t)
    t = "".join(c.lower() for c in t)
    return PATTERN.findall(t)


def bpe(word, ranks):
    """transformers' CLIPTokenizer.bpe on a byte-mapped word: lowest-ranked pair first, merged
    everywhere left to right."""
    symbols = list(word[:-1]) + [word[-1] + "</w>"]
    while len(symbols) > 1:
        pairs = [(symbols[i], symbols[i + 1]) for i in range(len(symbols) - 1)]
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        merged, i = [], 0
        while i < len(symbols):
            if i + 1 < len(symbols) and symbols[i] == best[0] and symbols[i + 1] == best[1]:
                merged.append(best[0] + best[1])
                i += 2
            else:
                merged.append(symbols[i])
                i += 1
        symbols = merged
    return symbols


class ClipBpe:
    def __init__(self, vocab_json, merges_txt):
        with open(vocab_json, encoding="utf-8") as f:
            self.vocab = json.load(f)
        with open(merges_txt, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if lines and lines[0].startswith("#version"):
            lines = lines[1:]
        self.ranks = {}
        for rank, line in enumerate(l for l in lines if l):
            a, b = line.split(" ")
            self.ranks[(a, b)] = rank
        self.bos = self.vocab["<|startoftext|>"]
        self.eos = self.vocab["<|endoftext|>"]

    def content_ids(self, text):
        ids = []
        for segment in regex.split(r"(<\|startoftext\|>|<\|endoftext\|>)", text):
            if segment in SPECIALS:
                ids.append(self.vocab[segment])
                continue
            for piece in pieces(segment):
                mapped = "".join(BYTE[b] for b in piece.encode("utf-8"))
                ids += [self.vocab.get(s, self.eos) for s in bpe(mapped, self.ranks)]
        return ids

    def encode(self, text, max_length=77):
        ids = [self.bos] + self.content_ids(text)[: max_length - 2] + [self.eos]
        return ids + [self.eos] * (max_length - len(ids))


def train(words, merges):
    """A small BPE vocabulary in CLIP's published layout: the 256 byte symbols, the same with
    "</w>", one entry per merge, then the two special tokens; merges.txt with its version line."""
    counts = {}
    for w in words:
        mapped = "".join(BYTE[b] for b in w.encode("utf-8"))
        key = tuple(mapped[:-1]) + (mapped[-1] + "</w>",)
        counts[key] = counts.get(key, 0) + 1
    learned = []
    for _ in range(merges):
        pairs = {}
        for word, n in counts.items():
            for i in range(len(word) - 1):
                pairs[(word[i], word[i + 1])] = pairs.get((word[i], word[i + 1]), 0) + n
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        learned.append(best)
        merged_counts = {}
        for word, n in counts.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == best[0] and word[i + 1] == best[1]:
                    out.append(best[0] + best[1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged_counts[tuple(out)] = merged_counts.get(tuple(out), 0) + n
        counts = merged_counts
    symbols = list(BYTE.values())
    vocab = symbols + [s + "</w>" for s in symbols]
    for a, b in learned:
        vocab.append(a + b)
    vocab += list(SPECIALS)
    return {token: i for i, token in enumerate(vocab)}, learned
