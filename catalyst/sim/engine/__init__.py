"""The simulator's exchange engine: HKEX matching with IB's order handling in front, no sockets.

It takes :class:`catalyst.sim.engine.model.OrderRequest` values and clock ticks and returns
:class:`catalyst.sim.engine.model.SimEvent` values; it never imports the gateway or capture rooms.
"""
