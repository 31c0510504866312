"""moto's server behind StrictPager and ThrottleMiddleware on 127.0.0.1, in a background thread.

Paging is AWS's by default (`paging="strict"`: at most 20 items a page, empty pages, bound
NextTokens); `paging="moto"` leaves moto's own paging, for comparison.

moto keeps its backends in process-wide globals, so two servers in one process would share
(and reset) one state; SimServer refuses to start while another is running.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from orgtree_tui.quotas import Quota
from orgtree_tui.sim.strict import EMPTY_RATE, StrictPager
from orgtree_tui.sim.throttle import ADMIN_HEADER, ThrottleMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from botocore.config import Config
    from mypy_boto3_organizations import OrganizationsClient
    from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

MOTO_MISSING = "the demo needs moto: pip install 'orgtree-tui[demo]'"
REGION = "us-east-1"
DUMMY_KEY = "testing"
_ORGANIZATIONS_TARGET = "AWSOrganizationsV20161128."

_running_lock = threading.Lock()
_running: SimServer | None = None

Paging = Literal["strict", "moto"]


def _load_moto_app() -> WSGIApplication:
    try:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    except ImportError as exc:
        raise RuntimeError(MOTO_MISSING) from exc
    dispatcher: WSGIApplication = DomainDispatcherApplication(create_backend_app)
    organizations: WSGIApplication = create_backend_app("organizations")

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # Without the header moto finds the caller's account by scanning every IAM backend,
        # and create_account makes one per account: each request to a 1,000-account org
        # would cost milliseconds of CPU.
        environ.setdefault("HTTP_X_MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)
        # moto's dispatcher finds the service by scanning its package directory under a
        # global lock on every request; Organizations calls go straight to their app.
        if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(_ORGANIZATIONS_TARGET):
            return organizations(environ, start_response)
        return dispatcher(environ, start_response)

    return app


class SimServer:
    """A simulated Organizations endpoint; use as a context manager or start()/stop()."""

    def __init__(
        self,
        quotas: dict[str, Quota] | None = None,
        latency: tuple[float, float] = (0.1, 0.2),
        shared_rows: bool = False,
        seed: int | None = None,
        throttle: bool = True,
        *,
        paging: Paging = "strict",
        empty_rate: float = EMPTY_RATE,
        organization_quotas: dict[str, Quota] | None = None,
    ) -> None:
        if paging not in ("strict", "moto"):
            raise ValueError(f"paging must be 'strict' or 'moto', not {paging!r}")
        app = _load_moto_app()
        self._pager = StrictPager(app, seed, empty_rate) if paging == "strict" else None
        self._middleware = ThrottleMiddleware(
            self._pager or app,
            quotas=quotas,
            latency=latency,
            shared_rows=shared_rows,
            seed=seed,
            throttle=throttle,
            organization_quotas=organization_quotas,
        )
        self._seed = seed
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def middleware(self) -> ThrottleMiddleware:
        return self._middleware

    @property
    def pager(self) -> StrictPager | None:
        """AWS's paging in front of moto; None with `paging="moto"`."""
        return self._pager

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulated endpoint is not running")
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> SimServer:
        global _running
        from werkzeug.serving import make_server

        with _running_lock:
            if self._server is not None:
                return self
            if _running is not None:
                raise RuntimeError(
                    f"another SimServer is running at {_running.endpoint_url}; moto's state "
                    "is process-wide, so stop it first"
                )
            server = make_server(
                "127.0.0.1",
                0,
                self._middleware,
                threaded=True,
                request_handler=_quiet_handler(),
            )
            # serve_forever polls for shutdown; a short interval makes stop() prompt.
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"orgtree-sim-{server.server_port}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
            _running = self
        try:
            self._moto_api("/moto-api/reset")
            if self._seed is not None:
                # Seeds moto's id generator so the same build yields the same ids.
                self._moto_api(f"/moto-api/seed?a={self._seed}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        global _running
        with _running_lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            if _running is self:
                _running = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def _moto_api(self, path: str) -> None:
        request = urllib.request.Request(self.endpoint_url + path, data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def client(
        self, config: Config | None = None, access_key: str = DUMMY_KEY
    ) -> OrganizationsClient:
        """An ordinary client for this endpoint: throttled, with latency. Each access key
        is its own calling account, with its own per-account buckets."""
        import boto3

        return boto3.client(
            "organizations",
            region_name=REGION,
            endpoint_url=self.endpoint_url,
            config=config,
            aws_access_key_id=access_key,
            aws_secret_access_key=DUMMY_KEY,
        )

    def admin_client(self, config: Config | None = None) -> OrganizationsClient:
        """A client whose requests skip latency, throttling and the stats."""
        client = self.client(config)
        client.meta.events.register("request-created.organizations", _mark_admin)
        return client

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _quiet_handler() -> type[WSGIRequestHandler]:
    from werkzeug.serving import WSGIRequestHandler

    # werkzeug closes the connection after every response, so a stopped server leaves no
    # keep-alive connection behind to serve stale clients.
    class Handler(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    return Handler


def _mark_admin(request: Any, **_: Any) -> None:
    request.headers[ADMIN_HEADER] = "1"
