"""`midrl publish`: the exact dry-run operations, the local checks that refuse a publish, and the refusal to
overwrite an existing version through huggingface_hub's real `HfApi` client talking to a loopback Hub stand-in.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from _build_fixtures import file_config, write_config

from midrl_bench.builder.config import load_config
from midrl_bench.builder.runner import build
from midrl_bench.publish import cli
from midrl_bench.publish.hub import PublishError, describe_plan, plan_publish, publish


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("publish-build")
    build(load_config(write_config(tmp, file_config(tmp))), tmp / "out", log=lambda line: None)
    return tmp / "out"


@pytest.fixture
def copy(built, tmp_path):
    target = tmp_path / "ds"
    shutil.copytree(built, target)
    return target


def test_dry_run_prints_the_exact_operations(built, capsys):
    assert cli.main([str(built), "--repo-id", "org/midrl-test", "--version", "0.1.0", "--dry-run"]) == 0
    printed = capsys.readouterr().out.splitlines()
    manifest = json.loads((built / "manifest.json").read_text())
    paths = sorted([*manifest["files"], "manifest.json"])
    common = "repo_id='org/midrl-test', repo_type='dataset'"
    expected = [f"create_repo({common}, private=False, exist_ok=True)",
                f"list_repo_refs({common})  # refuse if tag 'v0.1.0' exists",
                f"list_repo_files({common})  # delete files of the previous revision not listed below",
                f"create_commit({common}, commit_message='Release v0.1.0', operations=[{len(paths)} adds])"]
    for path in paths:
        data = (built / path).read_bytes()
        expected.append(f"  add {path} sha256={hashlib.sha256(data).hexdigest()} bytes={len(data)}")
    expected.append(f"create_tag({common}, tag='v0.1.0', revision=<commit oid>, exist_ok=False)")
    assert printed == expected
    assert not any(".midrl" in line for line in printed)  # build state never ships


@pytest.mark.parametrize(("tamper", "args", "message"), [
    (None, ["--version", "0.2.0"], "differs from"),  # version must equal the manifest's
    (None, ["--version", "1.0"], "X.Y.Z"),  # malformed version
    (None, ["--repo-id", "no-slash"], "ORG/NAME"),  # malformed repo id
    ("changelog", [], "no `## 0.1.0` entry"),  # undocumented version
    ("edit", [], "changed since the build"),  # a file edited after the build
    ("extra", [], "files differ from the manifest"),  # a stray file would be uploaded
])
def test_local_checks_refuse(copy, tamper, args, message):
    if tamper == "changelog":
        (copy / "CHANGELOG.md").write_text("# Changelog\n\n## 0.0.9\n- older\n")
    elif tamper == "edit":
        (copy / "README.md").write_text((copy / "README.md").read_text() + "\nedited\n")
    elif tamper == "extra":
        (copy / "notes.txt").write_text("scratch")
    options = {"--repo-id": "org/midrl-test", "--version": "0.1.0"}
    options.update(dict(zip(args[::2], args[1::2], strict=False)))
    with pytest.raises(PublishError, match=message):
        plan_publish(copy, options["--repo-id"], options["--version"])


class _HubStandIn(BaseHTTPRequestHandler):
    """Answers the two calls a publish makes before writing anything; records every request."""

    tags: list[str] = []
    seen: list[tuple[str, str]] = []

    def log_message(self, *args):
        pass

    def _reply(self, payload):
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append(("POST", self.path))
        if self.path == "/api/repos/create":
            return self._reply({"url": f"http://{self.headers['Host']}/datasets/org/midrl-test"})
        self.send_error(500, "a write beyond create_repo must not happen")

    def do_GET(self):  # noqa: N802
        self.seen.append(("GET", self.path))
        if self.path.startswith("/api/datasets/org/midrl-test/refs"):
            tags = [{"name": t, "ref": f"refs/tags/{t}", "targetCommit": "a" * 40} for t in self.tags]
            return self._reply({"branches": [{"name": "main", "ref": "refs/heads/main", "targetCommit": "a" * 40}],
                                "converts": [], "tags": tags})
        self.send_error(404)


def test_existing_version_is_never_overwritten(built, monkeypatch):
    from huggingface_hub import HfApi, constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # the suite is offline; this test only talks to 127.0.0.1
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HubStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _HubStandIn.tags, _HubStandIn.seen = ["v0.0.9", "v0.1.0"], []
        api = HfApi(endpoint=f"http://127.0.0.1:{server.server_port}", token="hf_test_token")
        with pytest.raises(PublishError, match="tag v0.1.0 already exists"):
            publish(plan_publish(built, "org/midrl-test", "0.1.0"), api=api)
        assert _HubStandIn.seen == [("POST", "/api/repos/create"), ("GET", "/api/datasets/org/midrl-test/refs")]
    finally:
        server.shutdown()


def test_plan_operations_are_real_commit_operations(built):
    from huggingface_hub import CommitOperationAdd

    plan = plan_publish(built, "org/midrl-test", "0.1.0")
    assert all(isinstance(op, CommitOperationAdd) for op in plan.operations)
    assert [op.path_in_repo for op in plan.operations][:1] == ["CHANGELOG.md"]
    assert plan.tag == "v0.1.0" and describe_plan(plan)[-1].startswith("create_tag(")
