"""Where a run's secrets come from: nbrun's environment, a secrets file, name patterns, the notebook.

Each reader returns :class:`~nbrun.secrets.values.Secret` values and raises
:class:`~nbrun.errors.SecretError` with a message that names the secret (or
the file and line), never a value.
"""

from __future__ import annotations

import fnmatch
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import SecretError
from .values import Secret, Secrets

DECLARED = ("nbrun", "secrets")  # metadata.nbrun.secrets: the names a notebook needs


def from_environment(spec: str, environ: Mapping[str, str]) -> Secret:
    """``NAME`` (the variable NAME) or ``NAME=ENVVAR`` (the kernel's NAME is nbrun's ENVVAR)."""
    name, _, variable = spec.partition("=")
    variable = variable or name
    value = environ.get(variable)
    if value is None:
        raise SecretError(f"--secret {spec}: the environment variable {variable} is not set")
    try:
        return Secret(name, value)
    except SecretError as exc:
        raise SecretError(f"--{exc}") from None  # "--secret NAME: its value is ..."


def from_file(path: Path) -> list[Secret]:
    """The ``NAME=value`` lines of *path* (``#`` comments, blank lines, ``export`` and quotes allowed).

    Refused when anyone but its owner may read or write it (as ssh refuses a key).
    """
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretError(
                f"secrets file {path} can be read by other users (mode {stat.S_IMODE(mode):04o}); chmod 600 {path}"
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SecretError(f"secrets file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SecretError(f"secrets file {path} is not UTF-8 text") from None
    secrets = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        name = name.strip()
        if not equals or not name:
            raise SecretError(f"secrets file {path}, line {number}: not NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        try:
            secrets.append(Secret(name, value))
        except SecretError as exc:
            raise SecretError(f"secrets file {path}, line {number}: {exc}") from None  # names, never the value
    return secrets


def matching_environment(patterns: Iterable[str], environ: Mapping[str, str]) -> list[Secret]:
    """``--redact-env``: nbrun's variables whose names match a glob (case-sensitive); empty ones have nothing to hide."""
    secrets = []
    patterns = tuple(patterns)
    for name, value in sorted(environ.items()):
        pattern = next((pattern for pattern in patterns if fnmatch.fnmatchcase(name, pattern)), None)
        if pattern is None or not value:
            continue
        try:
            secrets.append(Secret(name, value, keyed=False))
        except SecretError as exc:
            raise SecretError(f"--redact-env {pattern}: {exc}") from None
    return secrets


def gather(names: Iterable[str], files: Iterable[Path], patterns: Iterable[str], environ: Mapping[str, str]) -> Secrets:
    """The secrets of ``--redact-env``, ``--secrets-file`` and ``--secret``, the later winning on a name."""
    found = matching_environment(patterns, environ)
    for path in files:
        found.extend(from_file(path))
    found.extend(from_environment(spec, environ) for spec in names)
    return Secrets(found)


def declared_names(metadata: Mapping[str, Any]) -> list[str]:
    """``metadata.nbrun.secrets`` of a notebook (a name or a list of names)."""
    section: Any = metadata
    for part in DECLARED:
        section = section.get(part) if isinstance(section, Mapping) else None
    if isinstance(section, str):
        return [section]
    if isinstance(section, list):
        return [str(name) for name in section]
    return []


def with_declared(secrets: Secrets, metadata: Mapping[str, Any], environ: Mapping[str, str]) -> Secrets:
    """*secrets* and the notebook's declared ones not among them, from *environ* (SecretError names a missing one)."""
    missing = [name for name in declared_names(metadata) if name not in secrets.names]
    if not missing:
        return secrets
    absent = [name for name in missing if not environ.get(name)]
    if absent:
        names = ", ".join(absent)
        raise SecretError(
            f"the notebook needs the secret{'s' if len(absent) > 1 else ''} {names} (metadata.nbrun.secrets): "
            f"give --secret NAME, a --secrets-file, or set the environment variable"
        )
    return secrets.with_secrets(Secret(name, environ[name]) for name in missing)
