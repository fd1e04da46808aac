"""Reference mean-pooled embeddings of the real all-MiniLM-L6-v2, for dpfl's encoder tests.

Loads .cache/assets/all-MiniLM-L6-v2 (made by Scripts/fetch-assets) with Hugging Face
`transformers` BertModel (float32 weights, no pooler, attn_implementation="eager") and runs it
in float64 (model.double(), eval mode). Each sentence is tokenized alone -- no padding, token
types all 0, attention mask all 1 -- with `tokenizers`' BertWordPieceTokenizer(vocab,
lowercase=True) truncated to 128 tokens ([CLS]/[SEP] included), as in tokenizer_reference.py.
It writes

  Tests/DPModelTests/Fixtures/minilm_reference.json   per sentence: text, input_ids and
                                                       mean_pooled (the mean over all tokens of
                                                       the last hidden state, 384 numbers); for
                                                       the first 3 sentences also
                                                       mean_pooled_2_layers (the same after only
                                                       the first 2 of the 6 layers). Numbers are
                                                       rounded to 7 significant digits.

sentence-transformers defines all-MiniLM-L6-v2's sentence embedding as this mean pooling
(masked mean over tokens of the last hidden state, modules.json: Transformer -> Pooling
(pooling_mode_mean_tokens) -> Normalize) followed by L2 normalisation; the normalisation is
left to the Swift side and is not stored here. (sentence-transformers itself is not installed;
its Pooling module computes sum(h * mask) / max(sum(mask), 1e-9), which without padding is the
plain mean.) Run:

  Scripts/fetch-assets && Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/minilm_reference.py
"""
import json
import pathlib
import sys

import tokenizers
import torch
import transformers
from tokenizers import BertWordPieceTokenizer
from transformers import BertModel

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / ".cache/assets/all-MiniLM-L6-v2"
FIXTURES = ROOT / "Tests/DPModelTests/Fixtures"
COMMAND = (
    "Scripts/fetch-assets && Scripts/crosscheck/.venv/bin/python "
    "Scripts/crosscheck/minilm_reference.py"
)
MAX_LENGTH = 128
SHORT_LAYERS = 2
SHORT_SENTENCES = 3
DIGITS = 7

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Differential privacy bounds how much one person's data can change the output.",
    "Hello!",
    "a",
    "Federated learning trains a shared model on many phones without collecting their raw data.",
    "I love this phone, the battery lasts all day.",
    "The battery on this phone is terrible and it dies by noon.",
    "What time does the train to Zürich leave tomorrow morning?",
    "Gradient clipping limits each example's contribution before Gaussian noise is added.",
    "The 2024 Olympic Games were held in Paris, France.",
    "Don't count your chickens before they hatch.",
    "Stock markets fell sharply after the central bank raised interest rates by 0.5%.",
    "A cat sat on the mat.",
    "The cat is sitting on a mat.",
    # Truncated at 128 tokens.
    " ".join([
        "In the beginning of the project the team collected thousands of short messages,",
        "cleaned them, removed duplicates, and split them into training and test sets;",
        "then they fine-tuned a small sentence encoder with low-rank adapters while",
        "clipping every per-example gradient and adding calibrated Gaussian noise, so that",
        "the final model satisfied a formal differential privacy guarantee.",
    ] * 3),
]


def rounded(values):
    return [float(f"{value:.{DIGITS}g}") for value in values]


def mean_pooled(model, ids):
    with torch.no_grad():
        hidden = model(input_ids=torch.tensor([ids]),
                       attention_mask=torch.ones(1, len(ids), dtype=torch.int64),
                       token_type_ids=torch.zeros(1, len(ids), dtype=torch.int64)).last_hidden_state
    return rounded(hidden[0].mean(dim=0).tolist())


def main():
    model_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else MODEL
    if not (model_dir / "model.safetensors").exists():
        sys.exit(f"{model_dir} is missing: run Scripts/fetch-assets first")
    torch.set_num_threads(1)
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()

    tokenizer = BertWordPieceTokenizer(str(model_dir / "vocab.txt"), lowercase=True)
    tokenizer.enable_truncation(max_length=MAX_LENGTH)
    model, info = BertModel.from_pretrained(
        model_dir, add_pooling_layer=False, attn_implementation="eager",
        dtype=torch.float32, output_loading_info=True)
    unexpected = [key for key in info["unexpected_keys"] if not key.startswith("pooler.")]
    if info["missing_keys"] or unexpected or info["mismatched_keys"]:
        sys.exit(f"{model_dir} does not load cleanly: {info}")
    model = model.double().eval()
    layers = model.encoder.layer

    cases = []
    for index, text in enumerate(SENTENCES):
        ids = tokenizer.encode(text).ids
        model.encoder.layer = layers
        case = {"text": text, "input_ids": ids, "mean_pooled": mean_pooled(model, ids)}
        if index < SHORT_SENTENCES:
            model.encoder.layer = layers[:SHORT_LAYERS]
            case["mean_pooled_2_layers"] = mean_pooled(model, ids)
        cases.append(case)
    if max(len(case["input_ids"]) for case in cases) != MAX_LENGTH:
        sys.exit("the long sentence must be truncated at 128 tokens")

    document = {
        "source": (f"transformers {transformers.__version__} BertModel(add_pooling_layer=False, "
                   f"attn_implementation='eager') on all-MiniLM-L6-v2 (float32 weights), "
                   f"float64, eval mode; torch {torch.__version__}; tokenizers "
                   f"{tokenizers.__version__} BertWordPieceTokenizer(vocab, lowercase=True)"),
        "command": COMMAND,
        "max_length": MAX_LENGTH,
        "significant_digits": DIGITS,
        "pooling": "mean over all tokens of last_hidden_state (no padding; token types 0)",
        "cases": cases,
    }
    out = FIXTURES / "minilm_reference.json"
    out.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}: {len(cases)} sentences")


if __name__ == "__main__":
    main()
