"""The edge agent on the robot: capture sources, on-site analysis, a durable outbox, the uplink.

``outbox`` (the SQLite ack-state queue every outbound item goes through), ``config`` (the
agent's TOML settings), ``sources`` (watched folder, frame replay), ``matching`` (capture →
inspection point), ``plans`` (patrol plans and executions over the server's REST API),
``positions`` (GNSS track from NMEA), ``agent`` (sources → analysis → outbox), ``runner``
(all of it from a configuration: ``irpatrol edge run``), ``uplink`` (outbox → MQTT/HTTP).
See ``docs/edge.md`` and ``docs/edge-protocol.md``.

Layering: above ``pipeline``, ``geo``, ``formats``, ``diagnosis``; never imports ``store``,
``server``, ``report`` or ``cli``.
"""
