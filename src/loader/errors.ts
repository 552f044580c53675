// The one error type loadObject throws. Messages carry their context outward, as
// cilium/ebpf does: "foo.o: section tc/ingress: relocation 3: unknown symbol bar".

export class ObjectLoadError extends Error {
  constructor(
    message: string,
    /** The ELF section being processed when the problem was found, if any. */
    readonly section?: string,
    /** The object's name, if known. */
    readonly object?: string,
    options?: { cause?: unknown },
  ) {
    super(
      [object, section !== undefined ? `section ${section || '(unnamed)'}` : undefined, message]
        .filter((p) => p !== undefined)
        .join(': '),
      options,
    );
    this.name = 'ObjectLoadError';
  }
}

/** Internal: a problem found while processing `section`; loadObject adds the object name. */
export class SectionError extends Error {
  constructor(
    message: string,
    readonly section?: string,
  ) {
    super(message);
    this.name = 'SectionError';
  }
}
