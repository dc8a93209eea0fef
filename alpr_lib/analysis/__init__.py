"""Investigative analysis over the read store (policy 462.3(c)): incidents, canvass, multi-scene, convoy and
frequent locations.

Users reach these through :class:`alpr_lib.session.Session` (``s.canvass(...)``, ``s.multi_scene(...)``...),
which checks policy and audits each access; the modules here are the plumbing under those methods and never
open store files except through :func:`alpr_lib.store.files.live_files`. Nothing is imported at package import
time, so that :mod:`alpr_lib.config` can import :mod:`alpr_lib.analysis.limits` cheaply.
"""
