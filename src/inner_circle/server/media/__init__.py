"""Media: storage backends, processing of uploaded files, signed download URLs.

No web framework here: ``services/media.py`` runs the use cases, ``http/uploads.py`` and
``http/media.py`` are the edges (docs/media.md, ADR 13).
"""
