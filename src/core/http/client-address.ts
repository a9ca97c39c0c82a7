/**
 * The client's address. Behind a reverse proxy every request comes from the proxy, so sign-in
 * throttling per address would throttle everyone at once: with `TRUSTED_PROXIES` set, a request
 * whose peer is one of them is attributed to the address the proxies recorded in
 * `X-Forwarded-For` — the rightmost one that is not itself a trusted proxy (the entries to its left
 * were written by the client and prove nothing). Without the setting the header is ignored.
 */
import { BlockList, isIP } from "node:net"

/** `::ffff:10.0.0.1` is the IPv4 address 10.0.0.1. */
const plain = (address: string) =>
  address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address

/** Why an entry of `TRUSTED_PROXIES` is not an address or a CIDR range, or undefined. */
export const trustedProxyProblem = (entry: string): string | undefined => {
  const [address = "", bits, extra] = entry.split("/")
  const family = isIP(address)
  if (family === 0 || extra !== undefined) return `${entry} is not an IP address or CIDR range`
  if (bits === undefined) return undefined
  const prefix = Number(bits)
  return /^\d{1,3}$/.test(bits) && prefix <= (family === 4 ? 32 : 128) ? undefined : `${entry} has a bad prefix length`
}

/** The trusted proxies as a block list (entries already checked by the configuration). */
export const trustedProxies = (entries: ReadonlyArray<string>): BlockList | undefined => {
  if (entries.length === 0) return undefined
  const list = new BlockList()
  for (const entry of entries) {
    const [address = "", bits] = entry.split("/")
    const type = isIP(address) === 4 ? "ipv4" : "ipv6"
    if (bits === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(bits), type)
  }
  return list
}

const isTrusted = (list: BlockList, address: string) => {
  const family = isIP(address)
  return family !== 0 && list.check(address, family === 4 ? "ipv4" : "ipv6")
}

export const clientAddressOf = (
  peer: string | undefined,
  forwardedFor: string | undefined,
  trusted: BlockList | undefined
): string => {
  if (peer === undefined) return "unknown"
  const direct = plain(peer)
  if (trusted === undefined || forwardedFor === undefined || !isTrusted(trusted, direct)) return direct
  const hops = forwardedFor.split(",").map((hop) => plain(hop.trim()))
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? ""
    if (isIP(hop) === 0) break
    if (!isTrusted(trusted, hop)) return hop
  }
  return direct
}
