// Loading an object file for a command: read it, parse it, name the file in every error.
import { basename } from 'node:path';
import { loadObject } from '../loader/object.js';
import type { ObjectSpec } from '../loader/spec.js';
import { readInput } from './io.js';

export function loadObjectFile(path: string): ObjectSpec {
  return loadObject(readInput(path), { name: basename(path) });
}
