"""How far one SGD step moves each kind of trainable parameter of dpfl's text classifier,
against the step Adam would take: the measurement behind docs/federated-learning-diagnosis.md.

On --examples random training examples of an exported task (dpfl export-task), with the
model of centralised_reference.py (first --layers MiniLM blocks, LoRA r 8 on query and
value with lora_alpha --alpha, B = 0, dpfl's centred head input), it computes the gradient
of the mean cross-entropy and prints, per parameter kind (head weight, head bias, LoRA A,
LoRA B), the root mean square of its coordinates, at two head states:
  fresh     the head at PyTorch's default initialisation (dpfl's fresh head);
  fitted    the head replaced by a multinomial logistic regression fitted on the frozen
            embeddings of the same examples (a warm-started head).
Plain SGD moves a coordinate by lr·|g|; Adam by about lr_adam whatever |g| is. The ratio
of the kinds' RMS gradients is how much slower SGD moves LoRA than the head.

  Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/gradient_scales.py \\
      --data runs/export/shakespeare-genre --out Scripts/crosscheck/results/gradient-scales.json
"""
import argparse
import json
import math
import pathlib
import sys

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import centralised_reference as reference  # noqa: E402


def kind(name):
    if "lora_A" in name:
        return "lora_A"
    if "lora_B" in name:
        return "lora_B"
    return name


def gradient_rms(model, head, rows, labels, center, batch_size=64):
    model.zero_grad()
    head.zero_grad()
    total = len(rows)
    for start in range(0, total, batch_size):
        indices = list(range(start, min(start + batch_size, total)))
        ids, mask = reference.Encoder.batch([rows[i] for i in indices])
        logits = head(reference.head_input(reference.pooled(model, ids, mask), center))
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels[indices]),
                                                 reduction="sum") / total
        loss.backward()
    sums, counts = {}, {}
    named = [(kind(n), p) for n, p in model.named_parameters() if p.requires_grad]
    named += [("head_weight", head.weight), ("head_bias", head.bias)]
    for name, parameter in named:
        sums[name] = sums.get(name, 0.0) + float(parameter.grad.pow(2).sum())
        counts[name] = counts.get(name, 0) + parameter.numel()
    return {name: math.sqrt(sums[name] / counts[name]) for name in sums}


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, type=pathlib.Path)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--alpha", type=float, nargs="+", default=[2.0, 16.0])
    parser.add_argument("--examples", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    texts, labels, _ = reference.read_jsonl(args.data / "train.jsonl")
    public, _, _ = reference.read_jsonl(args.data / "public.jsonl")
    keep = np.random.default_rng(args.seed).permutation(len(texts))[: args.examples]
    encoder = reference.Encoder(args.layers, args.max_length)
    rows = encoder.ids([texts[i] for i in keep])
    labels = labels[keep]
    frozen = encoder.model()
    public_embeddings = reference.embed(frozen, encoder.ids(public))
    center = (public_embeddings / public_embeddings.norm(dim=1, keepdim=True)).mean(0)
    features = reference.head_input(reference.embed(frozen, rows), center)
    classes = int(labels.max() + 1)
    fitted = LogisticRegression(C=1.0, max_iter=5000).fit(features.numpy(), labels)
    result = {"command": "Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/gradient_scales.py "
                         + " ".join(argv), "settings": {k: str(v) for k, v in vars(args).items()},
              "rms": {}}
    for alpha in args.alpha:
        model = get_peft_model(encoder.model(), LoraConfig(
            r=8, lora_alpha=alpha, target_modules=["query", "value"], lora_dropout=0.0))
        for state in ("fresh", "fitted"):
            torch.manual_seed(args.seed)
            head = torch.nn.Linear(reference.WIDTH, classes)
            if state == "fitted":
                with torch.no_grad():
                    head.weight.copy_(torch.tensor(fitted.coef_, dtype=torch.float32))
                    head.bias.copy_(torch.tensor(fitted.intercept_, dtype=torch.float32))
            rms = gradient_rms(model, head, rows, labels, center)
            result["rms"][f"alpha={alpha:g} {state}"] = rms
            print(f"alpha {alpha:g} {state}: " + ", ".join(f"{k} {v:.3g}" for k, v in rms.items())
                  + f"; head weight / lora_B {rms['head_weight'] / rms['lora_B']:.3g}",
                  file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
