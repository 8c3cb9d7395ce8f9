"""What a page's markup owes assistive technology, checked without a browser: ids are unique,
every id a label or an ARIA attribute points at exists, and every form control has a name."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

IDREF_ATTRIBUTES = ("aria-describedby", "aria-labelledby", "aria-controls")
LABELLED = {"select", "textarea"}
UNLABELLED_INPUTS = {"hidden", "submit", "button", "reset", "image"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, id)
        self.controls: list[tuple[str, dict[str, str]]] = []
        self.label_for: set[str] = set()
        self._label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.ids.append(values["id"])
        for name in IDREF_ATTRIBUTES:
            for ref in values.get(name, "").split():
                self.refs.append((tag, name, ref))
        if tag == "label":
            self._label_depth += 1
            if values.get("for"):
                self.label_for.add(values["for"])
                self.refs.append((tag, "for", values["for"]))
        is_control = tag in LABELLED or (
            tag == "input" and values.get("type", "text") not in UNLABELLED_INPUTS
        )
        if is_control:
            values["_wrapped"] = "1" if self._label_depth else ""
            self.controls.append((tag, values))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label_depth:
            self._label_depth -= 1


def id_problems(html: str) -> list[str]:
    """Repeated ids, references to missing ids, and form controls without a label."""
    page = _Collector()
    page.feed(html)
    problems = [f"id {i!r} appears {n} times" for i, n in Counter(page.ids).items() if n > 1]
    known = set(page.ids)
    problems += [f"<{t} {a}> points to missing id {r!r}" for t, a, r in page.refs if r not in known]
    for tag, values in page.controls:
        named = (
            values["_wrapped"]
            or values.get("id", "") in page.label_for
            or values.get("aria-label")
            or values.get("aria-labelledby")
            or values.get("title")
        )
        if not named:
            problems.append(f"<{tag} name={values.get('name')!r}> has no label")
    return problems
