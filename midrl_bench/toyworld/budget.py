"""Expected run time of a demo preset, printed before it starts (`midrl demo` and `--preset study`).

A linear model in the work each stage does, with unit costs measured on the 2-core development machine, quiet
(docs/toyworld.md lists the runs they come from). On a machine shared with other jobs, expect proportionally more.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from midrl_bench.toyworld.config import ToyConfig

# seconds per unit on the 2-core development machine, quiet, with torch's default of two threads (what `midrl demo`
# uses unless --threads or OMP_NUM_THREADS says otherwise) and the static KV cache of the presets; measured on world
# format 7 (docs/toyworld.md, "Run time"):
# one optimiser step of 4 examples (267 tokens each on average): `benchmarks/toyworld_pretrain.py`-style 300 steps,
# 0.114 s on two threads (0.164 s on one)
PRETRAIN_STEP_S = 0.114
# one sampled solution, hf backend / lm-eval hf at batch 256, static cache: the quick gate drew 3,200 samples in
# 124 s (0.039 s each) and the quick demo's evaluations 768 samples in about 31 s (0.030 s each after the fixed cost)
GENERATION_S = 0.035
BUILD_FIXED_S = 20.0  # the builder's checking, adherence scoring, selection and writing (quick build: 42 s)
MIDTRAIN_ROW_S = 0.02  # one mid-training row per epoch
GRPO_COMPLETION_S = 0.102  # one GRPO rollout with its share of the optimiser step (quick demo: 60 s per arm)
JUDGE_TRACE_S = 0.0004  # rules labeller + checker per trace
FIXED_PER_EVAL_S = 8.0  # loading lm-eval's task and the model per evaluation
# what follows the build with `demo.workers: 2` (one thread each) against one job after another on two threads:
# in the quick preset, star and n1 side by side took 131 s each (GRPO 83, evaluation 48) where each took 91 on two
# threads alone (docs/toyworld.md); a 2-core machine gains nothing from more workers
TWO_WORKERS_SPEEDUP = 1.39


@dataclass(frozen=True)
class Estimate:
    pretrain_s: float
    gate_s: float
    build_s: float
    train_s: float
    eval_s: float

    @property
    def total_s(self) -> float:
        return self.pretrain_s + self.gate_s + self.build_s + self.train_s + self.eval_s

    def preparation(self) -> Estimate:
        """Only what `midrl demo --prepare` runs: pre-training and the gate."""
        return replace(self, build_s=0.0, train_s=0.0, eval_s=0.0)

    def text(self) -> str:
        parts = ", ".join(f"{name} {seconds / 60:.1f}" for name, seconds in (
            ("pre-training", self.pretrain_s), ("gate", self.gate_s), ("build", self.build_s),
            ("training", self.train_s), ("evaluation", self.eval_s)) if seconds)
        if not parts:
            return "expected run time: nothing to compute (every stage is cached)"
        return (f"expected run time about {self.total_s / 60:.0f} min on a quiet 2-core machine ({parts} min; "
                "a linear model of measured unit costs, docs/toyworld.md; slower on a shared machine)")


def estimate(config: ToyConfig, arm_count: int, model_cached: bool, gate_cached: bool) -> Estimate:
    """Seconds each stage of a demo with `arm_count` arms should take."""
    gate, world, demo = config.gate, config.world, config.demo
    build = config.build_config({"model": "M"})
    spec = config.pipeline_spec({"model": "M", "dataset": "D", "config": "n1", "prompts": "P", "reward_log": "L"})
    families = len(set(world.families))
    gate_generations = (gate.untagged_problems * gate.untagged_samples
                        + 3 * families * gate.problems_per_subtype * gate.tagged_samples) if gate.enabled else 0
    seeds_problems = demo.train_problems or world.train_problems
    build_generations = seeds_problems * (4 * build.generation.samples_per_pair + build.generation.star_samples)
    rows = seeds_problems * 2  # about two selected solutions per seed problem in the mid-training configs
    train_per_arm = rows * spec.midtrain.epochs * MIDTRAIN_ROW_S + \
        spec.rl.steps * spec.rl.batch_prompts * spec.rl.num_generations * GRPO_COMPLETION_S
    problems = demo.eval_problems or world.eval_problems
    before = arm_count if demo.before_rl is None else min(arm_count, len(demo.before_rl))
    arm_evaluations = demo.seeds * (arm_count + before)
    per_eval = problems * spec.eval.repeats * (GENERATION_S + JUDGE_TRACE_S) + FIXED_PER_EVAL_S
    speedup = TWO_WORKERS_SPEEDUP if min(demo.workers, demo.seeds * arm_count + 1) >= 2 else 1.0
    return Estimate(
        pretrain_s=0.0 if model_cached else config.pretrain.max_steps * PRETRAIN_STEP_S,
        gate_s=0.0 if gate_cached else gate_generations * GENERATION_S,
        build_s=build_generations * GENERATION_S + BUILD_FIXED_S,
        train_s=demo.seeds * arm_count * train_per_arm / speedup,
        eval_s=per_eval * (1 + arm_evaluations) / speedup)
