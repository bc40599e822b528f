"""Values a notebook records (``nbrun.record``, scrapbook's ``sb.glue``) and the expectations that gate a run.

``recording`` runs in the kernel and imports nothing of nbrun; ``scraps``
reads the values back from an executed notebook; ``expectations`` parses and
checks ``--expect`` without ``eval``; ``stages`` plugs both into the file
pipeline; ``results`` is ``nbrun.read_results``.
"""
