"""Every launch command the TRL and OpenRLHF backends emit, for 1 node and for 4 nodes, parsed by its own launcher.

- TRL / accelerate: accelerate's `launch_command_parser`, then accelerate's own config merge
  (`_validate_launch_command`), environment preparation and hand-off to torchrun's parser and `config_from_args`,
  exactly as `accelerate launch` does before starting processes: the shipped ZeRO-2/ZeRO-3/FSDP/DDP configs must
  load, and each node must end up in a 4-node rendezvous at node 0's address with its own rank.
- TRL / torchrun and OpenRLHF SFT / torchrun: `torch.distributed.run.get_args_parser()` + `config_from_args`.
- OpenRLHF SFT / deepspeed --hostfile: DeepSpeed's runner parser and hostfile reader (a --no-deps install in a side
  directory made by .ci/launcher-site; skipped without it).
- OpenRLHF RL / ray job submit: Ray's own click command (`ray job submit`), in the verl environment that has Ray.
The arguments after the launcher go through OpenRLHF's own parser (`parse_and_validate`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from midrl_bench.config import ConfigError
from midrl_bench.pipeline.runner import plan_pipeline
from midrl_bench.pipeline.spec import spec_from_dict

PAPER = Path(__file__).resolve().parents[1] / "recipes" / "paper-llama-3.2-3b.yaml"
ENTRY = ["-m", "midrl_bench.adapters.trl.train", "--stage-file"]


def _paper(trl: dict | None = None, openrlhf: dict | None = None):
    data = yaml.safe_load(PAPER.read_text(encoding="utf-8"))
    data["backend_options"]["trl"].update(trl or {})
    data["backend_options"]["openrlhf"].update(openrlhf or {})
    return spec_from_dict(data, recipe_path=str(PAPER))


def _accelerate_launch(argv: list[str]):
    """What `accelerate launch ARGV` resolves to before it starts processes: (accelerate args, torchrun config,
    command, script args)."""
    import torch.distributed.run as distrib_run
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import _filter_args, prepare_deepspeed_cmd_env, prepare_multi_gpu_env

    args, defaults, _ = _validate_launch_command(launch_command_parser().parse_args(argv))
    if args.use_deepspeed:  # launch_command's own preparation of the DeepSpeed path
        args.deepspeed_fields_from_accelerate_config = ",".join(defaults.deepspeed_config)
        command, env = prepare_deepspeed_cmd_env(args)
        assert command is None  # the standard multinode launcher: torchrun on every node, no pdsh
    else:
        env = prepare_multi_gpu_env(args)
    torchrun = _filter_args(args, distrib_run.get_args_parser(),
                            ["--training_script", args.training_script, "--training_script_args",
                             args.training_script_args])
    config, cmd, cmd_args = distrib_run.config_from_args(torchrun)
    return args, env, config, cmd_args


def _torchrun(argv: list[str]):
    """torchrun's parsed args and launch config, with `--standalone` resolved as torchrun's `run` does."""
    import torch.distributed.run as distrib_run

    args = distrib_run.get_args_parser().parse_args(argv)
    if args.standalone:
        args.rdzv_backend, args.rdzv_endpoint, args.rdzv_id = "c10d", "localhost:0", "standalone"
    config, _, script = distrib_run.config_from_args(args)
    return args, config, script


# ------------------------------------------------------------------ TRL
def test_trl_one_node_defaults_to_zero2_with_fp32_master_weights(tmp_path):
    _, _, plans = plan_pipeline(_paper(), "trl", "all", tmp_path / "run")
    for plan in plans:
        assert plan.command[:2] == ["accelerate", "launch"]
        args, env, config, script = _accelerate_launch(plan.command[2:])
        assert args.use_deepspeed and args.zero_stage == 2 and env["ACCELERATE_MIXED_PRECISION"] == "bf16"
        assert (config.min_nodes, config.max_nodes, config.nproc_per_node) == (1, 1, 4)  # the paper's 4 GPUs
        assert script == ["-u", *ENTRY, str(tmp_path / "run" / plan.stage / "stage.json")]  # python -u -m ...
        assert plan.config["dtype"] == "float32" and plan.config["trainer_args"]["bf16"]  # fp32 load + autocast
        assert plan.config["precision"]["master_weights"].startswith("float32 (fp32 master weights in DeepSpeed")


@pytest.mark.parametrize("sharding, check", [
    ("zero2", lambda a, e: a.use_deepspeed and a.zero_stage == 2),  # ZeRO-2: the default for >1 process
    ("zero3", lambda a, e: a.use_deepspeed and a.zero_stage == 3 and e["ACCELERATE_DEEPSPEED_ZERO3_SAVE_16BIT_MODEL"]
     == "true"),  # ZeRO-3: the final save gathers 16-bit weights (all ranks call save_model)
    ("fsdp", lambda a, e: a.use_fsdp and e["FSDP_VERSION"] == "2" and e["FSDP_STATE_DICT_TYPE"] == "FULL_STATE_DICT"),
    ("ddp", lambda a, e: a.multi_gpu and not a.use_deepspeed and not a.use_fsdp),  # plain data parallel
])
def test_trl_four_nodes_every_rank_joins_one_rendezvous(sharding, check, tmp_path):
    spec = _paper({"num_processes": 8, "num_machines": 4, "main_process_ip": "10.0.0.1", "sharding": sharding})
    _, _, plans = plan_pipeline(spec, "trl", "all", tmp_path / "run")
    for plan in plans:
        node_commands = plan.config["node_commands"]
        assert len(node_commands) == 4 and plan.command == node_commands[0]  # this machine: MIDRL_MACHINE_RANK unset
        for rank, command in enumerate(node_commands):
            args, env, config, script = _accelerate_launch(command[2:])
            assert check(args, env)
            assert (config.min_nodes, config.max_nodes, config.nproc_per_node) == (4, 4, 8)
            assert config.rdzv_endpoint == "10.0.0.1:29500" and config.rdzv_configs["rank"] == rank
            assert script[1:4] == ENTRY
        # 32 processes share the batch: midtrain 128 = 4 x 32 x 1; rl 128 prompts x 16 = 4 x 32 x 16
        assert plan.config["trainer_args"]["gradient_accumulation_steps"] == {"midtrain": 1, "rl": 16}[plan.stage]


def test_trl_machine_rank_comes_from_the_environment(tmp_path, monkeypatch):
    spec = _paper({"num_processes": 8, "num_machines": 4, "main_process_ip": "10.0.0.1"})
    monkeypatch.setenv("MIDRL_MACHINE_RANK", "3")
    _, _, plans = plan_pipeline(spec, "trl", "midtrain", tmp_path / "run")
    assert _accelerate_launch(plans[0].command[2:])[2].rdzv_configs["rank"] == 3
    monkeypatch.setenv("MIDRL_MACHINE_RANK", "4")  # out of range for 4 machines
    with pytest.raises(ConfigError, match=r"MIDRL_MACHINE_RANK='4': expected an integer in \[0, 4\)"):
        plan_pipeline(spec, "trl", "midtrain", tmp_path / "run")


@pytest.mark.parametrize("machines, expected", [
    (1, (True, 1, 1, "c10d", "localhost:0")),  # one node: --standalone (a local c10d rendezvous)
    (4, (False, 4, 4, "c10d", "10.0.0.1:29500")),  # four nodes: the same command on every node, c10d at node 0
])
def test_trl_torchrun_commands_pass_torchruns_parser(machines, expected, tmp_path):
    spec = _paper({"launcher": "torchrun", "num_processes": 8, "num_machines": machines, "main_process_ip": "10.0.0.1"})
    _, _, plans = plan_pipeline(spec, "trl", "midtrain", tmp_path / "run")
    args, config, script = _torchrun(plans[0].command[1:])
    assert (args.standalone, config.min_nodes, config.max_nodes, config.rdzv_backend, config.rdzv_endpoint) == expected
    assert config.nproc_per_node == 8 and script[:4] == ["-u", *ENTRY]


@pytest.mark.parametrize("options, message", [
    ({"num_machines": 2}, "backend_options.trl.main_process_ip: required"),  # no rendezvous address
    ({"num_machines": 2, "main_process_ip": "h", "launcher": "python"}, "need launcher accelerate or torchrun"),
    ({"sharding": "zero3", "accelerate_config": "x.yaml"}, "either sharding or accelerate_config"),  # both given
    ({"launcher": "in_process", "num_processes": 4}, "4 processes need launcher accelerate"),  # silently 1 GPU
    ({"num_machines": 0}, "backend_options.trl.num_machines must be > 0"),
])
def test_trl_bad_launch_options_are_refused_by_name(options, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        plan_pipeline(_paper(options), "trl", "all", tmp_path / "run")


# ------------------------------------------------------------------ OpenRLHF
def test_openrlhf_sft_torchrun_one_and_four_nodes(tmp_path):
    from midrl_bench.adapters.openrlhf.parser import parse_and_validate

    for nodes in (1, 4):
        spec = _paper(openrlhf={"sft_launcher": "torchrun", "num_nodes": nodes, "num_gpus_per_node": 8,
                                "master_addr": "10.0.0.1"})
        _, _, plans = plan_pipeline(spec, "openrlhf", "midtrain", tmp_path / f"run{nodes}")
        args, config, script = _torchrun(plans[0].command[1:])
        assert (config.min_nodes, config.max_nodes, config.nproc_per_node) == (nodes, nodes, 8)
        assert config.rdzv_backend == "c10d" and args.standalone == (nodes == 1)
        assert config.rdzv_endpoint == ("localhost:0" if nodes == 1 else "10.0.0.1:29500")
        assert script[:3] == ["-u", "-m", "openrlhf.cli.train_sft"]
        parse_and_validate("sft", script[3:])


def _launcher_site() -> str | None:
    site = os.environ.get("MIDRL_LAUNCHER_SITE") or str(
        Path(os.environ.get("MIDRL_CACHE_DIR", Path(__file__).resolve().parents[1] / ".ci-cache")) / "launcher-site")
    return site if (Path(site) / ".complete").is_file() else None


DEEPSPEED_CHECK = r"""
import json, sys
from deepspeed.launcher.runner import fetch_hostfile, parse_args
args = parse_args(sys.argv[1:])
hosts = fetch_hostfile(args.hostfile)
print(json.dumps({"hosts": dict(hosts), "num_nodes": args.num_nodes, "num_gpus": args.num_gpus, "module": args.module,
                  "master_addr": args.master_addr, "master_port": args.master_port, "script": args.user_script,
                  "user_args": args.user_args}))
