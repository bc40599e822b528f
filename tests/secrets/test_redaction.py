"""Secrets without a kernel: their forms, the redactor, the redacting kernel wrapper, where secrets come from."""

from __future__ import annotations

import asyncio
import base64
import json
import pickle
from pathlib import Path
from urllib.parse import quote

import pytest

from nbrun.errors import SecretError
from nbrun.execution.executor import NotebookExecution
from nbrun.kernel.supply import KernelSupply
from nbrun.options import ExecuteOptions
from nbrun.result import ExecutionResult
from nbrun.secrets import Secret, Secrets
from nbrun.secrets.redaction import Redactor
from nbrun.secrets.sources import from_file, gather, matching_environment, with_declared
from nbrun.secrets.values import encoded_forms
from tests.support.fake_kernel import FakeKernel, Step, display, ok_cell, stream
from tests.support.notebooks import make_notebook

VALUE = "Tok3n/with+sym=bols!"


def run_with_secret(script: list[Step]) -> ExecutionResult:
    """One cell played by the scripted kernel, with VALUE as the secret API_KEY."""
    kernel = FakeKernel(script)

    async def start(name: str, cwd: Path, options: ExecuteOptions) -> FakeKernel:
        return kernel

    options = ExecuteOptions(secrets={"API_KEY": VALUE})
    return asyncio.run(NotebookExecution(make_notebook("x"), options, supply=KernelSupply(start)).run())  # type: ignore[arg-type]


def test_every_encoding_of_the_value_at_any_alignment_is_found() -> None:
    forms = encoded_forms(VALUE)
    raw = VALUE.encode()
    texts = [VALUE, raw.hex(), raw.hex().upper(), quote(VALUE, safe=""), json.dumps(VALUE)]
    for prefix in (b"", b"a", b"ab", b"abc"):  # the value inside a longer encoded payload
        texts.append(base64.b64encode(prefix + raw + b"tail").decode())
        texts.append(base64.urlsafe_b64encode(prefix + raw).decode())
    for text in texts:
        assert any(form in text for form in forms), text
    assert all(len(form) >= 6 for form in forms)


def test_the_redactor_replaces_in_nested_data_and_counts() -> None:
    redactor = Redactor(Secrets({"API_KEY": VALUE}))
    data = {"text/html": f"<b>{VALUE}</b>", "application/json": {"k": [VALUE, 1, None]}, "n": 3}
    assert redactor.data(data) == {
        "text/html": "<b>[secret API_KEY]</b>",
        "application/json": {"k": ["[secret API_KEY]", 1, None]},
        "n": 3,
    }
    assert redactor.data(VALUE.encode().hex().encode()) == b"[secret API_KEY]"
    assert redactor.count == 3
    assert redactor.text("nothing here") == "nothing here"
    assert redactor.unsafe_tail("printing Tok3n/") == len("Tok3n/")
    assert redactor.unsafe_tail("done.\n") == 0


def test_a_value_split_across_stream_messages_is_redacted_and_no_message_is_lost() -> None:
    result = run_with_secret(
        ok_cell(stream("token: " + VALUE[:7]), stream(VALUE[7:] + "\n"), display({"text/plain": VALUE}))
    )
    outputs = result.notebook.cells[0].outputs
    assert outputs[0]["text"] == "token: [secret API_KEY]\n"
    assert outputs[1]["data"] == {"text/plain": "[secret API_KEY]"}
    assert result.status == "ok" and result.redactions == 2
    assert result.notebook.metadata["nbrun"]["redactions"] == 2


def test_held_text_that_is_no_secret_goes_out_in_order() -> None:
    result = run_with_secret(
        ok_cell(stream("a Tok"), Step("iopub", "stream", {"name": "stderr", "text": "warn\n"}), stream("en\n"))
    )
    outputs = result.notebook.cells[0].outputs
    assert [(out["name"], out["text"]) for out in outputs] == [
        ("stdout", "a Tok"),
        ("stderr", "warn\n"),
        ("stdout", "en\n"),
    ]
    assert result.redactions == 0


def test_values_stay_out_of_every_repr_and_survive_pickling() -> None:
    options = ExecuteOptions(secrets={"API_KEY": VALUE})
    assert VALUE not in repr(options) and "API_KEY" in repr(options)
    assert VALUE not in repr(list(options.secrets))
    assert pickle.loads(pickle.dumps(options)).secrets.environment() == {"API_KEY": VALUE}


def test_short_values_and_bad_names_are_refused() -> None:
    with pytest.raises(SecretError, match="shorter than 6 characters"):
        ExecuteOptions(secrets={"PIN": "1234"})
    with pytest.raises(SecretError, match="not an environment variable name"):
        Secret("bad name", VALUE)


def test_the_keyed_digest_changes_with_the_value_and_hides_it() -> None:
    key = b"k" * 32
    first = Secrets({"API_KEY": VALUE}).keyed_digests(key)
    assert first == Secrets({"API_KEY": VALUE}).keyed_digests(key)
    assert first != Secrets({"API_KEY": VALUE + "x"}).keyed_digests(key)
    assert VALUE not in json.dumps(first)
    assert Secrets(matching_environment(["*_TOKEN"], {"A_TOKEN": VALUE})).keyed_digests(key) == {}


def test_a_secrets_file_is_read_and_refused_when_others_can_read_it(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text(f"# comment\n\nexport DB_PASSWORD='{VALUE}'\nAPI_KEY = \"{VALUE}2\"\n")
    path.chmod(0o600)
    assert {secret.name: secret.value for secret in from_file(path)} == {"DB_PASSWORD": VALUE, "API_KEY": VALUE + "2"}
    path.chmod(0o640)
    with pytest.raises(SecretError, match=r"can be read by other users \(mode 0640\); chmod 600"):
        from_file(path)
    path.chmod(0o600)
    path.write_text("JUST_A_NAME\n")
    with pytest.raises(SecretError, match="line 1: not NAME=value"):
        from_file(path)


def test_flags_combine_and_declared_names_come_from_the_environment() -> None:
    environ = {"GH_TOKEN": VALUE, "OTHER": VALUE + "o", "EMPTY_TOKEN": ""}
    secrets = gather(["API_KEY=OTHER"], [], ["*_TOKEN"], environ)
    assert secrets.environment() == {"GH_TOKEN": VALUE, "API_KEY": VALUE + "o"}
    with pytest.raises(SecretError, match="--secret MISSING: the environment variable MISSING is not set"):
        gather(["MISSING"], [], [], environ)
    declared = with_declared(Secrets(), {"nbrun": {"secrets": ["GH_TOKEN"]}}, environ)
    assert declared.names == ("GH_TOKEN",)
    with pytest.raises(SecretError, match=r"needs the secret DB_PASSWORD \(metadata.nbrun.secrets\)") as caught:
        with_declared(Secrets(), {"nbrun": {"secrets": ["GH_TOKEN", "DB_PASSWORD"]}}, environ)
    assert VALUE not in str(caught.value)


def test_a_keyed_secret_is_left_out_of_the_recorded_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key holds the kernel's value; nbrun's own variable of that name (``--secret NAME=OTHER``) must not count."""
    from nbrun.cache.reads import snapshot
    from nbrun.execution.kernel_reads import KernelReads

    monkeypatch.setenv("API_KEY", "nbrun's own, not the kernel's")
    stored = snapshot(KernelReads(env=("API_KEY", "REGION")), b"k" * 32, keyed=("API_KEY",))
    assert list(stored["env"]) == ["REGION"]
    assert list(snapshot(KernelReads(env=("API_KEY", "REGION")), b"k" * 32)["env"]) == ["API_KEY", "REGION"]
