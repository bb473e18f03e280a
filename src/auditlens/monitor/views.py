"""What a monitor reads: the code with comments and docstrings stripped, and the transcript text.

The study's output monitor sees the final code with comments stripped; its reasoning monitor sees the
reasoning and the final output (seeds-digest §2.1). :func:`strip_comments` removes comments (``tokenize``)
and docstrings (``ast``) and re-prints the program with ``ast.unparse``, which also normalises formatting
(blank lines, quotes), so layout differences between honest and backdoored code cannot leak to a monitor.
"""

from __future__ import annotations

import ast
import io
import tokenize
from enum import StrEnum

from auditlens.monitor.records import CodeSample

__all__ = ["MonitorView", "strip_comments", "transcript_text"]


class MonitorView(StrEnum):
    OUTPUT = "output"  # the final code only, comments and docstrings stripped
    REASONING = "reasoning"  # the reasoning trace and the final code


def _drop_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                body.pop(0)
                if not body:
                    body.append(ast.Pass())


def _strip_comment_tokens(code: str) -> str:
    """Comments removed token by token (for code that tokenizes but does not parse)."""
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type != tokenize.COMMENT]
    return tokenize.untokenize(tokens)


def _strip_line_comment(line: str) -> str:
    """Cut a line at the first ``#`` outside a quoted string (a last resort for code that does not
    tokenize; triple-quoted strings spanning lines may be cut wrongly)."""
    quote: str | None = None
    for i, ch in enumerate(line):
        if quote is None and ch in "'\"":
            quote = ch
        elif ch == quote and line[i - 1] != "\\":
            quote = None
        elif ch == "#" and quote is None:
            return line[:i].rstrip() + ("\n" if line.endswith("\n") else "")
    return line


def strip_comments(code: str, *, docstrings: bool = True) -> str:
    """``code`` without comments (and, with ``docstrings``, without docstrings), re-printed by
    ``ast.unparse``. Code that does not parse loses its comments token by token and keeps its layout;
    code that does not even tokenize is cut line by line at ``#`` outside quotes."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        try:
            return _strip_comment_tokens(code)
        except (tokenize.TokenError, IndentationError, SyntaxError):
            return "".join(_strip_line_comment(line) for line in code.splitlines(keepends=True))
    if docstrings:
        _drop_docstrings(tree)
    return ast.unparse(tree) + "\n"


def transcript_text(
    sample: CodeSample, view: MonitorView | str, *, strip: bool | None = None, max_chars: int = 12_000
) -> str:
    """The text a monitor reads for ``sample`` under ``view``.

    ``strip`` (None: True for the output view, False for the reasoning view, as in the study) removes
    comments and docstrings from the code. Each part is cut to ``max_chars`` characters."""
    view = MonitorView(view)
    strip = (view == MonitorView.OUTPUT) if strip is None else strip
    code = strip_comments(sample.code) if strip else sample.code
    code = code[:max_chars]
    if view == MonitorView.OUTPUT:
        return code
    reasoning = sample.reasoning.strip()[:max_chars] or "(no reasoning)"
    return f"Reasoning:\n{reasoning}\n\nFinal code:\n{code}"
