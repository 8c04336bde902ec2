"""The dataset builder: plan -> generate -> verify -> adherence -> select -> decontaminate -> diversity -> write.

Entry points: `midrl build CONFIG.yaml --out DIR` (`midrl_bench.build.cli`) and
`midrl_bench.build.runner.build(config, out_dir)`; the config schema is `midrl_bench.build.config.BuildConfig`.
"""
