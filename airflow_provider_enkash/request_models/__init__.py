"""Request models of the EnKash operations: one declarative model per operation, one set of checks.

Each model (:mod:`.cards`, :mod:`.transactions`) declares an operation's request fields under their
API names, with the hook method's snake_case argument as alias and a field type that says how the
value is checked (:mod:`.fields`, through the one set of checks in :mod:`.validators` and the
vocabularies in :mod:`.vocabularies`). ``Model.build(settings, **arguments).payload()`` is what the
hook sends; a bad value raises ``EnKashValidationError`` naming the API field before anything is sent.

Why pydantic v2 (already an Airflow dependency) rather than frozen dataclasses: fields, aliases and
checks are declared once and compiled once per class (schemas built on first use, so DAG parsing
does not pay for them); a call validates in declaration order in compiled code. Its error messages
are never shown (they may echo an input such as a PIN): :meth:`.fields.RequestModel.build` turns the
first error into our ``EnKashValidationError``.
"""
