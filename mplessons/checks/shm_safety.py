"""Shared memory segments made while a check runs a student's function, and numpy views that outlive them.

``np.ndarray(shape, dtype, buffer=shm.buf)`` keeps a reference to the segment's ``mmap`` but holds no
buffer export on it, so ``shm.close()`` succeeds while such a view is alive and unmaps the memory under it:
the next read of the view is a segmentation fault, and the kernel dies. (``np.frombuffer(shm.buf)`` does
hold an export, and there ``close()`` raises ``BufferError``.) The helpers here find such views without
reading them, and make a ``close()`` with live views safe while a check is watching.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing import shared_memory
from typing import Any

import numpy as np

from ..lessons_shared import segment_exists
from .watch import patched


@dataclass
class Segment:
    """A SharedMemory object made during the watch: whether it was created, closed, unlinked, and the names
    of numpy views that were still alive when ``close()`` was called."""

    shm: shared_memory.SharedMemory
    name: str
    created: bool
    size: int
    closed: bool = False
    unlinked: bool = False
    views_at_close: list[str] = field(default_factory=list)


def _memory_owner(obj: Any) -> Any:
    """The object at the end of a numpy array's ``.base`` chain (for a view of shared memory: its mmap or
    memoryview); ``obj`` itself for anything that is not an array."""
    while isinstance(obj, np.ndarray) and obj.base is not None:
        obj = obj.base
    return obj


def _is_dead(array: np.ndarray) -> bool:
    """True when ``array``'s memory has been unmapped or released: reading it would crash or raise."""
    owner = _memory_owner(array)
    if isinstance(owner, mmap.mmap):
        return owner.closed
    if isinstance(owner, memoryview):
        try:
            owner.obj  # noqa: B018 - a released memoryview refuses every attribute
        except ValueError:
            return True
    return False


def _arrays_in(value: Any) -> Iterator[np.ndarray]:
    """Numpy arrays in ``value``: the value itself, or the items of a list, tuple, set or dict (one level)."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (list, tuple, set, frozenset)):
        yield from (v for v in value if isinstance(v, np.ndarray))
    elif isinstance(value, dict):
        yield from (v for v in value.values() if isinstance(v, np.ndarray))


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def user_namespace() -> dict[str, Any] | None:
    """The notebook's variables (IPython's user namespace), or None outside IPython."""
    return getattr(_shell(), "user_ns", None)


def drop_dead_views(namespace: dict[str, Any] | None = None) -> list[str]:
    """Remove from the notebook every name that refers to a numpy array whose shared memory is gone.

    Nothing is read from those arrays: reading one is what crashes the kernel. Output history (``Out``,
    ``_``, ``_5``) is searched too, since an array shown as a cell's result stays referenced there.
    """
    shell = _shell() if namespace is None else None
    namespace = getattr(shell, "user_ns", None) if namespace is None else namespace
    if not namespace:
        return []
    history = namespace.get("Out")
    dropped = []
    for name, value in list(namespace.items()):
        if value is history and isinstance(value, dict):  # Out and _oh: drop the entries, keep the dict
            for key, shown in list(value.items()):
                if any(_is_dead(a) for a in _arrays_in(shown)):
                    del value[key]
            continue
        if any(_is_dead(a) for a in _arrays_in(value)):
            del namespace[name]
            if not name.startswith("_"):
                dropped.append(name)
    hook = getattr(shell, "displayhook", None)
    for attribute in ("_", "__", "___"):  # IPython pushes these back into the namespace after each output
        value = getattr(hook, attribute, None)
        if isinstance(value, np.ndarray) and _is_dead(value):
            setattr(hook, attribute, "")
    return dropped


def _views_of(shm: shared_memory.SharedMemory, frames: Iterable[Any]) -> list[str]:
    """Names, in the given frames, of numpy arrays that still use ``shm``'s memory."""
    targets = {id(t) for t in (getattr(shm, "_mmap", None), getattr(shm, "_buf", None)) if t is not None}
    names = []
    for frame in frames:
        for name, value in list(frame.f_locals.items()):
            if any(id(_memory_owner(a)) in targets for a in _arrays_in(value)) and name not in names:
                names.append(name)
    return names


def _callers(frame: Any, limit: int = 6) -> list[Any]:
    """``frame`` (the code that called ``close()``) and its callers, up to the check that ran it."""
    frames = []
    while frame is not None and len(frames) < limit:
        if frame.f_globals.get("__name__", "").startswith("mplessons.checks"):
            break
        frames.append(frame)
        frame = frame.f_back
    return frames


def _close_keeping_mapping(shm: shared_memory.SharedMemory) -> None:
    """Close ``shm`` as far as its views allow: release its memoryview and file descriptor, but leave the
    mmap to the views that hold it, so it is unmapped when the last of them goes and never before."""
    if shm._buf is not None:
        shm._buf.release()
        shm._buf = None
    shm._mmap = None
    if getattr(shm, "_fd", -1) >= 0:
        os.close(shm._fd)
        shm._fd = -1


class SegmentWatch:
    """Within ``with SegmentWatch() as watch:``, record every SharedMemory made, closed and unlinked.

    A ``close()`` while numpy views in the calling code still use the segment is recorded with the views'
    names, and made safe: the memory stays mapped for those views (what ``close()`` cannot promise), so a
    later read of them cannot crash the kernel while the check runs the student's function.
    """

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self._patches: list[Any] = []

    def __enter__(self) -> SegmentWatch:
        watch, cls = self, shared_memory.SharedMemory
        original_init, original_close, original_unlink = cls.__init__, cls.close, cls.unlink

        def __init__(shm: Any, name: str | None = None, create: bool = False, size: int = 0, **kwargs: Any) -> None:
            original_init(shm, name, create, size, **kwargs)
            watch.segments.append(Segment(shm, shm.name, bool(create), shm.size))

        def close(shm: Any) -> None:
            segment = watch._segment(shm)
            views = _views_of(shm, _callers(sys._getframe(1))) if segment is not None and not segment.closed else []
            if segment is not None:
                segment.closed = True
                segment.views_at_close.extend(v for v in views if v not in segment.views_at_close)
            if views and hasattr(shm, "_mmap"):
                _close_keeping_mapping(shm)
            else:
                original_close(shm)

        def unlink(shm: Any) -> None:
            original_unlink(shm)
            segment = watch._segment(shm)
            if segment is not None:
                segment.unlinked = True

        for name, replacement in (("__init__", __init__), ("close", close), ("unlink", unlink)):
            patch = patched(cls, name, replacement)
            patch.__enter__()
            self._patches.append(patch)
        return self

    def __exit__(self, *exc: object) -> None:
        while self._patches:
            self._patches.pop().__exit__(None, None, None)

    def _segment(self, shm: Any) -> Segment | None:
        return next((s for s in self.segments if s.shm is shm), None)

    @property
    def created(self) -> list[Segment]:
        return [s for s in self.segments if s.created]

    def remove_leftovers(self) -> list[str]:
        """Unlink the created segments that still exist; returns their names."""
        left = []
        for segment in self.created:
            if segment_exists(segment.name):
                left.append(segment.name)
                with contextlib.suppress(FileNotFoundError):
                    segment.shm.unlink()
        return left
