// Protocol limits shared by the daemon and the POS client. Each says why.
// The daemon announces the ones a client must respect in HelloResult.limits.

/** The protocol version this code speaks (Hello.protocol_version). */
export const protocolVersion = 1;

/**
 * Largest frame either side sends. A basket of 200 lines with long SKUs is
 * about 30 KiB; 256 KiB leaves room without letting one frame pin memory.
 */
export const frameBytesMax = 256 * 1024;

/** Basket lines per check: a hypermarket trolley rarely passes 150. */
export const linesMax = 500;

/** Coupons scanned on one check. */
export const couponsMax = 10;

/** operation_id, cashier_id, terminal_id, sku, group, receipt numbers. */
export const idBytesMax = 64;

/** Free text (reasons, names). */
export const textBytesMax = 200;

/** Terminal secrets. */
export const secretBytesMax = 256;

/**
 * Largest money amount or point count in any field: 10^13 minor units is
 * 100 billion in major units, far above any check, far below 2^53 so JS
 * numbers stay exact through sums of many lines.
 */
export const amountMinorMax = 10_000_000_000_000;

/** Largest quantity in thousandths (a tonne of a weighed good). */
export const quantityMilliMax = 1_000_000_000;

/** History and ledger page sizes. */
export const historyLimitMax = 50;
export const historyLimitDefault = 10;
export const ledgerLimitMax = 100;
export const ledgerLimitDefault = 20;
