"""Turning the plain-text policy documents we publish into structured blocks.

The privacy policy is written as plain text: short lines without a full stop are
headings, lines starting with "- " are list items, everything else a paragraph.
"""

from dataclasses import dataclass, field


@dataclass
class Block:
    kind: str  # "heading", "paragraph" or "list"
    text: str = ""
    items: list[str] = field(default_factory=list)


def _is_heading(line: str) -> bool:
    return len(line) <= 60 and not line.endswith((".", ":", ",")) and not line.startswith("- ")


def parse(text: str) -> tuple[str, list[Block]]:
    """(meta line such as "Last Updated: ...", blocks) of a plain-text policy."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    meta = lines.pop(0) if lines and lines[0].lower().startswith("last updated") else ""
    blocks: list[Block] = []
    for line in lines:
        if line.startswith("- "):
            if not blocks or blocks[-1].kind != "list":
                blocks.append(Block("list"))
            blocks[-1].items.append(line[2:])
        elif _is_heading(line):
            blocks.append(Block("heading", line))
        else:
            blocks.append(Block("paragraph", line))
    return meta, blocks
