"""Where a notebook or report lives: a local path or a URL read and written through fsspec.

A :class:`Location` is a URL (``s3://bucket/key``, ``gs://…``, ``https://…``,
``memory://…``); local paths stay :class:`pathlib.Path`. ``Where`` is either.
Writes are whole: the content is written to a local file first and uploaded
with one ``put_file``, so the object appears complete or not at all. When the
upload fails the local file is kept and the error names it. Credentials come
from the filesystem's own configuration (environment, profiles, fsspec's
``FSSPEC_<PROTOCOL>_…`` variables); :attr:`Location.display` strips any that
a URL carries, and nothing here prints.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import posixpath
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import LocationError, MissingExtraError, NotebookReadError, UploadError
from .atomic import write_text_atomic
from .location_failures import describe_failure, first_line

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

REMOTE_EXTRA_HINT = "pip install 'jupyter-nbrun[remote]'"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]{1,}://")


def is_url(text: str | os.PathLike[str]) -> bool:
    """True for ``scheme://…`` (``file://`` included)."""
    return isinstance(text, str) and bool(_URL.match(text))


READ_ONLY_PROTOCOLS = ("http", "https")  # fsspec's HTTP filesystem reads; a write ends in an unrelated error


@dataclass(frozen=True)
class Location:
    """A remote object or folder, named by its URL."""

    url: str

    @classmethod
    def parse(cls, text: str) -> Location:
        """A Location for *text*; raises MissingExtraError / LocationError for unusable URLs."""
        location = cls(text)
        location.check_available()
        return location

    @property
    def protocol(self) -> str:
        return self.url.split("://", 1)[0].lower()

    @property
    def display(self) -> str:
        """The URL without user, password or query string: safe to print and store."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))

    def __str__(self) -> str:
        return self.display

    # The part of pathlib's interface the batch and reports use.
    @property
    def name(self) -> str:
        return posixpath.basename(self._path().rstrip("/"))

    @property
    def stem(self) -> str:
        return posixpath.splitext(self.name)[0]

    @property
    def suffix(self) -> str:
        return posixpath.splitext(self.name)[1]

    @property
    def parent(self) -> Location:
        return self._with_path(posixpath.dirname(self._path().rstrip("/")))

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(part for part in self._path().split("/") if part)

    def __truediv__(self, part: str | os.PathLike[str]) -> Location:
        relative = Path(part).as_posix()
        return self._with_path(posixpath.join(self._path().rstrip("/") + "/", relative))

    def with_suffix(self, suffix: str) -> Location:
        return self.parent / (self.stem + suffix)

    def resolve(self) -> Location:
        return self

    def as_posix(self) -> str:
        return self.display

    def relative_to(self, folder: Location) -> Path:
        """The path of this location below *folder* (ValueError when it is not below)."""
        base = folder._path().rstrip("/") + "/"
        if self.protocol != folder.protocol or not self._path().startswith(base):
            raise ValueError(f"{self} is not below {folder}")
        return Path(self._path()[len(base) :])

    def _path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path or "/"

    def _with_path(self, path: str) -> Location:
        parts = urlsplit(self.url)
        return Location(urlunsplit((parts.scheme, parts.netloc, path or "/", parts.query, "")))

    # Filesystem access.
    def check_available(self) -> None:
        """Raise MissingExtraError / LocationError unless fsspec and this scheme's package are installed.

        Looks the package up without importing it (s3fs and gcsfs are slow to import).
        """
        try:
            from fsspec.registry import known_implementations, registry
        except ImportError:
            raise MissingExtraError(f"the URL {self.display}", "remote") from None
        if self.protocol in registry:
            return
        known = known_implementations.get(self.protocol)
        if known is None:
            raise LocationError(f"{self.display}: no filesystem is known for {self.protocol}://")
        package = str(known["class"]).split(".", 1)[0]
        if importlib.util.find_spec(package) is None:
            raise LocationError(f"{self.display}: {known.get('err') or f'install {package} to use {self.protocol}://'}")

    def filesystem_class(self) -> type[AbstractFileSystem]:
        try:
            import fsspec
        except ImportError:
            raise MissingExtraError(f"the URL {self.display}", "remote") from None
        try:
            return fsspec.get_filesystem_class(self.protocol)  # type: ignore[no-any-return]
        except ValueError:
            raise LocationError(f"{self.display}: no filesystem is known for {self.protocol}://") from None
        except ImportError as exc:
            raise LocationError(f"{self.display}: {first_line(exc)}") from None

    def filesystem(self) -> tuple[AbstractFileSystem, str]:
        """The fsspec filesystem (configured the fsspec way) and this object's path on it."""
        from fsspec.core import url_to_fs

        self.filesystem_class()
        try:
            fs, path = url_to_fs(self.url)
        except Exception as exc:  # noqa: BLE001 - a filesystem's constructor can raise anything
            raise LocationError(f"{self.display}: {first_line(exc)}") from None
        return fs, path

    def read_bytes(self) -> bytes:
        """The object's content; NotebookReadError with one line if it cannot be read."""
        fs, path = self.filesystem()
        try:
            return fs.cat_file(path)  # type: ignore[no-any-return]
        except Exception as exc:  # noqa: BLE001 - filesystems raise their own types
            raise NotebookReadError(
                self.display, describe_failure(exc, "read", http=self.protocol in ("http", "https"))
            ) from None

    def exists(self) -> bool:
        fs, path = self.filesystem()
        try:
            return bool(fs.exists(path))
        except Exception as exc:  # noqa: BLE001
            raise NotebookReadError(self.display, describe_failure(exc, "read")) from None

    def glob(self) -> list[Location]:
        """The objects matching this URL's glob pattern, sorted."""
        fs, path = self.filesystem()
        try:
            matches = sorted(fs.glob(path))
        except Exception as exc:  # noqa: BLE001
            raise NotebookReadError(self.display, describe_failure(exc, "list")) from None
        return [Location(fs.unstrip_protocol(match)) for match in matches]

    def upload(self, local: Path) -> None:
        """Put the finished file *local* here in one piece; UploadError keeps *local*."""
        fs, path = self.filesystem()
        try:
            parent = posixpath.dirname(path)
            if parent and not _is_object_store(fs):
                fs.makedirs(parent, exist_ok=True)
            fs.put_file(str(local), path)
        except Exception as exc:  # noqa: BLE001
            raise UploadError(
                self.display, f"{describe_failure(exc, 'write')}; what was to be written is kept in {local}", kept=local
            ) from None
        invalidate = getattr(fs, "invalidate_cache", None)
        if invalidate is not None:
            invalidate(path)


