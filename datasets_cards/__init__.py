"""Dataset-card templates and the dataset CHANGELOG (installed as `midrl_bench.datasets_cards`).

`README.md.jinja` renders the card body of a built dataset (the YAML header is generated from data in
`midrl_bench.builder.card` through huggingface_hub's `DatasetCardData`); `CHANGELOG.md` is the dataset's own change log, shipped with every build.
"""
