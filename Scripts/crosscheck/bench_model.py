"""Driver of `Scripts/bench model`: LoRA and DP-LoRA training throughput on all-MiniLM-L6-v2, dpfl against PyTorch + PEFT + Opacus.

For every (layers, seq) pair, each mode and each side, a fresh subprocess (so that peak_rss_mb is
that configuration's own peak) times `steps` training steps after `warmup` untimed ones.

dpfl side (--dpfl BINARY, the dpfl-model-bench product):

  BINARY --assets MODEL --layers K --seq N --batch B --mode lora|dp-lora --steps S --warmup W \\
      --threads T

(T threads each compute shards of up to 8 examples and 512 tokens of the batch, OpenBLAS at one thread per call;
PyTorch uses its T threads inside each operation.) impl "dpfl-bf16" is the same with
--precision bf16: the frozen encoder weights and their products' inputs in bfloat16, sums in
Float32 (oneDNN); the adapters, head and everything else stay Float32. The PyTorch side is Float32.

prints one JSON row (impl "dpfl"); a non-zero exit (64 for bad flags) stops the benchmark with
its message.

PyTorch side (impl "opacus" for both modes, so the two sides pair up):

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

examples_per_second = batch * steps / seconds of the `steps` timed steps; peak_rss_mb =
ru_maxrss / 1024 of that subprocess at its end. Ratios per (layers, seq):

  dp_over_opacus     dpfl dp-lora ex/s / opacus dp-lora ex/s   (goal >= 1.5)
  dp_time_over_lora  dpfl lora ex/s / dpfl dp-lora ex/s        (goal <= 1.3)
  bf16_dp_over_opacus  dpfl-bf16 dp-lora ex/s / opacus dp-lora ex/s

--format markdown (default) prints one table; --format json one object {"rows", "ratios",
"goals", "settings", "versions", "machine"}; --from-json FILE renders such a saved object as the
Markdown table without running anything. --only dpfl|opacus runs one side. Progress goes to
stderr. Run (needs Scripts/fetch-assets, and Scripts/crosscheck/setup-venv for the Opacus side):

  Scripts/crosscheck/.venv/bin/python Scripts/crosscheck/bench_model.py \\
      --dpfl .build/release/dpfl-model-bench \\
      --layers 6 2 --seq 32 128 --batch 16 --steps 20 --warmup 3 --threads 2 --format json
"""
import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import time
import warnings

from machine import machine_info

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / ".cache/assets/all-MiniLM-L6-v2"
MODES = ("lora", "dp-lora")
IMPLS = ("dpfl", "dpfl-bf16", "opacus")
SEED = 20261122
GOALS = {"dp_over_opacus": {"at_least": 1.5}, "dp_time_over_lora": {"at_most": 1.3}}


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {text}")
    return value


def natural(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0; got {text}")
    return value


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dpfl", type=pathlib.Path, metavar="BINARY",
                        help="dpfl-model-bench binary (needed unless --only opacus)")
    parser.add_argument("--only", choices=IMPLS, help="run one side only")
    parser.add_argument("--layers", type=positive, nargs="+", default=[6, 2])
    parser.add_argument("--seq", type=positive, nargs="+", default=[32, 128])
    parser.add_argument("--batch", type=positive, default=16)
    parser.add_argument("--steps", type=positive, default=20)
    parser.add_argument("--warmup", type=natural, default=3)
    parser.add_argument("--threads", type=positive, default=2)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--model", "--assets", dest="model", type=pathlib.Path, default=MODEL,
                        help="all-MiniLM-L6-v2 folder (Scripts/fetch-assets prints it)")
    parser.add_argument("--from-json", type=pathlib.Path, metavar="FILE",
                        help="render a saved --format json report as Markdown; runs nothing")
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


def log(message):
    print(message, file=sys.stderr, flush=True)


def last_lines(text, count=20):
    """The crash lines of a Swift backtrace if there are any, else the last `count` lines."""
    lines = text.strip().splitlines()
    crash = [line.strip(" *") for line in lines if "Fatal error" in line or "Program crashed" in line]
    return "\n".join(crash or lines[-count:])