Where = Path | Location


def as_where(text: str | os.PathLike[str] | Location) -> Where:
    """A Location for a URL, else a Path (``file://`` URLs become paths)."""
    if isinstance(text, (Path, Location)):
        return text
    text = os.fspath(text)
    if is_url(text):
        if text.lower().startswith("file://"):
            return Path(urlsplit(text).path)
        return Location.parse(text)
    return Path(text)


def write_chunks(pieces: str | Iterable[str], where: Location) -> None:
    """Write text (whole or in pieces) to *where*: a local staging file, then one upload."""
    staging = keep_folder() / f"{where.stem}-{uuid.uuid4().hex[:12]}{where.suffix}"
    write_text_atomic(pieces, staging)
    where.upload(staging)
    staging.unlink(missing_ok=True)


def write_text(text: str | Iterable[str], where: Where) -> None:
    """Write a report or notebook to a path (atomically) or a URL (whole-object upload)."""
    if isinstance(where, Location):
        write_chunks(text, where)
    else:
        write_text_atomic(text, where)


def keep_folder() -> Path:
    """Where staged uploads wait; kept (not a temp folder that vanishes) so a failed upload loses nothing."""
    folder = Path(os.environ.get("NBRUN_KEEP_DIR") or Path(tempfile.gettempdir()) / f"nbrun-uploads-{os.getuid()}")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


_SCRATCH: list[Path] = []


def scratch_folder(prefix: str) -> Path:
    """A private temporary folder removed when the process ends (a remote notebook's kernel cwd)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if not _SCRATCH:
        atexit.register(_remove_scratch)
    _SCRATCH.append(folder)
    return folder


def kernel_cwd(source: Where) -> Path:
    """The kernel's default working folder: the notebook's folder, or a local scratch folder for a URL."""
    if isinstance(source, Location):
        return scratch_folder("nbrun-cwd-")
    return source.resolve().parent


def _remove_scratch() -> None:
    for folder in _SCRATCH:
        shutil.rmtree(folder, ignore_errors=True)


def _is_object_store(fs: AbstractFileSystem) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    return bool({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl"} & set(protocols))


def common_folder(wheres: list[Where]) -> Where | None:
    """The deepest folder holding all *wheres* (None when they are on different stores)."""
    if all(isinstance(w, Path) for w in wheres):
        folders = [str(w.resolve().parent) for w in wheres if isinstance(w, Path)]
        return Path(os.path.commonpath(folders)) if folders else Path.cwd()
    urls = [w for w in wheres if isinstance(w, Location)]
    if len(urls) != len(wheres):
        return None
    roots = {(urlsplit(u.url).scheme, urlsplit(u.url).netloc) for u in urls}
    if len(roots) != 1:
        return None
    common = posixpath.commonpath([posixpath.dirname(u._path()) or "/" for u in urls])
    return urls[0]._with_path(common)


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """*text* as UTF-8-writable text: an undecodable byte of a name (``os.fsdecode``'s surrogate escape) as ``\\xNN``.

    Any other lone surrogate becomes ``\\uXXXX``. Reports (JSON, JUnit, events,
    the run page, the terminal) show names this way; the names themselves
    keep their surrogate escapes, so the files are still found.
    """
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(_spelled, text)


def _spelled(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def printable_data(value: Any) -> Any:
    """A JSON-ready *value* with every string in it (keys too) made :func:`printable`."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_data(key): printable_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_data(item) for item in value]
    return value


def is_below(where: Where, root: Where) -> bool:
    """Whether *where*, its ``.`` and ``..`` resolved, is *root* or inside it (both paths, or URLs of one store)."""
    if isinstance(where, Path) and isinstance(root, Path):
        inner, outer = os.path.abspath(where), os.path.abspath(root)
        return os.path.commonpath([inner, outer]) == outer
    if isinstance(where, Location) and isinstance(root, Location):
        a, b = urlsplit(where.url), urlsplit(root.url)
        if (a.scheme.lower(), a.netloc) != (b.scheme.lower(), b.netloc):
            return False
        inner, outer = posixpath.normpath(a.path or "/"), posixpath.normpath(b.path or "/").rstrip("/")
        return inner == outer or inner.startswith(outer + "/")
    return False


def where_name(where: Where) -> Path | str:
    """How messages name *where*: the path, or the URL without credentials."""
    return where.display if isinstance(where, Location) else where
