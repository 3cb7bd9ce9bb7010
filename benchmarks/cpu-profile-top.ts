// Summarises a V8 CPU profile (node --cpu-prof, e.g. the daemon's under
// e2e.bench.js --cpu-prof DIR), optionally only between two profile
// timestamps (the measurement window the e2e benchmark prints as
// "window-us FROM TO"):
// - self time by function, and by source file / package;
// - time by the innermost PROJECT function on the stack (dist/daemon,
//   dist/protocol): its own time plus the library code it called (msgpackr,
//   lmdb, protobufjs, crypto...), i.e. which line of ours to change;
// - inclusive time of project functions (each counted once per sample).
//
// Run: node dist/benchmarks/cpu-profile-top.js FILE.cpuprofile [--from-us N --to-us N] [--top 30]
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { "from-us": { type: "string" }, "to-us": { type: "string" }, top: { type: "string", default: "30" } },
});
const file = positionals[0];
if (!file) throw new Error("usage: cpu-profile-top.js FILE.cpuprofile [--from-us N --to-us N] [--top 30]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const from = values["from-us"] === undefined ? -Infinity : Number(values["from-us"]);
const to = values["to-us"] === undefined ? Infinity : Number(values["to-us"]);
const top = Number(values.top);

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const cwd = process.cwd();
function where(node: ProfileNode): string {
  const { url, lineNumber } = node.callFrame;
  if (!url) return "";
  const path = url.startsWith("file://") ? relative(cwd, new URL(url).pathname) : url;
  return `${path}:${lineNumber + 1}`;
}
function label(node: ProfileNode): string {
  const name = node.callFrame.functionName || "(anonymous)";
  const at = where(node);
  return at ? `${name} ${at}` : name;
}
function fileOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const path = url.startsWith("file://") ? relative(cwd, new URL(url).pathname) : url;
  // Group dependencies by package so the table stays short.
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return pkg ? `node_modules/${pkg[1]}` : path;
}

// A sample's duration is the delta to the next sample (the last one has none and is dropped).
const selfByFunction = new Map<string, number>();
const selfByFile = new Map<string, number>();
const byProjectFrame = new Map<string, number>();
const inclusive = new Map<string, number>();
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const isProject = (node: ProfileNode): boolean => /\/dist\/(daemon|protocol)\//.test(node.callFrame.url);
let at = profile.startTime;
let total = 0;
for (let i = 0; i < profile.samples.length; i += 1) {
  at += profile.timeDeltas[i] ?? 0;
  const next = profile.timeDeltas[i + 1];
  if (next === undefined || at < from || at >= to) continue;
  const node = nodes.get(profile.samples[i]!)!;
  selfByFunction.set(label(node), (selfByFunction.get(label(node)) ?? 0) + next);
  selfByFile.set(fileOf(node), (selfByFile.get(fileOf(node)) ?? 0) + next);
  let innermost: string | undefined;
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) {
    const frame = nodes.get(id)!;
    if (!isProject(frame)) continue;
    const name = label(frame);
    innermost ??= name;
    if (!seen.has(name)) {
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + next);
    }
  }
  const bucket = innermost ?? (node.callFrame.functionName.startsWith("(") ? node.callFrame.functionName : `(outside project code) ${fileOf(node)}`);
  byProjectFrame.set(bucket, (byProjectFrame.get(bucket) ?? 0) + next);
  total += next;
}

function print(title: string, rows: Map<string, number>, limit: number): void {
  console.log(`\n| ${title} | self ms | self % |\n|---|---:|---:|`);
  for (const [name, us] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    console.log(`| \`${name}\` | ${(us / 1000).toFixed(0)} | ${((us / total) * 100).toFixed(1)}% |`);
  }
}

const idle = selfByFunction.get("(idle)") ?? 0;
console.log(`profile ${file}: ${(total / 1e6).toFixed(2)} s sampled in the window, ${((1 - idle / total) * 100).toFixed(1)}% of it not idle`);
print("function (self time)", selfByFunction, top);
print("file / package (self time)", selfByFile, Math.min(top, 20));
print("innermost project function (self + the library code it called)", byProjectFrame, top);
print("project function (inclusive)", inclusive, top);
