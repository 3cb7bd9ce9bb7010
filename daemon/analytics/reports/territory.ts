// A3 Territorial distribution: where customers live against where the stores
// are, for planning new stores. Customers (with a known home, registered
// before the period's end; under a store filter, those who bought there in
// the period; under a group filter, that group) are counted on a square grid
// of `cellMeters`; each cell knows its nearest store and distance. Output: a
// GeoJSON FeatureCollection (cells as Polygons, stores as Points), per-store
// catchment figures, and the densest cells farther than 2 km from any store
// (candidate sites). The map image is drawn from this by render.ts.
import type { StoreRecord } from "../../engine/model.js";
import { groupFilter } from "./rfm.js";
import { col, inPeriod, isSale, ratio, resultOf, storeFilter, type ReportParams, type ReportResult, type ReportSource } from "./source.js";

const metresPerDegreeLat = 111_320;
/** A cell this far from every store is a candidate site. */
export const underservedKm = 2;

export interface Cell {
  row: number;
  column: number;
  customers: number;
  /** South-west corner and north-east corner, degrees. */
  south: number;
  west: number;
  north: number;
  east: number;
  nearestStore: string;
  nearestStoreKm: number;
}

export interface TerritoryGrid {
  cellMeters: number;
  south: number;
  west: number;
  north: number;
  east: number;
  cells: Cell[];
  stores: { id: string; name: string; lat: number; lon: number; customers: number }[];
}

/** Great-circle distance in km (haversine); floats are fine here, nothing is stored. */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6_371.0088 * Math.asin(Math.min(1, Math.sqrt(a)));
}

function nearest(stores: readonly StoreRecord[], lat: number, lon: number): { store: StoreRecord | null; km: number } {
  let best: StoreRecord | null = null;
  let km = Number.POSITIVE_INFINITY;
  for (const s of stores) {
    const d = distanceKm(lat, lon, s.latE6 / 1e6, s.lonE6 / 1e6);
    if (d < km) { km = d; best = s; }
  }
  return { store: best, km };
}

