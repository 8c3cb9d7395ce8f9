"""Safe arithmetic expressions for derived scales and score transforms.

An expression is parsed with ``ast.parse(text, mode="eval")`` and every node is checked
against a small allow-list; nothing is ever handed to ``eval``/``exec``. Allowed:

- numbers (int or float literals; not booleans, strings or anything else);
- names: the codes of other scales in a derived scale, only ``raw`` in a transform;
- ``+ - * /`` and unary ``-``/``+``;
- comparisons ``< <= > >= == !=`` (chains allowed), giving 1 or 0;
- ``and``, ``or``, ``not``, giving 1 or 0 (both sides of and/or are always evaluated);
- ``a if condition else b``;
- calls: ``floor(x)``, ``ceil(x)``, ``round(x)`` (half to even), ``abs(x)``,
  ``min(a, b, ...)``, ``max(a, b, ...)``.

Missing values: an operand that is missing (``None``; NaN in vectorised evaluation)
makes the result missing, and so does division by zero. ``a if c else b`` depends only on
``c`` and the branch chosen. The scalar and the vectorised evaluators follow the same rules,
so ``scoring.score()`` and ``scoring.score_frame()`` agree.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
from collections.abc import Callable, Iterable, Mapping

import numpy as np

MAX_LENGTH = 1000
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    # name: (minimum, maximum) number of arguments
    "floor": (1, 1),
    "ceil": (1, 1),
    "round": (1, 1),
    "abs": (1, 1),
    "min": (2, None),
    "max": (2, None),
}
RESERVED_NAMES = frozenset(FUNCTIONS) | {"raw"}

Scalar = int | float | None
ScalarFn = Callable[[Mapping[str, Scalar]], Scalar]
VectorFn = Callable[[Mapping[str, np.ndarray]], np.ndarray]

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_SCALAR_CALLS: dict[str, Callable[..., int | float]] = {
    "floor": math.floor,
    "ceil": math.ceil,
    "round": round,
    "abs": abs,
    "min": min,
    "max": max,
}
_VECTOR_CALLS: dict[str, Callable[..., np.ndarray]] = {
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,  # half to even, like Python's round()
    "abs": np.abs,
    "min": lambda *args: functools.reduce(np.minimum, args),
    "max": lambda *args: functools.reduce(np.maximum, args),
}


class ExpressionError(ValueError):
    """The expression uses syntax or names outside the allowed set."""


class Expression:
    """A validated expression; ``names`` are the variables it reads."""

    def __init__(self, text: str, allowed_names: Iterable[str]) -> None:
        if not isinstance(text, str) or not text.strip():
            raise ExpressionError("expression is empty")
        if len(text) > MAX_LENGTH:
            raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"{text!r} is not a valid expression: {exc.msg}") from None
        allowed = frozenset(allowed_names)
        self.text = text
        self.names: frozenset[str] = frozenset(_check(tree.body, allowed, text))
        self._scalar = _compile_scalar(tree.body)
        self._vector = _compile_vector(tree.body)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def evaluate(self, env: Mapping[str, Scalar]) -> Scalar:
        """Evaluate with plain numbers; ``None`` means missing."""
        return self._scalar(env)

    def evaluate_vector(self, env: Mapping[str, np.ndarray], size: int) -> np.ndarray:
        """Evaluate over float arrays of length ``size``; NaN means missing."""
        return np.broadcast_to(self._vector(env), (size,)).astype(float)


def _check(node: ast.AST, allowed: frozenset[str], text: str) -> set[str]:
    """Reject every node outside the grammar; return the names read."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ExpressionError(f"{text!r}: only numeric constants are allowed")
        return set()
    if isinstance(node, ast.Name):
        if node.id not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise ExpressionError(f"{text!r}: unknown name {node.id!r} (allowed: {known})")
        return {node.id}
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY and not isinstance(node.op, ast.Div):
            raise ExpressionError(f"{text!r}: only + - * / are allowed")
        return _check(node.left, allowed, text) | _check(node.right, allowed, text)
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            raise ExpressionError(f"{text!r}: only unary -, + and not are allowed")
        return _check(node.operand, allowed, text)
    if isinstance(node, ast.Compare):
        if any(type(op) not in _COMPARE for op in node.ops):
            raise ExpressionError(f"{text!r}: only < <= > >= == != comparisons are allowed")
        names = _check(node.left, allowed, text)
        for comparator in node.comparators:
            names |= _check(comparator, allowed, text)
        return names
    if isinstance(node, ast.BoolOp):
        names: set[str] = set()
        for value in node.values:
            names |= _check(value, allowed, text)
        return names
    if isinstance(node, ast.IfExp):
        return (
            _check(node.test, allowed, text)
            | _check(node.body, allowed, text)
            | _check(node.orelse, allowed, text)
        )
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExpressionError(
                f"{text!r}: call to {what!r} is not allowed "
                f"(functions: {', '.join(sorted(FUNCTIONS))})"
            )
        if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
            raise ExpressionError(f"{text!r}: only positional arguments are allowed")
        low, high = FUNCTIONS[node.func.id]
        if len(node.args) < low or (high is not None and len(node.args) > high):
            raise ExpressionError(f"{text!r}: wrong number of arguments to {node.func.id}()")
        names = set()
        for arg in node.args:
            names |= _check(arg, allowed, text)
        return names
    if isinstance(node, ast.Attribute):
        raise ExpressionError(f"{text!r}: attribute access is not allowed")
    raise ExpressionError(f"{text!r}: {type(node).__name__} is not allowed in an expression")


