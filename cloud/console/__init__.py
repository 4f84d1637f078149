"""The operator console: the pages people use in a browser, served by the API process at ``/``.

The pages hold no authority of their own. The server renders only each page's frame (the
layout, the words of the caller's language, which script to run); every piece of data comes
from ``/api`` through the guard, with the session in an HttpOnly cookie
(``cloud.identity.browser``). Scripts are small ES modules under ``static/js`` with no build
step; the libraries (Leaflet, Supercluster, uPlot, jsQR) come from npm packages pinned in
``package.json``/``package-lock.json``, installed by ``scripts/bootstrap.sh`` and served from
``/console/vendor`` (never a CDN). A Content-Security-Policy forbids inline scripts and any
origin but ours (the configured tile server excepted).

- ``pages``: the blueprint, its routes and headers.
- ``i18n``: the message catalogs (``catalog/en.json``, ``catalog/zh-CN.json``) and the choice
  of language.
- ``assets``: the vendored libraries the pages may load.
"""
