"""``--expect 'accuracy >= 0.88'``: a small grammar over recorded values, parsed here, never ``eval``-ed.

    expectation := test ("or" test)*            test := clause ("and" clause)*
    clause      := "(" expectation ")" | operand OP operand | operand ["not"] "in" list
    operand     := NAME | literal               list := "[" [literal ("," literal)*] "]"
    literal     := number | 'string' | "string" | true | false | null
    OP          := == != < <= > >=

A name is a recorded value; one never recorded fails the expectation, saying
so. Comparing values of kinds that do not order (a string with a number) fails
too, with the values seen.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<op>==|!=|<=|>=|<|>)
    | (?P<punct>[\[\](),])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_LITERALS = {"true": True, "True": True, "false": False, "False": False, "null": None, "None": None}
_KEYWORDS = {"and", "or", "not", "in"}


class ExpectationSyntaxError(ValueError):
    """An expectation that is not in the grammar; the message says where."""


class _Missing(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Compare:
    left: Name | Literal
    op: str
    right: Name | Literal | tuple[Any, ...]  # a tuple: the literal list of ``in`` / ``not in``


@dataclass(frozen=True)
class Combine:
    op: str  # "and" / "or"
    parts: tuple[Node, ...]


Node = Compare | Combine


@dataclass(frozen=True)
class Verdict:
    """How one expectation went: passed, and the message when it did not."""

    expectation: str
    passed: bool
    message: str = ""
    seen: Mapping[str, Any] | None = None  # the recorded values it named, as they were

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"expect": self.expectation, "passed": self.passed}
        if self.message:
            data["message"] = self.message
        if self.seen:
            data["seen"] = dict(self.seen)
        return data


@dataclass(frozen=True)
class Expectation:
    """A parsed expectation; :meth:`check` it against a run's recorded values."""

    text: str
    tree: Node

    def names(self) -> list[str]:
        found: list[str] = []
        _collect_names(self.tree, found)
        return list(dict.fromkeys(found))

    def check(self, values: Mapping[str, Any]) -> Verdict:
        seen = {name: values[name] for name in self.names() if name in values}
        try:
            passed = _evaluate(self.tree, values)
        except _Missing as missing:
            recorded = ", ".join(sorted(values)) or "none"
            message = (
                f"expectation {self.text!r} names {missing.name}, which the notebook never recorded "
                f"(recorded: {recorded})"
            )
            return Verdict(self.text, False, message, seen)
        except TypeError:
            return Verdict(
                self.text, False, f"expectation {self.text!r} compares values that do not order: {_shown(seen)}", seen
            )
        if passed:
            return Verdict(self.text, True, "", seen)
        return Verdict(self.text, False, f"expectation {self.text!r} failed: {_shown(seen) or 'no value named'}", seen)


