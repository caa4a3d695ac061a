"""The edge agent on the robot: capture sources, on-site analysis, a durable outbox, the uplink.

``outbox`` (the SQLite ack-state queue every outbound item goes through), ``config`` (the
agent's TOML settings), ``sources`` (watched folder, frame replay), ``matching`` (capture →
inspection point), ``plans`` (patrol plans and executions over the server's REST API),
``agent`` (sources → analysis → outbox).  See ``docs/edge.md``.

Layering: above ``pipeline``, ``geo``, ``formats``, ``diagnosis``; never imports ``store``,
``server``, ``report`` or ``cli``.
"""
