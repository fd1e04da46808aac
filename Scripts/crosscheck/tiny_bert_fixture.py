"""A tiny random BERT and its reference outputs, for dpfl's BERT encoder tests.

Builds a Hugging Face `transformers` BertModel (no pooler) with vocabulary 64, hidden size 32,
2 layers, 4 heads, intermediate size 64, 40 positions, 2 token types, LayerNorm eps 1e-12 and
exact (erf) GELU. Its weights are random and seeded (torch.manual_seed(20261122)): every
Linear and Embedding weight and bias is N(0, 0.2^2) -- ten times BERT's initializer range, so
that a wrong transpose, bias or scale shows -- and every LayerNorm has weight 1 + 0.1 N(0, 1)
and bias 0.1 N(0, 1). It writes

  Tests/DPModelTests/Fixtures/tiny_bert/model.safetensors   float32 weights with exactly the
                                                             tensor names of all-MiniLM-L6-v2's
                                                             model.safetensors (pooler excepted),
                                                             embeddings.position_ids as I64 [1, 40],
                                                             metadata {"format": "pt"}
  Tests/DPModelTests/Fixtures/tiny_bert/config.json         the model's Hugging Face config
  Tests/DPModelTests/Fixtures/tiny_bert_reference.json      3 sequences of 10 tokens (masks with
                                                             0, 3 and 6 trailing padding positions;
                                                             token types 0 except in sequence 1)
                                                             and, for the full model and for its
                                                             first layer alone, last_hidden_state
                                                             (3 x 10 x 32, row-major, padding
                                                             positions included) and mean_pooled
                                                             (3 x 32, mask-weighted mean)

The reference model is reloaded from the written files with BertModel.from_pretrained (which
must report no missing or unexpected keys) and run in float64 (model.double(), eval mode,
attn_implementation="eager"); numbers are written with their full float64 repr. Run:

  Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/tiny_bert_fixture.py
"""
import json
import pathlib
import tempfile

import safetensors
import torch
import transformers
from safetensors.torch import save_file
from transformers import BertConfig, BertModel

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests/DPModelTests/Fixtures"
MODEL_DIR = FIXTURES / "tiny_bert"
COMMAND = "Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/tiny_bert_fixture.py"
SEED = 20261122
WEIGHT_STD = 0.2

CONFIG = dict(
    vocab_size=64,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    max_position_embeddings=40,
    type_vocab_size=2,
    initializer_range=0.02,
    layer_norm_eps=1e-12,
    pad_token_id=0,
)

SEQUENCE_LENGTH = 10
PADDING = [0, 3, 6]  # trailing padding positions of sequences 1, 2 and 3
# Token types of sequence 1 (a sentence pair: 4 tokens of type 0, then 6 of type 1).
TOKEN_TYPES_1 = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]


def randomize(model):
    """Overwrites every parameter, in name order, from the global (seeded) generator."""
    for name, parameter in sorted(model.named_parameters()):
        with torch.no_grad():
            if ".LayerNorm." in name and name.endswith(".weight"):
                parameter.copy_(1 + 0.1 * torch.randn_like(parameter))
            elif ".LayerNorm." in name:
                parameter.copy_(0.1 * torch.randn_like(parameter))
            else:
                parameter.copy_(WEIGHT_STD * torch.randn_like(parameter))


def inputs():
    """Token ids in [1, 64) (0 = [PAD] at padding positions), attention masks, token types."""
    ids = torch.randint(1, CONFIG["vocab_size"], (len(PADDING), SEQUENCE_LENGTH), dtype=torch.int64)
    mask = torch.ones_like(ids)
    for row, padding in enumerate(PADDING):
        if padding:
            mask[row, SEQUENCE_LENGTH - padding:] = 0
    ids = ids * mask
    types = torch.zeros_like(ids)
    types[0] = torch.tensor(TOKEN_TYPES_1)
    return ids, mask, types


def save(model):
    """model.safetensors with MiniLM's tensor names (no pooler) plus position_ids, and config.json."""
    tensors = {name: tensor.detach().to(torch.float32).contiguous()
               for name, tensor in model.state_dict().items()
               if name != "embeddings.position_ids" and name != "embeddings.token_type_ids"}
    tensors["embeddings.position_ids"] = torch.arange(
        CONFIG["max_position_embeddings"], dtype=torch.int64).unsqueeze(0)
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    save_file(tensors, MODEL_DIR / "model.safetensors", metadata={"format": "pt"})
    model.config.to_json_file(MODEL_DIR / "config.json", use_diff=True)
    return sorted(tensors)


def run(model, ids, mask, types, layers):
    model.encoder.layer = model.encoder.layer[:layers]
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    weights = mask.to(torch.float64).unsqueeze(-1)
    pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1)
    return {
        "layers": layers,
        "input_ids": ids.tolist(),
        "attention_mask": mask.tolist(),
        "token_type_ids": types.tolist(),
        "last_hidden_state": hidden.reshape(-1).tolist(),
        "mean_pooled": pooled.reshape(-1).tolist(),
    }


def load():
    model, info = BertModel.from_pretrained(
        MODEL_DIR, add_pooling_layer=False, attn_implementation="eager", output_loading_info=True)
    problems = {key: value for key, value in info.items() if value}
    if problems:
        raise SystemExit(f"{MODEL_DIR} does not load cleanly: {problems}")
    return model.double().eval()


def main():
    torch.set_num_threads(1)
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    torch.manual_seed(SEED)
    config = BertConfig(**CONFIG)
    model = BertModel(config, add_pooling_layer=False)
    randomize(model)
    names = save(model)
    ids, mask, types = inputs()

    cases = [run(load(), ids, mask, types, layers) for layers in (CONFIG["num_hidden_layers"], 1)]
    document = {
        "source": (f"transformers {transformers.__version__} BertModel(add_pooling_layer=False, "
                   f"attn_implementation='eager'), float64, eval mode; torch {torch.__version__}; "
                   f"safetensors {safetensors.__version__}"),
        "command": COMMAND,
        "model": "tiny_bert/model.safetensors",
        "seed": SEED,
        "config": CONFIG,
        "tensor_names": names,
        "shapes": {"last_hidden_state": [len(PADDING), SEQUENCE_LENGTH, CONFIG["hidden_size"]],
                   "mean_pooled": [len(PADDING), CONFIG["hidden_size"]]},
        "cases": cases,
    }
    out = FIXTURES / "tiny_bert_reference.json"
    out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    size = (MODEL_DIR / "model.safetensors").stat().st_size
    print(f"wrote {MODEL_DIR.relative_to(ROOT)}/model.safetensors ({len(names)} tensors, "
          f"{size} bytes), config.json and {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
