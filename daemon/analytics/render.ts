// Pictures a person would rather look at than read (SPEC A7): the territory
// map and the per-day series of the summary, as self-contained SVG (opens in
// any browser, no fonts or scripts fetched). Pure functions of report output.
import type { TerritoryGrid } from "./reports/territory.js";

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);

/** Density ramp from pale yellow to dark red; `t` in [0, 1]. */
function heat(t: number): string {
  const stops = [[255, 255, 204], [254, 217, 118], [253, 141, 60], [227, 26, 28], [128, 0, 38]];
  const x = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1);
  const i = Math.floor(x);
  const f = x - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  return `rgb(${a.map((v, k) => Math.round(v + (b[k]! - v) * f)).join(",")})`;
}

export function territorySvg(grid: TerritoryGrid, title: string): string {
  const width = 900;
  const lat0 = (grid.south + grid.north) / 2;
  const kx = Math.cos((lat0 * Math.PI) / 180);
  const spanX = Math.max(1e-9, (grid.east - grid.west) * kx);
  const spanY = Math.max(1e-9, grid.north - grid.south);
  const mapW = width - 40;
  const mapH = Math.max(200, Math.round((mapW * spanY) / spanX));
  const top = 50;
  const x = (lon: number) => 20 + ((lon - grid.west) * kx * mapW) / spanX;
  const y = (lat: number) => top + ((grid.north - lat) * mapH) / spanY;
  const max = Math.max(1, ...grid.cells.map((c) => c.customers));
  const parts: string[] = [];
  parts.push(`<rect x="20" y="${top}" width="${mapW}" height="${mapH}" fill="#f4f6f8" stroke="#ccd"/>`);
  for (const c of grid.cells) {
    const w = Math.max(0.5, x(c.east) - x(c.west));
    const h = Math.max(0.5, y(c.south) - y(c.north));
    parts.push(`<rect x="${x(c.west).toFixed(1)}" y="${y(c.north).toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${heat(Math.sqrt(c.customers / max))}"><title>${c.customers} customers; nearest store ${escapeXml(c.nearestStore)} ${c.nearestStoreKm} km</title></rect>`);
  }
  for (const s of grid.stores) {
    const sx = x(s.lon).toFixed(1);
    const sy = y(s.lat).toFixed(1);
    parts.push(`<g><circle cx="${sx}" cy="${sy}" r="6" fill="#1f5fbf" stroke="#fff" stroke-width="2"><title>${escapeXml(s.name)}: ${s.customers} customers nearest</title></circle>`
      + `<text x="${(Number(sx) + 8).toFixed(1)}" y="${(Number(sy) + 4).toFixed(1)}" font-size="11" fill="#123" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeXml(s.id)}</text></g>`);
  }
  // Scale bar: 5 km.
  const km5 = (5 / (111.32 * kx)) * kx * (mapW / spanX);
  const legendY = top + mapH + 25;
  parts.push(`<line x1="20" y1="${legendY}" x2="${(20 + km5).toFixed(1)}" y2="${legendY}" stroke="#333" stroke-width="3"/><text x="${(25 + km5).toFixed(1)}" y="${legendY + 4}" font-size="12">5 km</text>`);
  for (let i = 0; i <= 4; i += 1) {
    parts.push(`<rect x="${200 + i * 40}" y="${legendY - 8}" width="40" height="14" fill="${heat(i / 4)}"/>`);
  }
  parts.push(`<text x="${200 + 5 * 40 + 8}" y="${legendY + 4}" font-size="12">customers per ${grid.cellMeters} m cell: 0 … ${max}</text>`);
  parts.push(`<circle cx="${620}" cy="${legendY}" r="6" fill="#1f5fbf" stroke="#fff" stroke-width="2"/><text x="632" y="${legendY + 4}" font-size="12">store</text>`);
  const height = legendY + 25;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`
    + `<text x="20" y="30" font-size="18" font-weight="bold">${escapeXml(title)}</text>${parts.join("")}</svg>\n`;
}

export interface SeriesPoint {
  date: string;
  value: number;
}

/** A line chart of a per-day series with a y axis in the series' unit. */
export function seriesSvg(points: readonly SeriesPoint[], title: string, unit: string): string {
  const width = 1000;
  const height = 420;
  const left = 80;
  const right = 20;
  const top = 50;
  const bottom = 60;
  const w = width - left - right;
  const h = height - top - bottom;
  const max = Math.max(1, ...points.map((p) => p.value));
  const step = niceStep(max / 5);
  const yMax = Math.ceil(max / step) * step;
  const x = (i: number) => left + (points.length <= 1 ? w / 2 : (i * w) / (points.length - 1));
  const y = (v: number) => top + h - (v / yMax) * h;
  const parts: string[] = [];
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    parts.push(`<line x1="${left}" x2="${left + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e6ea"/><text x="${left - 8}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${formatTick(v)}</text>`);
  }
  const labelEvery = Math.max(1, Math.ceil(points.length / 12));
  points.forEach((p, i) => {
    if (i % labelEvery === 0) parts.push(`<text x="${x(i).toFixed(1)}" y="${top + h + 18}" font-size="11" text-anchor="middle">${escapeXml(p.date)}</text>`);
  });
  const path = points.map((p, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join("");
  parts.push(`<path d="${path}" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>`);
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + h}" stroke="#333"/><line x1="${left}" x2="${left + w}" y1="${top + h}" y2="${top + h}" stroke="#333"/>`);
  parts.push(`<text x="${left}" y="${height - 15}" font-size="12" fill="#555">${escapeXml(unit)}</text>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`
    + `<rect width="${width}" height="${height}" fill="#fff"/><text x="${left}" y="30" font-size="18" font-weight="bold">${escapeXml(title)}</text>${parts.join("")}</svg>\n`;
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

function formatTick(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(v % 1e6 === 0 ? 0 : 1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(v % 1e3 === 0 ? 0 : 1)}k`;
  return String(v);
}
