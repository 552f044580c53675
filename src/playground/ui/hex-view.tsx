// Frame bytes, 16 to a line with their offset; changed bytes are marked, and the bytes of the
// field under the pointer (from the field tables) are outlined.
import type { JSX } from 'preact';

interface Props {
  testid: string;
  bytes: Uint8Array;
  changed: Set<number>;
  range?: [number, number];
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function HexView({ testid, bytes, changed, range }: Props) {
  const lines: JSX.Element[] = [];
  const inRange = (i: number) => range !== undefined && i >= range[0] && i < range[0] + range[1];
  for (let off = 0; off < bytes.length; off += 16) {
    const cells: JSX.Element[] = [];
    for (let i = off; i < Math.min(off + 16, bytes.length); i++) {
      const cls = (changed.has(i) ? 'byte changed' : 'byte') + (inRange(i) ? ' in-range' : '') + (i % 8 === 7 ? ' gap' : '');
      cells.push(
        <span key={i} class={cls} data-changed={changed.has(i) ? 'true' : undefined}>
          {HEX[bytes[i]]}
        </span>,
      );
    }
    lines.push(
      <div key={off} class="hex-line">
        <span class="offset">{off.toString(16).padStart(4, '0')}</span>
        {cells}
      </div>,
    );
  }
  return (
    <div class="hex" data-testid={testid} role="region" tabIndex={0} aria-label={`${testid === 'hex-after' ? 'bytes after' : 'bytes before'}: ${bytes.length} bytes, ${changed.size} changed`}>
      {lines}
    </div>
  );
}
