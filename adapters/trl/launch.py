"""TRL launch commands and precision: one node or several, DDP / DeepSpeed ZeRO-2/3 / FSDP, fp32 master weights.

    accelerate launch --config_file adapters/trl/accelerate/zero2.yaml --num_processes 32 --num_machines 4 \
        --machine_rank R --main_process_ip HEAD --main_process_port 29500 -m midrl_bench.adapters.trl.train ...
    torchrun --nnodes 4 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint HEAD:29500 --rdzv_id RUN -m ...

Precision (`precision_plan`): the model is loaded in float32 and trained with bf16 (or fp16) autocast, so AdamW
updates fp32 master weights; at lr 1e-6 a bf16-stored weight would round most updates away. Under DeepSpeed the
optimizer keeps the fp32 master copy (bf16 compute); under FSDP the sharded parameters stay fp32 (bf16 compute).
The accelerate configs shipped in `accelerate/` are chosen by `sharding` (auto = ZeRO-2 for more than one process).
The node's rank comes from the environment (`MIDRL_MACHINE_RANK`, default 0): every node runs the same recipe.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from midrl_bench.config import ConfigError

ACCELERATE_CONFIGS = Path(__file__).resolve().parent / "accelerate"
SHARDING_CONFIGS = {"ddp": "ddp.yaml", "zero2": "zero2.yaml", "zero3": "zero3.yaml", "fsdp": "fsdp.yaml"}
MACHINE_RANK_ENV = "MIDRL_MACHINE_RANK"


def world_size(options: Any) -> int:
    return options.num_processes * options.num_machines


def sharding_of(options: Any) -> str:
    """The sharding mode in effect: the option, or for `auto` ZeRO-2 with several processes, none with one."""
    if options.accelerate_config:
        return "custom"
    if options.sharding != "auto":
        return options.sharding
    return "zero2" if world_size(options) > 1 else "none"


def accelerate_config_file(options: Any, resolve) -> str | None:
    """The accelerate config file for the launch: the recipe's own, or the shipped one for `sharding`."""
    if options.accelerate_config:
        return str(resolve(options.accelerate_config))
    mode = sharding_of(options)
    return str(ACCELERATE_CONFIGS / SHARDING_CONFIGS[mode]) if mode in SHARDING_CONFIGS else None


def machine_rank(options: Any) -> int:
    """This node's rank: MIDRL_MACHINE_RANK (an integer in [0, num_machines)); 0 when unset."""
    text = os.environ.get(MACHINE_RANK_ENV, "0")
    if not text.isdigit() or int(text) >= options.num_machines:
        raise ConfigError(f"{MACHINE_RANK_ENV}={text!r}: expected an integer in [0, {options.num_machines})")
    return int(text)


def node_command(options: Any, entry: list[str], resolve, python: str, rank: int, run_id: str) -> list[str]:
    """The launch command as node `rank` runs it."""
    if options.launcher == "accelerate":
        config = accelerate_config_file(options, resolve)
        argv = ["accelerate", "launch", *(["--config_file", config] if config else [])]
        if config is None and world_size(options) > 1:
            argv.append("--multi_gpu")
        argv += ["--num_processes", str(world_size(options))]
        if options.num_machines > 1:
            argv += ["--num_machines", str(options.num_machines), "--machine_rank", str(rank),
                     "--main_process_ip", options.main_process_ip, "--main_process_port",
                     str(options.main_process_port)]
        return [*argv, *entry]
    if options.launcher == "torchrun":
        if options.num_machines == 1:
            return ["torchrun", "--standalone", "--nproc_per_node", str(options.num_processes), *entry]
        return ["torchrun", "--nnodes", str(options.num_machines), "--nproc_per_node", str(options.num_processes),
                "--rdzv_backend", "c10d", "--rdzv_endpoint", f"{options.main_process_ip}:{options.main_process_port}",
                "--rdzv_id", run_id, *entry]
    return [python, *entry]


def check_launch_options(options: Any) -> None:
    if options.num_machines > 1:
        if options.launcher not in ("accelerate", "torchrun"):
            raise ConfigError(f"backend_options.trl.num_machines: {options.num_machines} machines need launcher "
                              f"accelerate or torchrun, not {options.launcher!r}")
        if not options.main_process_ip:
            raise ConfigError("backend_options.trl.main_process_ip: required with num_machines > 1 (node 0's address)")
    if options.launcher in ("in_process", "python") and options.num_processes > 1:
        raise ConfigError(f"backend_options.trl.num_processes: {options.num_processes} processes need launcher "
                          f"accelerate or torchrun, not {options.launcher!r}")
    if options.sharding != "auto" and options.accelerate_config:
        raise ConfigError("backend_options.trl.sharding: give either sharding or accelerate_config, not both")
    if options.sharding in ("zero2", "zero3", "fsdp", "ddp") and options.launcher != "accelerate":
        raise ConfigError(f"backend_options.trl.sharding: {options.sharding} is applied through accelerate's config; "
                          "use launcher: accelerate")


def precision_plan(options: Any, model_dtype: str, device: str) -> dict[str, Any]:
    """Load dtype, autocast flags and a plain statement of where the master weights live."""
    compute = {"auto": "bfloat16", "bfloat16": "bfloat16", "float16": "float16", "float32": "float32"}[model_dtype]
    if device == "cpu":
        compute = "float32"
    fp32_master = options.master_weights == "fp32"
    load = "float32" if fp32_master else model_dtype
    flags = {"bf16": compute == "bfloat16", "fp16": compute == "float16"}
    sharding = sharding_of(options) if options.launcher == "accelerate" else (
        "ddp" if options.launcher == "torchrun" and world_size(options) > 1 else "none")
    if load == "float32" or sharding in ("zero2", "zero3"):  # DeepSpeed's bf16 optimizer keeps an fp32 copy anyway
        where = {"zero2": "fp32 master weights in DeepSpeed's ZeRO-2 optimizer", "zero3":
                 "fp32 master weights in DeepSpeed's ZeRO-3 optimizer", "fsdp": "fp32 sharded parameters (FSDP2)"
                 }.get(sharding, "fp32 parameters updated by AdamW")
        master = f"float32 ({where}; {compute} compute)"
    else:
        master = f"{load} (no fp32 master copy: small updates round away)"
    return {"load_dtype": load, "trainer_flags": flags, "compute_dtype": compute, "master_weights": master,
            "sharding": sharding}
