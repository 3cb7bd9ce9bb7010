// The daemon's logger: pino, one JSON object per line on stdout (or a given
// stream in tests), level from the configuration.
//
// Invariant: card numbers, phones and secrets never reach the output. Three
// layers, from precise to blunt:
//   1. `redact` masks fields with a known sensitive name (secret, cardNumber,
//      phone, …) at the top level and up to three objects deep, with the
//      masks from mask.ts (not a fixed "[Redacted]": the last digits of a card
//      help support);
//   2. the `err` serializer and the message hook mask runs of 10+ digits in
//      free text (an error message quoting a card number by accident);
//   3. code that logs such a value under another name calls mask.ts itself.
// Never log a frame or a decoded request: log its operation and ids.
import { pino, stdSerializers, type DestinationStream, type Logger as PinoLogger } from "pino";
import type { LogLevel } from "../config.js";
import { maskCardNumber, maskDigitRuns, maskPhone, maskSecret } from "./mask.js";

export type Logger = PinoLogger;

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go; stdout (pino's fast synchronous writer) when absent. */
  readonly destination?: DestinationStream;
}

/** Field names whose values are masked wherever they appear, by kind. */
const sensitiveFields: Readonly<Record<string, (value: string) => string>> = {
  cardNumber: maskCardNumber,
  card_number: maskCardNumber,
  pan: maskCardNumber,
  phone: maskPhone,
  phoneNumber: maskPhone,
  phone_number: maskPhone,
  secret: maskSecret,
  password: maskSecret,
  token: maskSecret,
  authorization: maskSecret,
  credential: maskSecret,
  credentials: maskSecret,
};

const depthPrefixes = ["", "*.", "*.*.", "*.*.*."];
const redactPaths = depthPrefixes.flatMap((prefix) => Object.keys(sensitiveFields).map((field) => prefix + field));

function censor(value: unknown, path: readonly (string | symbol)[]): unknown {
  if (value === undefined || value === null) return value;
  const field = path[path.length - 1];
  const mask = typeof field === "string" ? sensitiveFields[field] : undefined;
  // A sensitive name holding an object (e.g. `credentials: {…}`) is hidden whole.
  if (mask === undefined || typeof value === "object") return maskSecret(value);
  return mask(String(value));
}

function errSerializer(error: Error): ReturnType<typeof stdSerializers.err> {
  const serialized = stdSerializers.err(error);
  serialized.message = maskDigitRuns(serialized.message);
  serialized.stack = maskDigitRuns(serialized.stack);
  return serialized;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino({
    level: options.level,
    // Level names, not numbers: what people grep for and log shippers map.
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: redactPaths, censor },
    serializers: { err: errSerializer },
    hooks: {
      logMethod(args, method) {
        // Mask digit runs in the message string (first string argument, or the
        // one after the merge object). Format arguments are masked too.
        for (let i = 0; i < args.length; i += 1) {
          const arg = args[i];
          if (typeof arg === "string") args[i] = maskDigitRuns(arg);
        }
        method.apply(this, args as Parameters<typeof method>);
      },
    },
  }, options.destination ?? pino.destination({ dest: 1, sync: true }));
}
