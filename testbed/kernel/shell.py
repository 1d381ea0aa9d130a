"""Running commands in the guest, optionally inside a network namespace."""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass


class CommandError(RuntimeError):
    """A command exited non-zero; carries its output."""

    def __init__(self, argv: list[str], code: int, output: str) -> None:
        super().__init__(f"{shlex.join(argv)} exited {code}: {output.strip()[-2000:]}")
        self.argv = argv
        self.code = code
        self.output = output


@dataclass(frozen=True)
class Netns:
    """A network namespace by name (None: the initial one)."""

    name: str | None = None

    def wrap(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv] if self.name else list(argv)


ROOT = Netns()


async def run(*argv: str, netns: Netns = ROOT, check: bool = True, timeout: float = 60) -> str:
    """Run a command to completion; return stdout+stderr."""
    full = netns.wrap(list(argv))
    proc = await asyncio.create_subprocess_exec(
        *full, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise CommandError(full, -9, f"timed out after {timeout}s") from None
    text = out.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise CommandError(full, proc.returncode or 0, text)
    return text


async def spawn(*argv: str, netns: Netns = ROOT, log: str | None = None) -> asyncio.subprocess.Process:
    """Start a long-running command; its output goes to ``log`` (or nowhere)."""
    out = open(log, "ab") if log else asyncio.subprocess.DEVNULL
    try:
        return await asyncio.create_subprocess_exec(
            *netns.wrap(list(argv)), stdin=asyncio.subprocess.DEVNULL,
            stdout=out, stderr=asyncio.subprocess.STDOUT,
        )
    finally:
        if log:
            out.close()


async def stop(proc: asyncio.subprocess.Process, timeout: float = 5) -> None:
    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()


async def read_sysfs(path: str, netns: Netns = ROOT) -> str:
    if netns.name is None:
        with open(path) as f:
            return f.read().strip()
    return (await run("cat", path, netns=netns)).strip()
