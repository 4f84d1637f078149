"""The console's routes: each page's frame, its static files, the vendored libraries, and the
headers every console answer carries (Content-Security-Policy first).

A page is one row of PAGES: its path, its template, the message key of its title, and the
permission its menu entry needs (the menu hides what the caller may not use; the API refuses
it anyway). The frame holds no data: its script asks ``/api`` for everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_from_directory,
)

from cloud.config import CloudConfig
from cloud.console import assets, i18n

blp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/console/static",
)


@dataclass(frozen=True)
class Page:
    name: str  # the endpoint, the template (<name>.html) and the script (js/pages/<name>.js)
    path: str
    title: str  # message key
    needs: str | None = None  # the permission its menu entry needs; None: any signed-in caller
    menu: bool = True


PAGES = (
    Page("home", "/", "app.name", menu=False),
    Page("sign_in", "/sign-in", "sign_in.title", menu=False),
    Page("map", "/map", "nav.map", "device.read"),
    Page("overview", "/overview", "nav.overview", "device.read"),
    Page("device", "/devices/<device_id:device_id>", "device.title", "device.read", menu=False),
    Page("alarms", "/alarms", "nav.alarms", "alarm.read"),
    Page("alarm", "/alarms/<int:alarm_id>", "alarm.title", "alarm.read", menu=False),
    Page("geofences", "/geofences", "nav.geofences", "geofence.read"),
    Page("operators", "/admin/operators", "nav.operators", "operator.read"),
    Page("stores", "/admin/stores", "nav.stores", "store.read"),
    Page("accounts", "/admin/accounts", "nav.accounts", "account.read"),
    Page("roles", "/admin/roles", "nav.roles", "role.read"),
    Page("transfers", "/admin/transfers", "nav.transfers", "device.transfer"),
    Page("audit", "/admin/audit", "nav.audit", "audit.read"),
    Page("store", "/store", "nav.store", "device.read"),
    Page("account", "/account", "account.title", menu=False),
)
TEMPLATES = Path(__file__).parent / "templates" / "console"


def built() -> list[Page]:
    """The pages whose template exists (a page is served once it is written)."""
    return [page for page in PAGES if (TEMPLATES / f"{page.name}.html").is_file()]


def _frame(page: Page, **context: object) -> str:
    language = i18n.chosen(request.args.get("lang"))
    config: CloudConfig = current_app.config.get("CLOUD_CONFIG") or CloudConfig()
    return render_template(
        f"console/{page.name}.html",
        page=page,
        menu=[p for p in built() if p.menu],
        language=language,
        languages=i18n.LANGUAGES,
        catalog_json=i18n.catalog_json(language),
        t=lambda key, **params: i18n.translate(language, key, **params),
        tile_url=config.tile_url,
        tile_attribution=config.tile_attribution,
        **context,
    )


def _view(page: Page):  # type: ignore[no-untyped-def]
    def view(**path: object) -> Response:
        answer = Response(_frame(page, **path), mimetype="text/html")
        asked = request.args.get("lang")
        if asked in i18n.LANGUAGES:  # the choice sticks for a year
            answer.set_cookie(i18n.LANG_COOKIE, asked, max_age=365 * 86400, samesite="Strict")
        return answer

    view.__name__ = page.name
    return view


for _page in built():
    blp.add_url_rule(_page.path, view_func=_view(_page))


@blp.route("/console/vendor/<package>/<path:name>")
def vendor(package: str, name: str) -> Response:
    """A file of a vendored library's ``dist`` folder (404 for anything else)."""
    folder = assets.dist_folder(package)
    if folder is None:
        abort(404)
    return send_from_directory(folder, name)


def _origin(url_template: str) -> str:
    """The CSP source of a tile URL template: its scheme, host and port, with a ``{s}.``
    subdomain as ``*.``."""
    if not url_template:
        return ""
    parts = urlsplit(url_template.replace("{s}.", "subdomain."))
    host = (parts.hostname or "").replace("subdomain.", "*.")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def content_security_policy(config: CloudConfig) -> str:
    """Scripts, styles and connections from our origin only; images also from the tiles."""
    tiles = _origin(config.tile_url)
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{' ' + tiles if tiles else ''}",
            "connect-src 'self'",
            "font-src 'self'",
            "media-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


@blp.after_request
def _headers(response: Response) -> Response:
    config: CloudConfig = current_app.config.get("CLOUD_CONFIG") or CloudConfig()
    response.headers["Content-Security-Policy"] = content_security_policy(config)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(self), geolocation=(), microphone=()"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Serve the console at ``/`` beside the API."""
    app.register_blueprint(blp)
