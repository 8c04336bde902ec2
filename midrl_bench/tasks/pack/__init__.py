"""lm-eval task YAMLs of the pack (the --include_path directory)."""
