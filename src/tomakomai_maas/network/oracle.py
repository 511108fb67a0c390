"""The ``TravelTimes`` oracle: O(1) travel-time and distance look-ups between graph nodes.

Built once per road graph (and speed settings) with ``scipy.sparse.csgraph.dijkstra``; the
simulator never routes with networkx in its event loop.

* Nodes get a compact index ``0..n-1``; ``node_ids[i]`` is the OSM id of index ``i``.
* ``time_s(i, j)`` is the fastest travel time (s) from ``i`` to ``j``. Parallel edges count
  with their fastest member (a plain sparse build would *sum* duplicates). Unreachable pairs
  are ``inf``, never 0.
* ``dist_m(i, j)`` is the road length (m) **along that fastest path**, not the shortest
  distance: a vehicle drives the fastest route, and distance feeds energy/CO2 and
  vehicle-km, so it must describe the route actually taken.
* Graphs with at most ``full_table_max_nodes`` nodes get full ``n x n`` float32 tables (built
  in chunks, cached on disk as ``.npz``); larger graphs compute rows per source on demand and
  keep the most recent ``row_cache_size`` rows (LRU).
* ``mode="walk"`` builds a pedestrian oracle: every edge usable both ways (one-way ignored,
  motorways dropped), fixed ``walk_speed_mps``; its distance is the shortest walk.

The object holds numpy/scipy arrays only (no networkx graph), so it pickles cheaply to
worker processes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from tomakomai_maas.errors import NetworkError
from tomakomai_maas.network._util import EARTH_RADIUS_M, haversine_m
from tomakomai_maas.network.speeds import SpeedSettings, effective_speed_kph, road_speed_kph

__all__ = ["TravelTimes", "MODES"]

log = logging.getLogger(__name__)

MODES = ("drive", "walk")
_CACHE_VERSION = 1
_NO_WALK = frozenset({"motorway", "motorway_link"})
_CHUNK_ENTRIES = 2**19  # entries (sources x nodes) per dijkstra batch: small batches stay in cache


def _highways(data: dict[str, Any]) -> list[str]:
    h = data.get("highway")
    if h is None:
        return []
    return [str(x) for x in h] if isinstance(h, list | tuple) else [str(h)]


class TravelTimes:
    """Travel-time (s) and distance (m) oracle over a road graph.

    Args:
        G: road graph from :func:`~tomakomai_maas.network.load_network` (any networkx graph
            whose nodes have ``x``/``y`` and edges ``length_m`` or ``length`` works).
        mode: ``"drive"`` (default) or ``"walk"``.
        speeds: drive mode only. ``None`` uses the edges' ``travel_time_s`` as loaded;
            otherwise travel times are recomputed from each edge's posted speed
            (``road_speed_kph``) with these settings (e.g. ``max_speed_kph=20`` for the
            autonomous bus). Settings are not compounded with those used at load time.
        walk_speed_mps: walking speed for ``mode="walk"``.
        cache_dir: folder for ``.npz`` table caches keyed by a hash of the graph and settings;
            ``None`` disables caching. ``cache_hit`` tells what happened.
        full_table_max_nodes: above this many nodes rows are computed lazily.
        row_cache_size: rows kept in memory in lazy mode (LRU).
        max_snap_m: default limit for :meth:`snap`; farther points raise ``NetworkError``.
    """

    def __init__(
        self,
        G: nx.MultiDiGraph,
        *,
        mode: str = "drive",
        speeds: SpeedSettings | None = None,
        walk_speed_mps: float = 1.2,
        cache_dir: str | os.PathLike[str] | None = None,
        full_table_max_nodes: int = 5000,
        row_cache_size: int = 256,
        max_snap_m: float = 1000.0,
    ) -> None:
        if mode not in MODES:
            raise NetworkError(f"TravelTimes mode must be one of {', '.join(MODES)}; got {mode!r}")
        if not (np.isfinite(walk_speed_mps) and walk_speed_mps > 0):
            raise NetworkError(f"walk_speed_mps must be > 0, got {walk_speed_mps!r}")
        if not (max_snap_m > 0):
            raise NetworkError(f"max_snap_m must be > 0 metres, got {max_snap_m!r}")
        if G.number_of_nodes() == 0:
            raise NetworkError("cannot build TravelTimes: the road graph has no nodes")
        t0 = time.perf_counter()
        self.mode = mode
        self.speeds = speeds
        self.walk_speed_mps = float(walk_speed_mps)
        self.max_snap_m = float(max_snap_m)
        self.full_table_max_nodes = int(full_table_max_nodes)
        self.row_cache_size = max(1, int(row_cache_size))
        self.source = str(G.graph.get("source", ""))

        nodes = list(G.nodes)
        try:
            self.node_ids = np.asarray(nodes, dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            self.node_ids = np.asarray(nodes, dtype=object)
        self._index = {n: i for i, n in enumerate(nodes)}
        try:
            self.lon = np.fromiter((float(G.nodes[n]["x"]) for n in nodes), float, len(nodes))
            self.lat = np.fromiter((float(G.nodes[n]["y"]) for n in nodes), float, len(nodes))
        except (KeyError, TypeError, ValueError) as exc:
            raise NetworkError(
                "cannot build TravelTimes: every node needs numeric 'x' (lon) and 'y' (lat)"
            ) from exc

        u, v, w_time, w_len = self._edge_arrays(G)
        n = len(nodes)
        self._time_csr = sp.csr_matrix((w_time, (u, v)), shape=(n, n))
        self._len_csr = sp.csr_matrix((w_len, (u, v)), shape=(n, n))
        self._edge_key = u.astype(np.int64) * n + v
        self._edge_len = w_len  # aligned with _edge_key, which is sorted
        self.graph_hash = self._hash(u, v, w_time, w_len)

        # snapping: KD-tree on a local equirectangular projection (metres)
        self._lat0 = float(np.radians(np.mean(self.lat)))
        self._kdtree = cKDTree(self._project(self.lat, self.lon))

        self._time: np.ndarray | None = None
        self._dist: np.ndarray | None = None
        self._rows: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.cache_hit: bool | None = None
        self.cache_file: Path | None = None
        if n <= self.full_table_max_nodes:
            self._build_full(cache_dir)
        self.build_time_s = time.perf_counter() - t0
        log.info("TravelTimes(%s): %d nodes, %d edges, %s, built in %.2f s", mode, n,
                 len(u), "full table" if self.full_table else "lazy rows", self.build_time_s)

    # ------------------------------------------------------------------ construction
    def _edge_arrays(self, G: nx.MultiDiGraph) -> tuple[np.ndarray, ...]:
        us, vs, ts, ls = [], [], [], []
        idx = self._index
        s = self.speeds
        for a, b, d in G.edges(data=True):
            length = d.get("length_m", d.get("length"))
            try:
                length = float(length)
            except (TypeError, ValueError):
                raise NetworkError(f"edge {a}->{b} has no numeric length_m/length") from None
            if not (np.isfinite(length) and length >= 0):
                raise NetworkError(f"edge {a}->{b} has invalid length {length!r} m")
            if self.mode == "walk":
                if any(h in _NO_WALK for h in _highways(d)):
                    continue
                t = length / self.walk_speed_mps
                us += [idx[a], idx[b]]
                vs += [idx[b], idx[a]]
                ts += [t, t]
                ls += [length, length]
                continue
            if s is None and "travel_time_s" in d:
                t = float(d["travel_time_s"])
            else:
                road = d.get("road_speed_kph")
                road = float(road) if road is not None else road_speed_kph(d)[0]
                t = length / (effective_speed_kph(road, s) / 3.6)
            if not (np.isfinite(t) and t >= 0):
                raise NetworkError(f"edge {a}->{b} has invalid travel_time_s {t!r}")
            us.append(idx[a])
            vs.append(idx[b])
            ts.append(t)
            ls.append(length)
        u = np.asarray(us, dtype=np.int64)
        v = np.asarray(vs, dtype=np.int64)
        t = np.asarray(ts, dtype=np.float64)
        length_arr = np.asarray(ls, dtype=np.float64)
        keep = u != v  # a self-loop is never on a fastest path
        u, v, t, length_arr = u[keep], v[keep], t[keep], length_arr[keep]
        # Parallel edges: keep the fastest (ties: the shorter). lexsort's last key is primary.
        order = np.lexsort((length_arr, t, v, u))
        u, v, t, length_arr = u[order], v[order], t[order], length_arr[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        return u[first], v[first], t[first], length_arr[first]

    def _hash(self, u: np.ndarray, v: np.ndarray, t: np.ndarray, length: np.ndarray) -> str:
        h = hashlib.sha256()
        h.update(repr((_CACHE_VERSION, self.mode, self.walk_speed_mps,
                       self.speeds.key() if self.speeds else None, len(self.node_ids))).encode())
        if self.node_ids.dtype == object:
            h.update(repr(self.node_ids.tolist()).encode())
        else:
            h.update(self.node_ids.tobytes())
        for arr in (self.lat, self.lon, u, v, t, length):
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()

    def _build_full(self, cache_dir: str | os.PathLike[str] | None) -> None:
        n = self.n
        path = None
        if cache_dir is not None:
            path = Path(cache_dir).expanduser() / f"traveltimes-{self.mode}-{self.graph_hash[:24]}.npz"
            self.cache_file = path
            if path.is_file():
                try:
                    with np.load(path, allow_pickle=False) as z:
                        if str(z["graph_hash"]) == self.graph_hash and z["time_s"].shape == (n, n):
                            self._time, self._dist = z["time_s"], z["dist_m"]
                            self.cache_hit = True
                            log.debug("travel-time table read from cache %s", path)
                            return
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("ignoring unreadable travel-time cache %s (%s)", path, exc)
            self.cache_hit = False
        self._time = np.empty((n, n), dtype=np.float32)
        self._dist = np.empty((n, n), dtype=np.float32)
        chunk = max(1, min(n, _CHUNK_ENTRIES // n))
        for start in range(0, n, chunk):
            src = np.arange(start, min(n, start + chunk))
            t_rows, d_rows = self._compute_rows(src)
            self._time[src] = t_rows
            self._dist[src] = d_rows
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + f".tmp{os.getpid()}")
            try:
                with open(tmp, "wb") as fh:
                    np.savez(fh, time_s=self._time, dist_m=self._dist,
                             graph_hash=np.array(self.graph_hash))
                os.replace(tmp, path)
            except OSError as exc:
                log.warning("could not write travel-time cache %s (%s)", path, exc)
            finally:
                tmp.unlink(missing_ok=True)

    def _compute_rows(self, sources: np.ndarray, *, limit_s: float = np.inf
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Time and distance rows (float32, shape ``(len(sources), n)``) for some sources."""
        sources = np.asarray(sources, dtype=np.int64)
        if self.mode == "walk":
            dist = dijkstra(self._len_csr, indices=sources, limit=limit_s * self.walk_speed_mps)
            return (dist / self.walk_speed_mps).astype(np.float32), dist.astype(np.float32)
        t, pred = dijkstra(self._time_csr, indices=sources, return_predecessors=True,
                           limit=limit_s)
        return t.astype(np.float32), self._dist_along_tree(pred, sources).astype(np.float32)

    def _dist_along_tree(self, pred: np.ndarray, sources: np.ndarray) -> np.ndarray:
        """Length of the tree path source -> node for each row of a predecessor matrix.

        Pointer jumping: each node holds (ancestor, length from that ancestor); every round
        jumps to the ancestor's ancestor, so ``log2(depth)`` vectorised rounds suffice. Works
        on flat indices and drops nodes that reached their source from the active set.
        """
        c, n = pred.shape
        itype = np.int32 if c * n < 2**31 else np.int64
        flat_pred = pred.reshape(-1)
        act = np.flatnonzero(flat_pred >= 0).astype(itype)
        parent_col = flat_pred[act].astype(itype)
        row_base = (act // n) * n
        child_col = act - row_base
        pos = np.searchsorted(self._edge_key, parent_col.astype(np.int64) * n + child_col)
        dist = np.full(c * n, np.inf)
        dist[np.arange(c) * n + sources] = 0.0
        dist[act] = self._edge_len[pos]
        up = np.full(c * n, -1, dtype=itype)  # flat index of the current ancestor
        up[act] = row_base + parent_col
        del parent_col, row_base, child_col, pos
        while act.size:
            anc = up[act]
            dist[act] += dist[anc]
            nxt = up[anc]
            up[act] = nxt
            act = act[nxt >= 0]
        return dist.reshape(c, n)

    # ------------------------------------------------------------------ basics
    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    def __len__(self) -> int:
        return self.n

    @property
    def full_table(self) -> bool:
        """Whether full ``n x n`` tables are held (else rows are computed lazily)."""
        return self._time is not None

    def __repr__(self) -> str:
        kind = "full" if self.full_table else "lazy"
        return f"<TravelTimes mode={self.mode} nodes={self.n} {kind} source={self.source!r}>"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_rows"] = OrderedDict()  # the row cache is rebuilt on demand
        return state

    def index_of(self, node_id: Any) -> int:
        """Compact index of an OSM node id."""
        try:
            return self._index[node_id]
        except (KeyError, TypeError):
            raise NetworkError(f"node {node_id!r} is not in the road graph "
                               f"({self.n} nodes, source {self.source!r})") from None

    def indices_of(self, node_ids: Any) -> np.ndarray:
        """Vectorised :meth:`index_of`."""
        return np.fromiter((self.index_of(x) for x in node_ids), dtype=np.intp)

    def _check_index(self, i: np.ndarray) -> None:
        if i.size and (i.min() < 0 or i.max() >= self.n):
            bad = i[(i < 0) | (i >= self.n)].ravel()[0]
            raise IndexError(f"node index {int(bad)} out of range 0..{self.n - 1}")

    # ------------------------------------------------------------------ rows
    def _rows_for(self, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows for unique ``sources`` (lazy mode), using and filling the LRU cache."""
        missing = [int(s) for s in sources if int(s) not in self._rows]
        if missing:
            t_rows, d_rows = self._compute_rows(np.asarray(missing))
            fresh = {s: (t_rows[k], d_rows[k]) for k, s in enumerate(missing)}
        else:
            fresh = {}
        t_out = np.empty((len(sources), self.n), dtype=np.float32)
        d_out = np.empty((len(sources), self.n), dtype=np.float32)
        for k, s in enumerate(sources):
            s = int(s)
            if s in fresh:
                row = fresh[s]
            else:
                row = self._rows[s]
                self._rows.move_to_end(s)
            t_out[k], d_out[k] = row
        for s, row in fresh.items():
            self._rows[s] = row
            if len(self._rows) > self.row_cache_size:
                self._rows.popitem(last=False)
        return t_out, d_out

    def _row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        self._check_index(np.asarray(i))
        if self._time is not None:
            assert self._dist is not None
            return self._time[i], self._dist[i]
        t, d = self._rows_for(np.asarray([i]))
        return t[0], d[0]

    def row_time_s(self, i: int) -> np.ndarray:
        """Travel times (s, float32, length ``n``) from index ``i`` to every node."""
        return self._row(int(i))[0]

    def row_dist_m(self, i: int) -> np.ndarray:
        """Distances (m, float32, along the fastest paths) from index ``i`` to every node."""
        return self._row(int(i))[1]

    # ------------------------------------------------------------------ look-ups
    def _lookup(self, i: Any, j: Any, which: int) -> Any:
        ii, jj = np.asarray(i, dtype=np.intp), np.asarray(j, dtype=np.intp)
        self._check_index(ii)
        self._check_index(jj)
        if self._time is not None:
            table = self._time if which == 0 else self._dist
            assert table is not None
            out = table[ii, jj]
        elif ii.ndim == 0 and jj.ndim == 0:  # scalar look-up: straight from the LRU
            src = int(ii)
            row = self._rows.get(src)
            if row is None:
                self._rows_for(np.asarray([src]))
                row = self._rows[src]
            else:
                self._rows.move_to_end(src)
            out = row[which][int(jj)]
        else:
            ii, jj = np.broadcast_arrays(ii, jj)
            out = np.empty(ii.shape, dtype=np.float32)
            flat_i, flat_j, flat_out = ii.ravel(), jj.ravel(), out.reshape(-1)
            uniq, inv = np.unique(flat_i, return_inverse=True)
            step = max(1, min(len(uniq), self.row_cache_size, _CHUNK_ENTRIES // self.n))
            for start in range(0, len(uniq), step):
                block = uniq[start:start + step]
                rows = self._rows_for(block)[which]
                sel = (inv >= start) & (inv < start + len(block))
                flat_out[sel] = rows[inv[sel] - start, flat_j[sel]]
        return float(out) if np.ndim(out) == 0 else out

    def time_s(self, i: Any, j: Any) -> Any:
        """Fastest travel time (s) from index ``i`` to ``j``; ``inf`` if unreachable.

        Scalars give a ``float``; arrays (broadcast together) give a float32 array.
        """
        return self._lookup(i, j, 0)

    def dist_m(self, i: Any, j: Any) -> Any:
        """Road length (m) of the fastest path from ``i`` to ``j``; ``inf`` if unreachable."""
        return self._lookup(i, j, 1)

    def time_matrix_s(self, origins: Any, destinations: Any) -> np.ndarray:
        """Travel-time sub-table (s) between index arrays (origins x destinations)."""
        o = np.asarray(origins, dtype=np.intp).reshape(-1, 1)
        return np.asarray(self.time_s(o, np.asarray(destinations, dtype=np.intp).reshape(1, -1)))

    def dist_matrix_m(self, origins: Any, destinations: Any) -> np.ndarray:
        """Distance sub-table (m) between index arrays (origins x destinations)."""
        o = np.asarray(origins, dtype=np.intp).reshape(-1, 1)
        return np.asarray(self.dist_m(o, np.asarray(destinations, dtype=np.intp).reshape(1, -1)))

    def within_s(self, i: int, limit_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Indices and times (s) of nodes reachable from ``i`` within ``limit_s`` seconds.

        Uses the full table when there is one, else a radius-bounded dijkstra (csgraph
        ``limit``) that stops exploring past ``limit_s``. Sorted by time.
        """
        self._check_index(np.asarray(i))
        if self._time is not None:
            row = self._time[i]
        else:
            row = self._compute_rows(np.asarray([i]), limit_s=float(limit_s))[0][0]
        idx = np.flatnonzero(row <= limit_s)
        order = np.argsort(row[idx], kind="stable")
        return idx[order], row[idx][order]

    # ------------------------------------------------------------------ paths
    def path(self, i: int, j: int) -> list[int]:
        """Node indices of the fastest path from ``i`` to ``j`` (``[i]`` if equal, ``[]`` if
        unreachable). Computes one predecessor row on demand; nothing all-pairs is stored."""
        i, j = int(i), int(j)
        self._check_index(np.asarray([i, j]))
        if i == j:
            return [i]
        graph = self._len_csr if self.mode == "walk" else self._time_csr
        _, pred = dijkstra(graph, indices=i, return_predecessors=True)
        if pred[j] < 0:
            return []
        out = [j]
        while out[-1] != i:
            out.append(int(pred[out[-1]]))
        out.reverse()
        return out

    def path_length_m(self, nodes: list[int]) -> float:
        """Sum of edge lengths (m) along a node-index path."""
        if len(nodes) < 2:
            return 0.0
        a = np.asarray(nodes[:-1], dtype=np.int64)
        b = np.asarray(nodes[1:], dtype=np.int64)
        keys = a * self.n + b
        pos = np.searchsorted(self._edge_key, keys)
        if np.any(pos >= len(self._edge_key)) or np.any(self._edge_key[np.minimum(
                pos, len(self._edge_key) - 1)] != keys):
            raise NetworkError("path_length_m: consecutive nodes are not joined by an edge")
        return float(self._edge_len[pos].sum())

    # ------------------------------------------------------------------ snapping
    def _project(self, lat: Any, lon: Any) -> np.ndarray:
        lat_r, lon_r = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
        x = EARTH_RADIUS_M * np.cos(self._lat0) * lon_r
        y = EARTH_RADIUS_M * lat_r
        return np.column_stack([np.ravel(x), np.ravel(y)])

    def snap_many(self, lats: Any, lons: Any, *, max_snap_m: float | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node index and great-circle distance (m) for each point.

        Raises:
            NetworkError: if a point is farther than ``max_snap_m`` (default: the oracle's)
                from every node; the message lists the first offending points.
        """
        lat_a = np.atleast_1d(np.asarray(lats, dtype=float))
        lon_a = np.atleast_1d(np.asarray(lons, dtype=float))
        if lat_a.shape != lon_a.shape:
            raise NetworkError(f"snap_many: {lat_a.size} latitudes but {lon_a.size} longitudes")
        if not (np.all(np.isfinite(lat_a)) and np.all(np.isfinite(lon_a))):
            raise NetworkError("snap_many: latitudes and longitudes must be finite numbers")
        limit = self.max_snap_m if max_snap_m is None else float(max_snap_m)
        _, idx = self._kdtree.query(self._project(lat_a, lon_a))
        idx = np.asarray(idx, dtype=np.intp).reshape(lat_a.shape)
        dist = haversine_m(lat_a, lon_a, self.lat[idx], self.lon[idx])
        far = np.flatnonzero(dist.ravel() > limit)
        if far.size:
            examples = ", ".join(
                f"({lat_a.ravel()[k]:.6f}, {lon_a.ravel()[k]:.6f}) is {dist.ravel()[k]:,.0f} m away"
                for k in far[:3])
            w, s, e, nth = self.lon.min(), self.lat.min(), self.lon.max(), self.lat.max()
            raise NetworkError(
                f"{far.size} point(s) lie farther than max_snap_m={limit:g} m from the road "
                f"network {self.source!r}: {examples}. The network covers lat {s:.4f}..{nth:.4f},"
                f" lon {w:.4f}..{e:.4f}; check the coordinates (lat, lon order) or load a larger"
                " network."
            )
        return idx, dist

    def snap(self, lat: float, lon: float, *, max_snap_m: float | None = None
             ) -> tuple[int, float]:
        """Nearest node index and its distance (m) to ``(lat, lon)``; see :meth:`snap_many`."""
        idx, dist = self.snap_many([lat], [lon], max_snap_m=max_snap_m)
        return int(idx[0]), float(dist[0])
