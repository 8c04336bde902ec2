"""lm-eval run directories of the pack: load (`load`), paired comparison (`compare`), re-scoring (`regrade`) and
results tables as pandas DataFrames (`frames`); the `midrl runs` command (`cli`)."""
