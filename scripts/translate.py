"""Fill locale/zh_Hans/LC_MESSAGES/django.po from a {msgid: translation} table.

Usage: python scripts/translate.py TABLE.py  (TABLE.py defines ZH and PLURALS dicts).
Requires polib (dev tool only). Prints msgids that are still untranslated.
"""

from __future__ import annotations

import runpy
import sys

import polib

PO = "locale/zh_Hans/LC_MESSAGES/django.po"


def main() -> None:
    table = runpy.run_path(sys.argv[1])
    po = polib.pofile(PO)
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    for entry in po:
        if entry.msgid in table.get("ZH", {}):
            entry.msgstr = table["ZH"][entry.msgid]
            entry.flags = [f for f in entry.flags if f != "fuzzy"]
        elif entry.msgid_plural and entry.msgid in table.get("PLURALS", {}):
            entry.msgstr_plural = dict(enumerate(table["PLURALS"][entry.msgid]))
            entry.flags = [f for f in entry.flags if f != "fuzzy"]
    po.save(PO)
    missing = [e.msgid for e in po if not e.translated() and not e.obsolete]
    for msgid in missing:
        print("untranslated:", msgid)  # noqa: T201


if __name__ == "__main__":
    main()
