"""Checks that a LoRA adapter directory written by dpfl loads in Hugging Face PEFT.

Loads the adapter (adapter_model.safetensors + adapter_config.json) onto all-MiniLM-L6-v2
(.cache/assets/all-MiniLM-L6-v2, made by Scripts/fetch-assets; transformers BertModel, no
pooler) with peft.PeftModel.from_pretrained(base, adapter_dir) -- the way a PEFT user would --
and prints one JSON object:

  {"loaded": true,
   "missing_keys": [...],      adapter parameters the model expects but the file lacks
   "unexpected_keys": [...],   tensors in the file that match no adapter parameter
   "warnings": [...],          what PEFT warned while loading
   "adapter_config": {...},    adapter_config.json as read
   "adapter_tensors": {name: {"dtype": ..., "shape": [...]}},
   "text": ..., "input_ids": [...],
   "mean_pooled": [...]}       mean over tokens of the adapted model's last hidden state for
                               `text` (computed in float64, full repr; no padding)

or {"loaded": false, "error": ...}. Exit status: 0 when loaded with no missing or unexpected
keys, 1 when loading failed, 2 when it loaded with missing or unexpected keys.
(The missing and unexpected keys come from PeftModel.load_adapter, called a second time on the
already loaded adapter, which reloads the same weights and returns the load result that
from_pretrained drops.)

  Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/peft_load_check.py ADAPTER_DIR ["sentence"]

With --write-sample DIR it instead writes a sample adapter made by PEFT itself (LoraConfig r=4,
lora_alpha=8, target_modules query and value, lora_B random non-zero, seeded) with
save_pretrained, to show the layout a writer must produce:

  Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/peft_load_check.py --write-sample /tmp/peft_sample
"""
import argparse
import json
import pathlib
import sys
import warnings

import peft
import torch
import transformers
from safetensors import safe_open
from tokenizers import BertWordPieceTokenizer
from transformers import BertModel

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / ".cache/assets/all-MiniLM-L6-v2"
TEXT = "Federated learning with differential privacy keeps each person's data on their phone."
MAX_LENGTH = 128
SEED = 20261122


def base_model(model_dir):
    return BertModel.from_pretrained(model_dir, add_pooling_layer=False,
                                     attn_implementation="eager", dtype=torch.float32)


def write_sample(model_dir, out):
    torch.manual_seed(SEED)
    model = peft.get_peft_model(base_model(model_dir), peft.LoraConfig(
        r=4, lora_alpha=8, target_modules=["query", "value"], lora_dropout=0.0))
    with torch.no_grad():
        for name, parameter in sorted(model.named_parameters()):
            if ".lora_B." in name:
                parameter.copy_(0.05 * torch.randn_like(parameter))
    model.save_pretrained(out)
    print(f"wrote {out}: " + ", ".join(sorted(p.name for p in pathlib.Path(out).iterdir())))


def check(model_dir, adapter_dir, text):
    adapter_dir = pathlib.Path(adapter_dir)
    document = {"loaded": False}
    try:
        with open(adapter_dir / "adapter_config.json", encoding="utf-8") as file:
            document["adapter_config"] = json.load(file)
        with safe_open(adapter_dir / "adapter_model.safetensors", "pt") as file:
            document["adapter_tensors"] = {
                name: {"dtype": file.get_slice(name).get_dtype(),
                       "shape": file.get_slice(name).get_shape()}
                for name in sorted(file.keys())}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = peft.PeftModel.from_pretrained(base_model(model_dir), adapter_dir)
            result = model.load_adapter(adapter_dir, adapter_name="default")
    except Exception as error:  # noqa: BLE001 -- reported as JSON
        document["error"] = f"{type(error).__name__}: {error}"
        return document, 1
    document.update({
        "loaded": True,
        "missing_keys": sorted(result.missing_keys),
        "unexpected_keys": sorted(result.unexpected_keys),
        "warnings": sorted({str(w.message) for w in caught
                            if not issubclass(w.category, (DeprecationWarning, FutureWarning))}),
    })

    tokenizer = BertWordPieceTokenizer(str(model_dir / "vocab.txt"), lowercase=True)
    tokenizer.enable_truncation(max_length=MAX_LENGTH)
    ids = tokenizer.encode(text).ids
    model = model.double().eval()
    with torch.no_grad():
        hidden = model(input_ids=torch.tensor([ids]),
                       attention_mask=torch.ones(1, len(ids), dtype=torch.int64),
                       token_type_ids=torch.zeros(1, len(ids), dtype=torch.int64)).last_hidden_state
    document.update({"text": text, "input_ids": ids, "mean_pooled": hidden[0].mean(dim=0).tolist()})
    document["source"] = (f"peft {peft.__version__} PeftModel.from_pretrained on transformers "
                          f"{transformers.__version__} BertModel (all-MiniLM-L6-v2), float64; "
                          f"torch {torch.__version__}")
    status = 2 if document["missing_keys"] or document["unexpected_keys"] else 0
    return document, status


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("adapter_dir", nargs="?")
    parser.add_argument("text", nargs="?", default=TEXT)
    parser.add_argument("--model", type=pathlib.Path, default=MODEL)
    parser.add_argument("--write-sample", metavar="DIR")
    args = parser.parse_args()
    if not (args.model / "model.safetensors").exists():
        sys.exit(f"{args.model} is missing: run Scripts/fetch-assets first")
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=FutureWarning)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    if args.write_sample:
        return write_sample(args.model, args.write_sample)
    if not args.adapter_dir:
        parser.error("ADAPTER_DIR is required (or --write-sample DIR)")
    document, status = check(args.model, args.adapter_dir, args.text)
    print(json.dumps(document, ensure_ascii=False, indent=1))
    sys.exit(status)


if __name__ == "__main__":
    main()
