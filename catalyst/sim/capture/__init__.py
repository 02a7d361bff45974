"""Calibration against a real gateway: record its traffic, replay the client side, compare answers.

It drives the gateway room from outside; neither the engine nor the gateway imports it.
"""
