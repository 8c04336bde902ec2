"""OpenRLHF's own argument parsing and validation, usable without its GPU stack.

OpenRLHF 0.11 builds its parsers inline, under `if __name__ == "__main__":` of `openrlhf/cli/train_sft.py` and
`openrlhf/cli/train_ppo_ray.py`, after module-level imports of ray / deepspeed / vLLM. Importing those modules
therefore needs the GPU stack, and there is no parser function to call. The narrowest faithful way to get the real
parser is to run that `__main__` block itself, from the installed file, with everything except its final
`train(args)` call: the block builds the parser, parses our argv, hierarchises the namespace and runs OpenRLHF's
own cross-field checks (its `assert`s), needing only `argparse`, `datetime` and `openrlhf.utils.config`.
Nothing is copied: a change in the installed OpenRLHF changes what is validated.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import io
import sys
from functools import cache
from pathlib import Path
from types import SimpleNamespace

MODULES = {"sft": "openrlhf.cli.train_sft", "ppo": "openrlhf.cli.train_ppo_ray"}


class OpenRLHFArgsError(ValueError):
    """OpenRLHF's parser or its checks rejected a command line; the message carries its own words."""


def openrlhf_installed() -> bool:
    return importlib.util.find_spec("openrlhf") is not None


def _cli_file(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"{module} is not installed (pip install --no-deps openrlhf==0.11.*)")
    return Path(spec.origin)


@cache
def _main_block(module: str) -> tuple[ast.Module, ast.Module]:
    """(statements up to the parser's creation + all add_argument calls, the whole block minus `train(args)`)."""
    tree = ast.parse(_cli_file(module).read_text(encoding="utf-8"))
    blocks = [node for node in tree.body if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)]
    if len(blocks) != 1:
        raise RuntimeError(f"{module}: expected one `if __name__ == '__main__':` block, found {len(blocks)}")
    body = list(blocks[0].body)
    last = body[-1]
    if not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and ast.unparse(last.value.func) == "train"):
        raise RuntimeError(f"{module}: the main block no longer ends with `train(args)`; update this loader")
    parse_at = next(i for i, node in enumerate(body) if "parser.parse_args(" in ast.unparse(node))
    imports = [node for node in tree.body if _is_stdlib_import(node)]  # e.g. `from datetime import datetime`
    build = ast.Module(body=imports + body[:parse_at], type_ignores=[])
    validate = ast.Module(body=imports + body[:-1], type_ignores=[])
    return build, validate


def _is_stdlib_import(node: ast.stmt) -> bool:
    """Module-level imports the main block may use; ray / deepspeed / openrlhf.trainer imports are left out."""
    if isinstance(node, ast.Import):
        return all(alias.name.split(".")[0] in sys.stdlib_module_names for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and (node.module or "").split(".")[0] in sys.stdlib_module_names
    return False


def _namespace() -> dict:
    return {"__name__": "openrlhf_cli_main"}


def build_parser(kind: str) -> argparse.ArgumentParser:
    """OpenRLHF's own parser for `kind` "sft" (train_sft) or "ppo" (train_ppo_ray)."""
    build, _ = _main_block(MODULES[kind])
    namespace = _namespace()
    exec(compile(build, str(_cli_file(MODULES[kind])), "exec"), namespace)
    return namespace["parser"]


@cache
def known_options(kind: str) -> frozenset[str]:
    """Every option string the parser accepts, e.g. "--actor.model_name_or_path"."""
    return frozenset(option for action in build_parser(kind)._actions for option in action.option_strings)


def parse_and_validate(kind: str, argv: list[str]) -> SimpleNamespace:
    """Parse `argv` (the arguments after the module name) exactly as OpenRLHF would, checks included.

    Returns OpenRLHF's hierarchical args (`args.actor.model_name_or_path`); raises OpenRLHFArgsError with the
    parser's message for an unknown flag, a bad value or a failed cross-field check.
    """
    known = known_options(kind)
    unknown = [token for token in argv if token.startswith("--") and token not in known]
    if unknown:  # argparse would accept unambiguous prefixes; a generated flag must be spelled exactly
        raise OpenRLHFArgsError(f"{MODULES[kind]}: unknown option(s) {unknown}")
    _, validate = _main_block(MODULES[kind])
    namespace = _namespace()
    stderr, stdout = io.StringIO(), io.StringIO()
    saved_argv = sys.argv
    sys.argv = [MODULES[kind], *argv]
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            exec(compile(validate, str(_cli_file(MODULES[kind])), "exec"), namespace)
    except SystemExit:
        raise OpenRLHFArgsError(f"{MODULES[kind]} rejected the arguments: {stderr.getvalue().strip()}") from None
    except AssertionError as error:
        raise OpenRLHFArgsError(f"{MODULES[kind]} check failed: {error}") from None
    except Exception as error:  # OpenRLHF's own post-processing tripped over the combination
        raise OpenRLHFArgsError(f"{MODULES[kind]} post-processing failed: {type(error).__name__}: {error}") from None
    finally:
        sys.argv = saved_argv
    args = namespace["args"]
    args.midrl_warnings = [line for line in stdout.getvalue().splitlines() if "warning" in line.lower()]
    return args
