// A ReportSource over one LMDB read transaction: every table a report reads
// comes from the same snapshot, so a report sees one consistent state while
// the daemon keeps committing. Only durable data is seen (the single writer's
// overlay of not-yet-durable commands lives in the main thread); a report is
// at most one group commit behind the POS path.
import type { Database, RootDatabase } from "lmdb";
import type { Account, CardRecord, CheckRecord, CustomerRecord, LedgerItem, MerchantRecord, RulesRecord, StoreRecord } from "../engine/model.js";
import { key } from "../engine/model.js";
import type { Table } from "../engine/tx.js";
import { codecOf, decodeStored } from "../storage/record-codecs.js";
import type { ReportSource } from "./reports/source.js";

type Txn = ReturnType<RootDatabase["useReadTransaction"]>;

/** Every key with this prefix sorts before prefix + U+FFFF (keys are UTF-8 strings, ordered-binary encoded). */
const prefixEnd = (prefix: string) => `${prefix}\uffff`;

export function lmdbSource(dbs: ReadonlyMap<Table, Database<Buffer, string>>, transaction: Txn, merchantId: string): ReportSource | null {
  const db = (table: Table) => dbs.get(table)!;
  const get = <T>(table: Table, k: string): T | undefined => {
    const bytes = db(table).get(k, { transaction } as never);
    return bytes === undefined ? undefined : decodeStored<T>(codecOf(table), bytes);
  };
  function* range<T>(table: Table, prefix: string): Generator<readonly [string, T]> {
    for (const { key: k, value } of db(table).getRange({ start: prefix, end: prefixEnd(prefix), transaction } as never)) {
      yield [k as string, decodeStored<T>(codecOf(table), value as Buffer)] as const;
    }
  }
  function* values<T>(table: Table, prefix: string): Generator<T> {
    for (const [, v] of range<T>(table, prefix)) yield v;
  }
  const merchant = get<MerchantRecord>("merchants", key.merchant(merchantId));
  const rules = get<RulesRecord>("rules", key.merchant(merchantId));
  if (!merchant || !rules) return null;
  const prefix = `${merchantId}/`;
  return {
    merchant, rules, stores: [...values<StoreRecord>("stores", prefix)],
    checks: () => values<CheckRecord>("checks", prefix),
    cards: () => values<CardRecord>("cards", prefix),
    customers: () => values<CustomerRecord>("customers", prefix),
    accounts: function* () {
      for (const [k, v] of range<Account>("accounts", prefix)) yield [k.slice(prefix.length), v] as const;
    },
    ledger: function* () {
      // activity holds ledger entries (…/l/…) and history entries (…/h/…) per card.
      for (const [k, v] of range<LedgerItem>("activity", prefix)) {
        const rest = k.slice(prefix.length);
        const slash = rest.indexOf("/");
        if (rest.startsWith("l/", slash + 1)) yield [rest.slice(0, slash), v] as const;
      }
    },
  };
}
