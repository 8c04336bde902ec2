"""The embedded tiny world: synthetic integer-arithmetic problems with several checkable strategies, a tiny Llama
pre-trained here, and `midrl demo`, which runs the paper's pipeline on it with the product's own parts.

Modules: `problems` (families and deterministic splits), `traces` (one trace writer per strategy), `strategies/`
(the strategy library, in the heuristic-library schema), `tokenizer`, `corpus` + `model` (pre-training, cached),
`probe` (quick checks of a checkpoint), `config` (+ `presets/`), `demo` (orchestration), `report` + `plots`, `cli`.
See docs/toyworld.md.
"""
