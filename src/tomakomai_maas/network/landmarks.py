"""Landmarks shipped with the embedded network (station, city hall, market, ...).

``network/data/landmarks.csv`` columns (one row per landmark):

==============  =======  ======================================================
column          dtype    meaning
==============  =======  ======================================================
``key``         str      unique identifier (``jr_tomakomai``, ...)
``name``        str      Japanese name
``name_en``     str      English name
``lat``         float    latitude, WGS84 degrees
``lon``         float    longitude, WGS84 degrees
``kind``        str      category (station, hospital, market, ...)
``confidence``  str      ``published`` (from a public source) or ``assumed``
``source``      str      where the coordinate comes from
==============  =======  ======================================================
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

import pandas as pd

from tomakomai_maas.errors import NetworkError

__all__ = ["LANDMARK_DTYPES", "load_landmarks"]

LANDMARK_DTYPES: dict[str, str] = {
    "key": "string",
    "name": "string",
    "name_en": "string",
    "lat": "float64",
    "lon": "float64",
    "kind": "string",
    "confidence": "string",
    "source": "string",
}
"""Columns of the landmarks table and their pandas dtypes."""


def load_landmarks(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read the landmarks table (default: the package's ``network/data/landmarks.csv``).

    Returns a DataFrame with exactly the columns of :data:`LANDMARK_DTYPES`, in that order.

    Raises:
        NetworkError: the file is missing, a column is missing, a coordinate is not a number
            or out of range, or a key is repeated.
    """
    if path is None:
        res = importlib.resources.files("tomakomai_maas.network").joinpath("data",
                                                                            "landmarks.csv")
        if not res.is_file():
            raise NetworkError(
                "landmarks file is missing from the installed package (expected "
                "tomakomai_maas/network/data/landmarks.csv); reinstall the package"
            )
        label, fpath = "package file network/data/landmarks.csv", Path(str(res))
    else:
        fpath = Path(path)
        label = str(path)
        if not fpath.is_file():
            raise NetworkError(f"landmarks file not found: {label}")
    try:
        df = pd.read_csv(fpath, dtype=str, keep_default_na=False, comment=None)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise NetworkError(f"{label}: cannot be read as CSV ({exc})") from exc
    missing = [c for c in LANDMARK_DTYPES if c not in df.columns]
    if missing:
        raise NetworkError(f"{label}: missing column(s) {', '.join(missing)}; expected "
                           f"{', '.join(LANDMARK_DTYPES)}")
    df = df[list(LANDMARK_DTYPES)].copy()
    for col, lo, hi in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0)):
        vals = pd.to_numeric(df[col].str.strip(), errors="coerce")
        bad = df.index[vals.isna() | (vals < lo) | (vals > hi)]
        if len(bad):
            r = bad[0]
            raise NetworkError(f"{label}: row {r + 2}, column {col}: {df.at[r, col]!r} is not "
                               f"a number in [{lo:g}, {hi:g}]")
        df[col] = vals
    dup = df["key"][df["key"].duplicated()]
    if len(dup):
        raise NetworkError(f"{label}: key {dup.iloc[0]!r} appears more than once")
    return df.astype(LANDMARK_DTYPES).reset_index(drop=True)
