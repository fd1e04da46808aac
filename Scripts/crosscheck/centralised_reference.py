"""Centralised references for dpfl's text tasks: what the encoder can learn when the data
is pooled, on exactly the examples dpfl trains and scores.

Input: a folder written by `dpfl export-task --task TASK --seed S --out DIR` (train.jsonl,
evaluation.jsonl, public.jsonl: user_id, text, label). The model is dpfl's text
classifier rebuilt in PyTorch: all-MiniLM-L6-v2 (its first --layers blocks, from
.cache/assets/all-MiniLM-L6-v2, Hugging Face BertModel, float32), the texts tokenised by
`tokenizers`' BertWordPieceTokenizer(vocab, lowercase=True) cut to --max-length tokens,
mean pooling over real tokens, L2 normalisation to norm sqrt(384), minus sqrt(384)·c where
c is the mean unit-norm embedding of the public split (dpfl's `embeddingCenter`), and a
linear head. No dropout anywhere (dpfl's local training has none).

Experiments (--experiments, any of):
  probe   a linear probe on the frozen embeddings: scikit-learn LogisticRegression
          (lbfgs, multinomial) at C in --probe-c, on the head's input with and without the
          public centring (with an intercept, centring changes only the regularised fit).
  head    head-only training on the frozen embeddings (centred): AdamW (--lr-head, weight
          decay 0.01) for --head-epochs epochs, mini-batch --batch-size; the accuracy after
          each epoch.
  lora    centralised LoRA: PEFT LoraConfig(r=--rank, lora_alpha=--alpha, target_modules
          ["query", "value"], lora_dropout 0) on the encoder, the head trained with it,
          AdamW (--lr, weight decay 0.01) for --epochs epochs over the (optionally
          --train-fraction subsampled) training examples, mini-batch --batch-size; the
          accuracy after each epoch.
Each of head and lora runs once per --seeds value (head initialisation, LoRA A, shuffling).
--user-weighting weights each training example by 1/n_u (n_u its user's example count,
scaled to mean 1), so that every user counts the same: the objective of a federated loop
whose clients send their mean gradient with equal weight (dpfl's user-level loop).

Run (about 5 min per LoRA epoch at 2 blocks / 32 tokens on one core):

  .build/release/dpfl export-task --task shakespeare-genre --seed 0 --out runs/export/shakespeare-genre
  Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/centralised_reference.py \\
      --data runs/export/shakespeare-genre --layers 2 --max-length 32 \\
      --out Scripts/crosscheck/results/shakespeare-genre-2x32.json

Progress goes to stderr; the JSON (settings, command, versions, every seed's curve, mean and
std of the final accuracies) to --out.
"""
import argparse
import json
import math
import pathlib
import platform
import statistics
import sys
import time

import numpy as np
import peft
import sklearn
import tokenizers
import torch
import transformers
from peft import LoraConfig, get_peft_model
from sklearn.linear_model import LogisticRegression
from tokenizers import BertWordPieceTokenizer
from transformers import BertModel

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / ".cache/assets/all-MiniLM-L6-v2"
WIDTH = 384


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def read_jsonl(path):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["text"] for row in rows], np.array([int(row["label"]) for row in rows]), [
        str(row["user_id"]) for row in rows]


class Encoder:
    """Tokeniser and the first k blocks of MiniLM; batches padded to their longest row."""

    def __init__(self, layers, max_length):
        self.tokenizer = BertWordPieceTokenizer(str(MODEL / "vocab.txt"), lowercase=True)
        self.tokenizer.enable_truncation(max_length=max_length)
        self.layers = layers

    def model(self):
        model = BertModel.from_pretrained(
            MODEL, add_pooling_layer=False, attn_implementation="sdpa", dtype=torch.float32)
        model.encoder.layer = model.encoder.layer[: self.layers]
        model.config.num_hidden_layers = self.layers
        return model.eval()

    def ids(self, texts):
        return [encoding.ids for encoding in self.tokenizer.encode_batch(texts)]

    @staticmethod
    def batch(rows):
        length = max(len(row) for row in rows)
        ids = torch.zeros(len(rows), length, dtype=torch.int64)
        mask = torch.zeros(len(rows), length, dtype=torch.int64)
        for index, row in enumerate(rows):
            ids[index, : len(row)] = torch.tensor(row)
            mask[index, : len(row)] = 1
        return ids, mask


def pooled(model, ids, mask):
    hidden = model(input_ids=ids, attention_mask=mask,
                   token_type_ids=torch.zeros_like(ids)).last_hidden_state
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)


def head_input(embeddings, center):
    """dpfl's head input sqrt(width)·(u − c), u the unit-norm embedding."""
    unit = embeddings / embeddings.norm(dim=1, keepdim=True).clamp(min=1e-12)
    if center is not None:
        unit = unit - center
    return math.sqrt(WIDTH) * unit


