// Drag and drop as a user does it: files are built in the page as File objects in a real
// DataTransfer, and dragenter, dragover and drop are dispatched on the drop zone (they bubble to
// the page's window listeners, as a drop from the desktop does).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Page } from 'playwright-core';
import { byTestId } from './harness.js';

export interface DroppedFile {
  name: string;
  bytes: Uint8Array;
}

/** A file of the repository (or any path) as a DroppedFile named by its basename. */
export function fileFromDisk(path: string): DroppedFile {
  return { name: basename(path), bytes: new Uint8Array(readFileSync(path)) };
}

/** Drops `files` on the `drop-zone` element; returns whether the page called preventDefault on drop. */
export async function dropFiles(page: Page, files: DroppedFile[]): Promise<{ dropPrevented: boolean; overPrevented: boolean }> {
  // Bytes cross into the page as base64 (a plain array of numbers is ~4x larger on the wire).
  const payload = files.map((f) => ({ name: f.name, base64: Buffer.from(f.bytes).toString('base64') }));
  const zone = byTestId(page, 'drop-zone');
  await zone.waitFor();
  return zone.evaluate((el, list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const raw = atob(f.base64);
      const bytes = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      dt.items.add(new File([bytes], f.name, { type: 'application/octet-stream' }));
    }
    const fire = (type: string) => {
      const ev = new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true });
      el.dispatchEvent(ev);
      return ev.defaultPrevented;
    };
    fire('dragenter');
    const overPrevented = fire('dragover');
    const dropPrevented = fire('drop');
    return { dropPrevented, overPrevented };
  }, payload);
}
