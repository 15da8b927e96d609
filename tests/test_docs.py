"""The docs run: every example in README.md and docs/*.md, every relative link, and the docs site build.

How a page's fenced blocks are read (docs/ authors write to this):

- ```console: each line starting with "$ " is a shell command; it goes on with the next line while that one ends in
  "\\" or a quote is open, and a here-document (`cat > f.toml <<'EOF'`) runs to its terminator. Other lines are
  output shown to the reader and are not checked. A page's commands run in order in one bash session (variables
  carry over from one to the next), with the venv's bin first on PATH, no MATCHER_* settings, and as current folder
  a fresh temporary one in which `data` links to the repository's data folder. Each must exit 0.
- `$ matcher serve ... --port N` is not run by the session: the test starts the server on a free port, waits until
  /readyz answers, puts its address in place of 127.0.0.1:N (and localhost:N) in the page's later commands and
  Python blocks, and stops it once the page is done.
- ```python: run in order, interleaved with the commands, in one namespace per page and the same folder.
- ```text, ```toml and ```json are shown, never run (output, fragments). ```sh is only for README's first block,
  `make demo` and `make test` (running `make test` here would run these tests again).
"""

from __future__ import annotations

import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin: this test runs under the venv's python
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINKED = ("data",)  # folders of the repository an example may read, linked into its temporary folder
SHOWN = {"text", "toml", "json"}
COMMAND_SECONDS = 120  # one command (a run waits for a job; a server run takes a few seconds)

FENCE = re.compile(r"^(\s*)```(.*)$")


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@dataclass
class Block:
    lang: str
    line: int  # 1-based line of the opening fence
    lines: list[str]


def blocks(page: Path) -> list[Block]:
    """The page's fenced blocks; a fence must start at the line's start (an indented one would escape the tests)."""
    out: list[Block] = []
    current: Block | None = None
    for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        m = FENCE.match(line)
        if current is None:
            if m:
                assert not m.group(1), f"{_page_id(page)}:{n}: indented fence; start fences at the line's start"
                current = Block(m.group(2).strip(), n, [])
        elif m and not m.group(2).strip():
            out.append(current)
            current = None
        else:
            current.lines.append(line)
    assert current is None, f"{_page_id(page)}:{current.line}: fence never closed"
    return out


HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_]\w*)\1")


def _open_quote(command: str) -> bool:
    try:
        shlex.split(command.split("<<")[0], comments=True)
    except ValueError:  # "No closing quotation"
        return True
    return False


def commands(block: Block) -> list[tuple[int, str]]:
    """(line, command) for each "$ " line of a console block, with its continuation lines and here-document."""
    out: list[tuple[int, str]] = []
    lines, i = block.lines, 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            i += 1
            continue
        start, cmd = i, [lines[i][2:]]
        while (cmd[-1].endswith("\\") or _open_quote("\n".join(cmd))) and i + 1 < len(lines):
            i += 1
            cmd.append(lines[i])
        m = HEREDOC.search("\n".join(cmd))
        if m:
            while i + 1 < len(lines):
                i += 1
                cmd.append(lines[i])
                if lines[i].strip() == m.group(2):
                    break
            else:
                raise AssertionError(f"line {block.line + 1 + start}: here-document never ends ({m.group(2)})")
        out.append((block.line + 1 + start, "\n".join(cmd)))
        i += 1
    return out


