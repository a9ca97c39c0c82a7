/**
 * Static assets: htmx from `node_modules/htmx.org`, the classless stylesheet from `@picocss/pico`
 * and our own stylesheet. Read once at start, served with an ETag and a day of caching; pages
 * link them with `?v=<version>` so an upgrade is fetched at once.
 */
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import type { RouteSpec } from "./route.ts"

const require = createRequire(import.meta.url)

export interface Asset {
  readonly path: `/${string}`
  readonly file: string
  readonly contentType: string
}

const assets: ReadonlyArray<Asset> = [
  {
    path: "/assets/htmx.min.js",
    file: require.resolve("htmx.org/dist/htmx.min.js"),
    contentType: "text/javascript; charset=utf-8"
  },
  {
    path: "/assets/pico.classless.min.css",
    file: require.resolve("@picocss/pico/css/pico.classless.min.css"),
    contentType: "text/css; charset=utf-8"
  },
  {
    path: "/assets/app.css",
    file: fileURLToPath(new URL("../../../public/app.css", import.meta.url)),
    contentType: "text/css; charset=utf-8"
  },
  {
    path: "/assets/app.js",
    file: fileURLToPath(new URL("../../../public/app.js", import.meta.url)),
    contentType: "text/javascript; charset=utf-8"
  }
]

export interface ServedAsset {
  readonly route: RouteSpec
  /** The URL with a content hash, so a changed file is fetched at once. */
  readonly url: string
}

/** A public route serving one file, read once, with an ETag and a day of caching. */
export const assetRoute = (asset: Asset): ServedAsset => {
  const body = readFileSync(asset.file)
  const hash = createHash("sha1").update(body).digest("base64url")
  const etag = `"${hash}"`
  const headers = { etag, "cache-control": "public, max-age=86400" }
  return {
    url: `${asset.path}?v=${hash.slice(0, 12)}`,
    route: {
      method: "GET",
      path: asset.path,
      access: "public",
      skipIdentity: true,
      summary: `static asset ${asset.path}`,
      handler: Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
        request.headers["if-none-match"] === etag
          ? HttpServerResponse.empty({ status: 304, headers })
          : HttpServerResponse.uint8Array(body, { contentType: asset.contentType, headers })
      )
    }
  }
}

/** A file of `public/` that a module serves with its pages (e.g. a page's script). */
export const publicAsset = (name: string, contentType: string): ServedAsset =>
  assetRoute({
    path: `/assets/${name}`,
    file: fileURLToPath(new URL(`../../../public/${name}`, import.meta.url)),
    contentType
  })

/** Public routes for every asset. */
export const staticRoutes = (): ReadonlyArray<RouteSpec> => assets.map((asset) => assetRoute(asset).route)
