"""PyTorch side of `Scripts/bench model`: LoRA and DP-LoRA training throughput on all-MiniLM-L6-v2.

For every (layers, seq) pair and each mode, a fresh subprocess (so that peak_rss_mb is that
configuration's own peak) builds:

  BertModel from .cache/assets/all-MiniLM-L6-v2 (float32, no pooler, dropout 0), cut to its
  first `layers` layers -> PEFT LoRA (r=8, lora_alpha=16, target_modules query and value,
  lora_dropout=0; everything else frozen) -> masked mean pooling -> Linear(384, 2) head
  (trainable)

and times training steps on random token ids (batch x seq, attention mask all 1, random binary
labels): forward, cross-entropy, backward, SGD step (lr 0.01).

  mode "lora"     plain torch.optim.SGD
  mode "dp-lora"  the same made private by Opacus PrivacyEngine.make_private(noise_multiplier
                  1.0, max_grad_norm 1.0, poisson_sampling=False), per-sample gradients by
                  grad_sample_mode "hooks" (falls back to "functorch" if hooks cannot handle
                  the model; the row says which ran)

examples_per_second = batch * steps / seconds of the `steps` timed steps (after `warmup`
untimed ones); peak_rss_mb = ru_maxrss / 1024 of that subprocess at its end. Both modes are
reported with impl "opacus" so the Swift side can pair them. Run (needs Scripts/fetch-assets):

  Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/bench_model.py \\
      --layers 6 2 --seq 32 128 --batch 16 --steps 20 --warmup 3 --threads 2 --format json
"""
import argparse
import json
import pathlib
import resource
import subprocess
import sys
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / ".cache/assets/all-MiniLM-L6-v2"
MODES = ("lora", "dp-lora")
SEED = 20261122


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, nargs="+", default=[6, 2])
    parser.add_argument("--seq", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--model", type=pathlib.Path, default=MODEL)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def build(args, layers):
    import peft
    import torch
    from torch import nn
    from transformers import BertModel

    bert = BertModel.from_pretrained(
        args.model, add_pooling_layer=False, dtype=torch.float32,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    bert.encoder.layer = bert.encoder.layer[:layers]
    bert.config.num_hidden_layers = layers
    bert = peft.get_peft_model(bert, peft.LoraConfig(
        r=8, lora_alpha=16, target_modules=["query", "value"], lora_dropout=0.0))

    class Classifier(nn.Module):
        """LoRA-adapted encoder, masked mean pooling, linear head."""

        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder
            self.head = nn.Linear(encoder.config.hidden_size, 2)

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return self.head(pooled)

    return Classifier(bert)


def child(args):
    """Runs one (mode, layers, seq) configuration and prints its row as JSON."""
    import opacus
    import peft
    import torch
    import transformers
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    warnings.filterwarnings("ignore")
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    layers, seq = args.layers[0], args.seq[0]
    model = build(args, layers)
    model.train()
    vocab = model.encoder.config.vocab_size
    count = args.batch * (args.warmup + args.steps)
    data = TensorDataset(torch.randint(0, vocab, (count, seq)),
                         torch.ones(count, seq, dtype=torch.int64),
                         torch.randint(0, 2, (count,)))
    loader = DataLoader(data, batch_size=args.batch, shuffle=False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(trainable, lr=0.01)
    grad_sample_mode = None
    if args.child == "dp-lora":
        failures = []
        for grad_sample_mode in ("hooks", "functorch"):
            try:
                engine = opacus.PrivacyEngine()
                private, private_optimizer, private_loader = engine.make_private(
                    module=model, optimizer=optimizer, data_loader=loader,
                    noise_multiplier=1.0, max_grad_norm=1.0, poisson_sampling=False,
                    grad_sample_mode=grad_sample_mode)
                step(private, private_optimizer, next(iter(private_loader)))  # probe
                model, optimizer, loader = private, private_optimizer, private_loader
                break
            except Exception as error:  # noqa: BLE001 -- try the next mode, report all if none
                failures.append(f"{grad_sample_mode}: {error!r}")
                model = build(args, layers)
                model.train()
                optimizer = torch.optim.SGD(
                    [p for p in model.parameters() if p.requires_grad], lr=0.01)
        else:
            raise SystemExit("Opacus could not wrap the model: " + "; ".join(failures))

    batches = iter(loader)
    for _ in range(args.warmup):
        step(model, optimizer, next(batches))
    start = time.perf_counter()
    for _ in range(args.steps):
        step(model, optimizer, next(batches))
    elapsed = time.perf_counter() - start

    row = {
        "impl": "opacus",
        "mode": args.child,
        "layers": layers,
        "seq": seq,
        "batch": args.batch,
        "examples_per_second": args.batch * args.steps / elapsed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "framework": (f"pytorch {torch.__version__.split('+')[0]} + peft {peft.__version__} "
                      f"+ opacus {opacus.__version__}"),
        "transformers": transformers.__version__,
        "attention": model_config(model)._attn_implementation,
        "grad_sample_mode": grad_sample_mode,
        "trainable_parameters": sum(p.numel() for p in trainable),
        "steps": args.steps,
        "warmup": args.warmup,
        "threads": args.threads,
    }
    print(json.dumps(row))


def model_config(model):
    inner = getattr(model, "_module", model)  # Opacus GradSampleModule wraps the module
    return inner.encoder.config


def step(model, optimizer, batch):
    import torch.nn.functional as F

    input_ids, attention_mask, labels = batch
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(input_ids, attention_mask), labels)
    loss.backward()
    optimizer.step()


def main(argv):
    args = parse(argv)
    if args.child:
        return child(args)
    if not (args.model / "model.safetensors").exists():
        sys.exit(f"{args.model} is missing: run Scripts/fetch-assets first")
    rows = []
    for layers in args.layers:
        for seq in args.seq:
            for mode in args.modes:
                command = [sys.executable, __file__, "--child", mode,
                           "--layers", str(layers), "--seq", str(seq),
                           "--batch", str(args.batch), "--steps", str(args.steps),
                           "--warmup", str(args.warmup), "--threads", str(args.threads),
                           "--model", str(args.model)]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode != 0:
                    sys.exit(f"bench_model: {mode} layers={layers} seq={seq} failed:\n{done.stderr}")
                rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if args.format == "json":
        print(json.dumps({"rows": rows}, indent=1))
        return
    print(f"{rows[0]['framework']}, transformers {rows[0]['transformers']}, "
          f"threads {args.threads}, batch {args.batch}, steps {args.steps} (+{args.warmup} warmup)")
    print(f"{'mode':<8} {'layers':>6} {'seq':>5} {'examples/s':>11} {'peak RSS MB':>12}  per-sample grads")
    for row in rows:
        print(f"{row['mode']:<8} {row['layers']:>6} {row['seq']:>5} {row['examples_per_second']:>11.2f} "
              f"{row['peak_rss_mb']:>12.1f}  {row['grad_sample_mode'] or '-'}")


if __name__ == "__main__":
    main(sys.argv[1:])