def run_dpfl(args, mode, layers, seq, impl="dpfl"):
    """Runs dpfl-model-bench for one configuration; returns its row or exits with its error."""
    command = [str(args.dpfl), "--assets", str(args.model), "--layers", str(layers),
               "--seq", str(seq), "--batch", str(args.batch), "--mode", mode,
               "--steps", str(args.steps), "--warmup", str(args.warmup),
               "--threads", str(args.threads),
               "--precision", "bf16" if impl == "dpfl-bf16" else "float32"]
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    except OSError as error:
        sys.exit(f"bench_model: cannot run {args.dpfl}: {error}")
    if done.returncode != 0:
        sys.exit(f"bench_model: dpfl {mode} layers={layers} seq={seq} failed "
                 f"(exit {done.returncode}): {last_lines(done.stderr) or '(no message)'}")
    try:
        row = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        sys.exit(f"bench_model: dpfl {mode} layers={layers} seq={seq} printed no JSON row:\n"
                 f"{last_lines(done.stdout + done.stderr)}")
    missing = [k for k in ("impl", "mode", "layers", "seq", "batch", "examples_per_second",
                           "peak_rss_mb") if k not in row]
    if missing:
        sys.exit(f"bench_model: dpfl row lacks {', '.join(missing)}: {json.dumps(row)}")
    row["threads"] = args.threads
    row["impl"] = impl
    return row


