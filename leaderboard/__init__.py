"""Leaderboard: submission validation, store and static site (installed as midrl_bench.leaderboard)."""
