"""The web portal: every capability for people who never open a terminal, in four languages.

Server-rendered pages (the rendering layer's Jinja templates under ``templates/web/``, the ``web``
catalogue) over the same :class:`obra.app.Obra` the CLI and the API call; plain HTML forms that work
without JavaScript, and one small script of our own for upload progress. :func:`obra.web.app.create_app`
is the ASGI application ``obra serve`` runs: the REST API and the portal together.
"""
