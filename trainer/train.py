"""dsbuild's bundled trainer: fine-tune a vision-language model on dsbuild shards.

    python trainer/train.py --config CONFIG.json
    python -m torch.distributed.run --nproc-per-node N trainer/train.py --config CONFIG.json

Speaks to its caller only through JSON lines on stdout (see README.md); everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from protocol import Emitter, UserError, claim_stdout, one_line, quiet_env, quiet_transformers  # noqa: E402


class Dist:
    """torchrun's environment; world_size 1 when launched directly."""

    def __init__(self):
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.active = False

    @property
    def main(self) -> bool:
        return self.rank == 0

    def init(self, device_type: str) -> None:
        if self.world_size > 1:
            import torch.distributed as dist

            dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
            self.active = True

    def all_sum(self, values: list[float]) -> list[float]:
        if not self.active:
            return values
        import torch
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64, device=self.reduce_device)
        dist.all_reduce(t)
        return t.tolist()

    def barrier(self) -> None:
        if self.active:
            import torch.distributed as dist

            dist.barrier()

    def close(self) -> None:
        if self.active:
            import torch.distributed as dist

            dist.destroy_process_group()
            self.active = False

    reduce_device = "cpu"


def pick_device(name: str, dist: Dist):
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise UserError("device 'cuda' was asked for but torch sees no CUDA GPU; use device 'cpu' or 'auto'")
        torch.cuda.set_device(dist.local_rank % torch.cuda.device_count())
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def pick_dtype(name: str, device):
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]
    if device.type == "cuda" and dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        raise UserError("dtype bf16 is not supported by this GPU; use fp16 or fp32")
    return dtype


def peak_memory(device) -> int:
    import torch

    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


class Schedule:
    """Linear warmup to the peak rate, then linear decay to zero at the last step."""

    def __init__(self, total: int, warmup: int):
        self.total, self.warmup = max(total, 1), min(warmup, max(total - 1, 0))

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / (self.warmup + 1)
        return max(0.0, (self.total - step) / max(1, self.total - self.warmup))


class Positions:
    """Global sample index -> sample, epoch after epoch, identical on every rank."""

    def __init__(self, stream):
        self.stream = stream
        self._epoch, self._order = -1, []

    def __getitem__(self, i: int):
        e, k = divmod(i, self.stream.epoch_size)
        if e != self._epoch:
            self._epoch, self._order = e, self.stream.epoch_order(e)
        return self._order[k]


