// The first admin credential. A new data directory gets an admin user named
// "admin"; its token is written once to <data>/admin-credentials.json (mode
// 0600, like the demo terminal secrets) for admin-cli to read. With
// --reset-admin-token the daemon gives "admin" a new secret and rewrites the
// file: the way back in for an operator who lost it (it needs access to the
// daemon's machine and data directory, which is the real boundary anyway).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AdminAction, AdminResult } from "../engine/admin.js";
import type { Logger } from "../observability/logger.js";
import type { Store } from "../storage/store.js";
import { adminToken, newSecret } from "./admin-api.js";

export const adminCredentialsFile = "admin-credentials.json";
const firstAdmin = "admin";

export async function ensureAdminCredential(options: {
  store: Store;
  dataDir: string;
  reset: boolean;
  now: number;
  admin: (action: AdminAction, actor: string) => Promise<AdminResult>;
  logger: Logger;
}): Promise<void> {
  const { store } = options;
  const anyAdmin = store.scan("admins", "", 1).length > 0;
  if (anyAdmin && !options.reset) return;
  const { secret, salt, secretHash } = newSecret();
  const result = await options.admin({ a: "admin.put", user: { name: firstAdmin, salt, secretHash, disabled: false, createdAt: options.now } }, "bootstrap");
  if (!result.ok) throw new Error(`cannot create the first admin user: ${result.message}`);
  const file = join(options.dataDir, adminCredentialsFile);
  writeFileSync(file, `${JSON.stringify({ user: firstAdmin, token: adminToken(firstAdmin, secret) }, null, 2)}\n`, { mode: 0o600 });
  options.logger.info({ user: firstAdmin, credentialsFile: file }, options.reset ? "admin token reset; the new one is in the credentials file" : "created the first admin user; its token is in the credentials file");
}
