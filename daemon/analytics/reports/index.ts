// The report catalogue: name → pure function. The worker and the tests run
// reports through `runReport`.
import { pointsReport } from "./points.js";
import { promotionsReport } from "./promotions.js";
import { rfmReport } from "./rfm.js";
import type { ReportParams, ReportResult, ReportSource } from "./source.js";
import { summaryReport } from "./summary.js";
import { territoryReport } from "./territory.js";

export const reports = {
  summary: summaryReport,
  rfm: rfmReport,
  territory: territoryReport,
  points: pointsReport,
  promotions: promotionsReport,
} as const satisfies Record<string, (source: ReportSource, p: ReportParams) => ReportResult>;

export type ReportName = keyof typeof reports;
export const reportNames = Object.keys(reports) as ReportName[];

export function isReportName(name: string): name is ReportName {
  return Object.hasOwn(reports, name);
}

export function runReport(name: ReportName, source: ReportSource, params: ReportParams): ReportResult {
  return reports[name](source, params);
}
