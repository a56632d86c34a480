"""gunicorn reads this file from its working directory (the project root: Makefile, docker-compose.yml,
the test and bench servers). Command-line flags still win.

preload_app: the app is imported once in the master and the workers are forked from it ready to serve.
Without it, ``kill -HUP`` stops the old workers at once and the new ones spend seconds importing Django,
GeoDjango, pandas and folium before they accept; on 2 busy cores requests waited up to 30 s (measured,
docs/reliability.md). With it, a HUP replaces the workers with no gap and no failed request. The price:
a HUP does not load new code; deploy new code with ``kill -TERM`` and a start (or USR2 + QUIT), see
docs/operations.md.
"""

preload_app = True
graceful_timeout = 30


def when_ready(server):
    """In the master, before any worker is forked: import the URLconf (every view module: DRF, GeoDjango,
    drf-spectacular…) and the translation catalogues, which Django otherwise loads on a worker's first
    request. A worker forked after a HUP then answers its first request at once (measured: 17 s on loaded
    cores without this)."""
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018  (the import is the point)
    for language in ("zh-hans", "en"):
        translation.activate(language)
        translation.gettext("数据库暂时不可用，请稍后重试")
    translation.deactivate()
