// Saves bytes as a file through a Blob URL (no server involved).
export function downloadBytes(bytes: Uint8Array | string, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has started once click() returns; give the browser a moment before releasing.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
