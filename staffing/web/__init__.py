"""The pages of staffing: the org chart (chart, layout, org, dialogs, picture), the draft
editor, scenarios, history, imports and capacity. Views parse the request, call one service or
selector, and render; no rule lives here."""
