"""Demo data, kept apart from the domain apps: the demo organizations (``demo.plans``,
written by ``demo.organizations``), their back-dated year of history (``demo.past``), their
metrics (``demo.metrics``) and the ``seed_demo`` command. The demo may import any app; no
app imports the demo."""
