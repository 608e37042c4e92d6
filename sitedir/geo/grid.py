"""Distances (haversine) and the search grid cells a radius covers."""
from __future__ import annotations

import math

# IUGG mean Earth radius, 6371.0088 km, in statute miles.
EARTH_RADIUS_MILES = 6371.0088 / 1.609344

# Search grid. A listing is indexed under the one cell its venue is in; a search for "within R
# miles" ORs the cells that any point within R can be in, then checks exact distances on the
# survivors. 0.05° of latitude is 5.6 km and 0.08° of longitude is 5.7 km at 50°N and 4.4 km at
# 60°N, so cells are near-square across the UK. That size keeps a 1-mile search to 1-4 cells
# (a fine prefilter) and a 25-mile search to about 200 terms, which Whoosh ORs in a few ms;
# smaller cells make the 25-mile query huge, larger ones let too many far listings through.
# Changing either constant means `flask index rebuild`.
GRID_LAT_DEGREES = 0.05
GRID_LON_DEGREES = 0.08
MAX_GRID_RADIUS_MILES = 100.0  # beyond this, search without a distance filter instead


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles on a sphere of the Earth's mean radius."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def _cell_index(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / GRID_LAT_DEGREES), math.floor(lon / GRID_LON_DEGREES)


def _cell_name(row: int, column: int) -> str:
    return f"{row}_{column}"


def grid_cell(lat: float, lon: float) -> str:
    """The search-index grid cell a point is in, e.g. '1075_-20'."""
    return _cell_name(*_cell_index(lat, lon))


def _distance_to_cell(lat: float, lon: float, row: int, column: int) -> float:
    """Shortest great-circle distance in miles from a point to any point of a grid cell."""
    # Widen the cell by a hair so a point on an edge is never lost to float rounding.
    slack = 1e-9
    south, north = row * GRID_LAT_DEGREES - slack, (row + 1) * GRID_LAT_DEGREES + slack
    west, east = column * GRID_LON_DEGREES - slack, (column + 1) * GRID_LON_DEGREES + slack
    if west <= lon <= east:
        return haversine_miles(lat, lon, min(max(lat, south), north), lon)
    edge = west if abs(lon - west) < abs(lon - east) else east
    # The nearest point of a meridian is not level with the point but poleward of it:
    # tan(lat*) = tan(lat) / cos(dlon). Clamped to the cell's edge, it is the nearest point.
    dlon = math.radians(abs(lon - edge))
    nearest_lat = math.degrees(math.atan2(math.tan(math.radians(lat)), math.cos(dlon)))
    return haversine_miles(lat, lon, min(max(nearest_lat, south), north), edge)


def grid_cells_covering(lat: float, lon: float, radius_miles: float) -> list[str]:
    """Every grid cell that contains some point within radius_miles of (lat, lon)."""
    if not 0 <= radius_miles <= MAX_GRID_RADIUS_MILES:
        raise ValueError(f"radius must be 0 to {MAX_GRID_RADIUS_MILES:g} miles, not {radius_miles}")
    angle = radius_miles / EARTH_RADIUS_MILES
    dlat = math.degrees(angle)
    # The widest longitude reached by a circle of angular radius `angle`.
    dlon = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(math.radians(lat)))))
    south_row, west_column = _cell_index(lat - dlat, lon - dlon)
    north_row, east_column = _cell_index(lat + dlat, lon + dlon)
    limit = radius_miles * (1 + 1e-9) + 1e-9
    return [
        _cell_name(row, column)
        for row in range(south_row - 1, north_row + 2)
        for column in range(west_column - 1, east_column + 2)
        if _distance_to_cell(lat, lon, row, column) <= limit
    ]
