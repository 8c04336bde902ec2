"""Trainer backends (installed as midrl_bench.adapters): trl/, openrlhf/ and verl/."""