export function territoryReport(source: ReportSource, p: ReportParams): ReportResult {
  const inGroup = groupFilter(source, p);
  let buyers: Set<string> | null = null;
  if (p.stores.length > 0) {
    const inStores = storeFilter(p);
    buyers = new Set();
    for (const c of source.checks()) if (c.card && isSale(c) && inPeriod(c.confirmedAt, p) && inStores(c.store)) buyers.add(c.card);
  }
  const homes: [number, number][] = [];
  for (const c of source.customers()) {
    if (c.createdAt >= p.to || (c.homeLatE6 === 0 && c.homeLonE6 === 0)) continue;
    if (inGroup && !c.cards.some(inGroup)) continue;
    if (buyers && !c.cards.some((card) => buyers!.has(card))) continue;
    homes.push([c.homeLatE6 / 1e6, c.homeLonE6 / 1e6]);
  }
  const stores = source.stores;
  const points = [...homes, ...stores.map((s): [number, number] => [s.latE6 / 1e6, s.lonE6 / 1e6])];
  const grid: TerritoryGrid = { cellMeters: p.cellMeters, south: 0, west: 0, north: 0, east: 0, cells: [], stores: [] };
  if (points.length > 0) {
    const lat0 = points.reduce((s, [lat]) => s + lat, 0) / points.length;
    const dLat = p.cellMeters / metresPerDegreeLat;
    const dLon = p.cellMeters / (metresPerDegreeLat * Math.cos((lat0 * Math.PI) / 180));
    // Cells are aligned to multiples of the cell size, so the same data always gives the same grid.
    const south = Math.floor(Math.min(...points.map(([lat]) => lat)) / dLat) * dLat;
    const west = Math.floor(Math.min(...points.map(([, lon]) => lon)) / dLon) * dLon;
    const counts = new Map<string, number>();
    for (const [lat, lon] of homes) {
      const k = `${Math.floor((lat - south) / dLat)}:${Math.floor((lon - west) / dLon)}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const rows = Math.floor((Math.max(...points.map(([lat]) => lat)) - south) / dLat) + 1;
    const columns = Math.floor((Math.max(...points.map(([, lon]) => lon)) - west) / dLon) + 1;
    Object.assign(grid, { south, west, north: south + rows * dLat, east: west + columns * dLon });
    for (const [k, customers] of [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const [row, column] = k.split(":").map(Number) as [number, number];
      const cellSouth = south + row * dLat;
      const cellWest = west + column * dLon;
      const near = nearest(stores, cellSouth + dLat / 2, cellWest + dLon / 2);
      grid.cells.push({
        row, column, customers, south: cellSouth, west: cellWest, north: cellSouth + dLat, east: cellWest + dLon,
        nearestStore: near.store?.id ?? "", nearestStoreKm: Math.round(near.km * 100) / 100,
      });
    }
  }
  const catchment = new Map<string, { customers: number; distances: number[] }>(stores.map((s) => [s.id, { customers: 0, distances: [] }]));
  for (const [lat, lon] of homes) {
    const near = nearest(stores, lat, lon);
    if (!near.store) continue;
    const c = catchment.get(near.store.id)!;
    c.customers += 1;
    c.distances.push(near.km);
  }
  grid.stores = stores.map((s) => ({ id: s.id, name: s.name, lat: s.latE6 / 1e6, lon: s.lonE6 / 1e6, customers: catchment.get(s.id)!.customers }));
  const median = (xs: number[]) => {
    if (xs.length === 0) return 0;
    const sorted = [...xs].sort((a, b) => a - b);
    return Math.round(sorted[Math.floor((sorted.length - 1) / 2)]! * 100) / 100;
  };
  const farHomes = homes.filter(([lat, lon]) => nearest(stores, lat, lon).km > underservedKm).length;
  const candidates = grid.cells.filter((c) => c.nearestStoreKm > underservedKm).sort((a, b) => b.customers - a.customers || a.row - b.row || a.column - b.column).slice(0, 20);
  return resultOf("territory", source, p, {
    customers: homes.length, stores: stores.length, cells: grid.cells.length, cellMeters: p.cellMeters,
    customersFartherThan2Km: farHomes, shareFartherThan2Km: ratio(farHomes, homes.length),
  }, [
    { name: "stores", title: "Store catchment (customers whose nearest store it is)", columns: [
      col("store", "Store", "text"), col("name", "Name", "text"), col("lat", "Latitude", "number"), col("lon", "Longitude", "number"),
      col("customers", "Customers"), col("share", "Share", "share"), col("medianKm", "Median distance, km", "number"),
    ], rows: stores.map((s) => {
      const c = catchment.get(s.id)!;
      return { store: s.id, name: s.name, lat: s.latE6 / 1e6, lon: s.lonE6 / 1e6, customers: c.customers, share: ratio(c.customers, homes.length), medianKm: median(c.distances) };
    }) },
    { name: "candidates", title: `Densest cells farther than ${underservedKm} km from any store`, columns: [
      col("lat", "Centre latitude", "number"), col("lon", "Centre longitude", "number"), col("customers", "Customers"), col("nearestStore", "Nearest store", "text"),
      col("nearestStoreKm", "Distance, km", "number"),
    ], rows: candidates.map((c) => ({
      lat: Math.round(((c.south + c.north) / 2) * 1e6) / 1e6, lon: Math.round(((c.west + c.east) / 2) * 1e6) / 1e6, customers: c.customers,
      nearestStore: c.nearestStore, nearestStoreKm: c.nearestStoreKm,
    })) },
  ], { geojson: toGeoJson(grid), grid });
}

export function toGeoJson(grid: TerritoryGrid): Record<string, unknown> {
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    type: "FeatureCollection",
    features: [
      ...grid.cells.map((c) => ({
        type: "Feature",
        geometry: { type: "Polygon", coordinates: [[[c.west, c.south], [c.east, c.south], [c.east, c.north], [c.west, c.north], [c.west, c.south]].map(([x, y]) => [round(x!), round(y!)])] },
        properties: { kind: "cell", customers: c.customers, nearestStore: c.nearestStore, nearestStoreKm: c.nearestStoreKm },
      })),
      ...grid.stores.map((s) => ({
        type: "Feature", geometry: { type: "Point", coordinates: [s.lon, s.lat] },
        properties: { kind: "store", id: s.id, name: s.name, customers: s.customers },
      })),
    ],
  };
}
