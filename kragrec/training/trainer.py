"""`kragrec train`: Lightning Fabric data-parallel training with validation, early stopping and exact resume."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning_fabric import Fabric
from lightning_fabric.strategies import DDPStrategy
from torch.utils.data import DataLoader

from kragrec.config import Settings
from kragrec.data.popularity import popularity_metrics, train_popularity
from kragrec.data.records import evaluation_records, training_records
from kragrec.errors import KragrecError
from kragrec.files import jsonable, write_json
from kragrec.library_output import inherit_library_output
from kragrec.memory import bound_heap_growth
from kragrec.metrics import chance_metrics, metrics_from_ranks, target_ranks
from kragrec.models.batch_scores import scored_batches
from kragrec.models.checkpoint import load_trained_parts, save_trained_parts
from kragrec.models.collate import collate
from kragrec.models.graph_llm import GraphLLM
from kragrec.models.precision import bf16_autocast
from kragrec.progress import progress_bar, stderr_console
from kragrec.retrieval.subgraph import GraphFeatures
from kragrec.training.config import TrainConfig
from kragrec.training.dataset import EpochOrder, PromptDataset
from kragrec.training.loop import TrainingLoop
from kragrec.training.model_build import build_model, sasrec_item_table
from kragrec.training.run_folder import RunFolder
from kragrec.training.samples import PromptSample
from kragrec.training.schedule import warmup_cosine
from kragrec.training.sources import open_sample_source


@dataclass
class TrainingData:
    """Everything the ranks need, prepared once in the launching process (ranks never open the stores)."""

    train: list[PromptSample]
    valid: list[PromptSample]
    features: GraphFeatures | None
    popularity: dict[str, int]


def prepare_training_data(settings: Settings, config: TrainConfig) -> TrainingData:
    """Build every training and validation sample through the method's (cached) retriever or path finder."""
    with open_sample_source(settings, config) as source:
        train = source.samples(training_records(settings, config.max_train, config.train_candidates), training=True)
        valid = source.samples(evaluation_records(settings, "valid", config.max_valid), training=False)
        return TrainingData(train, valid, source.features, train_popularity(settings))


def evaluate(model: GraphLLM, loader: DataLoader, bf16: bool) -> tuple[dict[str, float], np.ndarray]:
    """Metrics and per-sample target ranks of a model over a loader, scored exactly as `kragrec eval` scores."""
    ranks = [target_ranks(scores, batch.labels.cpu().numpy()) for batch, scores in scored_batches(model, loader, bf16)]
    all_ranks = np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.int64)
    return metrics_from_ranks(all_ranks), all_ranks


def parameter_groups(model: GraphLLM, config: TrainConfig) -> list[dict[str, Any]]:
    """The trainable parameters in groups with their own learning rates: the LLM's adapter at --lr, the graph encoder,
    its projector and the collaborative tokens' projector at --graph-lr, the preference module at --preference-lr
    (each defaulting to --lr)."""
    rates = {
        "encoder": config.graph_lr,
        "projector": config.graph_lr,
        "collab": config.graph_lr,
        "preference": config.preference_lr,
    }
    groups = [{"name": "llm", "params": [p for p in model.llm.parameters() if p.requires_grad], "lr": config.lr}]
    for name, module in model.trained_modules().items():
        groups.append({"name": name, "params": list(module.parameters()), "lr": rates.get(name) or config.lr})
    return [group for group in groups if group["params"]]


