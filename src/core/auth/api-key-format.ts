/**
 * API key format: `bw_<key id>_<secret><checksum>`. The key id (12 base62 characters) names the
 * key in lists and logs; the secret carries 256 random bits; the last 6 characters are a CRC-32
 * of everything before them, so a secret scanner can tell a real Breakwater key from look-alike
 * text without asking us (the same idea as GitHub's tokens). Only SHA-256 of the secret is stored.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { crc32 } from "node:zlib"

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const toBase62 = (bytes: Uint8Array, length: number): string => {
  let n = BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`)
  let out = ""
  while (out.length < length) {
    out = ALPHABET[Number(n % 62n)] + out
    n /= 62n
  }
  return out
}

export const KEY_ID_LENGTH = 12
export const SECRET_LENGTH = 43
export const CHECKSUM_LENGTH = 6

/** What a scanner looks for. */
export const API_KEY_PATTERN = new RegExp(
  `^bw_([0-9A-Za-z]{${KEY_ID_LENGTH}})_([0-9A-Za-z]{${SECRET_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`
)

const checksum = (body: string): string => {
  const crc = crc32(body)
  const bytes = new Uint8Array([(crc >>> 24) & 255, (crc >>> 16) & 255, (crc >>> 8) & 255, crc & 255])
  return toBase62(bytes, CHECKSUM_LENGTH)
}

export interface NewApiKey {
  readonly id: string
  /** The whole key: shown once, never stored. */
  readonly plaintext: string
  readonly secretHash: string
}

export const hashSecret = (secret: string): string => createHash("sha256").update(secret).digest("hex")

export const generateApiKey = (): NewApiKey => {
  const id = toBase62(randomBytes(9), KEY_ID_LENGTH)
  const secret = toBase62(randomBytes(32), SECRET_LENGTH)
  const body = `bw_${id}_${secret}`
  return { id, plaintext: `${body}${checksum(body)}`, secretHash: hashSecret(secret) }
}

export interface ParsedApiKey {
  readonly id: string
  readonly secret: string
}

/** The key's id and secret if it is well-formed and its checksum matches; `undefined` otherwise. */
export const parseApiKey = (text: string): ParsedApiKey | undefined => {
  const match = API_KEY_PATTERN.exec(text)
  if (match === null) return undefined
  const [, id, secret, sum] = match
  if (id === undefined || secret === undefined || sum === undefined) return undefined
  return checksum(`bw_${id}_${secret}`) === sum ? { id, secret } : undefined
}

/** Constant-time comparison of a presented secret with the stored hash. */
export const secretMatches = (secret: string, storedHash: string): boolean => {
  const given = Buffer.from(hashSecret(secret), "hex")
  const stored = Buffer.from(storedHash, "hex")
  return given.length === stored.length && timingSafeEqual(given, stored)
}

/** `30d`, `12h`, `90m`, `1y` → seconds. */
export const parseDuration = (text: string): number | undefined => {
  const match = /^(\d{1,5})([mhdwy])$/.exec(text.trim())
  if (match === null) return undefined
  const unit = { m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 }[match[2] as "m" | "h" | "d" | "w" | "y"]
  return Number(match[1]) * unit
}

/** The longest an API key may live. */
export const MAX_API_KEY_SECONDS = 31_536_000