"""


def test_openrlhf_sft_deepspeed_four_nodes_passes_deepspeeds_parser(tmp_path):
    from midrl_bench.adapters.openrlhf.parser import parse_and_validate

    site = _launcher_site()
    if site is None:
        pytest.skip("DeepSpeed's launcher is not installed here: run `bash .ci/launcher-site`")
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("".join(f"node{i} slots=8\n" for i in range(4)), encoding="utf-8")
    spec = _paper(openrlhf={"num_nodes": 4, "num_gpus_per_node": 8, "hostfile": str(hostfile),
                            "master_addr": "node0"})
    _, _, plans = plan_pipeline(spec, "openrlhf", "midtrain", tmp_path / "run")
    assert plans[0].command[0] == "deepspeed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [site, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", DEEPSPEED_CHECK, *plans[0].command[1:]], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["hosts"] == {f"node{i}": 8 for i in range(4)} and (out["num_nodes"], out["num_gpus"]) == (4, 8)
    assert out["module"] and out["script"] == "openrlhf.cli.train_sft"
    assert (out["master_addr"], out["master_port"]) == ("node0", 29500)
    parse_and_validate("sft", out["user_args"])  # what DeepSpeed hands to train_sft, checked by OpenRLHF


@pytest.mark.parametrize("options, message", [
    ({"num_nodes": 4}, "backend_options.openrlhf.master_addr: required"),  # no rendezvous address
    ({"num_nodes": 4, "master_addr": "h"}, "backend_options.openrlhf.hostfile: DeepSpeed's launcher needs"),
])
def test_openrlhf_multinode_without_a_meeting_point_is_refused(options, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        plan_pipeline(_paper(openrlhf=options), "openrlhf", "all", tmp_path / "run")


RAY_CHECK = r"""
import json, sys
from ray.dashboard.modules.job.cli import submit
ctx = submit.make_context("submit", sys.argv[1:])
print(json.dumps({"address": ctx.params["address"], "runtime_env_json": ctx.params["runtime_env_json"],
                  "entrypoint": list(ctx.params["entrypoint"])}))
