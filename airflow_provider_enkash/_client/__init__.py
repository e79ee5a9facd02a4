"""Private plumbing of the EnKash client, with no Airflow roles.

``settings`` (what a connection holds) and ``extras``/``urls`` (parsing and checking it),
``operations`` (names, paths, kinds), ``crypto`` (the AES envelope), ``transport`` (one HTTP
exchange), ``retry`` (retries by kind of call), ``token_grant``/``token_cache`` (the password
grant and the shared token), ``timestamps`` and ``answers`` (request and response shapes) and
``reader`` (the one truncation-safe transaction reader). :class:`~airflow_provider_enkash.hooks.enkash.EnKashHook`
composes them; nothing here is public API.
"""
