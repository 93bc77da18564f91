"""The shared kernel: building blocks every app may use, knowing no app.

REST conventions, the audit trail, authentication, fields and form helpers, days, words, the
catalogue version and the links between pages live here; the registries among them
(``catalogue_version.track``, ``links.register``) are filled by the apps' ``AppConfig.ready()``.
Nothing in this package imports a domain app (tiers, roles, staffing, metrics) or the
composition root around it (settings, URLs, the API router); the import contracts in
pyproject.toml check it.
"""