def _compile_scalar(node: ast.AST) -> ScalarFn:
    if isinstance(node, ast.Constant):
        constant = node.value
        return lambda env: constant
    if isinstance(node, ast.Name):
        name = node.id
        return lambda env: env[name]
    if isinstance(node, ast.BinOp):
        left, right = _compile_scalar(node.left), _compile_scalar(node.right)
        if isinstance(node.op, ast.Div):

            def divide(env):
                a, b = left(env), right(env)
                if a is None or b is None or b == 0:
                    return None
                return a / b

            return divide
        op = _BINARY[type(node.op)]

        def binary(env):
            a, b = left(env), right(env)
            return None if a is None or b is None else op(a, b)

        return binary
    if isinstance(node, ast.UnaryOp):
        operand = _compile_scalar(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda env: None if (a := operand(env)) is None else int(not a)
        sign = -1 if isinstance(node.op, ast.USub) else 1
        return lambda env: None if (a := operand(env)) is None else sign * a
    if isinstance(node, ast.Compare):
        parts = [_compile_scalar(n) for n in [node.left, *node.comparators]]
        ops = [_COMPARE[type(op)] for op in node.ops]

        def compare(env):
            values = [part(env) for part in parts]
            if any(v is None for v in values):
                return None
            return int(all(op(values[i], values[i + 1]) for i, op in enumerate(ops)))

        return compare
    if isinstance(node, ast.BoolOp):
        parts = [_compile_scalar(n) for n in node.values]
        combine = all if isinstance(node.op, ast.And) else any

        def boolean(env):
            values = [part(env) for part in parts]
            if any(v is None for v in values):
                return None
            return int(combine(values))

        return boolean
    if isinstance(node, ast.IfExp):
        test, body, orelse = (_compile_scalar(n) for n in (node.test, node.body, node.orelse))

        def choose(env):
            condition = test(env)
            if condition is None:
                return None
            return body(env) if condition else orelse(env)

        return choose
    if isinstance(node, ast.Call):
        fn = _SCALAR_CALLS[node.func.id]
        args = [_compile_scalar(n) for n in node.args]

        def call(env):
            values = [arg(env) for arg in args]
            if any(v is None for v in values):
                return None
            return fn(*values)

        return call
    raise ExpressionError(f"{type(node).__name__} is not allowed")  # unreachable after _check


def _missing(*arrays: np.ndarray) -> np.ndarray:
    return functools.reduce(np.logical_or, [np.isnan(a) for a in arrays])


def _compile_vector(node: ast.AST) -> VectorFn:
    if isinstance(node, ast.Constant):
        constant = float(node.value)
        return lambda env: np.float64(constant)
    if isinstance(node, ast.Name):
        name = node.id
        return lambda env: np.asarray(env[name], dtype=float)
    if isinstance(node, ast.BinOp):
        left, right = _compile_vector(node.left), _compile_vector(node.right)
        if isinstance(node.op, ast.Div):

            def divide(env):
                a, b = left(env), right(env)
                with np.errstate(divide="ignore", invalid="ignore"):
                    return np.where(b == 0, np.nan, a / b)

            return divide
        op = _BINARY[type(node.op)]
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp):
        operand = _compile_vector(node.operand)
        if isinstance(node.op, ast.Not):

            def negate(env):
                a = operand(env)
                return np.where(np.isnan(a), np.nan, (a == 0).astype(float))

            return negate
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        return lambda env: sign * operand(env)
    if isinstance(node, ast.Compare):
        parts = [_compile_vector(n) for n in [node.left, *node.comparators]]
        ops = [_COMPARE[type(op)] for op in node.ops]

        def compare(env):
            values = [part(env) for part in parts]
            result = functools.reduce(
                np.logical_and, [op(values[i], values[i + 1]) for i, op in enumerate(ops)]
            )
            return np.where(_missing(*values), np.nan, np.asarray(result, dtype=float))

        return compare
    if isinstance(node, ast.BoolOp):
        parts = [_compile_vector(n) for n in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or

        def boolean(env):
            values = [part(env) for part in parts]
            result = functools.reduce(combine, [v != 0 for v in values])
            return np.where(_missing(*values), np.nan, np.asarray(result, dtype=float))

        return boolean
    if isinstance(node, ast.IfExp):
        test, body, orelse = (_compile_vector(n) for n in (node.test, node.body, node.orelse))

        def choose(env):
            condition = test(env)
            return np.where(
                np.isnan(condition), np.nan, np.where(condition != 0, body(env), orelse(env))
            )

        return choose
    if isinstance(node, ast.Call):
        fn = _VECTOR_CALLS[node.func.id]
        args = [_compile_vector(n) for n in node.args]
        return lambda env: fn(*(arg(env) for arg in args))
    raise ExpressionError(f"{type(node).__name__} is not allowed")  # unreachable after _check
