"""The simulator's TWS protocol server and the program around it (control channel, launcher).

It decodes client frames into calls on the engine and encodes the engine's events for the clients
that should see them; it imports the engine, never the capture room.
"""
