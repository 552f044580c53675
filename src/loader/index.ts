// Public surface of the object loader.
export { loadObject, objectNameFromFile, type LoadObjectOptions } from './object.js';
export { ObjectLoadError } from './errors.js';
export {
  cloneObjectSpec,
  functionAt,
  lineInfoAt,
  mapIndexByName,
  programByName,
  type CoreRelo,
  type FuncInfo,
  type FunctionRange,
  type LineInfo,
  type MapReference,
  type MapSlot,
  type MapSpec,
  type ObjectSpec,
  type ProgramSpec,
} from './spec.js';
export { findSectionDef, programTypeForSection, SECTION_DEFS, type SectionDef, type SectionProgramType } from './sections.js';
export * from './uapi.js';
