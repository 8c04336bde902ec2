"""Trainer backends (installed as midrl_bench.adapters): trl/ and openrlhf/."""
