"""The VM's context CD-ROM image: ``context.sh`` and the ``FILES``, as ISO9660.

``spec/lifecycle-and-drivers.md`` §8.2. The core writes ``context.sh``
(:func:`one_core.api.write_context_sh`) and calls the TM driver's
``tm_context`` with it and the ``FILES`` entries; the driver makes the image
with :func:`context_image` (as 1.4's ``tm_context.sh`` ran ``mkisofs``)::

    with context_image(iso, sources) as image:   # iso: a prebuilt image or ""
        host.put(image, dst_path)

:func:`build_iso` writes ISO9660 + Joliet + Rock Ridge with pycdlib,
``context.sh`` and every ``FILES`` entry at the root, basenames kept.
:func:`prepare_context` does both steps in one directory (tests, tools).
Failures are :class:`~one_core.api.ContextError`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from one_core.api import ContextError, context_files, write_context_sh

URL_PREFIXES = ("http://", "https://", "ftp://")
"""Sources that are downloaded rather than copied."""


def is_url(source: str) -> bool:
    """Whether ``source`` is downloaded rather than copied."""
    return source.lower().startswith(URL_PREFIXES)


def _fetch(url: str, workdir: str, timeout: float) -> str:
    name = os.path.basename(url.split("?", 1)[0].rstrip("/")) or "index.html"
    path = os.path.join(tempfile.mkdtemp(dir=workdir), name)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(path, "wb") as out:
            shutil.copyfileobj(resp, out)
    except Exception as exc:
        raise ContextError(f"could not download {url}: {exc}") from exc
    return path


class _IsoNames:
    """Unique ISO9660 (level 3) and Joliet names per directory."""

    _ALLOWED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")

    def __init__(self) -> None:
        self._used: dict[str, set[str]] = {}

    def _clean(self, text: str) -> str:
        return "".join(c if c in self._ALLOWED else "_" for c in text.upper())

    def name(self, parent: str, base: str, is_dir: bool) -> tuple[str, str]:
        """``(iso_component, joliet_component)`` for ``base`` inside ``parent``."""
        used = self._used.setdefault(parent, set())
        stem, dot, ext = base.rpartition(".") if not is_dir else (base, "", "")
        if not stem:
            stem, ext = ext, ""
        stem, ext = self._clean(stem)[:24] or "_", self._clean(ext)[:5]
        for n in range(10000):
            tag = stem if n == 0 else f"{stem[:20]}_{n}"
            iso = tag if is_dir else f"{tag}.{ext}" if ext else tag
            if iso not in used:
                used.add(iso)
                break
        joliet_used = self._used.setdefault("joliet:" + parent, set())
        joliet = base[:64]
        for n in range(1, 10000):
            if joliet not in joliet_used:
                break
            joliet = f"{base[:58]}_{n}"
        joliet_used.add(joliet)
        return iso, joliet


def _add_tree(iso: Any, names: _IsoNames, source: str, parent_iso: str, parent_j: str) -> None:
    base = os.path.basename(source.rstrip("/"))
    is_dir = os.path.isdir(source)
    iso_name, joliet = names.name(parent_iso, base, is_dir)
    iso_path = f"{parent_iso.rstrip('/')}/{iso_name}"
    joliet_path = f"{parent_j.rstrip('/')}/{joliet}"
    if is_dir:
        iso.add_directory(iso_path, rr_name=base, joliet_path=joliet_path)
        for child in sorted(os.listdir(source)):
            _add_tree(iso, names, os.path.join(source, child), iso_path, joliet_path)
    else:
        iso.add_file(source, iso_path=f"{iso_path};1", rr_name=base, joliet_path=joliet_path)


def build_iso(path: str, sources: list[str]) -> str:
    """Write an ISO9660 image with Joliet and Rock Ridge holding ``sources`` at its root.

    Like 1.4's ``cp -R`` into a directory then ``mkisofs -J -R``: basenames
    are kept (Rock Ridge/Joliet names), directories are copied recursively,
    a later source with the same basename replaces an earlier one. Returns
    ``path``. Raises :class:`ContextError` when a source is missing.
    """
    import pycdlib

    chosen: dict[str, str] = {}
    for source in sources:
        if not os.path.exists(source):
            raise ContextError(f"could not add {source} to the context image: no such file")
        chosen[os.path.basename(source.rstrip("/"))] = source
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09")
    try:
        names = _IsoNames()
        for base in chosen:  # insertion order: last duplicate wins, first position kept
            _add_tree(iso, names, chosen[base], "/", "/")
        tmp = f"{path}.tmp"
        iso.write(tmp)
    except Exception as exc:
        raise ContextError(f"could not write context image {path}: {exc}") from exc
    finally:
        iso.close()
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class ContextImage:
    """What :func:`prepare_context` produced."""

    context_sh: str
    iso: str
    sources: list[str]
    """``context.sh`` then the ``FILES`` entries verbatim (1.4's prolog ``CONTEXT`` line)."""


def front_path(source: str) -> str:
    """A CONTEXT source as a front-end path: ``front:/p`` → ``/p``; ``/p`` and URLs unchanged."""
    if is_url(source) or source.startswith("/") or ":" not in source:
        return source
    return source.partition(":")[2]


def _local_sources(sources: list[str], work: str, timeout: float) -> list[str]:
    """``sources`` as local paths: URLs downloaded into ``work``, ``host:`` prefixes dropped."""
    return [_fetch(s, work, timeout) if is_url(s) else front_path(s) for s in sources]


def build_image(path: str, sources: list[str], *, download_timeout: float = 60.0) -> str:
    """:func:`build_iso` from CONTEXT sources (front-end paths, ``front:/p`` or URLs).

    ``http://``/``https://``/``ftp://`` entries are downloaded first, next
    to ``path``. Raises :class:`ContextError`.
    """
    folder = os.path.dirname(os.path.abspath(path))
    with tempfile.TemporaryDirectory(dir=folder, prefix=".context-") as work:
        return build_iso(path, _local_sources(sources, work, download_timeout))


@contextlib.contextmanager
def context_image(iso: str, sources: list[str], *, download_timeout: float = 60.0) -> Iterator[str]:
    """The context image a TM driver copies: ``iso`` when given, else one built from ``sources``.

    ``sources`` are ``tm_context``'s: ``context.sh`` then the ``FILES``
    entries. The image built here lives in a temporary directory removed
    when the ``with`` block ends. Raises :class:`ContextError`.
    """
    if iso:
        yield iso
        return
    if not sources:
        raise ContextError("no context image was built for this VM and no sources were given")
    with tempfile.TemporaryDirectory(prefix="one-context-") as work:
        yield build_image(
            os.path.join(work, "context.iso"), sources, download_timeout=download_timeout
        )


def prepare_context(
    vm_dir: str, context: Mapping[str, str], *, download_timeout: float = 60.0
) -> ContextImage:
    """Write ``<vm_dir>/context.sh`` and build ``<vm_dir>/context.iso`` from it and ``FILES``.

    The two steps of §8.2 in one call (the core writes ``context.sh``, the TM
    driver builds the image). Raises :class:`ContextError`.
    """
    sh_path = write_context_sh(vm_dir, context)
    files = context_files(context)
    iso_path = os.path.join(vm_dir, "context.iso")
    build_image(iso_path, [sh_path, *files], download_timeout=download_timeout)
    return ContextImage(context_sh=sh_path, iso=iso_path, sources=[sh_path, *files])