def parse_expectation(text: str) -> Expectation:
    """Parse *text*; ExpectationSyntaxError says what is wrong and where."""
    tokens = _tokens(text)
    parser = _Parser(text, tokens)
    tree = parser.expectation()
    if parser.position != len(tokens):
        parser.fail("unexpected", tokens[parser.position][1])
    return Expectation(text, tree)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            column = len(text) - len(text[position:].lstrip()) + 1
            raise ExpectationSyntaxError(f"expectation {text!r}: cannot read it at column {column}")
        kind = match.lastgroup or ""
        word = match.group(kind)
        tokens.append(("keyword" if kind == "name" and word in _KEYWORDS else kind, word))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, tokens: list[tuple[str, str]]) -> None:
        self.text, self.tokens, self.position = text, tokens, 0

    def fail(self, problem: str, near: str | None = None) -> None:
        where = f" near {near!r}" if near is not None else " at its end"
        raise ExpectationSyntaxError(
            f'expectation {self.text!r}: {problem}{where} (write e.g. \'accuracy >= 0.9 and name in ["a", "b"]\')'
        )

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, word: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (word is not None and token[1] != word):
            self.fail(f"expected {word!r}" if word else "incomplete", token[1] if token else None)
        assert token is not None
        self.position += 1
        return token

    def expectation(self) -> Node:
        return self.joined("or", self.test)

    def test(self) -> Node:
        return self.joined("and", self.clause)

    def joined(self, keyword: str, part: Callable[[], Node]) -> Node:
        """``part (keyword part)*``: one part as it is, several as a Combine."""
        parts = [part()]
        while self.peek() == ("keyword", keyword):
            self.take()
            parts.append(part())
        return parts[0] if len(parts) == 1 else Combine(keyword, tuple(parts))

    def clause(self) -> Node:
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.expectation()
            self.take(")")
            return inner
        left = self.operand()
        token = self.peek()
        if token is not None and token[0] == "op":
            self.take()
            return Compare(left, token[1], self.operand())
        if token == ("keyword", "not"):
            self.take()
            self.take("in")
            return Compare(left, "not in", self.literal_list())
        if token == ("keyword", "in"):
            self.take()
            return Compare(left, "in", self.literal_list())
        self.fail("expected a comparison (== != < <= > >=, in, not in)", token[1] if token else None)
        raise AssertionError  # unreachable: fail raises

    def operand(self) -> Name | Literal:
        kind, word = self.take()
        if kind == "name":
            return Literal(_LITERALS[word]) if word in _LITERALS else Name(word)
        if kind in ("number", "string"):
            return Literal(_literal(kind, word))
        self.fail("expected a value name or a literal", word)
        raise AssertionError

    def literal_list(self) -> tuple[Any, ...]:
        self.take("[")
        items: list[Any] = []
        while self.peek() != ("punct", "]"):
            kind, word = self.take()
            if kind in ("number", "string"):
                items.append(_literal(kind, word))
            elif kind == "name" and word in _LITERALS:
                items.append(_LITERALS[word])
            else:
                self.fail("a list holds literals only", word)
            if self.peek() == ("punct", ","):
                self.take()
            elif self.peek() != ("punct", "]"):
                self.fail("expected ',' or ']'", self.peek()[1] if self.peek() else None)  # type: ignore[index]
        self.take("]")
        return tuple(items)


def _literal(kind: str, word: str) -> Any:
    if kind == "number":
        return float(word) if any(mark in word for mark in ".eE") else int(word)
    body = word[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _value(operand: Name | Literal, values: Mapping[str, Any]) -> Any:
    if isinstance(operand, Literal):
        return operand.value
    if operand.name not in values:
        raise _Missing(operand.name)
    return values[operand.name]


def _evaluate(node: Node, values: Mapping[str, Any]) -> bool:
    if isinstance(node, Combine):
        results = (_evaluate(part, values) for part in node.parts)
        return all(results) if node.op == "and" else any(results)
    left = _value(node.left, values)
    if isinstance(node.right, tuple):
        inside = any(_same(left, item) for item in node.right)
        return inside if node.op == "in" else not inside
    right = _value(node.right, values)
    if node.op in ("==", "!="):
        return _same(left, right) == (node.op == "==")
    if isinstance(left, bool) or isinstance(right, bool) or type(left) is not type(right) and not _numbers(left, right):
        raise TypeError("values of different kinds do not order")
    return _COMPARE[node.op](left, right)


def _numbers(*values: Any) -> bool:
    return all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values)


def _same(left: Any, right: Any) -> bool:
    """Equality as JSON sees it: ``1 == 1.0``, but ``true`` is not ``1``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    return bool(left == right)


def _collect_names(node: Node, found: list[str]) -> None:
    if isinstance(node, Combine):
        for part in node.parts:
            _collect_names(part, found)
        return
    for operand in (node.left, node.right):
        if isinstance(operand, Name):
            found.append(operand.name)


def _shown(seen: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} is {value!r}" for name, value in seen.items())
