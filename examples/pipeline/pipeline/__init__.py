"""An example Dagster code location that lives by the sandbox's wiring contract.

Copy this package to make a pipeline sandbox-ready: everything it touches in lakeFS comes from the
variables the sandbox (and the tier) hand to the code server and to every run pod, and its schedules
and sensors start only where the flags say so. ``pipeline.definitions`` is the module the tier's
``tier:dagster.module`` names by default.
"""
