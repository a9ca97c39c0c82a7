/**
 * Password hashing: argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane), run on
 * libuv's thread pool so the event loop stays free. Passwords travel as `Redacted` values so a
 * stray log line cannot print one.
 */
import { randomBytes } from "node:crypto"
import { argon2id, hash, needsRehash, verify } from "argon2"
import { Effect, Redacted, Schema } from "effect"

/** OWASP Password Storage Cheat Sheet: argon2id, m = 19456 KiB, t = 2, p = 1. */
export const HASH_PARAMETERS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export class PasswordHashFailed extends Schema.TaggedError<PasswordHashFailed>()("PasswordHashFailed", {
  message: Schema.String
}) {}

/** A password a person may choose: long enough to resist guessing, short enough to bound work. */
export const NewPassword = Schema.String.check(
  Schema.isMinLength(12, { message: "must be at least 12 characters" }),
  Schema.isMaxLength(256, { message: "must be at most 256 characters" })
)

const failed = (what: string) => (cause: unknown) =>
  new PasswordHashFailed({ message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })

export const hashPassword = (password: Redacted.Redacted<string>): Effect.Effect<string, PasswordHashFailed> =>
  Effect.tryPromise({
    try: () => hash(Redacted.value(password), { type: argon2id, ...HASH_PARAMETERS }),
    catch: failed("hashing the password failed")
  })

/** Whether `password` matches the stored hash. A malformed stored hash is an error, not a mismatch. */
export const verifyPassword = (
  stored: string,
  password: Redacted.Redacted<string>
): Effect.Effect<boolean, PasswordHashFailed> =>
  Effect.tryPromise({
    try: () => verify(stored, Redacted.value(password)),
    catch: failed("verifying the password failed")
  })

/** Whether a stored hash was made with other parameters than today's, so it should be rehashed. */
export const hashIsOutdated = (stored: string): boolean => needsRehash(stored, HASH_PARAMETERS)

// Made on first use (not at start: it costs one full hash), then reused for the life of the process.
let dummyHash: Promise<string> | undefined

/**
 * Spends the time of a real verification for an account that does not exist or may not sign in,
 * so the answer's timing does not tell whether the account exists.
 */
export const verifyAgainstDummy = (password: Redacted.Redacted<string>): Effect.Effect<void, PasswordHashFailed> =>
  Effect.tryPromise({
    try: async () => {
      dummyHash ??= hash(randomBytes(32).toString("base64url"), { type: argon2id, ...HASH_PARAMETERS }).catch(
        (error: unknown) => {
          dummyHash = undefined // let the next call try again
          throw error
        }
      )
      await verify(await dummyHash, Redacted.value(password))
    },
    catch: failed("verifying against the dummy hash failed")
  })

/** A random password of 24 URL-safe characters (144 bits), for first runs and resets. */
export const generatePassword = (): Redacted.Redacted<string> => Redacted.make(randomBytes(18).toString("base64url"))
