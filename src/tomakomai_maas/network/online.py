"""Online road networks: download with osmnx, cache as GraphML, fail fast when offline.

Nothing in the project downloads at run time by default; this module is only used when a
user names a place (``place:Tomakomai, Hokkaido``) or a point (``42.64,141.60,1500``).
Downloads are cached as GraphML in ``$TOMAKOMAI_MAAS_CACHE`` (or ``~/.cache/tomakomai-maas``)
under ``graphs/``; a cached graph is read back without touching the network.

Offline behaviour: the download runs in a background thread. If it has not finished within
``timeout_s`` the OpenStreetMap server is probed with a plain TCP connection (also bounded by
``timeout_s``, DNS included); if that fails the caller gets a :class:`NetworkError` at once,
instead of waiting for osmnx's own (long) request time-outs. A refused connection or failed
name lookup fails immediately.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import networkx as nx

from tomakomai_maas.errors import NetworkError
from tomakomai_maas.network._util import osmnx_settings

__all__ = ["OnlineQuery", "default_cache_dir", "cache_path", "fetch_network"]

log = logging.getLogger(__name__)

CACHE_ENV = "TOMAKOMAI_MAAS_CACHE"
MAX_RADIUS_M = 50_000.0


@dataclass(frozen=True)
class OnlineQuery:
    """What to download: a place name (``kind="place"``) or a point and radius (``"point"``)."""

    kind: str  # "place" | "point"
    place: str = ""
    lat: float = 0.0
    lon: float = 0.0
    radius_m: float = 0.0
    network_type: str = "drive"

    @property
    def label(self) -> str:
        if self.kind == "place":
            return f"place:{self.place}"
        return f"{self.lat:.6f},{self.lon:.6f},{self.radius_m:g}"

    def slug(self) -> str:
        raw = self.place if self.kind == "place" else f"pt-{self.lat:.5f}-{self.lon:.5f}-{self.radius_m:g}"
        return re.sub(r"[^0-9A-Za-z]+", "-", raw).strip("-").lower()[:40] or "query"


def default_cache_dir() -> Path:
    """``$TOMAKOMAI_MAAS_CACHE`` if set, else ``~/.cache/tomakomai-maas``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "tomakomai-maas"


def cache_path(query: OnlineQuery, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """GraphML file that caches ``query``'s download."""
    base = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    digest = hashlib.sha256(repr((query.kind, query.place.strip().lower(), round(query.lat, 6),
                                  round(query.lon, 6), float(query.radius_m),
                                  query.network_type)).encode()).hexdigest()[:12]
    return base / "graphs" / f"{query.slug()}-{digest}.graphml"


def tcp_probe(host: str, port: int, *, timeout_s: float,
              describe: Callable[[OSError], str] = lambda e: f"{type(e).__name__}: {e}"
              ) -> str | None:
    """Try a TCP connection to ``host:port`` within ``timeout_s`` (DNS included, in a daemon
    thread so a hanging lookup cannot block the caller).

    Returns ``None`` when it connects, else a short reason (``describe(error)``, or "no answer
    within N s").
    """
    outcome: dict[str, str | None] = {}

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                outcome["reason"] = None
        except OSError as exc:
            outcome["reason"] = describe(exc)

    t = threading.Thread(target=attempt, name="tomakomai-maas-probe", daemon=True)
    t.start()
    t.join(timeout_s + 0.5)
    if "reason" not in outcome:
        return f"no answer within {timeout_s:g} s"
    return outcome["reason"]


def _offline_error(query: OnlineQuery, reason: str, host: str) -> NetworkError:
    return NetworkError(
        f"could not download the road network for {query.label!r} from OpenStreetMap "
        f"({host}): {reason}. Online sources need an internet connection (or a cached copy "
        f"in {CACHE_ENV} / ~/.cache/tomakomai-maas). Offline, use the embedded network "
        "('embedded:tomakomai-central') or an OSM XML / GraphML file. If you meant a file, "
        "check the path: it does not exist."
    )


def _download(query: OnlineQuery, *, timeout_s: float, download_timeout_s: float,
              http_cache_dir: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    if query.kind == "place":
        host = urlparse(ox.settings.nominatim_url).hostname or "nominatim.openstreetmap.org"

        def call() -> nx.MultiDiGraph:
            return ox.graph_from_place(query.place, network_type=query.network_type)
    else:
        host = urlparse(ox.settings.overpass_url).hostname or "overpass-api.de"

        def call() -> nx.MultiDiGraph:
            return ox.graph_from_point((query.lat, query.lon), dist=query.radius_m,
                                       dist_type="bbox", network_type=query.network_type)

    result: dict[str, Any] = {}

    def run(fn: Callable[[], nx.MultiDiGraph]) -> None:
        try:
            result["graph"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = exc

    settings = dict(requests_timeout=download_timeout_s, overpass_rate_limit=False,
                    use_cache=True, cache_folder=str(http_cache_dir), log_console=False)
    with osmnx_settings(**settings):
        t = threading.Thread(target=run, args=(call,), name="tomakomai-maas-download",
                             daemon=True)
        t.start()
        t.join(timeout_s)
        if t.is_alive():
            reason = tcp_probe(host, 443, timeout_s=timeout_s)
            if reason is not None:
                raise _offline_error(query, reason, host)
            log.info("connected to %s; waiting for the download of %s", host, query.label)
            t.join()
    if "error" in result:
        exc = result["error"]
        reason = f"{type(exc).__name__}: {exc}"
        if _is_connection_error(exc):
            text = str(exc)
            if "resolve" in text.lower() or "name or service" in text.lower():
                reason = f"cannot resolve {host} (no DNS / no internet)"
            else:
                reason = f"cannot connect ({type(exc).__name__}: {text[:160]})"
            raise _offline_error(query, reason, host) from exc
        raise NetworkError(
            f"OpenStreetMap download for {query.label!r} failed: {reason}. Check the place "
            "name (it must be found by Nominatim) or the point and radius."
        ) from exc
    return result["graph"]


def _is_connection_error(exc: BaseException) -> bool:
    try:
        import requests
    except ImportError:  # pragma: no cover - osmnx depends on requests
        return isinstance(exc, OSError)
    return isinstance(exc, OSError | requests.exceptions.ConnectionError
                      | requests.exceptions.Timeout)


def fetch_network(
    query: OnlineQuery,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout_s: float = 10.0,
    download_timeout_s: float = 180.0,
    refresh: bool = False,
) -> tuple[nx.MultiDiGraph, Path, bool]:
    """Return ``(raw osmnx graph, cache file, cache_hit)`` for an online query.

    A cached GraphML file is used unless ``refresh``. Otherwise the network is downloaded
    (``network_type`` of the query, default ``"drive"``) and written to the cache atomically.
    ``timeout_s`` bounds how long an unreachable server can stall the call;
    ``download_timeout_s`` is osmnx's per-request time-out once connected.
    """
    import osmnx as ox

    path = cache_path(query, cache_dir)
    if path.is_file() and not refresh:
        try:
            G = ox.load_graphml(path)
        except Exception as exc:  # noqa: BLE001 - a corrupt cache is re-downloaded
            log.warning("cached network %s is unreadable (%s); downloading again", path, exc)
        else:
            log.info("road network for %s read from cache %s", query.label, path)
            return G, path, True
    G = _download(query, timeout_s=timeout_s, download_timeout_s=download_timeout_s,
                  http_cache_dir=path.parent.parent / "http")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        ox.save_graphml(G, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("road network for %s downloaded and cached in %s", query.label, path)
    return G, path, False
