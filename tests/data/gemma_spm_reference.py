"""SigLIP2's text tokenizer: Gemma's SentencePiece model (tokenizer.model: BPE, byte fallback, no
dummy prefix, identity normalisation) as transformers' GemmaTokenizer encodes with SigLIP2's
conversion settings (add_bos_token=False, add_eos_token=True, padding_side right, pad <pad> 0),
the text lower-cased first one character at a time (SigLIP2 was trained on lower-cased text;
transformers v5's Siglip2Tokenizer lower-cases in its normaliser). Independent of deft.
"""
import sentencepiece as spm


class GemmaSpm:
    def __init__(self, model_file):
        self.sp = spm.SentencePieceProcessor(model_file=model_file)
        self.eos = self.sp.piece_to_id("<eos>")
        self.pad = self.sp.piece_to_id("<pad>")

    def encode(self, text, max_length=64):
        text = "".join(c.lower() for c in text)
        ids = self.sp.encode(text)[: max_length - 1] + [self.eos]
        return ids + [self.pad] * (max_length - len(ids))
