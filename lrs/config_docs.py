"""The configuration reference (docs/configuration.md), generated from the Settings class."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lrs.config import Settings

PATH = Path("docs/configuration.md")


def render() -> str:
    """Markdown: one row per setting, its variable, default and description."""
    lines = [
        "# Configuration reference",
        "",
        "Every option of `lrs serve` comes from one `Settings` class, read from `LRS_*`",
        "environment variables (or a command-line option where `lrs serve --help` lists one).",
        "Lists are JSON in the environment. This page is generated from the class by",
        "`python -m lrs.config_docs`; a test fails when the two differ.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = json.dumps(default) if isinstance(default, list) else (
            "(unset)" if default is None else str(getattr(default, "value", default)))
        description = (field.description or "").replace("|", "\\|")
        lines.append(f"| `LRS_{name.upper()}` | `{shown}` | {description} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write the reference, or with `--check` exit 1 when the file is out of date."""
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if PATH.read_text() == text else 1)
    PATH.write_text(text)


if __name__ == "__main__":
    main()
