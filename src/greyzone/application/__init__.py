"""The application layer: one typed function per user question, over a ``Store`` and ``Settings``.

Both edges — the CLI (``greyzone.cli``) and the API (``greyzone.service``) — call only this layer;
neither imports the other. It reads and writes the store, reads the files a question names, and
hands the work to the pure core (``hazard``, ``control``, ``routing``, ``incidents``). It never
imports a CLI or web framework (the architecture test checks it). Modules by area:

* ``stores``    which store a setting names (SQLite file or PostgreSQL URL)
* ``reports``   reports in (files, API batches), out (export), counted, the incident list and layer
* ``control``   who holds what: the fused map, a place's shares, a cell's history, evaluation
* ``hazard``    danger by place and hour: fit (kept in the store), at, forecast, backtest, export
* ``movement``  cities, routes over a departure window, ways out (corridors)
* ``access``    users and tokens
* ``demo``      the synthetic demo scenario

A wrong input is an ``InputError`` naming it; a product with nothing to be made from yet is a
``NotAvailableError``: the edges translate both once.
"""
