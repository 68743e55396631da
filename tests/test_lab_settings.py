"""`make lab`: double-clicking a notebook's jupytext ``.py`` opens it as a notebook. A real JupyterLab server from this
environment, configured as the project configures it (``notebooks/lab_overrides.json`` installed by ``make setup``
into the environment's application settings, ``overrides.d/``), answers through its settings REST API that the
default viewer of ``python`` files is jupytext's ``Jupytext Notebook``."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "notebooks" / "lab_overrides.json"
PLUGIN = "@jupyterlab/docmanager-extension:plugin"
VIEWER = "Jupytext Notebook"  # jupytext's widget factory (its labextension's FACTORY)
APP_DIR = Path(sys.prefix, "share", "jupyter", "lab")  # the application directory of this environment's JupyterLab
INSTALLED = APP_DIR / "settings" / "overrides.d" / "sitt-notebooks.json"  # where the Makefile's LAB_OVERRIDES puts it

pytestmark = pytest.mark.skipif(importlib.util.find_spec("jupyterlab") is None,
                                reason="jupyterlab is not importable in this environment (make setup installs it)")


def test_the_overrides_make_jupytext_the_default_viewer_of_python_files():
    overrides = json.loads(SOURCE.read_text())
    assert overrides[PLUGIN]["defaultViewers"]["python"] == VIEWER
    makefile = (REPO / "Makefile").read_text()
    assert "LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d/sitt-notebooks.json" in makefile
    assert "$(LAB_OVERRIDES): notebooks/lab_overrides.json" in makefile


@pytest.fixture(scope="module")
def installed_overrides():
    """The overrides installed as ``make setup`` installs them (a copy of the source), if not already there."""
    if not INSTALLED.is_file() or INSTALLED.read_bytes() != SOURCE.read_bytes():
        INSTALLED.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SOURCE, INSTALLED)
    return INSTALLED


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str, timeout_s: float = 5) -> dict:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return json.loads(response.read().decode())


@pytest.mark.slow  # starts a JupyterLab server (a few seconds)
def test_a_running_jupyterlab_opens_python_files_with_jupytext(installed_overrides, tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    # this environment's application directory, and no user-level state: the developer's own settings, config and
    # runtime files neither hide nor fake the project's configuration, and the test writes nothing under ~
    env = dict(os.environ, JUPYTERLAB_DIR=str(APP_DIR), JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_DATA_DIR=str(tmp_path / "data"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--notebook-dir=notebooks", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")  # as `make lab` does for root (containers)
    log = tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        server = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline, answer = time.monotonic() + 90, None
        while answer is None:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer on port {port} within 90 s:\n{log.read_text()[-3000:]}")
            try:
                answer = _get_json(f"{base}/lab/api/settings/{PLUGIN}?token={token}")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert answer["id"] == PLUGIN
        user = answer.get("settings") or {}
        assert "defaultViewers" not in user  # a fresh user: what it sees is the default, i.e. the project's override
        viewers = answer["schema"]["properties"]["defaultViewers"]["default"]
        assert viewers.get("python") == VIEWER, f"default viewers: {viewers}"
        # the factory's provider, jupytext's labextension, is installed in this environment and served
        listed = _get_json(f"{base}/lab/api/settings/?token={token}")["settings"]
        assert any(s["id"].startswith("jupyterlab-jupytext:") for s in listed), "jupytext's labextension is missing"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
