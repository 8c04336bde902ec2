"""The dataset builder: plan -> generate -> verify -> adherence -> select -> decontaminate -> diversity -> write.

Entry points: `midrl build CONFIG.yaml --out DIR [--shard i/N]` and `midrl build merge PARTS... --out DIR`
(`midrl_bench.builder.cli`); `midrl_bench.builder.runner.build(config, out_dir, part=None)` and `.merge(parts, out)`.
The stages are one ordered list (`stages.STAGES`); the config schema is `midrl_bench.builder.config.BuildConfig`;
the row schema is `write.ROW_SCHEMA`; the manifest and card are `manifest.py` and `card.py`.
"""
