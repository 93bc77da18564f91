"""How a position is named where someone acts on it or reads what changed: its title and
who holds it, since many positions share a title (forty cards say "Customer Advocate")."""


def named(position) -> str:
    """``Customer Advocate (Dana Reyes)``, or ``Customer Advocate (vacant)``; for a live
    position and a draft's alike (one query unless the holder is loaded)."""
    holder = position.holder if position.holder_id else None
    return f"{position.title} ({holder.full_name if holder else 'vacant'})"