class FabricParts:
    """The LLM trainer's checkpointed parts: the model's trained parts, the optimizer and the LR schedule."""

    def __init__(self, model: GraphLLM, optimizer, scheduler) -> None:
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler

    def save_weights(self, folder: Path) -> None:
        """The LoRA adapter and the modules trained beside the LLM."""
        save_trained_parts(self.model, folder)

    def load_weights(self, folder: Path) -> None:
        """Restore what save_weights wrote."""
        load_trained_parts(self.model, folder)

    def state(self) -> dict[str, Any]:
        """The optimizer's and the schedule's state."""
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what state returned."""
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])


def _loader(dataset: PromptDataset, sampler: EpochOrder, config: TrainConfig) -> DataLoader:
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        sampler=sampler,
        collate_fn=collate,
        num_workers=config.num_workers,
        generator=torch.Generator().manual_seed(0),  # keeps worker seeding off the global RNG, for exact resume
        persistent_workers=False,
    )


class LaunchArguments:
    """What each rank receives; a plain object, since Fabric's spawn launcher rejects frozen dataclasses."""

    def __init__(self, settings: Settings, config: TrainConfig, data: TrainingData, resume: bool) -> None:
        self.settings, self.config, self.data, self.resume = settings, config, data, resume


def train_worker(fabric: Fabric, arguments: LaunchArguments) -> None:
    """The training loop every rank runs."""
    settings, config, data, resume = arguments.settings, arguments.config, arguments.data, arguments.resume
    bound_heap_growth()  # spawned ranks do not pass through the CLI's entry point
    inherit_library_output()
    fabric.seed_everything(settings.seed)
    model = build_model(settings, config, data.features)
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = parameter_groups(model, config)
    optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay, betas=config.betas)
    train_set = PromptDataset(data.train, data.features)
    sampler = EpochOrder(len(train_set), settings.seed, shuffle=True, rank=fabric.global_rank, world=fabric.world_size)
    steps_per_epoch = max(1, len(sampler) // (config.batch_size * config.grad_accum))
    total_steps = steps_per_epoch * config.epochs
    warmup = int(config.warmup_ratio * total_steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: warmup_cosine(step, total_steps, warmup))
    folder = RunFolder(config.run_dir)
    if config.shard:
        _place_beside_sharded_llm(model)
    wrapped, optimizer = fabric.setup(model, optimizer, move_to_device=not config.shard)
    loop = TrainingLoop(folder, FabricParts(model, optimizer, scheduler), config.patience, fabric.is_global_zero)
    if resume:  # after placement: the state follows the weights
        loop.resume()
    progress = loop.progress
    valid_loader = DataLoader(
        PromptDataset(data.valid, data.features),
        batch_size=config.batch_size,
        collate_fn=collate,
        num_workers=config.num_workers,
    )

    def validate_and_checkpoint(validate: bool) -> None:
        if validate:
            if fabric.is_global_zero:
                loop.validated(evaluate(model, valid_loader, config.bf16)[0])
            progress.stopped_early = bool(fabric.broadcast(progress.stopped_early, src=0))
            progress.best_acc = float(fabric.broadcast(progress.best_acc, src=0))
            progress.best_mrr = float(fabric.broadcast(progress.best_mrr, src=0))
        if fabric.is_global_zero:
            loop.save_last()
        fabric.barrier()

    wrapped.train()
    started = time.perf_counter()
    seen = 0
    with loop, progress_bar(disable=not fabric.is_global_zero) as bar:
        task = bar.add_task("train", total=total_steps, completed=progress.step)
        while progress.epoch < config.epochs and not progress.stopped_early:
            sampler.epoch, sampler.skip = progress.epoch, progress.batches_in_epoch * config.batch_size
            loader = fabric.setup_dataloaders(_loader(train_set, sampler, config), use_distributed_sampler=False)
            for batch in loader:
                micro = progress.batches_in_epoch % config.grad_accum
                with fabric.no_backward_sync(wrapped, enabled=micro < config.grad_accum - 1):
                    loss = wrapped(batch) / config.grad_accum
                    if not loss.requires_grad:  # frozen LLM, no sub-graph in this batch: a zero step, ranks in sync
                        loss = loss + sum(p.sum() for p in trainable) * 0.0
                    fabric.backward(loss)
                progress.batches_in_epoch += 1
                seen += batch.size * fabric.world_size
                if micro < config.grad_accum - 1:
                    continue
                fabric.clip_gradients(wrapped, optimizer, max_norm=config.clip)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                progress.step += 1
                rate = seen / (time.perf_counter() - started)
                bar.update(
                    task,
                    advance=1,
                    description=f"train loss {loss.item() * config.grad_accum:.3f} {rate:.2f} samples/s",
                )
                lr = scheduler.get_last_lr()[0]
                loop.log({"loss": loss.item() * config.grad_accum, "lr": lr, "samples_per_s": rate})
                validate_now = config.val_every is not None and progress.step % config.val_every == 0
                if validate_now or progress.step % config.checkpoint_every == 0:
                    validate_and_checkpoint(validate_now)
                    if progress.stopped_early:
                        break
                if config.stop_after_steps is not None and progress.step >= config.stop_after_steps:
                    return
            else:
                progress.epoch += 1
                progress.batches_in_epoch = 0
                validate_and_checkpoint(config.val_every is None)
    _finish(fabric, model, folder)


def _place_beside_sharded_llm(model: GraphLLM) -> None:
    """Move the modules trained beside the LLM and the letter ids to the device of the sharded LLM's input
    embeddings."""
    for part in model.trained_modules().values():
        part.to(model.input_device)
    model.letter_ids = model.letter_ids.to(model.input_device)


def _finish(fabric: Fabric, model: GraphLLM, folder: RunFolder) -> None:
    """Record whether every rank ended with the same trained weights."""
    flat = torch.cat([p.detach().float().flatten() for p in model.parameters() if p.requires_grad])
    checksums = fabric.all_gather(torch.stack([flat.sum(), (flat * flat).sum()])).reshape(-1, 2)
    if fabric.is_global_zero:
        write_json(
            folder.ranks_file,
            {
                "world_size": fabric.world_size,
                "checksums": checksums.tolist(),
                "identical": bool((checksums == checksums[0]).all()),
            },
        )


def check_placement(config: TrainConfig) -> None:
    """Reject device options that contradict each other before anything is loaded."""
    if config.devices < 1:
        raise KragrecError(f"--devices {config.devices}: need at least 1")
    if config.shard and (config.accelerator != "cuda" or config.devices != 1):
        raise KragrecError(
            "--shard places one replica across all visible GPUs: use it with --accelerator cuda and one process "
            f"(got --accelerator {config.accelerator}, {config.devices} processes)"
        )


def with_native_precision(config: TrainConfig) -> TrainConfig:
    """`config`, with bf16 autocast turned off (and a note on stderr) where the device would only emulate it."""
    device_type = "cuda" if config.accelerator != "cpu" and torch.cuda.is_available() else "cpu"
    if not config.bf16 or bf16_autocast(config.bf16, device_type):
        return config
    stderr_console.print(
        f"--bf16 off: this {device_type.upper()} has no native bf16 matmul (emulated, it is several times slower); "
        "training in fp32"
    )
    return dataclasses.replace(config, bf16=False)


def launch_training(settings: Settings, config: TrainConfig, resume: bool = False) -> dict[str, Any]:
    """Prepare data once, then train on `devices` ranks (DDP) and return the run's summary."""
    check_placement(config)
    config = with_native_precision(config)
    data = prepare_training_data(settings, config)  # fails on bad input before the run folder is touched
    if config.collab is not None:
        sasrec_item_table(settings, Path(config.collab))
    folder = RunFolder(config.run_dir)
    folder.start(settings, jsonable(config), resume)
    # Unused parameters exist whenever a rank's batch has no sub-graph (popular histories get no KG help).
    start_method = "spawn" if config.accelerator == "cpu" else "popen"
    strategy = "auto" if config.devices == 1 else DDPStrategy(start_method=start_method, find_unused_parameters=True)
    precision = "bf16-mixed" if config.bf16 else "32-true"
    fabric = Fabric(accelerator=config.accelerator, devices=config.devices, strategy=strategy, precision=precision)
    fabric.launch(train_worker, LaunchArguments(settings, config, data, resume))
    references = {
        "popularity": popularity_metrics([s.record for s in data.valid], data.popularity),
        "chance": chance_metrics(settings.candidates),
    }
    return folder.summarise(references, len(data.valid))