"""


def test_openrlhf_rl_ray_job_submit_passes_rays_cli(tmp_path):
    from midrl_bench.adapters.openrlhf.parser import parse_and_validate
    from midrl_bench.adapters.verl.validate import verl_python

    if not verl_python().is_file():
        pytest.skip(f"Ray's CLI is checked in the verl environment ({verl_python()}), not present here")
    spec = _paper(openrlhf={"launcher": "ray_job", "ray_address": "http://10.0.0.1:8265", "num_nodes": 4,
                            "num_gpus_per_node": 8, "master_addr": "10.0.0.1", "sft_launcher": "torchrun"})
    _, _, plans = plan_pipeline(spec, "openrlhf", "all", tmp_path / "run")
    rl = plans[1].command
    assert rl[:3] == ["ray", "job", "submit"]
    done = subprocess.run([str(verl_python()), "-c", RAY_CHECK, *rl[3:]], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["address"] == "http://10.0.0.1:8265" and json.loads(out["runtime_env_json"])["env_vars"]
    assert out["entrypoint"][:3] == ["python3", "-m", "openrlhf.cli.train_ppo_ray"]
    args = parse_and_validate("ppo", out["entrypoint"][3:])
    assert (args.actor.num_nodes, args.actor.num_gpus_per_node, args.vllm.num_engines) == (4, 8, 32)


@pytest.mark.parametrize("mode, expected", [
    ("colocate", {"vllm_mode": "colocate", "vllm_gpu_memory_utilization": 0.3}),  # the paper recipe: shares GPUs
    ("server", {"vllm_mode": "server"}),  # generation on a separate `trl vllm-serve` process
])
def test_trl_grpo_with_vllm_builds_trls_real_grpo_config(mode, expected, tmp_path):
    from trl import GRPOConfig

    _, _, plans = plan_pipeline(_paper({"vllm_mode": mode}), "trl", "rl", tmp_path / "run")
    args = plans[0].config["trainer_args"]
    config = GRPOConfig(output_dir=str(tmp_path / "o"), **{**args, "bf16": False})  # bf16 needs a GPU to validate
    assert config.use_vllm and config.vllm_max_model_length == 1024 + 3072
    assert {key: getattr(config, key) for key in expected} == expected
    assert plans[0].config["dtype"] == "float32" and args["bf16"]  # fp32 master weights, bf16 autocast on GPUs


def test_the_accelerate_configs_ship_with_the_package():
    import tomllib

    from midrl_bench.adapters.trl.launch import ACCELERATE_CONFIGS, SHARDING_CONFIGS

    assert sorted(path.name for path in ACCELERATE_CONFIGS.glob("*.yaml")) == sorted(SHARDING_CONFIGS.values())
    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "accelerate/*.yaml" in pyproject["tool"]["setuptools"]["package-data"]["midrl_bench.adapters.trl"]
