"""Re-extract the module's UI strings and merge them into the English catalog.

Usage: ``python scripts/update_catalog.py`` — keeps every existing translation, adds new source strings with an
empty translation (fill them in ``sferum_plugin/locale/en/LC_MESSAGES/messages.po``), drops strings no longer used,
and lists what still needs translating. ``tests/plugin/test_i18n.py`` fails while anything is untranslated.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "sferum_plugin" / "locale" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": (2,), "N_": None, "t": None}


def main() -> int:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    template = Catalog(locale="en", project="sferum-plugin")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    with PO.open("rb") as fp:
        catalog = read_po(fp, locale="en")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    buffer = io.BytesIO()
    write_po(buffer, catalog, no_location=True, width=120, omit_header=False)
    PO.write_bytes(buffer.getvalue())
    missing = [m.id for m in catalog if m.id and not m.string]
    for message in missing:
        print(f"untranslated: {message}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
