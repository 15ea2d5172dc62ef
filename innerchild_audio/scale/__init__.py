"""Rendering many sessions at once: the build graph, its executors, and batches.

    run_graph(tasks, settings, executor)   unique sentences once, then every session

A build or a batch is a graph: the unique sentences of every session (the same
text, voice and settings synthesized once), then each session's mix, master
and export. An executor runs it on local worker processes, or on a Dask
cluster when a scheduler address is given. Workers need no shared folder:
scripts and assets travel as bytes, finished files come back as bytes, and
the caller commits them with the same atomic staging as a local render.
"""
