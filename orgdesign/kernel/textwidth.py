"""How wide a line of text is drawn, so that server-drawn SVG can size its room for labels
without a browser. Widths are those of DejaVu Sans, the widest of the sans-serif faces a
browser is likely to pick for ``system-ui`` (Segoe UI, San Francisco and Roboto are
narrower): a label sized with them fits whichever face is used."""

# fmt: off
# advance widths of the characters " " to "~", in thousandths of the font size
_REGULAR = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337,
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531,
    1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,
    603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500,
    500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
)
_BOLD = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365,
    696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580,
    1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850,
    733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500,
    500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687,
    716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
)
# fmt: on
_MORE = {"·": 318, "–": 500, "—": 1000, "…": 1000, "’": 318, "‘": 318, "“": 500, "”": 500}
_OTHER = 800  # anything else (most letters with accents are narrower)


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The width in pixels of ``text`` at ``size`` pixels (kerning ignored)."""
    table = _BOLD if bold else _REGULAR
    total = 0
    for char in text:
        code = ord(char) - 32
        total += table[code] if 0 <= code < len(table) else _MORE.get(char, _OTHER)
    return total * size / 1000


def fit(text: str, size: float, width: float, *, bold: bool = False) -> str:
    """``text``, cut with an ellipsis where it would run wider than ``width`` pixels."""
    if text_width(text, size, bold=bold) <= width:
        return text
    room = width - text_width("…", size)
    for end in range(len(text), 0, -1):
        if text_width(text[:end], size, bold=bold) <= room:
            return text[:end].rstrip() + "…"
    return "…"


def wrap(text: str, size: float, width: float, *, lines: int = 2, bold: bool = False) -> list[str]:
    """``text`` broken at spaces into at most ``lines`` lines no wider than ``width`` pixels;
    the last line is cut with an ellipsis when the text does not fit."""
    found: list[str] = []
    words = text.split()
    while words and len(found) < lines:
        line = words.pop(0)
        while words and text_width(f"{line} {words[0]}", size, bold=bold) <= width:
            line = f"{line} {words.pop(0)}"
        found.append(line)
    if words:
        found[-1] = f"{found[-1]} {' '.join(words)}"
    return [fit(line, size, width, bold=bold) for line in found] or [""]
