"""A notebook's own environment: the dependencies it declares, built with uv, cached, shared, forked warm.

``declarations`` reads a PEP 723 block, ``metadata.uv`` and juv's
``metadata["uv.lock"]``; ``layout`` names the environment by the digest of
what it is built from and says where it lives; ``build`` makes it with uv
(locked, renamed into place); ``store`` lists and prunes the folder of
environments; ``stages`` are the pipeline's two stages (name it after
prepare, build it before execute).
"""

from __future__ import annotations
