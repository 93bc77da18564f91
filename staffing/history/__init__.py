"""History: the organization on a past day (past), the feed of changes (feeds), and undoing
one's own recent change (undo), all read from the audit trail."""
