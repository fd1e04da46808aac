"""A PyTorch replica of dpfl's federated round loop without privacy, for cheap exploration
(docs/federated-learning-diagnosis.md); final numbers come from dpfl itself.

Same data (an export of `dpfl export-task`), model (centralised_reference.py: first k
MiniLM blocks, PEFT LoRA on query and value, dpfl's centred head input, no dropout) and loop
as dpfl's FederatedTrainer without privacy:
  each round t: Poisson-sample clients with q = cohort / clients (numpy, seeded by (seed, t));
  each sampled client starts from the global trainables and runs --local-epochs epochs of
  plain SGD (--local-lr) on shuffled mini-batches of --local-batch of the mean loss;
  its update (local − global) is summed; the sum divided by the fixed --cohort is the mean
  update, whose negative the server optimiser (sgd, momentum 0.9, or adam β 0.9/0.999,
  ε 1e-8 with bias correction, as dpfl's Optimizer) takes as its gradient at --server-lr.
Variants it adds for the diagnosis:
  --method head          only the head trains (no adapters);
  --head-start public    the head starts from a logistic regression (C = --public-c) fitted
                         on the public split's embeddings (public data: no privacy cost);
  --adapter-lr-scale k   the adapters' local learning rate is k·--local-lr (the head keeps
                         --local-lr);
  --local-optimizer adam local Adam (fresh state each round) instead of SGD.
Accuracy on the exported evaluation set every --eval-every rounds; JSON lines on --out.
"""
import argparse
import json
import math
import pathlib
import sys
import time

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import centralised_reference as reference  # noqa: E402


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Model(torch.nn.Module):
    def __init__(self, encoder, classes, args, center):
        super().__init__()
        base = encoder.model()
        for parameter in base.parameters():
            parameter.requires_grad_(False)
        self.encoder = base if args.method == "head" else get_peft_model(base, LoraConfig(
            r=args.rank, lora_alpha=args.alpha, target_modules=["query", "value"],
            lora_dropout=0.0))
        self.head = torch.nn.Linear(reference.WIDTH, classes)
        self.center = center

    def forward(self, ids, mask):
        return self.head(reference.head_input(reference.pooled(self.encoder, ids, mask), self.center))

    def trainables(self):
        return {name: p for name, p in self.named_parameters() if p.requires_grad}


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, type=pathlib.Path)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--method", choices=["lora", "head"], default="lora")
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--cohort", type=int, default=20)
    parser.add_argument("--local-epochs", type=int, default=1)
    parser.add_argument("--local-batch", type=int, default=8)
    parser.add_argument("--local-lr", type=float, default=0.03)
    parser.add_argument("--local-optimizer", choices=["sgd", "adam"], default="sgd")
    parser.add_argument("--adapter-lr-scale", type=float, default=1.0)
    parser.add_argument("--server-optimizer", choices=["sgd", "momentum", "adam"], default="sgd")
    parser.add_argument("--server-lr", type=float, default=1.0)
    parser.add_argument("--head-start", choices=["fresh", "public"], default="fresh")
    parser.add_argument("--public-c", type=float, default=0.01)
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    start = time.time()

    texts, labels, users = reference.read_jsonl(args.data / "train.jsonl")
    eval_texts, eval_labels, _ = reference.read_jsonl(args.data / "evaluation.jsonl")
    public_texts, public_labels, _ = reference.read_jsonl(args.data / "public.jsonl")
    encoder = reference.Encoder(args.layers, args.max_length)
    rows, eval_rows = encoder.ids(texts), encoder.ids(eval_texts)
    clients = {}
    for index, user in enumerate(users):
        clients.setdefault(user, []).append(index)
    clients = list(clients.values())
    classes = int(max(labels.max(), eval_labels.max()) + 1)
    frozen = encoder.model()
    public = reference.embed(frozen, encoder.ids(public_texts))
    center = (public / public.norm(dim=1, keepdim=True)).mean(0)
    model = Model(encoder, classes, args, center)
    if args.head_start == "public":
        fitted = LogisticRegression(C=args.public_c, max_iter=5000).fit(
            reference.head_input(public, center).numpy(), public_labels)
        with torch.no_grad():
            model.head.weight.copy_(torch.tensor(fitted.coef_, dtype=torch.float32))
            model.head.bias.copy_(torch.tensor(fitted.intercept_, dtype=torch.float32))
    trainables = model.trainables()
    names = list(trainables)
    server_parameters = [trainables[n] for n in names]
    if args.server_optimizer == "sgd":
        server = torch.optim.SGD(server_parameters, lr=args.server_lr)
    elif args.server_optimizer == "momentum":
        server = torch.optim.SGD(server_parameters, lr=args.server_lr, momentum=0.9)
    else:
        server = torch.optim.Adam(server_parameters, lr=args.server_lr, betas=(0.9, 0.999), eps=1e-8)

    def evaluate():
        with torch.no_grad():
            correct = 0
            for indices in reference.length_batches(eval_rows, 128):
                ids, mask = reference.Encoder.batch([eval_rows[i] for i in indices])
                correct += int((model(ids, mask).argmax(1).numpy() == eval_labels[indices]).sum())
        return correct / len(eval_rows)

    curve = [(0, evaluate())]
    log(f"{args.name}: {len(clients)} clients; before {curve[-1][1]:.4f}")
    q = args.cohort / len(clients)
    for t in range(args.rounds):
        generator = np.random.default_rng([args.seed, t])
        cohort = [c for c in range(len(clients)) if generator.random() < q]
        global_values = {n: p.detach().clone() for n, p in trainables.items()}
        total = {n: torch.zeros_like(p) for n, p in trainables.items()}
        loss_sum, example_count = 0.0, 0
        for client in cohort:
            with torch.no_grad():
                for n, p in trainables.items():
                    p.copy_(global_values[n])
            groups = [{"params": [p for n, p in trainables.items() if not n.startswith("head.")],
                       "lr": args.local_lr * args.adapter_lr_scale},
                      {"params": [p for n, p in trainables.items() if n.startswith("head.")],
                       "lr": args.local_lr}]
            groups = [g for g in groups if g["params"]]
            local = (torch.optim.SGD(groups) if args.local_optimizer == "sgd"
                     else torch.optim.Adam(groups))
            examples = clients[client]
            for _ in range(args.local_epochs):
                order = generator.permutation(len(examples))
                for begin in range(0, len(examples), args.local_batch):
                    batch = [examples[i] for i in order[begin:begin + args.local_batch]]
                    ids, mask = reference.Encoder.batch([rows[i] for i in batch])
                    loss = torch.nn.functional.cross_entropy(model(ids, mask), torch.tensor(labels[batch]))
                    local.zero_grad()
                    loss.backward()
                    local.step()
                    loss_sum += float(loss.detach()) * len(batch)
                    example_count += len(batch)
            with torch.no_grad():
                for n, p in trainables.items():
                    total[n] += p - global_values[n]
        with torch.no_grad():
            for n, p in trainables.items():
                p.copy_(global_values[n])
                p.grad = -total[n] / args.cohort
        server.step()
        server.zero_grad()
        if (t + 1) % args.eval_every == 0 or t + 1 == args.rounds:
            curve.append((t + 1, evaluate()))
            norms = {}
            for n, p in trainables.items():
                key = "lora_A" if "lora_A" in n else "lora_B" if "lora_B" in n else n
                norms[key] = norms.get(key, 0.0) + float(p.detach().pow(2).sum())
            log(f"{args.name} round {t + 1}: accuracy {curve[-1][1]:.4f}, local loss "
                f"{loss_sum / max(1, example_count):.4f}, norms "
                + ", ".join(f"{k} {math.sqrt(v):.3f}" for k, v in norms.items())
                + f" ({time.time() - start:.0f} s)")
    record = {"name": args.name, "settings": {k: str(v) for k, v in vars(args).items()},
              "curve": curve, "accuracy": curve[-1][1], "seconds": time.time() - start,
              "norms": {k: math.sqrt(v) for k, v in norms.items()}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a") as handle:
        handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
