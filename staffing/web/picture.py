"""A picture of a part of the org chart, its top levels, as SVG or PNG.

Both pictures come from the layout of the chart on screen (:mod:`staffing.web.layout`): cards of
a fixed size, a manager centred over the teams below, and a team whose members have nobody
below them stacked as a column under its lead. The tier shows as a coloured
bar *and* by name, findings as a labelled count: nothing is told by colour alone.

A fixed number of queries whatever the size of the organization: positions per level (to
choose how deep a picture can go), the positions, and their dotted lines.
"""

import datetime
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO
from xml.sax.saxutils import escape, quoteattr

from django.db.models import Count

from staffing.interchange.export import dotted_managers, subtree
from staffing.models import Position
from staffing.scope import Scope
from staffing.selectors import with_card_figures
from staffing.web.layout import CARD_H, CARD_W, arrange

IMAGE_CARD_LIMIT = 400  # cards in one picture: deeper levels are left out beyond this
PNG_PIXEL_LIMIT = 16_000_000  # a PNG bigger than this leaves out levels too (about 48 MB)
BADGE_TOP = 62  # the findings badge sits at the right of the counts line
MARGIN, HEADER = 20, 46
LINE = 14


@dataclass
class Box:
    position: Position
    children: list["Box"] = field(default_factory=list)
    x: float = 0
    y: float = 0
    stacked: bool = False  # its reports are drawn as a column under it
    column: float | None = None  # a mixed team: where its column of members is
    dotted: list[tuple[int, str]] = field(default_factory=list)  # dotted-line managers

    @property
    def shown_children(self) -> list["Box"]:
        return self.children


@dataclass
class Picture:
    roots: list[Position]
    boxes: list[Box]
    lines: list[tuple[float, float, float, float]]  # reporting lines
    dashes: list[tuple[float, float, float, float]]  # dotted lines between shown cards
    width: int
    height: int
    depth: int  # levels shown below the roots
    deepest: int  # levels there are below the roots
    shown: int
    total: int

    @property
    def heading(self) -> str:
        names = ", ".join(root.title for root in self.roots[:3])
        if len(self.roots) > 3:
            names += f" and {len(self.roots) - 3} more"
        return names

    @property
    def caption(self) -> str:
        text = f"{self.heading}: {self.total} position{'s' if self.total != 1 else ''}"
        if self.shown < self.total:
            text += (
                f"; the top {self.depth} level{'s' if self.depth != 1 else ''} below are shown "
                f"({self.shown} cards), the CSV lists everyone"
            )
        return f"{text}. As of {datetime.date.today():%d %B %Y}."


def _levels(scope: Scope, roots: list[Position]) -> dict[int, int]:
    """Positions per level below the roots (0: the roots themselves). One query."""
    base = min(root.level for root in roots)
    per_level = subtree(scope, roots).order_by().values_list("level").annotate(n=Count("pk"))
    return {level - base: n for level, n in per_level}


def _depth_within(levels: dict[int, int], limit: int) -> int:
    depth, cards = 0, levels.get(0, 0)
    while depth + 1 in levels and cards + levels[depth + 1] <= limit:
        depth += 1
        cards += levels[depth]
    return depth


def _layout(roots, positions, dotted, depth, deepest, total) -> Picture:
    boxes = {p.pk: Box(p, dotted=dotted.get(p.pk, [])) for p in positions}
    tops = []
    for box in boxes.values():
        parent = boxes.get(box.position.parent_id)
        if parent is None:
            tops.append(box)
        else:
            parent.children.append(box)
    arranged = arrange(tops, MARGIN, MARGIN + HEADER)
    width = arranged.width + 2 * MARGIN
    lines = arranged.lines
    dashes = []
    for box in boxes.values():
        for manager_id, _ in box.dotted:
            other = boxes.get(manager_id)
            if other is not None:
                dashes.append(
                    (other.x + CARD_W, other.y + CARD_H / 2, box.x + CARD_W, box.y + CARD_H / 2)
                )
    height = MARGIN + HEADER + max(arranged.height, CARD_H) + MARGIN
    return Picture(
        roots=roots,
        boxes=list(boxes.values()),
        lines=lines,
        dashes=dashes,
        width=int(max(width, 480)),
        height=int(height),
        depth=depth,
        deepest=deepest,
        shown=len(boxes),
        total=total,
    )


