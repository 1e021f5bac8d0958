"""What changed between two versions of a text, word by word (character by character
in Chinese), for `<ins>` and `<del>`."""

import difflib
import re

# a Han character alone, a run of other word characters, a run of spaces, one sign
_TOKENS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W\u3400-\u9fff\uf900-\ufaff]+|\s+|[^\w\s]")


def tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def changes(old: str, new: str) -> list[tuple[str, str]]:
    """The new text as pieces (`same`, `ins` or `del`, text), in reading order."""
    a, b = tokens(old), tokens(new)
    pieces: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(("same", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            pieces.append(("del", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            pieces.append(("ins", "".join(b[j1:j2])))
    return pieces
