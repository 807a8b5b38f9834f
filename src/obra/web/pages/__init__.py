"""The portal's pages, one module per capability (see :data:`obra.web.app.PAGE_MODULES`)."""