def run_opacus(args, mode, layers, seq):
    """Runs one PyTorch configuration in a child process; returns its row or exits."""
    command = [sys.executable, __file__, "--child", mode,
               "--layers", str(layers), "--seq", str(seq),
               "--batch", str(args.batch), "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--threads", str(args.threads),
               "--model", str(args.model)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench_model: opacus {mode} layers={layers} seq={seq} failed "
                 f"(exit {done.returncode}):\n{last_lines(done.stderr)}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ratios(rows, settings):
    """dp_over_opacus and dp_time_over_lora per (layers, seq); None where a row is missing."""
    speed = {(r["impl"], r["mode"], r["layers"], r["seq"]): r["examples_per_second"] for r in rows}
    out = []
    for layers in settings["layers"]:
        for seq in settings["seq"]:
            dp = speed.get(("dpfl", "dp-lora", layers, seq))
            lora = speed.get(("dpfl", "lora", layers, seq))
            opacus_dp = speed.get(("opacus", "dp-lora", layers, seq))
            bf16_dp = speed.get(("dpfl-bf16", "dp-lora", layers, seq))
            over = dp / opacus_dp if dp and opacus_dp else None
            bf16_over = bf16_dp / opacus_dp if bf16_dp and opacus_dp else None
            time_ratio = lora / dp if dp and lora else None
            out.append({
                "layers": layers, "seq": seq, "batch": settings["batch"],
                "dp_over_opacus": over,
                "dp_over_opacus_meets_goal":
                    None if over is None else over >= GOALS["dp_over_opacus"]["at_least"],
                "bf16_dp_over_opacus": bf16_over,
                "bf16_dp_over_opacus_meets_goal":
                    None if bf16_over is None else bf16_over >= GOALS["dp_over_opacus"]["at_least"],
                "dp_time_over_lora": time_ratio,
                "dp_time_over_lora_meets_goal":
                    None if time_ratio is None else time_ratio <= GOALS["dp_time_over_lora"]["at_most"],
            })
    return out


def command_output(command):
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def versions(args, rows):
    out = {"dpfl": None, "git": None, "openblas": None, "framework": None, "transformers": None,
           "attention": None, "grad_sample_mode": None}
    if args.dpfl is not None and any(r["impl"].startswith("dpfl") for r in rows):
        dpfl = args.dpfl.parent / "dpfl"
        if os.access(dpfl, os.X_OK):
            out["dpfl"] = command_output([str(dpfl), "--version"])
        out["git"] = command_output(["git", "-C", str(ROOT), "describe", "--always", "--dirty",
                                     "--abbrev=7"])
        out["openblas"] = command_output(["dpkg-query", "-W", "-f", "${Version}", "libopenblas0"])
    opacus = [r for r in rows if r["impl"] == "opacus"]
    if opacus:
        out["framework"] = opacus[0]["framework"]
        out["transformers"] = opacus[0]["transformers"]
        out["attention"] = opacus[0]["attention"]
        modes = sorted({r["grad_sample_mode"] for r in opacus if r["grad_sample_mode"]})
        out["grad_sample_mode"] = ", ".join(modes) or None
    return out


def cell(value, digits=1):
    return "–" if value is None else f"{value:.{digits}f}"


def goal_cell(value, meets):
    return "–" if value is None else f"{value:.2f} {'✓' if meets else '✗'}"


def markdown(report):
    settings, v, m = report["settings"], report["versions"], report["machine"]
    rows = {(r["impl"], r["mode"], r["layers"], r["seq"]): r for r in report["rows"]}
    sides = []
    if any(r["impl"].startswith("dpfl") for r in report["rows"]):
        dpfl = f"dpfl {v['dpfl'] or '(version unknown)'}"
        extra = [x for x in (f"git {v['git']}" if v["git"] else None,
                             f"OpenBLAS {v['openblas']}" if v["openblas"] else None) if x]
        sides.append(dpfl + (f" ({', '.join(extra)})" if extra else ""))
    if v["framework"]:
        sides.append(f"{v['framework']}, transformers {v['transformers']} ({v['attention']} attention, "
                     f"Opacus grad_sample_mode {v['grad_sample_mode']})")
    out = [f"{' vs '.join(sides)}; {settings['threads']} threads, batch {settings['batch']}, "
           f"{settings['steps']} timed steps after {settings['warmup']} warmup, one process per "
           f"configuration; machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['os']}.", "",
           "| layers | seq | batch | dpfl LoRA ex/s | dpfl DP-LoRA ex/s | Opacus LoRA ex/s "
           "| Opacus DP-LoRA ex/s | DP/Opacus | DP time ÷ LoRA time | peak RSS dpfl / opacus (MB) "
           "| dpfl bf16 DP-LoRA ex/s | bf16 DP/Opacus |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for ratio in report["ratios"]:
        layers, seq = ratio["layers"], ratio["seq"]

        def speed(impl, mode):
            row = rows.get((impl, mode, layers, seq))
            return cell(row["examples_per_second"] if row else None)

        def rss(impl):
            peaks = [rows[(impl, mode, layers, seq)]["peak_rss_mb"] for mode in MODES
                     if (impl, mode, layers, seq) in rows]
            return cell(max(peaks) if peaks else None, 0)

        out.append(f"| {layers} | {seq} | {ratio['batch']} | {speed('dpfl', 'lora')} "
                   f"| {speed('dpfl', 'dp-lora')} | {speed('opacus', 'lora')} "
                   f"| {speed('opacus', 'dp-lora')} "
                   f"| {goal_cell(ratio['dp_over_opacus'], ratio['dp_over_opacus_meets_goal'])} "
                   f"| {goal_cell(ratio['dp_time_over_lora'], ratio['dp_time_over_lora_meets_goal'])} "
                   f"| {rss('dpfl')} / {rss('opacus')} | {speed('dpfl-bf16', 'dp-lora')} "
                   f"| {goal_cell(ratio.get('bf16_dp_over_opacus'), ratio.get('bf16_dp_over_opacus_meets_goal'))} |")
    out += ["", "ex/s: training examples per second. DP/Opacus = dpfl DP-LoRA ÷ Opacus DP-LoRA "
            f"(goal ≥ {GOALS['dp_over_opacus']['at_least']}); DP time ÷ LoRA time = dpfl LoRA ex/s ÷ "
            f"dpfl DP-LoRA ex/s (goal ≤ {GOALS['dp_time_over_lora']['at_most']}); peak RSS: the larger "
            "of the LoRA and DP-LoRA processes. bf16: dpfl with its frozen weights in bfloat16 "
            "(Float32 sums; PyTorch stays Float32)."]
    return "\n".join(out)


def main(argv):
    args = parse(argv)
    if args.child:
        return child(args)
    if args.from_json:
        print(markdown(json.loads(args.from_json.read_text())))
        return
    if not (args.model / "model.safetensors").exists():
        sys.exit(f"{args.model} is missing: run Scripts/fetch-assets first")
    impls = [args.only] if args.only else list(IMPLS)
    if any(impl.startswith("dpfl") for impl in impls):
        if args.dpfl is None:
            sys.exit("bench_model: --dpfl BINARY is needed (or --only opacus)")
        if not os.access(args.dpfl, os.X_OK):
            sys.exit(f"bench_model: {args.dpfl} is not an executable (swift build -c release "
                     "--product dpfl-model-bench)")
    plan = [(layers, seq, impl, mode) for layers in args.layers for seq in args.seq
            for impl in impls for mode in args.modes]
    rows = []
    for number, (layers, seq, impl, mode) in enumerate(plan, 1):
        log(f"[{number}/{len(plan)}] {impl} {mode} layers={layers} seq={seq} batch={args.batch} ...")
        start = time.perf_counter()
        row = (run_opacus(args, mode, layers, seq) if impl == "opacus"
               else run_dpfl(args, mode, layers, seq, impl))
        log(f"    {row['examples_per_second']:.1f} ex/s, peak RSS {row['peak_rss_mb']:.0f} MB "
            f"({time.perf_counter() - start:.0f} s)")
        rows.append(row)
    settings = {"layers": args.layers, "seq": args.seq, "batch": args.batch, "steps": args.steps,
                "warmup": args.warmup, "threads": args.threads, "modes": args.modes,
                "impls": impls}
    report = {"rows": rows, "ratios": ratios(rows, settings), "goals": GOALS,
              "settings": settings, "versions": versions(args, rows), "machine": machine_info()}
    if args.format == "json":
        print(json.dumps(report, indent=1, ensure_ascii=False))
    else:
        print(markdown(report))


if __name__ == "__main__":
    main(sys.argv[1:])
