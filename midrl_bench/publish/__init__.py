"""Uploading a built dataset to the Hub as a tagged version (`hub`, `midrl publish`).

The repo layout, manifest and card are the builder's (`midrl_bench.builder.manifest`, `.card`); publish only checks
a finished build directory against its manifest and uploads it, so `builder` never imports `publish`.
"""
