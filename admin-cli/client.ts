// The admin channel's client: POST /v1/<method> with a JSON body and the
// admin token; answers are `{result}` or `{error: {kind, message, field?}}`.
// Failures are typed so the CLI can map them to exit codes and advice.

export class AdminError extends Error {
  override name = "AdminError";
  constructor(readonly kind: string, message: string, readonly status: number, readonly field?: string) {
    super(message);
  }
}

/** The daemon refused the credential (HTTP 401). */
export class AdminAuthError extends AdminError {
  override name = "AdminAuthError";
}

/** The daemon could not be reached (refused, reset, DNS, timeout). */
export class AdminUnreachableError extends Error {
  override name = "AdminUnreachableError";
  constructor(readonly url: string, cause: unknown) {
    super(`cannot reach the daemon's admin channel at ${url}: ${describeCause(cause)}`);
  }
}

function describeCause(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string; message?: string } } | null)?.cause;
  return inner?.code ?? inner?.message ?? (cause instanceof Error ? cause.message : String(cause));
}

export interface AdminClientOptions {
  url: string;
  token: string;
  /** Per call; long operations (backup) pass their own. */
  timeoutMs?: number;
}

export class AdminClient {
  constructor(private readonly options: AdminClientOptions) {}

  async call<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, timeoutMs?: number): Promise<T> {
    const url = `${this.options.url.replace(/\/+$/, "")}/v1/${method}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${this.options.token}`, "content-type": "application/json" },
        body: JSON.stringify(params),
        signal: AbortSignal.timeout(timeoutMs ?? this.options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      throw new AdminUnreachableError(this.options.url, error);
    }
    const text = await response.text();
    let body: { result?: T; error?: { kind: string; message: string; field?: string } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new AdminError("protocol", `the daemon answered HTTP ${response.status} without JSON: ${text.slice(0, 200)}`, response.status);
    }
    if (response.status === 401) throw new AdminAuthError("unauthenticated", body.error?.message ?? "refused", 401);
    if (!response.ok || body.error) {
      const e = body.error ?? { kind: "protocol", message: `HTTP ${response.status}` };
      throw new AdminError(e.kind, e.message, response.status, e.field);
    }
    return body.result as T;
  }
}