class Session:
    """One bash process reading a page's commands one at a time, from a pipe of its own (so that a command that
    reads its standard input reads nothing of the commands after it)."""

    def __init__(self, cwd: Path, env: dict[str, str]):
        read, self._write = os.pipe()
        self.proc = subprocess.Popen(["bash", "--noprofile", "--norc", f"/dev/fd/{read}"], pass_fds=(read,),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     cwd=cwd, env=env, start_new_session=True)
        os.close(read)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put(raw.decode("utf-8", "replace"))
        self.lines.put(None)

    def run(self, command: str, timeout: float) -> tuple[int | None, str]:
        """The command's exit status (None: it timed out or ended the shell) and everything it printed."""
        mark = f"__docs_status_{uuid.uuid4().hex}"
        os.write(self._write, f"{command}\nprintf '\\n{mark} %d\\n' $?\n".encode())
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None, "".join(out) + f"\n[no end after {timeout:g} s]"
            if line is None:
                return None, "".join(out) + "\n[the shell ended]"
            if line.startswith(mark):
                text = "".join(out)
                return int(line.split()[1]), text[:-1] if text.endswith("\n") else text
            out.append(line)

    def close(self) -> None:
        try:
            os.close(self._write)
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever the page left running in its session (its process group)
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.proc.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`matcher serve` as a page's command asks for it, on a free port instead of the page's."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str]):
        argv = shlex.split(command)
        assert argv[:2] == ["matcher", "serve"], command
        self.shown_port = "8000"
        args = argv[2:]
        if "--port" in args:
            k = args.index("--port")
            self.shown_port = args[k + 1]
            del args[k:k + 2]
        self.port = free_port()
        self.log = cwd / "serve.log"
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen([str(BIN / "matcher"), "serve", *args, "--port", str(self.port)],
                                         cwd=cwd, env={**env, "MATCHER_SOLVE_WORKERS": "1"}, stdout=fh,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"`{command}` exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"`{command}` not ready after 60 s:\n{self.log.read_text()}")
            time.sleep(0.1)

    def address(self, text: str) -> str:
        for host in ("127.0.0.1", "localhost"):
            text = text.replace(f"{host}:{self.shown_port}", f"127.0.0.1:{self.port}")
        return text

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def _is_serve(command: str) -> bool:
    return command.split()[:2] == ["matcher", "serve"]


def _check_langs(page: Path, found: list[Block]) -> None:
    for k, b in enumerate(found):
        where = f"{_page_id(page)}:{b.line}"
        if b.lang == "sh":
            assert page.name == "README.md" and k == 0, f"{where}: use console (run) or text (shown), not sh"
            assert [ln.split("#")[0].strip() for ln in b.lines] == ["make demo", "make test"], where
        else:
            assert b.lang in SHOWN | {"console", "python"}, f"{where}: unknown block language {b.lang!r}"
        if b.lang == "console":
            stray = [ln for ln in b.lines if ln.strip() and not ln.startswith("$ ")]
            assert commands(b) or not stray, f"{where}: a console block without a `$ ` command"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = blocks(page)
    _check_langs(page, found)
    runnable = [b for b in found if b.lang in ("console", "python")]
    if not runnable:
        return
    for name in LINKED:
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    monkeypatch.chdir(tmp_path)  # the Python blocks' folder and environment are the commands'
    monkeypatch.setenv("PATH", env["PATH"])
    for k in [k for k in os.environ if k.startswith("MATCHER_")]:
        monkeypatch.delenv(k)
    session = Session(tmp_path, env)
    server: Server | None = None
    namespace: dict[str, object] = {"__name__": "__docs__"}
    try:
        for b in runnable:
            if b.lang == "python":
                source = "\n".join(b.lines)
                if server is not None:
                    source = server.address(source)
                code = compile("\n" * b.line + source, f"{_page_id(page)}", "exec")
                exec(code, namespace)  # the page's own example
                continue
            for line, command in commands(b):
                where = f"{_page_id(page)}:{line}: `{command}`"
                if _is_serve(command):
                    assert server is None, f"{where}: one server per page"
                    server = Server(command, tmp_path, env)
                    continue
                if server is not None:
                    command = server.address(command)
                status, output = session.run(command, COMMAND_SECONDS)
                assert status == 0, f"{where} exited with {status}:\n{output}"
    finally:
        session.close()
        if server is not None:
            server.stop()


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|^\[[^\]]+\]:\s*(\S+)", re.M)


def _prose(page: Path) -> str:
    """The page without its fenced blocks and inline code (a link shown as code is not a link)."""
    text, shown = [], True
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            shown = not shown
            continue
        if shown:
            text.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(text)


def _anchors(page: Path) -> set[str]:
    """Heading anchors as GitHub and mkdocs make them (they differ only in how runs of '-' are kept)."""
    out = set()
    for line in _prose(page).splitlines():
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).strip().replace(" ", "-")
            out |= {slug, re.sub(r"-+", "-", slug)}
    return out


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for m in LINK.finditer(_prose(page)):
        target = m.group(1) or m.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.name}")
        elif ROOT not in dest.parents and dest != ROOT:
            broken.append(f"{target}: outside the repository")
    assert not broken, f"{_page_id(page)}: " + "; ".join(broken)


def test_readme_starts_with_the_two_commands() -> None:
    lines = [ln for ln in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert lines[0].startswith("# ")
    assert lines[1] == "```sh"
    assert lines[2].startswith("make demo") and lines[3].startswith("make test") and lines[4] == "```"


def test_docs_pages_are_all_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    missing = [p.name for p in PAGES if p.parent.name == "docs" and not re.search(rf"\b{re.escape(p.name)}\b", nav)]
    assert not missing, f"docs pages not in mkdocs.yml's nav: {missing}"


def test_docs_site_builds(tmp_path: Path) -> None:
    done = subprocess.run([str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
