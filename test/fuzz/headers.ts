/**
 * The headers of fuzz cases: odd Accept, Origin, Sec-Fetch-Site, Host and the like, each mostly
 * absent, and, for an anonymous caller, credentials that are not credentials (forged cookies,
 * malformed keys). It exists so what a case adds to the head of a request has one place.
 */
import fc from "fast-check"
import { SESSION_COOKIE } from "../../src/core/auth/sessions.ts"

/** Stands for the server's own origin, which is known only when the request is built. */
export const ORIGIN_SAME = "<same origin>"

const optionalHeader = (name: string, values: ReadonlyArray<string>, absentWeight: number) =>
  fc.oneof(
    { weight: absentWeight, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom(...values).map((v) => [name, v] as const) }
  )

export const headersArb: fc.Arbitrary<ReadonlyArray<readonly [string, string]>> = fc
  .tuple(
    optionalHeader(
      "accept",
      [
        "text/html",
        "application/json",
        "*/*",
        "text/event-stream",
        "text/csv",
        "application/xml;q=0",
        ";;;",
        "x".repeat(4000)
      ],
      2
    ),
    optionalHeader(
      "x-request-id",
      [
        "fuzz-request",
        "a".repeat(64),
        "a".repeat(65),
        "x".repeat(8_000),
        "../../etc",
        "id with spaces",
        "\u00ff\u00fe",
        ""
      ],
      3
    ),
    optionalHeader(
      "origin",
      [
        ORIGIN_SAME,
        "http://evil.example",
        "null",
        "not a url",
        "http://127.0.0.1:1",
        "https://127.0.0.1",
        "http://[::1"
      ],
      8
    ),
    optionalHeader("sec-fetch-site", ["same-origin", "cross-site", "none", "same-site", "CROSS-SITE", "garbage"], 8),
    optionalHeader("hx-request", ["true", "false", "1"], 4),
    optionalHeader("content-encoding", ["gzip", "br", "identity", "x-garbage"], 20),
    optionalHeader("accept-encoding", ["gzip, br", "*;q=0", "identity;q=0"], 10),
    optionalHeader("user-agent", ["", "x".repeat(5_000), "\u00ff"], 10),
    optionalHeader("x-forwarded-for", ["1.2.3.4", "not an address", "::1, 10.0.0.1"], 10),
    optionalHeader("host", ["evil.example", "", "127.0.0.1:1", "x".repeat(300)], 30),
    // POSTs under /api/v1 take it: a reused key (the cases repeat these values) replays or answers 422.
    optionalHeader(
      "idempotency-key",
      ["fuzz-key-1", "fuzz-key-2", '"quoted-key"', "", "x".repeat(256), "key with spaces", "\u00ff\u0001"],
      5
    )
  )
  .map((headers) => headers.filter((h): h is readonly [string, string] => h !== undefined))

export const fakeCredentialArb: fc.Arbitrary<readonly [string, string] | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ["cookie", `${SESSION_COOKIE}=${"A".repeat(43)}`] as const,
      ["cookie", `${SESSION_COOKIE}=${"A".repeat(42)}%00`] as const,
      ["cookie", `${SESSION_COOKIE}=${"x".repeat(5_000)}`] as const,
      ["cookie", `${SESSION_COOKIE}=a; ${SESSION_COOKIE}=b`] as const,
      ["cookie", ";;;=;=="] as const,
      ["authorization", "Bearer bw_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] as const,
      ["authorization", "Bearer bw_\u00ff"] as const,
      ["authorization", `Bearer ${"x".repeat(5_000)}`] as const,
      ["authorization", "Bearer"] as const,
      ["authorization", "Basic YWRtaW46YWRtaW4="] as const,
      ["authorization", "bearer   spaced   token"] as const
    )
  }
)
