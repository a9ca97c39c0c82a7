/**
 * The fast-check arbitrary of fuzz cases: for each route, a caller and each part of a request
 * drawn tame (what the route's clients send) or hostile, either all parts hostile, one hostile
 * part among tame ones, or none. It exists to tie the value, body and header generators into a
 * {@link FuzzCase}.
 */
import fc from "fast-check"
import { bodyFor, CONTENT_TYPES, matchingType } from "./bodies.ts"
import { type FuzzBody, type FuzzCase, Known, type UrlText } from "./fuzz-case.ts"
import { fakeCredentialArb, headersArb } from "./headers.ts"
import { encodeText, HOSTILE_STRINGS, hostileUrlText } from "./hostile-values.ts"
import { fieldNamesOf, type Mode, makeValues, type Vocabulary } from "./plausible-values.ts"
import type { RouteShape } from "./routes.ts"
import { principalNames } from "./state.ts"

const PATH_SUFFIXES = ["/", "//", "/..", "/.", "/%2e%2e", ";x", "#frag", "%00", "/x"]

/** The parts of a case that are hostile or tame, one by one. */
interface Parts {
  readonly params: FuzzCase["params"]
  readonly suffix: string
  readonly query: FuzzCase["query"]
  readonly body: FuzzBody
  /** Below 75: the content type that matches the body; otherwise another one. */
  readonly typeChoice: number
  readonly headers: FuzzCase["headers"]
  readonly csrf: FuzzCase["csrf"]
  readonly fakeCredential: FuzzCase["fakeCredential"]
}
type Part = keyof Parts

export const caseArbitrary = (routes: ReadonlyArray<RouteShape>, vocabulary: Vocabulary): fc.Arbitrary<FuzzCase> => {
  const values = makeValues(vocabulary)
  const fieldNames = fieldNamesOf(routes, vocabulary)
  const queryNames = [...new Set(routes.flatMap((r) => r.queryFields).concat(["next", "notice", "scope"]))].sort()

  const paramFor = (name: string): fc.Arbitrary<UrlText | Known> => {
    const sampled = values.plausible(name).filter((v): v is string => typeof v === "string")
    return fc.oneof(
      { weight: 6, arbitrary: fc.nat(1_000).map((i) => new Known(i)) },
      {
        weight: sampled.length > 0 ? 2 : 0,
        arbitrary: fc.constantFrom(...(sampled.length > 0 ? sampled : ["x"])).map(encodeText)
      },
      { weight: 1, arbitrary: fc.uuid() },
      { weight: 3, arbitrary: hostileUrlText }
    )
  }

  const perRoute = routes.map((route, index) => {
    const queryKey: fc.Arbitrary<string> = fc.oneof(
      {
        weight: route.queryFields.length > 0 ? 4 : 0,
        arbitrary: fc.constantFrom(...(route.queryFields.length > 0 ? route.queryFields : ["x"]))
      },
      { weight: 2, arbitrary: fc.constantFrom(...queryNames) },
      { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS).map(encodeText) }
    )
    const pairs = (mode: Mode) =>
      fc
        .array(
          queryKey.chain((key) => values.pairsFor(key, mode)),
          { minLength: 1, maxLength: 4 }
        )
        .map((p) => p.flat())
    const body = bodyFor(route, values, fieldNames)
    const wild: fc.Arbitrary<Parts & { readonly otherType: string | undefined }> = fc.record({
      params: fc.tuple(...route.params.map(paramFor)),
      suffix: fc.oneof(
        { weight: 30, arbitrary: fc.constant("") },
        { weight: 1, arbitrary: fc.constantFrom(...PATH_SUFFIXES) }
      ),
      query: fc.oneof(
        { weight: 3, arbitrary: fc.constant([]) },
        { weight: 2, arbitrary: pairs("tame") },
        { weight: 3, arbitrary: pairs("hostile") }
      ),
      body: body.wild,
      typeChoice: fc.nat(99),
      otherType: fc.constantFrom(...CONTENT_TYPES),
      headers: fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: headersArb }),
      csrf: fc.oneof(
        { weight: 16, arbitrary: fc.constant("header" as const) },
        { weight: 2, arbitrary: fc.constant("field" as const) },
        { weight: 1, arbitrary: fc.constant("none" as const) },
        { weight: 1, arbitrary: fc.constant("wrong" as const) }
      ),
      fakeCredential: fakeCredentialArb
    })
    // Identifiers that exist, no query or a valid one, the body the route's clients send.
    const tame: fc.Arbitrary<Parts> = fc.record({
      params: fc.tuple(...route.params.map(() => fc.nat(250).map((i) => new Known(i * 4 + 1)))),
      suffix: fc.constant(""),
      query: fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: pairs("tame") }),
      body: body.tame,
      typeChoice: fc.constant(0),
      headers: fc.constant([]),
      csrf: fc.constant("header" as const),
      fakeCredential: fc.constant(undefined)
    })
    // The body is where most of a route's input is.
    const onePart = fc.oneof(
      ...(
        [
          "params",
          "query",
          "body",
          "body",
          "body",
          "suffix",
          "typeChoice",
          "headers",
          "csrf",
          "fakeCredential"
        ] as const
      ).map((part) => ({ weight: 1, arbitrary: fc.constant(part) }))
    )
    return fc
      .record({
        principal: fc.constantFrom(...principalNames),
        // wild: every part may be hostile; one: one hostile part among valid ones; tame: none.
        plan: fc.oneof(
          { weight: 2, arbitrary: fc.constant("wild" as const) },
          { weight: 4, arbitrary: onePart },
          { weight: 1, arbitrary: fc.constant("tame" as const) }
        ),
        wild,
        tame
      })
      .map(({ principal, plan, wild, tame }): FuzzCase => {
        const pick = <K extends Part>(part: K) => (plan === "wild" || plan === part ? wild[part] : tame[part])
        const typeChoice = pick("typeChoice")
        const body = pick("body")
        return {
          route: index,
          principal,
          params: pick("params"),
          suffix: pick("suffix"),
          query: pick("query"),
          body,
          contentType: typeChoice < 75 ? matchingType(body) : wild.otherType,
          headers: pick("headers"),
          csrf: pick("csrf"),
          fakeCredential: pick("fakeCredential")
        }
      })
  })
  return fc.oneof(...perRoute)
}
