/**
 * The address a failed sign-in is counted against. One IPv6 customer usually holds a whole /64
 * (and picks new addresses in it at will), so an IPv6 client is counted per /64; an IPv4 client
 * reaching a dual-stack socket shows up as `::ffff:a.b.c.d` and is counted as `a.b.c.d`, the same
 * as over IPv4. Anything that is not an IP address (none on a TCP socket) counts as `unknown`.
 */
import { isIPv4, isIPv6 } from "node:net"

export const UNKNOWN_ADDRESS = "unknown"

/** The eight 16-bit groups of a valid IPv6 address (zone removed), an embedded IPv4 tail included. */
const ipv6Groups = (address: string): ReadonlyArray<number> => {
  let text = address
  const lastColon = text.lastIndexOf(":")
  const tail = text.slice(lastColon + 1)
  if (isIPv4(tail)) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split(".").map(Number)
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = "", rest] = text.split("::")
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)))
  const left = parse(head)
  if (rest === undefined) return left
  const right = parse(rest)
  return [...left, ...Array.from({ length: 8 - left.length - right.length }, () => 0), ...right]
}

/** `203.0.113.7` → itself; `::ffff:203.0.113.7` → `203.0.113.7`; `2001:db8:1:2:a:b:c:d` → `2001:db8:1:2::/64`. */
export const throttleAddress = (raw: string | undefined): string => {
  if (raw === undefined) return UNKNOWN_ADDRESS
  const zone = raw.indexOf("%")
  const address = (zone === -1 ? raw : raw.slice(0, zone)).trim().toLowerCase()
  if (isIPv4(address)) return address
  if (!isIPv6(address)) return UNKNOWN_ADDRESS
  const g = ipv6Groups(address)
  if (g.length !== 8) return UNKNOWN_ADDRESS
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    const hi = g[6] ?? 0
    const lo = g[7] ?? 0
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`
  }
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(":")}::/64`
}
