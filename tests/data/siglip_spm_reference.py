"""SigLIP's text tokenizer as transformers' SiglipTokenizer runs it (AutoTokenizer and
SiglipProcessor give this slow tokenizer for google/siglip-*; there is no fast one in the auto
map), written from tokenization_siglip.py and PreTrainedTokenizer.tokenize. Independent of
deft; the C++ tokenizer is tested against it. Uses Debian's python3-sentencepiece and
python3-protobuf.

For one text:
  1. "▁" + text with every "▁" turned into a space;
  2. lower case one character at a time, special tokens ("</s>", "<unk>") left as they are;
  3. split on the special tokens, stripping white space next to them (lstrip/rstrip=True);
  4. each chunk: ASCII punctuation removed, white-space runs -> " ", stripped, then encoded by
     SentencePiece as "<unk>" + chunk with add_dummy_prefix forced off, the "<unk>" pieces cut;
  5. a leading lone "▁" before a special token dropped; ids by piece; "</s>" appended unless
     the ids end in it; truncated to 63 + "</s>"; padded with "</s>" to 64.
"""
import re
import string

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as model_pb2

UNDERLINE = "\u2581"
SPECIALS = ("</s>", "<unk>")


class SiglipSpm:
    def __init__(self, model_file):
        with open(model_file, "rb") as f:
            proto = model_pb2.ModelProto.FromString(f.read())
        spec = model_pb2.NormalizerSpec()
        spec.add_dummy_prefix = False
        proto.normalizer_spec.MergeFrom(spec)
        self.sp = spm.SentencePieceProcessor()
        self.sp.LoadFromSerializedProto(proto.SerializeToString())
        self.unk_length = len(self.sp.encode("<unk>", out_type=str))
        self.eos = self.sp.piece_to_id("</s>")

    @staticmethod
    def canonicalize(text):
        text = text.translate(str.maketrans("", "", string.punctuation))
        text = re.sub(r"\s+", " ", text)
        return text.strip()

    def chunk_pieces(self, chunk):
        text = self.canonicalize(chunk)
        pieces = self.sp.encode("<unk>" + text, out_type=str)
        return pieces[self.unk_length:] if len(pieces) >= self.unk_length else pieces

    def tokenize(self, text):
        text = UNDERLINE + text.replace(UNDERLINE, " ")
        text = re.sub(r"(</s>|<unk>)|(.+?)", lambda m: m.group(1) or m.group(2).lower(), text)
        parts = [p for p in re.split(r"(</s>|<unk>)", text)]
        for i, p in enumerate(parts):
            if p in SPECIALS:
                if i > 0 and parts[i - 1] not in SPECIALS:
                    parts[i - 1] = parts[i - 1].rstrip()
                if i + 1 < len(parts) and parts[i + 1] not in SPECIALS:
                    parts[i + 1] = parts[i + 1].lstrip()
        tokens = []
        for p in parts:
            if p in SPECIALS:
                tokens.append(p)
            elif p:
                tokens += self.chunk_pieces(p)
        if len(tokens) > 1 and tokens[0] == UNDERLINE and tokens[1] in SPECIALS:
            tokens = tokens[1:]
        return tokens

    def encode(self, text, max_length=64):
        ids = [self.sp.piece_to_id(t) for t in self.tokenize(text)][: max_length - 1]
        if not ids or ids[-1] != self.eos:
            ids.append(self.eos)
        return ids + [self.eos] * (max_length - len(ids))
