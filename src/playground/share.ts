// A link that carries a small scenario: `#s=` + base64url(deflate-raw(path + "\n" + YAML)).
// CompressionStream('deflate-raw') exists in current browsers and in Node 20, so nothing is
// bundled for it. The scenario names files by path only: a shared link works when those files
// are the bundled example's (the page checks that when it opens the link).
const PREFIX = 's=';

async function through(data: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([data as BlobPart]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  try {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** The URL hash (with its '#') that carries the scenario. */
export async function encodeShareHash(scenarioText: string, scenarioPath: string): Promise<string> {
  if (scenarioPath.includes('\n')) throw new Error(`share link: the scenario path '${scenarioPath}' has a line break`);
  const packed = await through(new TextEncoder().encode(`${scenarioPath}\n${scenarioText}`), new CompressionStream('deflate-raw'));
  return `#${PREFIX}${toBase64Url(packed)}`;
}

/** The scenario a hash (with or without its '#') carries, or undefined when it carries none or is damaged. */
export async function decodeShareHash(hash: string): Promise<{ scenarioText: string; scenarioPath: string } | undefined> {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!body.startsWith(PREFIX)) return undefined;
  const packed = fromBase64Url(body.slice(PREFIX.length));
  if (!packed || packed.length === 0) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await through(packed, new DecompressionStream('deflate-raw')));
  } catch {
    return undefined;
  }
  const newline = text.indexOf('\n');
  if (newline <= 0) return undefined;
  return { scenarioPath: text.slice(0, newline), scenarioText: text.slice(newline + 1) };
}