def picture(
    scope: Scope, roots: list[Position], *, depth: int | None = None, png: bool = False
) -> Picture:
    """The layout of the cards under ``roots`` down to ``depth`` levels (None: as deep as
    IMAGE_CARD_LIMIT cards allow; for a PNG, also as deep as PNG_PIXEL_LIMIT allows)."""
    levels = _levels(scope, roots)
    deepest = max(levels, default=0)
    total = sum(levels.values())
    fits = _depth_within(levels, IMAGE_CARD_LIMIT)
    depth = fits if depth is None else max(0, min(depth, fits))
    base = min(root.level for root in roots)
    shown = subtree(scope, roots).filter(level__lte=base + depth)
    positions = list(with_card_figures(shown).order_by("tree_id", "lft"))
    dotted = dotted_managers(Position.objects.filter(pk__in=[p.pk for p in positions]))
    while True:
        drawn = _layout(roots, positions, dotted, depth, deepest, total)
        if not png or depth == 0 or drawn.width * drawn.height <= PNG_PIXEL_LIMIT:
            return drawn
        depth -= 1
        positions = [p for p in positions if p.level - base <= depth]


def _card_lines(box: Box) -> list[str]:
    p = box.position
    holder = p.holder.full_name if p.holder_id else f"Vacant ({p.status})"
    where = " · ".join(
        part for part in (getattr(p.location, "name", ""), getattr(p.squad, "name", "")) if part
    )
    counts = f"{p.direct_reports} direct · {p.team_size} in team"
    dotted = _dotted_label(box) if box.dotted else ""
    return [p.title, f"{p.role.name} · {p.role.tier.name}", holder, where, counts, dotted]


@lru_cache(maxsize=4)
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


# characters Pillow's bundled font lacks, as it can draw them
PNG_TEXT = str.maketrans({"—": "-", "–": "-", "’": "'", "“": '"', "”": '"'})


@lru_cache(maxsize=2048)
def _char_width(char: str, size: int) -> float:
    return _font(size).getlength(char)


def _width(text: str, size: int) -> float:
    """``text``'s width in the PNG's font, char by char (kerning ignored: a pixel or two)."""
    return sum(_char_width(char, size) for char in text)


def _fit(text: str, size: int, width: float) -> str:
    """``text`` cut with an ellipsis to ``width`` pixels."""
    if _width(text, size) <= width:
        return text
    room = width - _char_width("…", size)
    taken = 0.0
    for end, char in enumerate(text):
        taken += _char_width(char, size)
        if taken > room:
            return text[:end].rstrip() + "…"
    return text


def _dotted_label(box: Box) -> str:
    """The card's note of its dotted-line managers: the first by name, the others counted."""
    more = f" +{len(box.dotted) - 1}" if len(box.dotted) > 1 else ""
    return f"dotted line to {box.dotted[0][1]}{more}"


def _findings_label(p: Position) -> str:
    n = p.open_findings
    return f"! {n} finding{'s' if n != 1 else ''}" if n else ""


