"""The app installed as a Python developer would, with pip and no make: it serves both
languages, or refuses to start and says what to do."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import venv
from pathlib import Path

import httpx

from tests.helpers.process import ServerProcess
from tests.helpers.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".tools" / "uv" / "bin" / "uv"


def source_copy(target: Path) -> Path:
    """What a clean clone holds, with this checkout's uncommitted work: git's files, not its
    ignored ones (no .venv, no var/, no compiled catalogs)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],  # noqa: S607
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def locked_dependencies(venv_dir: Path, source: Path) -> None:
    """The app's locked dependencies, put in place by the repository's uv from its cache when
    `make` has installed it: pip then checks them and installs the app itself. Resolving and
    installing them all with pip would take most of a minute of CPU; without uv, pip does it."""
    if not UV.is_file():
        return
    requirements = source / "requirements.txt"
    run(
        [
            str(UV),
            "export",
            "--frozen",
            "--no-default-groups",
            "--no-hashes",
            "--no-emit-project",
            "--project",
            str(source),
            "--quiet",
            "-o",
            str(requirements),
        ]
    )
    run(
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv_dir / "bin" / "python"),
            "-r",
            str(requirements),
        ]
    )
    requirements.unlink()


def run(command: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def app_env(folder: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))},
        "DATABASE_URL": f"sqlite:///{folder / 'app.sqlite3'}",
        "VAR_DIR": str(folder / "var"),
        "SECRET_KEY": "installed-by-pip",
    }


def test_pip_install_e_serves_indonesian_and_a_site_packages_copy_refuses_to_start(
    tmp_path: Path,
) -> None:
    """One journey, one environment (each install costs half a minute): `pip install -e .` into
    a new virtual environment, migrate, serve, a page in Indonesian; then the same package
    installed as a copy into site-packages, its source gone, refuses to start, saying what to
    do instead."""
    venv.create(tmp_path / "venv", with_pip=True)
    pip = [str(tmp_path / "venv" / "bin" / "pip"), "install", "--quiet"]
    source = source_copy(tmp_path / "source")
    locked_dependencies(tmp_path / "venv", source)
    run([*pip, "--disable-pip-version-check", "-e", str(source)])
    purchasing = str(tmp_path / "venv" / "bin" / "purchasing")
    env = app_env(tmp_path)
    run([purchasing, "migrate"], env)
    server = ServerProcess("pip-installed", free_port(), tmp_path / "server.log")
    server.spawn([purchasing, "serve", "--port", str(server.port)], env)
    try:
        page = wait_for_login_page(server)
    finally:
        server.stop()
    assert '<html lang="id">' in page
    assert re.search(r"<button[^>]*>\s*Masuk\s*</button>", page)

    run([*pip, "--no-deps", "--force-reinstall", str(source_copy(tmp_path / "copy"))])
    shutil.rmtree(tmp_path / "source")
    shutil.rmtree(tmp_path / "copy")
    refused = subprocess.run(
        [purchasing, "serve"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert refused.returncode != 0
    assert "pip install -e ." in refused.stderr


def wait_for_login_page(server: ServerProcess) -> str:
    """The login page as a browser asking for Indonesian gets it, once the server answers."""
    for _ in range(600):
        if not server.alive():
            raise AssertionError(f"the server ended:\n{server.log()}")
        try:
            answer = httpx.get(f"{server.url}/login", headers={"Accept-Language": "id"}, timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)  # polling for readiness, not waiting for an effect
            continue
        assert answer.status_code == 200, answer.text[:500]
        return answer.text
    raise AssertionError(f"the server did not answer:\n{server.log()}")