def length_batches(rows, batch_size, generator=None):
    """Index batches of similar length (sorted, cut, then the batches shuffled if a
    generator is given), so that padding costs little."""
    order = sorted(range(len(rows)), key=lambda index: len(rows[index]))
    if generator is not None:
        # Shuffle within runs of 50 batches of similar length before cutting, so that
        # the batches differ between epochs.
        block = batch_size * 50
        shuffled = []
        for start in range(0, len(order), block):
            chunk = order[start:start + block]
            permutation = torch.randperm(len(chunk), generator=generator).tolist()
            shuffled += [chunk[index] for index in permutation]
        order = shuffled
    batches = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
    if generator is not None:
        permutation = torch.randperm(len(batches), generator=generator).tolist()
        batches = [batches[index] for index in permutation]
    return batches


@torch.no_grad()
def embed(model, rows, batch_size=64):
    output = torch.zeros(len(rows), WIDTH)
    for indices in length_batches(rows, batch_size):
        ids, mask = Encoder.batch([rows[index] for index in indices])
        output[indices] = pooled(model, ids, mask)
    return output


def accuracy(predictions, labels):
    return float((np.asarray(predictions) == labels).mean())


def user_weights(users):
    """1/n_u for each example of user u, scaled to mean 1."""
    counts = {}
    for user in users:
        counts[user] = counts.get(user, 0) + 1
    weights = np.array([1.0 / counts[user] for user in users])
    return weights * len(weights) / weights.sum()


def weighted_loss(logits, labels, weights):
    """Cross-entropy with per-example weights (mean over the batch; weights of mean 1 over
    the data make its expectation the weighted objective)."""
    losses = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    return (losses * weights).mean()


def probe(train_x, train_y, eval_x, eval_y, values_c, weights):
    results = {}
    for c in values_c:
        classifier = LogisticRegression(C=c, max_iter=5000)
        classifier.fit(train_x, train_y, sample_weight=weights)
        results[str(c)] = accuracy(classifier.predict(eval_x), eval_y)
    return results


