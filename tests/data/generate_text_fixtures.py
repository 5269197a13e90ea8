#!/usr/bin/python3
"""Writes the text tokenizers' fixtures into tests/data/text/ (committed; re-run after changing
this file): a small CLIP BPE vocabulary in the published layout (vocab.json + merges.txt, as in
openai/clip-vit-base-patch32) trained here on captions, and the token ids of >= 200 test
strings from the independent reference (clip_bpe_reference.py).

    /usr/bin/python3 tests/data/generate_text_fixtures.py
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_bpe_reference as ref  # noqa: E402
import gemma_spm_reference as gemma_ref  # noqa: E402
import siglip_spm_reference as siglip_ref  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "text")

CAPTIONS = [
    "a photo of a cat", "a photo of a dog", "wet asphalt at night, oblique view",
    "a forklift in a warehouse", "two people crossing the street", "a red car parked outside",
    "a blurry picture of a bicycle", "the scooter is leaning against a wall",
    "a wheelchair ramp next to stairs", "an aerial view of a parking lot with many cars",
    "traffic lights at an intersection in the rain", "a truck on the highway at sunset",
    "children playing football in the park", "a close-up of a person's face",
    "snow covered road with tire tracks", "a pedestrian holding an umbrella",
    "they're waiting for the bus", "it's a sunny day", "we've seen this before",
    "i'm not sure", "you'll find it there", "he'd rather walk", "don't stop",
]


def test_strings():
    fixed = [
        "", " ", "a", "A PHOTO OF A CAT", "Wet Asphalt At Night, Oblique View",
        "it's", "IT'S", "they're", "we've", "I'm", "you'll", "he'd", "don't", "''s", "'s'",
        "!!!", "...", "?!?!", "---", "a--b", "(parenthesis)", "[brackets] {braces}",
        "\"quoted\"", "'single'", "email@example.com", "https://example.com/path?q=1&r=2",
        "#hashtag @mention", "100%", "$9.99", "3.14159", "1,000,000", "2024-12-01", "x^2 + y^2",
        "tab\tseparated", "new\nline", "multiple     spaces", "  leading and trailing  ",
        "nbsp\u00a0here", "ideographic\u3000space", "thin\u2009space", "line\u2028separator",
        "next\u0085line", "file\u001cseparator", "zero\u200bwidth", "zero\u200cwidth\u200djoiner",
        "soft\u00adhyphen", "bell\u0007char", "caf\u00e9", "cafe\u0301", "na\u00efve",
        "\u00c5ngstr\u00f6m", "Stra\u00dfe", "\u0130stanbul", "I\u0307", "\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3",
        "\u03bf\u03b4\u03bf\u03a3", "\u0391\u03b8\u03ae\u03bd\u03b1", "\u041c\u043e\u0441\u043a\u0432\u0430",
        "\u6771\u4eac\u30bf\u30ef\u30fc", "\u4e00\u4e2a\u732b", "\ud55c\uad6d\uc5b4", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
        "\u0939\u093f\u0928\u094d\u0926\u0940", "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22", "\U0001f697\U0001f4a8",
        "\U0001f469\u200d\U0001f469\u200d\U0001f467", "\U0001f44d\U0001f3fd", "\u2764\ufe0f", "\U0001f1e9\U0001f1ea",
        "\ufb01ne ligature", "\uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48", "\u2460\u2461\u2462",
        "\u00bd \u00bc", "\u2162 roman", "\u0660\u0661\u0662", "x\u00b2", "\u212b", "\u2126",
        "<|endoftext|>", "a <|endoftext|> b", "<|startoftext|>hello", "<|ENDOFTEXT|>",
        "<|endoftext", "it\u2019s", "it'\u017f", "\ufffd replacement", "e\u0301\u0301", "\u1e9b\u0323",
        " ".join(["word"] * 100),
        " ".join(CAPTIONS),
        "x" * 300,
        "a" * 1 + "b" * 40 + "c" * 3,
        "\U0001f600" * 50,
        "1234567890" * 10,
    ]
    rng = random.Random(17)
    alphabet = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                + list(" .,;:!?'\"-()[]/\\&*") + ["\u00e9", "\u00df", "\u03a3", "\u6771", "\U0001f697",
                                                  "\u200b", "\t", "\u00a0", "\u0301"])
    words = " ".join(CAPTIONS).split()
    generated = []
    for i in range(80):
        n = rng.randint(1, 12)
        generated.append(" ".join(rng.choice(words) for _ in range(n)))
    for i in range(60):
        n = rng.randint(1, 30)
        generated.append("".join(rng.choice(alphabet) for _ in range(n)))
    return fixed + generated


def main():
    os.makedirs(os.path.join(OUT, "clip"), exist_ok=True)
    words = []
    for c in CAPTIONS * 3:
        words += ref.pieces(c)
    vocab, merges = ref.train(words, 400)
    with open(os.path.join(OUT, "clip", "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(OUT, "clip", "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    tok = ref.ClipBpe(os.path.join(OUT, "clip", "vocab.json"), os.path.join(OUT, "clip", "merges.txt"))
    cases = [{"text": t, "ids": tok.encode(t)} for t in test_strings()]
    with open(os.path.join(OUT, "clip_token_cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=True, indent=0)
    print(f"{len(vocab)} tokens, {len(merges)} merges, {len(cases)} cases")
    write_siglip(test_strings())
    write_gemma(test_strings())


def train_sentencepiece(corpus, model_file, **options):
    """Trains a SentencePiece model on `corpus` (one line per text, white space collapsed) with
    `options` (the layout of the model it stands for) and writes it to `model_file`."""
    import sentencepiece as spm
    import tempfile

    os.makedirs(os.path.dirname(model_file), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        text = os.path.join(tmp, "corpus.txt")
        with open(text, "w", encoding="utf-8") as f:
            for line in corpus:
                f.write(" ".join(line.split()) + "\n")
        spm.SentencePieceTrainer.train(
            input=text, model_prefix=os.path.join(tmp, "model"), character_coverage=1.0,
            num_threads=1, hard_vocab_limit=False, minloglevel=2, **options)
        with open(os.path.join(tmp, "model.model"), "rb") as f:
            model = f.read()
    with open(model_file, "wb") as f:
        f.write(model)


def write_siglip(strings):
    """A SentencePiece Unigram model in the layout of SigLIP's spiece.model (T5's c4_en
    vocabulary: <pad> 0, </s> 1, <unk> 2, no <s>; nmt_nfkc normalisation), trained here."""
    train_sentencepiece(CAPTIONS * 4 + [s for s in strings if s.strip()],
                        os.path.join(OUT, "siglip", "spiece.model"), vocab_size=300,
                        model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                        pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
                        normalization_rule_name="nmt_nfkc")
    tok = siglip_ref.SiglipSpm(os.path.join(OUT, "siglip", "spiece.model"))
    extra = ["</s>", "a</s>b", "x </s> y", "<unk>", "</S> upper", "\u2581already", "\u2581 \u2581",
             "end</s>", "</s></s>", "<unk>start"]
    cases = [{"text": t, "ids": tok.encode(t)} for t in strings + extra]
    with open(os.path.join(OUT, "siglip_token_cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=True, indent=0)
    print(f"siglip: {tok.sp.get_piece_size()} pieces, <unk> is {tok.unk_length} pieces, "
          f"{len(cases)} cases")


def write_gemma(strings):
    """A SentencePiece BPE model in the layout of Gemma's tokenizer.model (SigLIP2's): <pad> 0,
    <eos> 1, <bos> 2, <unk> 3, byte fallback, digits split, no dummy prefix, white space kept
    as it is, identity normalisation; trained here."""
    train_sentencepiece(CAPTIONS * 4 + [s.lower() for s in strings if s.strip()],
                        os.path.join(OUT, "gemma", "tokenizer.model"), vocab_size=700,
                        model_type="bpe", pad_id=0, eos_id=1, bos_id=2, unk_id=3,
                        pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>",
                        unk_piece="<unk>", byte_fallback=True, split_digits=True,
                        add_dummy_prefix=False, remove_extra_whitespaces=False,
                        normalization_rule_name="identity")
    tok = gemma_ref.GemmaSpm(os.path.join(OUT, "gemma", "tokenizer.model"))
    cases = [{"text": t, "ids": tok.encode(t)} for t in strings]
    with open(os.path.join(OUT, "gemma_token_cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=True, indent=0)
    print(f"gemma: {tok.sp.get_piece_size()} pieces, {len(cases)} cases")


if __name__ == "__main__":
    main()
