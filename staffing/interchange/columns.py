"""The columns of the organization's CSV files, shared by the import and the export.

The file
========

UTF-8 CSV (a byte-order mark is fine), comma-separated, with a header row. Which kind of
file it is comes from the header: a ``position_id`` column makes a positions file, else an
``employee_id`` column a people file, else a ``code`` column a locations file. Column names
are not case-sensitive and may come in any order. A column left out of the header leaves
that field of existing rows as it is; a blank cell in a column that is there clears the
field (person details excepted: a blank name, email or hire date keeps the one stored).
Everything is an upsert by the file's ids; nothing is ever deleted, and rows of the database
that the file does not mention are left alone.

**Positions** (the chart's CSV export, ``/chart/export.csv``, is such a file):

``position_id`` (required)
    The position's external id (``Position.external_id``, the HR system's). The export
    writes ``#`` and the database id for a position without one (``#1234``): such an id
    matches that position, and when no position has that id the row creates a new one
    (with no external id). Other ids starting with ``#`` are refused.
``title``, ``role`` (required)
    ``role`` is a role's code or name.
``manager_id`` (required, may be blank)
    The ``position_id`` of the manager: another row of the file or a position in the
    database. Blank: a top position.
``status``
    ``filled``, ``open`` or ``planned`` (or the export's labels). Blank: filled when the row
    names a holder, else open (a planned position stays planned).
``location``, ``squad``
    A location's code or name; a squad's code or name.
``employee_id``
    The holder's ``Person.employee_id``; blank: a vacancy. A person not in the database is
    created from ``given_name``, ``family_name``, ``email`` and ``hire_date``; for people
    already there, filled cells update those details. A holder moved here from another
    position leaves it vacant.
``start_date``
    When a newly placed holder starts (YYYY-MM-DD; blank: today). Not used for a holder
    already in place.

The export's other columns (``tier``, ``holder``, ``manager``, ``depth_from_export_top``,
``direct_reports``, ``team_size``, ``open_findings``, ``dotted_line_managers``) are read
and ignored, and so is ``levels_below``, the depth's name in older exports. Cells that the
export quoted with ``'`` so that a spreadsheet would not run them as formulas are unquoted.

**People**: ``employee_id`` (required), ``given_name``, ``family_name`` (required for a new
person), ``email``, ``location``, ``hire_date``, ``is_active`` (yes/no).

**Locations**: ``code`` (required), ``name``, ``city``, ``country`` (two letters),
``timezone`` (such as Europe/Dublin); all required for a new location.
"""

from staffing.models import Location, Person, Position

REASON = "org_import"
DB_ID_PREFIX = "#"  # position ids of the export for positions without an external id
CHANGES_KEPT = 500  # changes listed row by row in a report (the counts cover all)
BATCH = 2000

POSITION_COLUMNS = (
    "position_id",
    "title",
    "role",
    "status",
    "manager_id",
    "location",
    "squad",
    "employee_id",
    "given_name",
    "family_name",
    "email",
    "hire_date",
    "start_date",
)
POSITION_REQUIRED = ("position_id", "title", "role", "manager_id")
# the export's columns that the import reads and ignores
EXPORT_ONLY = (
    "tier",
    "holder",
    "manager",
    "depth_from_export_top",  # 0 for the export's top position, 1 for its reports, …
    "direct_reports",
    "team_size",
    "open_findings",
    "dotted_line_managers",
)
FORMER_EXPORT_COLUMNS = ("levels_below",)  # depth_from_export_top's earlier name
PEOPLE_COLUMNS = (
    "employee_id",
    "given_name",
    "family_name",
    "email",
    "location",
    "hire_date",
    "is_active",
)
LOCATION_COLUMNS = ("code", "name", "city", "country", "timezone")

KINDS = {
    "positions": (POSITION_COLUMNS, POSITION_REQUIRED, (*EXPORT_ONLY, *FORMER_EXPORT_COLUMNS)),
    "people": (PEOPLE_COLUMNS, ("employee_id",), ()),
    "locations": (LOCATION_COLUMNS, ("code",), ()),
}

# what the summary counts, in the order a report shows them
SUMMARY_LABELS = {
    "locations_created": "Locations created",
    "locations_updated": "Locations updated",
    "people_created": "People created",
    "people_updated": "People updated",
    "positions_created": "Positions created",
    "positions_updated": "Positions changed (title, role, status, location, squad)",
    "positions_moved": "Positions moved to another manager",
    "holders_placed": "Holders placed in a position",
    "positions_vacated": "Positions left vacant",
    "unchanged": "Rows with nothing to change",
    "positions_not_in_file": "Positions not in the file (left as they are)",
}

MAX_LENGTHS = {
    "position_id": Position._meta.get_field("external_id").max_length,
    "title": Position._meta.get_field("title").max_length,
    "employee_id": Person._meta.get_field("employee_id").max_length,
    "given_name": Person._meta.get_field("given_name").max_length,
    "family_name": Person._meta.get_field("family_name").max_length,
    "email": Person._meta.get_field("email").max_length,
    "code": Location._meta.get_field("code").max_length,
    "name": Location._meta.get_field("name").max_length,
    "city": Location._meta.get_field("city").max_length,
}

TRUE, FALSE = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}