def svg(drawn: Picture) -> str:
    """The picture as a standalone SVG document (fonts: the viewer's sans-serif)."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{drawn.width}" height="{drawn.height}" '
        f'viewBox="0 0 {drawn.width} {drawn.height}" role="img" aria-labelledby="t d" '
        'font-family="Helvetica, Arial, sans-serif">',
        f'<title id="t">{escape(drawn.heading)}: org chart</title>',
        f'<desc id="d">{escape(drawn.caption)}</desc>',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 14}" font-size="15" font-weight="bold" fill="#111827">'
        f"{escape(_fit(drawn.heading, 15, drawn.width - 2 * MARGIN))}</text>",
        f'<text x="{MARGIN}" y="{MARGIN + 32}" font-size="11" fill="#4b5563">'
        f"{escape(drawn.caption)}</text>",
        '<g stroke="#9ca3af" stroke-width="1.5" fill="none">',
    ]
    out += [f'<path d="M{x1:g} {y1:g}L{x2:g} {y2:g}"/>' for x1, y1, x2, y2 in drawn.lines]
    out.append("</g>")
    if drawn.dashes:
        out.append('<g stroke="#6b7280" stroke-width="1.5" stroke-dasharray="5 4" fill="none">')
        for x1, y1, x2, y2 in drawn.dashes:
            bend = max(x1, x2) + 40
            out.append(f'<path d="M{x1:g} {y1:g}C{bend:g} {y1:g} {bend:g} {y2:g} {x2:g} {y2:g}"/>')
        out.append("</g>")
    for box in drawn.boxes:
        p = box.position
        lines = _card_lines(box)
        label = "; ".join(part for part in lines if part)
        out.append(f'<g transform="translate({box.x:g} {box.y:g})"><title>{escape(label)}</title>')
        out.append(
            f'<rect width="{CARD_W}" height="{CARD_H}" rx="5" fill="#ffffff" stroke="#d1d5db"/>'
            f'<rect width="6" height="{CARD_H}" rx="2" fill={quoteattr(p.role.tier.colour)}/>'
        )
        y = 17
        for i, text in enumerate(lines):
            size, weight = (13, ' font-weight="bold"') if i == 0 else (11, "")
            colour = "#b45309" if i == 2 and not p.holder_id else "#111827" if i == 0 else "#374151"
            if text:
                fitted = escape(_fit(text, size, CARD_W - 20))
                out.append(
                    f'<text x="14" y="{y}" font-size="{size}"{weight} fill="{colour}">'
                    f"{fitted}</text>"
                )
            y += LINE
        label = _findings_label(p)
        if label:
            out.append(
                f'<rect x="{CARD_W - 78}" y="{BADGE_TOP}" width="72" height="14" rx="7" '
                'fill="#fef3c7" stroke="#f59e0b"/>'
                f'<text x="{CARD_W - 42}" y="{BADGE_TOP + 10.5}" font-size="10" '
                f'text-anchor="middle" fill="#92400e">{escape(label)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _dashed(draw, start: tuple[float, float], end: tuple[float, float], fill) -> None:
    (x1, y1), (x2, y2) = start, end
    length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1)
    steps = int(length // 9)
    for i in range(steps + 1):
        a, b = i * 9 / length, min((i * 9 + 5) / length, 1)
        draw.line(
            [(x1 + (x2 - x1) * a, y1 + (y2 - y1) * a), (x1 + (x2 - x1) * b, y1 + (y2 - y1) * b)],
            fill=fill,
            width=2,
        )


def png(drawn: Picture) -> bytes:
    """The picture as a PNG, drawn with Pillow and its bundled font."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (drawn.width, drawn.height), "#ffffff")
    draw = ImageDraw.Draw(image)
    title = _fit(drawn.heading.translate(PNG_TEXT), 15, drawn.width - 2 * MARGIN)
    draw.text((MARGIN, MARGIN), title, font=_font(15), fill="#111827")
    draw.text(
        (MARGIN, MARGIN + 21), drawn.caption.translate(PNG_TEXT), font=_font(11), fill="#4b5563"
    )
    for x1, y1, x2, y2 in drawn.lines:
        draw.line([(x1, y1), (x2, y2)], fill="#9ca3af", width=2)
    for x1, y1, x2, y2 in drawn.dashes:
        _dashed(draw, (x1, y1), (x2, y2), "#6b7280")
    for box in drawn.boxes:
        p = box.position
        x, y = box.x, box.y
        draw.rounded_rectangle(
            [x, y, x + CARD_W, y + CARD_H], radius=5, fill="#ffffff", outline="#d1d5db"
        )
        draw.rectangle([x, y, x + 5, y + CARD_H], fill=p.role.tier.colour)
        top = y + 5
        for i, text in enumerate(_card_lines(box)):
            size = 13 if i == 0 else 11
            colour = "#b45309" if i == 2 and not p.holder_id else "#111827" if i == 0 else "#374151"
            if text:
                draw.text(
                    (x + 14, top),
                    _fit(text.translate(PNG_TEXT), size, CARD_W - 20),
                    font=_font(size),
                    fill=colour,
                    stroke_width=0.3 if i == 0 else 0,
                    stroke_fill=colour,
                )
            top += LINE
        label = _findings_label(p)
        if label:
            badge = [x + CARD_W - 78, y + BADGE_TOP, x + CARD_W - 6, y + BADGE_TOP + 14]
            draw.rounded_rectangle(badge, radius=7, fill="#fef3c7", outline="#f59e0b")
            draw.text(
                (x + CARD_W - 42, y + BADGE_TOP + 7),
                label,
                font=_font(10),
                fill="#92400e",
                anchor="mm",
            )
    buffer = BytesIO()
    image.save(buffer, "PNG", optimize=False)
    return buffer.getvalue()
