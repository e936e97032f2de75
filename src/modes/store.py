"""Content-addressed artifact store.

Artifacts are keyed by a stable hash of the request (an attrs config plus a component version),
written atomically (temp file + rename) in safe formats only (``.npz`` without pickles, JSON,
safetensors), and guarded by a file lock so that concurrent pytest-xdist workers compute each
artifact once while the others wait. A corrupt entry is reported and recomputed.

Kept instead of ``joblib.Memory`` (the library cache closest to it): joblib keys an entry by the
function's code and its pickled arguments and stores pickles, while this store keys by the typed
stage config and the component's registered version (a third-party component's new version
invalidates its artifacts; an edit of a comment does not), loads nothing executable, and lets
concurrent xdist workers compute an artifact once (joblib has no lock: each would compute it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from filelock import FileLock

log = logging.getLogger(__name__)

ENV_VAR = "MODES_CACHE"
DEFAULT_DIR = ".modes-cache"

Arrays = dict[str, np.ndarray]


class CorruptArtifactWarning(UserWarning):
    """An artifact on disk could not be read back; it is removed and recomputed."""


def _canonical(obj: Any) -> Any:
    """A JSON-able, order-stable view of a request (attrs classes, mappings, sequences, scalars)."""
    if attrs.has(type(obj)):
        return {"__type__": type(obj).__qualname__, **_canonical(attrs.asdict(obj, recurse=False))}
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest(),
                "shape": list(obj.shape), "dtype": str(obj.dtype)}
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    raise TypeError(f"cannot hash request field of type {type(obj).__name__}: {obj!r}")


def request_key(request: Any, version: str = "1") -> str:
    """Stable hex digest of ``request`` (attrs config or plain data) and a component ``version``."""
    payload = json.dumps({"request": _canonical(request), "version": version}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def default_root() -> Path:
    return Path(os.environ.get(ENV_VAR, DEFAULT_DIR))


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def save_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically as an uncompressed, pickle-free ``.npz``."""
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"array {name!r} has dtype object; only numeric arrays are stored")

    payload: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **payload)

    _atomic_write(path, write)


def load_npz(path: Path) -> Arrays:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def save_json(path: Path, obj: Any) -> None:
    text = json.dumps(obj, indent=2, sort_keys=True, default=_json_default)
    def write(tmp: Path) -> None:
        tmp.write_text(text)

    _atomic_write(path, write)


def _json_default(obj: Any) -> Any:
    if attrs.has(type(obj)):
        return attrs.asdict(obj)
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


@attrs.frozen
class ArtifactStore:
    """A directory of artifacts ``<root>/<kind>/<key>.npz`` (+ ``.json`` metadata)."""

    root: Path = attrs.field(factory=default_root, converter=Path)

    def path(self, kind: str, key: str, suffix: str = ".npz") -> Path:
        if not kind or "/" in kind or kind.startswith("."):
            raise ValueError(f"artifact kind must be a plain name, got {kind!r}")
        return self.root / kind / f"{key}{suffix}"

    @contextmanager
    def lock(self, kind: str, key: str) -> Iterator[None]:
        lock_path = self.path(kind, key, ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock_path)):
            yield

    def load(self, kind: str, key: str) -> Arrays | None:
        """The stored arrays, or None when absent. A corrupt file is reported, removed, None."""
        path = self.path(kind, key)
        if not path.exists():
            return None
        try:
            return load_npz(path)
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
            warnings.warn(
                f"corrupt artifact {path} ({type(err).__name__}: {err}); removing and recomputing",
                CorruptArtifactWarning,
                stacklevel=2,
            )
            path.unlink(missing_ok=True)
            return None

    def save(self, kind: str, key: str, arrays: Mapping[str, np.ndarray],
             meta: Mapping[str, Any] | None = None) -> None:
        if meta is not None:
            save_json(self.path(kind, key, ".json"), dict(meta))
        save_npz(self.path(kind, key), arrays)

    def load_meta(self, kind: str, key: str) -> dict[str, Any] | None:
        path = self.path(kind, key, ".json")
        if not path.exists():
            return None
        try:
            loaded: dict[str, Any] = json.loads(path.read_text())
            return loaded
        except json.JSONDecodeError:
            return None

    def get_or_compute(self, kind: str, request: Any, compute: Callable[[], Mapping[str, Any]],
                       version: str = "1") -> Arrays:
        """Arrays for ``request``: loaded when cached, else computed once (under a lock), stored.

        Progress goes to the ``modes.store`` logger (INFO when a stage is computed: pytest shows
        it with ``--log-cli-level=INFO`` and in a failing test's captured log; DEBUG on a hit)."""
        key = request_key(request, version)
        cached = self.load(kind, key)
        if cached is not None:
            log.debug("loaded %s %s", kind, key)
            return cached
        with self.lock(kind, key):
            cached = self.load(kind, key)  # another worker may have finished while we waited
            if cached is not None:
                log.debug("loaded %s %s (computed meanwhile by another process)", kind, key)
                return cached
            log.info("computing %s %s", kind, key)
            started = time.perf_counter()
            arrays = {k: np.asarray(v) for k, v in compute().items()}
            self.save(kind, key, arrays, meta={"request": _canonical(request), "version": version})
            log.info("stored %s %s after %.1f s", kind, key, time.perf_counter() - started)
            return arrays

    def delete(self, kind: str, key: str) -> None:
        for suffix in (".npz", ".json"):
            self.path(kind, key, suffix).unlink(missing_ok=True)
