"""Output checks: run a notebook and compare its new outputs with the stored ones (nbval's job).

``nbrun.check.run.check_file(path, options, check)`` runs one notebook and
returns its ExecutionResult with ``result.check`` (a CheckReport) set.

Modules: ``model`` (options, report types), ``markers`` (nbval's comments and
tags), ``sanitize``, ``compare`` and ``pixels`` (the comparison), ``report``
(text), ``update`` (``--update``), ``run`` (the run), ``pytest_options`` (the
plugin's flags). Nothing is imported here, so registering the pytest plugin's
options costs no import of nbformat.
"""
