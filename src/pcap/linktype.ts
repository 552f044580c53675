// Link-layer header types as they appear in pcap and pcapng files (tcpdump.org/linktypes.html,
// LINKTYPE_* values, which for these types equal libpcap's DLT_* on Linux except where noted).

export const LINKTYPE_NULL = 0; // BSD loopback: 4-byte address family in the writer's byte order
export const LINKTYPE_ETHERNET = 1;
/** DLT_RAW as written by some platforms' libpcap into pcap files before LINKTYPE_RAW existed. */
export const LINKTYPE_RAW_12 = 12;
/** DLT_RAW on OpenBSD, found in old captures; raw IPv4/IPv6 like 101. */
export const LINKTYPE_RAW_14 = 14;
export const LINKTYPE_RAW = 101; // raw IPv4 or IPv6, version from the first nibble
export const LINKTYPE_LOOP = 108; // OpenBSD loopback: like NULL but the family is big-endian
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const NAMES: Record<number, string> = {
  [LINKTYPE_NULL]: 'NULL (BSD loopback)',
  [LINKTYPE_ETHERNET]: 'ETHERNET',
  [LINKTYPE_RAW_12]: 'RAW (12)',
  [LINKTYPE_RAW_14]: 'RAW (14)',
  [LINKTYPE_RAW]: 'RAW',
  [LINKTYPE_LOOP]: 'LOOP',
  [LINKTYPE_LINUX_SLL]: 'LINUX_SLL',
  [LINKTYPE_IPV4]: 'IPV4',
  [LINKTYPE_IPV6]: 'IPV6',
  [LINKTYPE_LINUX_SLL2]: 'LINUX_SLL2',
  105: 'IEEE802_11',
  127: 'IEEE802_11_RADIOTAP',
  147: 'USER0',
};

/** `ETHERNET (1)`, or `link type 147 (USER0)`-style text for messages. */
export function linkTypeName(linkType: number): string {
  return `${NAMES[linkType] ?? 'unknown'} (${linkType})`;
}

/** Link types whose frames carry a bare IP packet (version from the first nibble). */
export function isRawIpLinkType(linkType: number): boolean {
  return (
    linkType === LINKTYPE_RAW ||
    linkType === LINKTYPE_RAW_12 ||
    linkType === LINKTYPE_RAW_14 ||
    linkType === LINKTYPE_IPV4 ||
    linkType === LINKTYPE_IPV6
  );
}
