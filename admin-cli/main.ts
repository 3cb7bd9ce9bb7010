#!/usr/bin/env node
// admin-cli: the chain's operations and marketing staff's tool (SPEC O1),
// over the daemon's admin channel. `admin-cli --help` lists the commands;
// `admin-cli <command> --help` its options. Exit codes: see commands.ts.
//
// Where it connects and as whom: --url (LOYALTY_ADMIN_URL, default
// http://127.0.0.1:7701) and --token (LOYALTY_ADMIN_TOKEN), or the token in
// --credentials (default ./data/admin-credentials.json, written by the
// daemon on its first start).
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { AdminAuthError, AdminClient, AdminError, AdminUnreachableError } from "./client.js";
import { analyticsCommands } from "./analytics-commands.js";
import { commands as operationalCommands, exitCodes, type CommandSpec, type Context, type OptionSpec } from "./commands.js";
import { UsageError } from "./data-file.js";
import { CsvFormatError } from "./import-csv.js";

const commands: CommandSpec[] = [...operationalCommands, ...analyticsCommands];

const globalOptions: Record<string, OptionSpec> = {
  url: { type: "string", help: "admin channel URL (env LOYALTY_ADMIN_URL; default http://127.0.0.1:7701)" },
  token: { type: "string", help: "admin token <user>.<secret> (env LOYALTY_ADMIN_TOKEN)" },
  credentials: { type: "string", help: "file with the token (default ./data/admin-credentials.json)" },
  json: { type: "boolean", help: "machine-readable output" },
  help: { type: "boolean", help: "show help" },
};

function usage(): string {
  const width = Math.max(...commands.map((c) => c.words.length));
  return [
    "Usage: admin-cli <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.words.padEnd(width)}  ${c.summary}`),
    "",
    "Global options:",
    ...optionLines(globalOptions),
    "",
    "Exit codes: 0 ok, 1 refused by the daemon, 2 usage or file error, 3 wrong credential, 4 daemon unreachable, 5 done with rejected lines.",
    "",
  ].join("\n");
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const names = Object.keys(options);
  const width = Math.max(0, ...names.map((n) => n.length + (options[n]!.type === "string" ? 8 : 0)));
  return names.map((n) => {
    const o = options[n]!;
    const flag = o.type === "string" ? `--${n} <value>` : `--${n}`;
    return `  ${flag.padEnd(width + 2)}  ${o.help}${o.required ? " (required)" : ""}`;
  });
}

function commandHelp(spec: CommandSpec): string {
  return [`Usage: admin-cli ${spec.words} [options]`, "", spec.summary, "", "Options:", ...optionLines(spec.options), ...optionLines(globalOptions), ""].join("\n");
}

/** `--points -200`: parseArgs would read -200 as flags; join it as `--points=-200`. */
function joinNegativeValues(args: string[], options: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const a = args[i]!;
    const next = args[i + 1];
    if (a.startsWith("--") && options[a.slice(2)]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i += 1;
    } else {
      out.push(a);
    }
  }
  return out;
}

function findCommand(argv: string[]): { spec: CommandSpec; rest: string[] } | null {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith("-")) break;
    words.push(a);
  }
  for (let n = Math.min(words.length, 2); n >= 1; n -= 1) {
    const spec = commands.find((c) => c.words === words.slice(0, n).join(" "));
    if (spec) return { spec, rest: argv.slice(n) };
  }
  return null;
}

function resolveToken(values: Record<string, unknown>, env: NodeJS.ProcessEnv): string {
  if (typeof values.token === "string") return values.token;
  if (env.LOYALTY_ADMIN_TOKEN) return env.LOYALTY_ADMIN_TOKEN;
  const file = typeof values.credentials === "string" ? values.credentials : "./data/admin-credentials.json";
  if (!existsSync(file)) {
    throw new UsageError(`no admin token: give --token, set LOYALTY_ADMIN_TOKEN, or point --credentials at the daemon's admin-credentials.json (${file} does not exist)`);
  }
  try {
    const token = (JSON.parse(readFileSync(file, "utf8")) as { token?: unknown }).token;
    if (typeof token === "string" && token) return token;
  } catch {
    // fall through to the message below
  }
  throw new UsageError(`${file} does not hold an admin token ({"user": …, "token": …})`);
}

export async function run(argv: string[], env: NodeJS.ProcessEnv, out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const found = findCommand(argv);
  if (!found) {
    if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) { out(usage()); return argv.length === 0 ? exitCodes.usage : exitCodes.ok; }
    err(`unknown command: ${argv.filter((a) => !a.startsWith("-")).slice(0, 2).join(" ")}\n\n${usage()}`);
    return exitCodes.usage;
  }
  const { spec, rest } = found;
  try {
    const options = { ...globalOptions, ...spec.options };
    const { values } = parseArgs({
      args: joinNegativeValues(rest, options), strict: true, allowPositionals: false,
      options: Object.fromEntries(Object.entries(options).map(([k, o]) => [k, { type: o.type }])),
    });
    if (values.help) { out(commandHelp(spec)); return exitCodes.ok; }
    for (const [name, o] of Object.entries(spec.options)) {
      if (o.required && values[name] === undefined) throw new UsageError(`--${name} is required (${o.help})`);
    }
    const url = typeof values.url === "string" ? values.url : env.LOYALTY_ADMIN_URL ?? "http://127.0.0.1:7701";
    let client: AdminClient | null = null;
    const ctx: Context = {
      client: () => (client ??= new AdminClient({ url, token: resolveToken(values, env) })),
      json: values.json === true,
      out,
    };
    return await spec.run(ctx, values as Record<string, string | boolean | undefined>);
  } catch (error) {
    if (error instanceof UsageError || error instanceof CsvFormatError) { err(`error: ${error.message}\n`); return exitCodes.usage; }
    if (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
      err(`error: ${error.message}\nRun admin-cli ${spec.words} --help for the options.\n`);
      return exitCodes.usage;
    }
    if (error instanceof AdminAuthError) { err(`error: ${error.message}\n`); return exitCodes.unauthenticated; }
    if (error instanceof AdminUnreachableError) { err(`error: ${error.message}\nIs the daemon running? Check --url or LOYALTY_ADMIN_URL.\n`); return exitCodes.unreachable; }
    if (error instanceof AdminError) {
      err(`error: ${error.message}\n`);
      return error.status >= 500 && error.kind !== "unavailable" ? exitCodes.unreachable : exitCodes.refused;
    }
    throw error;
  }
}

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  run(process.argv.slice(2), process.env, (t) => process.stdout.write(t), (t) => process.stderr.write(t)).then(
    (code) => { process.exitCode = code; },
    (error: unknown) => {
      process.stderr.write(`internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      process.exitCode = 70;
    },
  );
}
