"""The embedded tiny world: synthetic integer-arithmetic problems with several checkable strategies, a tiny Llama
pre-trained here, and `midrl demo`, which runs the paper's pipeline on it with the product's own parts.

Modules: `problems` (families/sub-types and deterministic splits), `traces` (one trace writer per strategy and
sub-type, composite traces), `strategies/` (the strategy library, in the heuristic-library schema), `tokenizer`,
`corpus` + `model` (pre-training, cached), `probe` (sampling a checkpoint), `gate` (the gate check after
pre-training), `config` (+ `presets/`), `demo` (orchestration), `reward` (`toy_correctness`: the correctness reward
with a strategy-share log), `outcomes` + `stats` + `claims` (paired cluster-bootstrap statistics and verdicts),
`report` + `plots`, `budget` (expected run time), `cli`. See docs/toyworld.md.
"""