def train_head(train_x, train_y, eval_x, eval_y, classes, seed, epochs, lr, batch_size,
               weights):
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    head = torch.nn.Linear(WIDTH, classes)
    optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.01)
    labels = torch.tensor(train_y)
    curve = []
    for _ in range(epochs):
        permutation = torch.randperm(len(train_x), generator=generator)
        for start in range(0, len(train_x), batch_size):
            batch = permutation[start:start + batch_size]
            loss = weighted_loss(head(train_x[batch]), labels[batch], weights[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            curve.append(accuracy(head(eval_x).argmax(1).numpy(), eval_y))
    return curve


def train_lora(encoder, train_rows, train_y, eval_rows, eval_y, center, classes, seed, args,
               weights):
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    base = encoder.model()
    config = LoraConfig(r=args.rank, lora_alpha=args.alpha, target_modules=["query", "value"],
                        lora_dropout=0.0, bias="none")
    model = get_peft_model(base, config)
    head = torch.nn.Linear(WIDTH, classes)
    parameters = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=args.lr, weight_decay=0.01)
    labels = torch.tensor(train_y)
    curve = []
    steps = 0
    for epoch in range(args.epochs):
        model.train()  # dropout is 0 in the LoRA layers; BERT's own dropout is disabled below
        model.eval()
        start = time.time()
        batches = length_batches(train_rows, args.batch_size, generator)
        total = 0.0
        for number, indices in enumerate(batches):
            ids, mask = Encoder.batch([train_rows[index] for index in indices])
            logits = head(head_input(pooled(model, ids, mask), center))
            loss = weighted_loss(logits, labels[indices], weights[indices])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
            total += float(loss) * len(indices)
            if (number + 1) % 100 == 0:
                log(f"  lora seed {seed} epoch {epoch + 1} batch {number + 1}/{len(batches)} "
                    f"loss {total / sum(len(b) for b in batches[:number + 1]):.4f} "
                    f"({time.time() - start:.0f} s)")
        with torch.no_grad():
            logits = head(head_input(embed(model, eval_rows), center))
        curve.append(accuracy(logits.argmax(1).numpy(), eval_y))
        b_norm = math.sqrt(sum(float(p.detach().pow(2).sum())
                               for n, p in model.named_parameters() if "lora_B" in n))
        log(f"lora seed {seed} epoch {epoch + 1}: accuracy {curve[-1]:.4f}, "
            f"loss {total / len(train_rows):.4f}, ‖B‖ {b_norm:.4f}, {time.time() - start:.0f} s")
    return curve, steps, b_norm


def summary(values):
    return {"mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": values}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, type=pathlib.Path)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--experiments", nargs="+", default=["probe", "head", "lora"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--probe-c", nargs="+", type=float, default=[0.01, 0.1, 1.0, 10.0])
    parser.add_argument("--head-epochs", type=int, default=20)
    parser.add_argument("--lr-head", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--train-fraction", type=float, default=1.0,
                        help="train LoRA on a seeded random share of the training examples")
    parser.add_argument("--user-weighting", action="store_true",
                        help="weight each example by 1/(its user's example count)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()

    train_texts, train_y, train_users = read_jsonl(args.data / "train.jsonl")
    eval_texts, eval_y, _ = read_jsonl(args.data / "evaluation.jsonl")
    public_texts, _, _ = read_jsonl(args.data / "public.jsonl") if (
        args.data / "public.jsonl").exists() else ([], None, None)
    classes = int(max(train_y.max(), eval_y.max()) + 1)
    encoder = Encoder(args.layers, args.max_length)
    train_rows, eval_rows = encoder.ids(train_texts), encoder.ids(eval_texts)
    public_rows = encoder.ids(public_texts) if public_texts else []
    majority = int(np.bincount(train_y).argmax())
    weights = user_weights(train_users) if args.user_weighting else np.ones(len(train_y))
    weights_tensor = torch.tensor(weights, dtype=torch.float32)
    result = {
        "source": (f"torch {torch.__version__}, transformers {transformers.__version__}, peft "
                   f"{peft.__version__}, tokenizers {tokenizers.__version__}, scikit-learn "
                   f"{sklearn.__version__}; {platform.platform()}"),
        "command": "Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/centralised_reference.py "
                   + " ".join(argv),
        "data": str(args.data), "settings": {k: (str(v) if isinstance(v, pathlib.Path) else v)
                                             for k, v in vars(args).items()},
        "counts": {"train": len(train_rows), "users": len(set(train_users)),
                   "evaluation": len(eval_rows), "public": len(public_rows), "classes": classes,
                   "train_tokens_mean": statistics.fmean(len(r) for r in train_rows),
                   "truncated_share": statistics.fmean(len(r) >= args.max_length for r in train_rows)},
        "majority_class_accuracy": accuracy(np.full(len(eval_y), majority), eval_y),
    }
    log(f"{result['counts']}; majority {result['majority_class_accuracy']:.4f}")

    center = None
    frozen = encoder.model()
    if public_rows:
        public = embed(frozen, public_rows)
        center = (public / public.norm(dim=1, keepdim=True)).mean(0)
    if "probe" in args.experiments or "head" in args.experiments:
        start = time.time()
        train_e, eval_e = embed(frozen, train_rows), embed(frozen, eval_rows)
        log(f"embedded {len(train_rows) + len(eval_rows)} texts in {time.time() - start:.0f} s")
        centred_train, centred_eval = head_input(train_e, center), head_input(eval_e, center)
        if "probe" in args.experiments:
            result["probe"] = {
                "centred": probe(centred_train.numpy(), train_y, centred_eval.numpy(), eval_y,
                                 args.probe_c, weights),
                "not_centred": probe(head_input(train_e, None).numpy(), train_y,
                                     head_input(eval_e, None).numpy(), eval_y, args.probe_c,
                                     weights),
            }
            log(f"probe: {result['probe']}")
        if "head" in args.experiments:
            curves = [train_head(centred_train, train_y, centred_eval, eval_y, classes, seed,
                                 args.head_epochs, args.lr_head, args.batch_size,
                                 weights_tensor)
                      for seed in args.seeds]
            result["head"] = {"curves": curves, "final": summary([c[-1] for c in curves])}
            log(f"head: {result['head']['final']}")
    if "lora" in args.experiments:
        rows, labels, row_weights = train_rows, train_y, weights_tensor
        runs = []
        for seed in args.seeds:
            if args.train_fraction < 1:
                keep = np.random.default_rng(seed).permutation(len(train_rows))[
                    : int(round(args.train_fraction * len(train_rows)))]
                rows, labels = [train_rows[i] for i in keep], train_y[keep]
                row_weights = weights_tensor[keep]
            start = time.time()
            curve, steps, b_norm = train_lora(encoder, rows, labels, eval_rows, eval_y, center,
                                              classes, seed, args, row_weights)
            runs.append({"seed": seed, "curve": curve, "steps": steps, "lora_B_norm": b_norm,
                         "seconds": time.time() - start, "examples": len(rows)})
            result["lora"] = {"runs": runs, "final": summary([r["curve"][-1] for r in runs]),
                              "best_epoch": summary([max(r["curve"]) for r in runs])}
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=1) + "\n")
        log(f"lora: {result['lora']['final']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
