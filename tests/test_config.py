from dataclasses import dataclass, field

import pytest

from midrl_bench.config import ConfigError, from_dict, to_dict


@dataclass
class Inner:
    lr: float = 1e-5
    steps: int = 10


@dataclass
class Outer:
    name: str
    inner: Inner = field(default_factory=Inner)
    tags: list[str] = field(default_factory=list)
    limit: int | None = None


def test_nested_dataclass_round_trip():
    config = from_dict(Outer, {"name": "x", "inner": {"lr": 1, "steps": 3}, "tags": ["a"], "limit": None})
    assert config.inner.lr == 1.0 and isinstance(config.inner.lr, float)  # ints widen to float
    assert to_dict(config) == {"name": "x", "inner": {"lr": 1.0, "steps": 3}, "tags": ["a"], "limit": None}


# (data, fragment the error must contain)
BAD = [
    ({"name": "x", "inner": {"learning_rate": 1}}, "Outer.inner: unknown key(s) ['learning_rate']"),  # typo
    ({}, "missing required key 'name'"),  # required field
    ({"name": "x", "inner": {"steps": "10"}}, "Outer.inner.steps: expected int"),  # wrong type
    ({"name": "x", "tags": ["a", 3]}, "Outer.tags[1]: expected str"),  # wrong item type
    ({"name": "x", "inner": {"steps": True}}, "expected int, got bool"),  # bool is not an int here
    ({"name": "x", "limit": "all"}, "Outer.limit"),  # optional int given a string
]


@pytest.mark.parametrize(("data", "fragment"), BAD)
def test_errors_name_the_field(data, fragment):
    with pytest.raises(ConfigError) as error:
        from_dict(Outer, data)
    assert fragment in str(error.value)