def run(args, emit: Emitter, dist: Dist) -> int:
    # Cheap checks first (config, shards, model folder), so bad input fails before torch is even imported.
    import modelsetup
    from config import load_config
    from dataset import load_shards
    from family import detect as detect_family
    from mixing import Stream

    t0 = time.time()
    cfg = load_config(args.config)
    mode = cfg.parsed_mode
    shards = load_shards(cfg.shards, need_text=mode.needs_text, need_paired=mode.needs_paired, verify=cfg.verify_shards)
    stream = Stream(mode, shards, cfg.seed)
    positions = Positions(stream)
    modelsetup.check_model_dir(cfg.model)
    family = detect_family(cfg.model)

    import torch

    import checkpoint
    from hfcompat import load_processor
    from render import Renderer, collate

    quiet_transformers()
    device = pick_device(cfg.device, dist)
    dtype = pick_dtype(cfg.dtype, device)
    dist.init(device.type)
    dist.reduce_device = "cuda" if device.type == "cuda" else "cpu"
    torch.manual_seed(cfg.seed)

    processor = load_processor(cfg.model)
    renderer = Renderer(processor, cfg.max_length, family)
    pad_id = processor.tokenizer.pad_token_id
    if pad_id is None:
        pad_id = processor.tokenizer.eos_token_id or 0

    lora_on = bool(cfg.lora.get("enabled", True))
    found = checkpoint.latest(cfg.out) if cfg.resume else None
    resume_dir = found[1] if found else None
    if resume_dir and modelsetup.is_adapter_dir(resume_dir) != lora_on:
        kind = "a LoRA adapter" if modelsetup.is_adapter_dir(resume_dir) else "a full model"
        raise UserError(f"{resume_dir} holds {kind} but lora.enabled is {str(lora_on).lower()}; "
                        "use another 'out' folder or set resume to false")
    model = modelsetup.load_for_training(cfg.model, resume_dir, cfg.lora, cfg.freeze_vision, cfg.freeze_projector)
    if cfg.gradient_checkpointing:
        if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.x name
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if hasattr(model, "config"):
            model.config.use_cache = False
    model.to(device)
    model.train()
    trainable, total = modelsetup.count_params(model)
    if trainable == 0:
        raise UserError("nothing to train: every parameter is frozen; enable lora or unfreeze a part")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

    per_step = cfg.batch_size * cfg.grad_accum * dist.world_size
    if cfg.max_steps > 0:
        total_steps = cfg.max_steps
    else:
        total_steps = max(1, math.ceil(cfg.epochs * stream.epoch_size / per_step))
    warmup = cfg.warmup_steps or math.ceil(cfg.warmup_ratio * total_steps)
    schedule = Schedule(total_steps, warmup)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)

    step, consumed, first_loss, tokens_total, samples_total = 0, 0, None, 0, 0
    if resume_dir:
        state = checkpoint.load_state(resume_dir)
        if state.get("mode") not in (None, str(mode)):
            raise UserError(f"{resume_dir} was trained in mode {state['mode']}, this config asks for {mode}; "
                            "use another 'out' folder or set resume to false")
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        # The schedule follows this run's max_steps (it may have been raised to train further).
        # (load_state_dict wrote the saved totals into `schedule`, so install a fresh one.)
        schedule = Schedule(total_steps, warmup)
        scheduler.lr_lambdas = [schedule]
        for group, base_lr in zip(optimizer.param_groups, scheduler.base_lrs):
            group["lr"] = base_lr * schedule(scheduler.last_epoch)
        checkpoint.set_rng_state(state["rng"])
        step, consumed = state["step"], state["samples_consumed"]
        first_loss = state.get("first_loss")
        tokens_total, samples_total = state.get("tokens", 0), state.get("samples", 0)

    train_model = model
    if dist.active:
        from torch.nn.parallel import DistributedDataParallel as DDP

        train_model = DDP(model, device_ids=[device.index] if device.type == "cuda" else None,
                          find_unused_parameters=True)

    emit.emit(
        "start", mode=str(mode), model=cfg.model, family=family.name, device=str(device), dtype=cfg.dtype,
        samples=stream.epoch_size, text_samples=len(stream.text), paired_samples=len(stream.paired),
        trainable_params=trainable, total_params=total, world_size=dist.world_size,
        resumed_from_step=step, resumed_from=resume_dir, max_steps=total_steps, epoch_size=stream.epoch_size,
    )

    def save_checkpoint(at: int) -> str | None:
        path = None
        if dist.main:
            path = checkpoint.save(cfg.out, at, model, processor, optimizer, scheduler, {
                "samples_consumed": consumed, "first_loss": first_loss, "tokens": tokens_total,
                "samples": samples_total, "mode": str(mode), "world_size": dist.world_size,
            })
            emit.emit("checkpoint", step=at, path=path)
        dist.barrier()
        return path

    use_scaler = dtype == torch.float16 and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda") if use_scaler else None
    autocast = dtype != torch.float32
    last_loss, last_saved = None, step if resume_dir else -1
    while step < total_steps:
        t_step = time.time()
        loss_sum, loss_tokens, tokens, trained, n_samples, paired_n, pixel_batches = 0.0, 0, 0, 0, 0, 0, 0
        for a in range(cfg.grad_accum):
            base = consumed + (a * dist.world_size + dist.rank) * cfg.batch_size
            samples = [positions[base + k] for k in range(cfg.batch_size)]
            feats = [renderer.render(s) for s in samples]
            batch = {k: v.to(device) for k, v in collate(feats, pad_id).items()}
            if "pixel_values" in batch:
                pixel_batches += 1
            sync = a == cfg.grad_accum - 1 or not dist.active
            ctx = train_model.no_sync() if not sync else _null()
            labels = batch.pop("labels")
            with ctx:
                with torch.autocast(device_type=device.type, dtype=dtype, enabled=autocast):
                    logits = train_model(**batch).logits
                tok_loss, n_tok = token_loss(logits, labels)
                loss = tok_loss / max(n_tok, 1) / cfg.grad_accum  # a batch with nothing to learn adds zero
                (scaler.scale(loss) if scaler else loss).backward()
            loss_sum += float(tok_loss.detach())
            loss_tokens += n_tok
            tokens += int(batch["attention_mask"].sum())
            trained += sum(f.trained_tokens for f in feats)
            n_samples += len(samples)
            paired_n += sum(1 for s in samples if s.paired)
        if scaler:
            scaler.unscale_(optimizer)
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm))
        if scaler:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        lr = optimizer.param_groups[0]["lr"]  # the rate this step used
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        loss_sum, loss_tokens, tokens, trained, n_samples, paired_n, pixel_batches = dist.all_sum(
            [loss_sum, loss_tokens, tokens, trained, n_samples, paired_n, pixel_batches])
        step_loss = loss_sum / max(loss_tokens, 1)  # mean over every trained token of the step, all processes
        step += 1
        consumed += per_step
        tokens_total += int(tokens)
        samples_total += int(n_samples)
        if first_loss is None:
            first_loss = step_loss
        last_loss = step_loss
        dt = max(time.time() - t_step, 1e-9)
        if not math.isfinite(step_loss):
            raise UserError(f"loss became {step_loss} at step {step}; lower lr or use dtype fp32/bf16")
        if step % cfg.log_steps == 0 or step == total_steps:
            emit.emit(
                "step", step=step, loss=round(step_loss, 6), lr=lr, tokens_per_s=round(tokens / dt, 2),
                samples_per_s=round(n_samples / dt, 3), memory_bytes=peak_memory(device),
                pixels=pixel_batches > 0, paired_samples=int(paired_n), samples=int(n_samples),
                tokens=int(tokens), trained_tokens=int(trained), grad_norm=round(grad_norm, 6),
            )
        if cfg.save_steps and step % cfg.save_steps == 0 and step < total_steps:
            save_checkpoint(step)
            last_saved = step

    if last_saved != step:
        save_checkpoint(step)
    final = os.path.join(cfg.out, "final")
    if dist.main:
        merged = os.path.join(cfg.out, "final-merged") if (lora_on and cfg.save_merged) else None
        modelsetup.save(model, processor, final, merged)
    dist.barrier()
    emit.emit(
        "end", steps=step, first_loss=first_loss, final_loss=last_loss, wall_seconds=round(time.time() - t0, 3),
        peak_memory_bytes=peak_memory(device), checkpoint=final, mode=str(mode), tokens=tokens_total,
        samples=samples_total, merged=os.path.join(cfg.out, "final-merged") if lora_on and cfg.save_merged else None,
    )
    return 0


def token_loss(logits, labels):
    """Summed next-token cross-entropy over the labelled positions, and how many there are."""
    import torch.nn.functional as F

    from render import IGNORE

    logits = logits[:, :-1].float()
    target = labels[:, 1:].to(logits.device)
    n = int((target != IGNORE).sum())
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=IGNORE,
                           reduction="sum")
    return loss, n


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="dsbuild bundled trainer (JSON lines on stdout)")
    parser.add_argument("--config", required=True, help="training configuration JSON")
    args = parser.parse_args(argv)
    protocol_out = claim_stdout()
    quiet_env()
    dist = Dist()
    emit = Emitter(protocol_out, enabled=dist.main)
    try:
        return run(args, emit, dist)
    except UserError as e:
        emit.error(str(e))
        print(f"error: {one_line(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        emit.error("interrupted; run again with the same config to resume from the last checkpoint")
        return 130
    except Exception as e:  # noqa: BLE001 - the caller gets one actionable line, the traceback goes to stderr
        traceback.print_exc(file=sys.stderr)
        emit.error(f"{type(e).__name__}: {e}")
        return 1
    finally:
        dist.close()


if __name__ == "__main__":
    sys.exit(main())
